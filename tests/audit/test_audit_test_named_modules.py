"""A module named like a pytest file (``*_test.py``) that the project imports is code it
runs (PATTERNS.md item 72): ``retrieval_test.py`` holds a blueprint the app registers. One
no module imports is a test, and ``test_*.py`` files are never read. Snippets written for
the audit, not copied from a project."""

from __future__ import annotations

import pytest

TASKS = """
    from celery import Celery

    celery = Celery("app")


    @celery.task
    def reindex(source_id):
        return source_id
"""
ROUTES = """
    from flask import Blueprint

    from app.tasks import reindex

    bp = Blueprint("search", __name__)


    @bp.route("/sources/<source_id>/search", methods=["POST"])
    def search(source_id):
        reindex.delay(source_id)
        return {"ok": True}
"""
MAIN = """
    from flask import Flask

    IMPORT

    app = Flask(__name__)
    app.register_blueprint(bp)
"""


def project(filename: str, import_line: str) -> dict[str, str]:
    return {
        "app/__init__.py": "",
        "app/tasks.py": TASKS,
        f"app/{filename}": ROUTES,
        "app/main.py": MAIN.replace("IMPORT", import_line),
    }


@pytest.mark.parametrize(
    "import_line",
    ["from app.retrieval_test import bp", "from .retrieval_test import bp"],
)
def test_an_imported_module_named_like_a_test_is_audited(check, import_line):
    check(project("retrieval_test.py", import_line), {"search": ("offloaded", False)})


@pytest.mark.parametrize(
    "filename, import_line",
    [
        ("search_test.py", "bp = None"),  # nobody imports it: a test
        ("test_search.py", "from app.test_search import bp"),  # pytest's own name: never read
    ],
)
def test_tests_stay_out(check, filename, import_line):
    check(project(filename, import_line), {})
