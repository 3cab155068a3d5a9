"""Routes connexion serves from an OpenAPI document (PATTERNS.md item 200): each operation
is an endpoint of the function its operationId names; what cannot be read is said."""

from __future__ import annotations

from controlplane.migrations_audit import AuditConfig, audit

APP = """
import connexion

from service import settings

app = connexion.FlaskApp(__name__)
app.add_api("openapi.yaml", base_path={base_path})
"""
DOCUMENT = """
openapi: "3.0.2"
info: {title: jobs, version: "1"}
servers:
  - url: http://localhost:8080/v2
paths:
  /reports:
    post:
      operationId: service.routes.reports.create_report
    get:
      operationId: service.routes.reports.list_reports
  /reports/{report_id}:
    x-openapi-router-controller: service.routes.reports
    delete:
      operationId: delete_report
  /legacy:
    get:
      operationId: service.routes.gone.legacy
  /resolved:
    get:
      summary: chosen by a resolver
"""
REPORTS = """
import requests

from service.tasks import build_report


def create_report(body):
    build_report.delay(body["name"])
    return {}, 202


def list_reports():
    return requests.get("https://storage.example.com/reports", timeout=5).json()


def delete_report(report_id):
    return None, 204
"""
TASKS = """
from celery import shared_task


@shared_task
def build_report(name):
    pass
"""


def files(base_path: str = '"/api"', document: str = DOCUMENT) -> dict[str, str]:
    return {
        "service/__init__.py": "",
        "service/settings.py": 'API_PREFIX = "/api"\n',
        "service/app.py": APP.format(base_path=base_path),
        "service/openapi.yaml": document,
        "service/tasks.py": TASKS,
        "service/routes/__init__.py": "",
        "service/routes/reports.py": REPORTS,
    }


def test_each_operation_is_an_endpoint_of_the_function_it_names(run_audit):
    report = run_audit(files())
    found = {
        (e.handler, e.methods[0], e.route): (e.status, e.heavy, e.framework)
        for e in report.endpoints
    }
    assert found == {
        ("create_report", "POST", "/api/reports"): ("offloaded", False, "connexion"),
        ("list_reports", "GET", "/api/reports"): ("inline", True, "connexion"),
        ("delete_report", "DELETE", "/api/reports/{report_id}"): ("inline", False, "connexion"),
    }
    reasons = sorted((u.call, u.reason) for u in report.unrecognized)
    assert reasons == [
        (
            'service.app.app.add_api("openapi.yaml"): GET /legacy',
            "operationId service.routes.gone.legacy not found in the project",
        ),
        (
            'service.app.app.add_api("openapi.yaml"): GET /resolved',
            "no operationId: a resolver chooses the function at run time",
        ),
    ]


def test_a_computed_base_path_falls_back_to_the_documents_server_and_says_so(run_audit):
    report = run_audit(files(base_path="settings.API_PREFIX"))
    routes = sorted((e.route, e.confidence, e.route_note) for e in report.endpoints)
    note = "add_api's base_path is computed; the document's own (/v2) is shown"
    assert routes == [
        ("/v2/reports", "likely", note),
        ("/v2/reports", "likely", note),
        ("/v2/reports/{report_id}", "likely", note),
    ]


def test_a_missing_or_unreadable_document_is_a_registration_not_understood(run_audit):
    missing = {k: v for k, v in files().items() if not k.endswith(".yaml")}
    report = run_audit(missing)
    assert report.endpoints == []
    assert [(u.file, u.line, u.reason) for u in report.unrecognized] == [
        ("service/app.py", 6, "the OpenAPI document openapi.yaml was not found in the tree")
    ]
    broken = run_audit(files(document="paths: [unclosed\n"))
    assert [u.reason for u in broken.unrecognized] == [
        "the OpenAPI document service/openapi.yaml could not be read (ParserError)"
    ]


def test_a_document_found_elsewhere_in_the_tree_and_in_json(run_audit):
    tree = files()
    del tree["service/openapi.yaml"]
    tree["specs/openapi.yaml"] = DOCUMENT
    assert len(run_audit(tree).endpoints) == 3
    tree = files()
    del tree["service/openapi.yaml"]
    tree["service/app.py"] = tree["service/app.py"].replace("openapi.yaml", "api.json")
    tree["service/api.json"] = (
        '{"paths": {"/ping": {"get": {"operationId": "service.routes.reports.delete_report"}}}}'
    )
    assert [(e.handler, e.route) for e in run_audit(tree).endpoints] == [
        ("delete_report", "/api/ping")
    ]


def test_a_warm_run_reads_the_document_again_when_it_changed(tree, tmp_path):
    root = tree({k: v for k, v in files().items() if not k.endswith(".yaml")})
    cache = tmp_path / "cache"
    assert audit(root, AuditConfig(), jobs=1, cache_dir=cache).endpoints == []
    document = root / "service" / "openapi.yaml"
    document.write_text(DOCUMENT.lstrip("\n"))  # the document appears where it was looked for
    first = audit(root, AuditConfig(), jobs=1, cache_dir=cache)
    assert len(first.endpoints) == 3
    document.write_text(document.read_text().replace("  /legacy:", "  /legacy-gone:"))
    assert audit(root, AuditConfig(), jobs=1, cache_dir=cache) == audit(root, AuditConfig())
    document.write_text(
        document.read_text().replace(
            "      operationId: service.routes.gone.legacy",
            "      operationId: service.routes.reports.delete_report",
        )
    )
    warm = audit(root, AuditConfig(), jobs=1, cache_dir=cache)
    assert warm == audit(root, AuditConfig())
    assert ("delete_report", "/api/legacy-gone") in {(e.handler, e.route) for e in warm.endpoints}


def test_a_computed_document_path_on_a_connexion_app_is_said(run_audit):
    tree = files()
    tree["service/app.py"] = tree["service/app.py"].replace(
        'app.add_api("openapi.yaml", base_path="/api")',
        'app.add_api(settings.SPEC_PATH, base_path="/api")',
    )
    report = run_audit(tree)
    assert report.endpoints == []
    assert [(u.line, u.reason) for u in report.unrecognized] == [
        (6, "the OpenAPI document's path is computed")
    ]
