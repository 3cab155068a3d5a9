"""A method called on an entry of a module-level table of project objects (issue 14,
dispatch hidden behind project code): ``SERVICES[kind].revoke(...)`` runs the ``revoke`` of
whichever entry the request picks, so each entry's method is followed. Snippets written for
the audit, not copied from a project."""

from __future__ import annotations

from controlplane.migrations_audit.report import CERTAIN, LIKELY

TASKS = """
    from celery import shared_task

    @shared_task
    def notify(pk):
        return pk
"""
SERVICES = """
    from app.tasks import notify


    class TokenService:
        def revoke(self, token):
            notify.delay(token)
            return True


    class SessionService:
        def revoke(self, token):
            return False


    tokens = TokenService()
    sessions = SessionService()
"""
ROUTES = """
    from fastapi import APIRouter

    from app.services import sessions, tokens

    router = APIRouter()

    SERVICES = {"token": tokens, "session": sessions}
    QUIET = {"session": sessions}


    @router.post("/leaks/{kind}")
    def report_leak(kind: str, token: str):
        return SERVICES[kind].revoke(token)


    @router.post("/quiet/{kind}")
    def report_quietly(kind: str, token: str):
        return QUIET[kind].revoke(token)
"""


def files(routes: str = ROUTES) -> dict[str, str]:
    return {
        "app/__init__.py": "",
        "app/tasks.py": TASKS,
        "app/services.py": SERVICES,
        "app/routes.py": routes,
    }


def test_a_method_called_on_a_table_entry_runs_every_entrys_method(check):
    report = check(
        files(), {"report_leak": ("offloaded", False), "report_quietly": ("inline", False)}
    )
    [evidence] = next(e for e in report.endpoints if e.handler == "report_leak").evidence
    assert (evidence.file, evidence.line) == ("app/services.py", 6)
    assert "app/services.py:TokenService.revoke" in evidence.via
    assert next(e for e in report.endpoints if e.handler == "report_leak").confidence == CERTAIN


def test_a_table_holding_something_outside_the_project_is_only_a_guess(check):
    routes = ROUTES.replace(
        "from app.services import sessions, tokens",
        "import somelib\n    from app.services import sessions, tokens",
    ).replace('"session": sessions}\n    QUIET', '"remote": somelib.client}\n    QUIET')
    report = check(
        files(routes), {"report_leak": ("offloaded", False), "report_quietly": ("inline", False)}
    )
    leak = next(e for e in report.endpoints if e.handler == "report_leak")
    assert leak.confidence == LIKELY  # the same-named methods of the project, guessed
