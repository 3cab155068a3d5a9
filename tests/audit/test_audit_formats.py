"""Every formatter renders the same Report; JSON has the documented shape, SARIF validates
against the SARIF 2.1.0 schema, HTML escapes what came from the source.

``sarif-schema-2.1.0.json`` is the OASIS schema (errata01), copied unchanged from
oasis-tcs/sarif-spec, ``sarif-2.1/schema/sarif-schema-2.1.0.json`` at commit e058381.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from controlplane.migrations_audit import Endpoint, Evidence, Report, Skipped, Suppressed
from controlplane.migrations_audit.formatters import FORMATTERS, get_formatter

SARIF_SCHEMA = Path(__file__).with_name("sarif-schema-2.1.0.json")


def sample_report() -> Report:
    via = ("app/features/upload/routes.py:upload", "app/features/upload/service.py:load")
    return Report(
        root="/srv/project",
        endpoints=[
            Endpoint(
                "app/features/upload/routes.py",
                10,
                "upload",
                "fastapi",
                ("POST",),
                "/upload",
                "offloaded",
                False,
                (
                    Evidence(
                        "app/features/upload/routes.py", 12, "dispatch", "process.delay(x)", via[:1]
                    ),
                ),
                "upload",
            ),
            Endpoint(
                "app/features/upload/routes.py",
                20,
                "load",
                "fastapi",
                ("POST",),
                "/load",
                "inline",
                True,
                (
                    Evidence(
                        "app/features/upload/service.py", 5, "dataframe", "pd.read_csv(path)", via
                    ),
                ),
                "upload",
            ),
            Endpoint(
                "app/features/chart/routes.py",
                7,
                "refresh",
                "fastapi",
                ("GET",),
                "/chart/refresh",
                "inprocess_background",
                False,
                (
                    Evidence(
                        "app/features/chart/routes.py",
                        9,
                        "background",
                        "asyncio.create_task(refresh())",
                        (),
                    ),
                ),
                "chart",
            ),
            Endpoint(
                "app/features/chart/routes.py",
                30,
                "status",
                "fastapi",
                ("GET",),
                "/chart/status",
                "inline",
                False,
                (),
                "chart",
            ),
        ],
        skipped=[Skipped("app/broken.py", "syntax error: invalid syntax (line 3)")],
        suppressed=[
            Suppressed(
                Endpoint(
                    "app/admin.py",
                    3,
                    "export_all",
                    "flask",
                    ("GET",),
                    "/export",
                    "inline",
                    True,
                    (),
                    "app",
                ),
                "admin only, nightly",
            )
        ],
        files=12,
        lines=340,
    )


def test_json_has_exactly_the_documented_shape():
    data = json.loads(get_formatter("json")(sample_report()))
    assert set(data) == {
        "version",
        "root",
        "summary",
        "endpoints",
        "unrecognized_registrations",
        "skipped",
    }
    assert data["version"] == 2
    assert data["root"] == "/srv/project"
    assert data["summary"] == {
        "endpoints": 4,
        "offloaded": 1,
        "inline": 2,
        "inprocess_background": 1,
        "unresolved": 0,
        "resolved": 4,
        "coverage": 33.3,
        "coverage_text": (
            "33.3% of the 3 endpoints with work to move are offloaded; 4 resolved, 0 unresolved"
        ),
        "unrecognized_registrations": 0,
    }
    first = data["endpoints"][0]
    assert first == {
        "file": "app/features/upload/routes.py",
        "line": 10,
        "handler": "upload",
        "framework": "fastapi",
        "methods": ["POST"],
        "route": "/upload",
        "status": "offloaded",
        "heavy": False,
        "confidence": "certain",
        "reason": "",
        "uses_config": False,
        "evidence": [
            {
                "file": "app/features/upload/routes.py",
                "line": 12,
                "kind": "dispatch",
                "call": "process.delay(x)",
                "via": ["app/features/upload/routes.py:upload"],
            }
        ],
        "unresolved_calls": [],
        "route_note": "",
    }
    assert data["skipped"] == [
        {"file": "app/broken.py", "reason": "syntax error: invalid syntax (line 3)"}
    ]


def test_json_reads_back_into_the_same_report():
    report = sample_report()
    again = Report.from_dict(json.loads(get_formatter("json")(report)))
    assert [e.as_dict() for e in again.endpoints] == [e.as_dict() for e in report.endpoints]


def test_coverage_counts_only_endpoints_with_work_worth_offloading():
    summary = sample_report().summary
    assert (summary.offloaded, summary.inline_heavy, summary.inprocess_background) == (1, 1, 1)
    assert summary.coverage == 33.3
    assert Report(root="", endpoints=[]).summary.coverage == 100.0


def test_sarif_validates_against_the_sarif_2_1_0_schema():
    log = json.loads(get_formatter("sarif")(sample_report()))
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator.check_schema(schema)
    jsonschema.Draft4Validator(schema).validate(log)
    results = log["runs"][0]["results"]
    assert [
        (r["ruleId"], r["locations"][0]["physicalLocation"]["region"]["startLine"]) for r in results
    ] == [("CP001", 20), ("CP002", 7)]
    assert results[0]["relatedLocations"][0]["message"]["text"].startswith(
        "dataframe: pd.read_csv(path)"
    )


def test_sarif_of_a_real_audit_validates_too(run_audit):
    report = run_audit(
        {
            "dir with space/app.py": """
            import time
            from flask import Flask

            app = Flask(__name__)

            @app.route("/slow")
            def slow():
                time.sleep(3)
        """,
            "broken.py": "def (:\n",
        }
    )
    log = json.loads(get_formatter("sarif")(report))
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(schema).validate(log)
    (result,) = log["runs"][0]["results"]
    uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "dir%20with%20space/app.py"


def test_markdown_has_a_summary_and_a_section_per_feature():
    text = get_formatter("markdown")(sample_report())
    assert text.startswith("# Celery Worker Coverage Report\n\n## Summary\n")
    assert "### Upload" in text and "### Chart" in text
    assert (
        "- Celery coverage: `POST /upload` submit their work to Celery through "
        "`process.delay(x)`." in text
    )
    assert (
        "- Still inline and heavy: `POST /load` (`load`) does dataframe work in the "
        "request: `pd.read_csv(path)` at `app/features/upload/service.py:5`." in text
    )
    assert "- In-process background: `GET /chart/refresh`" in text
    assert "- Recommendation: move the dataframe work into Celery tasks" in text
    assert "## Suppressed\n- `GET /export` (`export_all` in `app/admin.py:3`): admin only" in text
    assert "## Skipped files\n- `app/broken.py`: syntax error" in text


def test_html_is_self_contained_and_escapes_source_text():
    report = sample_report()
    hostile = Evidence("app/x.py", 1, "http", "<script>alert('x')</script>", ("a<b",))
    report.endpoints.append(
        Endpoint(
            "app/x.py",
            1,
            "<script>evil()</script>",
            "flask",
            ("GET",),
            "/<script>",
            "inline",
            True,
            (hostile,),
            "x",
        )
    )
    page = get_formatter("html")(report)
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "&lt;script&gt;evil()&lt;/script&gt;" in page
    assert "http://" not in page and "https://" not in page


def test_text_is_a_table_with_the_summary_skipped_and_suppressed():
    lines = get_formatter("text")(sample_report()).splitlines()
    assert lines[0].split() == ["STATUS", "HEAVY", "METHODS", "ROUTE", "HANDLER", "WHERE", "WHY"]
    assert lines[1].split()[:3] == ["offloaded", "POST", "/upload"]
    assert (
        "4 endpoints: 1 offloaded, 2 inline (1 heavy), 1 in-process background; "
        "coverage 33.3% of the 3 endpoints with work to move are offloaded; "
        "4 resolved, 0 unresolved" in lines
    )
    assert "suppressed: app/admin.py:3 export_all (admin only, nightly)" in lines
    assert "skipped: app/broken.py: syntax error: invalid syntax (line 3)" in lines


@pytest.mark.parametrize("name", sorted(FORMATTERS))
def test_every_formatter_renders_an_empty_report(name):
    out = FORMATTERS[name](Report(root="/empty", endpoints=[]))
    assert isinstance(out, str) and out.endswith("\n")


def test_unknown_format_names_the_known_ones():
    with pytest.raises(KeyError, match="text, markdown, json, sarif, html"):
        get_formatter("pdf")
