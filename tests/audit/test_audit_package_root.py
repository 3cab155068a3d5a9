"""The audited directory is itself a package whose modules import each other by its name
(PATTERNS.md item 73): ``controlplane audit src/dispatch`` where the code says ``from
dispatch.service import queue_report``. Those imports name modules under the root, so calls
and router prefixes across modules are followed as when the parent is audited. Snippets
written for the audit, not copied from a project."""

from __future__ import annotations

import pytest

from controlplane.migrations_audit import AuditConfig, audit
from tests.audit.conftest import outcome

FILES = {
    "reports/__init__.py": "",
    "reports/tasks.py": """
        from celery import Celery

        celery_app = Celery("reports")


        @celery_app.task
        def send_report(report_id):
            return report_id
    """,
    "reports/service.py": """
        from reports.tasks import send_report


        def queue_report(report_id):
            send_report.delay(report_id)
    """,
    "reports/views.py": """
        from fastapi import APIRouter

        from reports.service import queue_report

        router = APIRouter()


        @router.post("/{report_id}")
        def create_report(report_id: int):
            queue_report(report_id)
            return {"queued": True}
    """,
    "reports/main.py": """
        from fastapi import FastAPI

        from reports.views import router as report_router

        app = FastAPI()
        app.include_router(report_router, prefix="/reports")
    """,
}


@pytest.mark.parametrize("inside", ["reports", ""])
def test_a_package_audited_from_inside_reads_as_from_its_parent(tree, inside):
    root = tree(FILES)
    report = audit(root / inside, AuditConfig(), jobs=1)
    assert outcome(report) == {"create_report": ("offloaded", False)}
    assert [e.route for e in report.endpoints] == ["/reports/{report_id}"]


def test_a_directory_that_is_no_package_adds_no_name(tree):
    """Without ``__init__.py`` the directory's name is not a package: its imports of
    ``reports.x`` stay unresolved, as Python would fail them."""
    files = {k: v for k, v in FILES.items() if k != "reports/__init__.py"}
    root = tree(files)
    report = audit(root / "reports", AuditConfig(), jobs=1)
    assert outcome(report) == {"create_report": ("inline", False)}
