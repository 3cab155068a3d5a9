"""What the audit could not see is reported, never guessed (issue 14 item 5).

Snippets of audited projects (source text only, nothing runs): an undecidable ``.delay`` makes
the endpoint ``unresolved`` with its reason; a call it could not resolve makes a status
``likely``; a registration it could not interpret is listed with file:line and why; coverage
is over resolved endpoints; the baseline gate does not fail on an endpoint becoming
unresolved alone.
"""

from __future__ import annotations

import json

from controlplane.migrations_audit.formatters import get_formatter
from controlplane.migrations_audit.gate import evaluate
from controlplane.migrations_audit.report import Report

TASKS = """
    from celery import shared_task

    @shared_task
    def crunch(x):
        return x
"""

UNDECIDED = """
    from flask import Flask
    from plugins import registry

    app = Flask(__name__)

    @app.post("/run")
    def run():
        registry.lookup("x").delay(1)
        return "ok"
"""


def by_handler(report: Report) -> dict:
    return {e.handler: e for e in report.endpoints}


def test_a_delay_on_something_it_cannot_resolve_is_unresolved_with_the_reason(check):
    report = check(
        {"plugins.py": "registry = None\n", "app.py": UNDECIDED},
        {"run": ("unresolved", False)},
    )
    endpoint = by_handler(report)["run"]
    assert endpoint.confidence == ""
    assert "could not tell whether the receiver of this call is a task" in endpoint.reason
    assert "app.py:8" in endpoint.reason
    assert [(u.file, u.line) for u in endpoint.unresolved_calls] == [("app.py", 8)]
    assert report.summary.unresolved == 1 and report.summary.resolved == 0


def test_a_real_dispatch_beside_an_undecided_one_is_offloaded(check):
    body = UNDECIDED.replace(
        'registry.lookup("x").delay(1)', 'registry.lookup("x").delay(1)\n        crunch.delay(2)'
    ).replace(
        "from plugins import registry", "from plugins import registry\n    from tasks import crunch"
    )
    report = check(
        {"plugins.py": "registry = None\n", "tasks.py": TASKS, "app.py": body},
        {"run": ("offloaded", False)},
    )
    assert by_handler(report)["run"].confidence == "likely"  # one call was not understood


def test_a_delay_on_a_plain_project_function_is_not_unresolved(check):
    helper = "class Button:\n    def delay(self, n):\n        return n\n\nbutton = Button()\n"
    app = UNDECIDED.replace("from plugins import registry", "from widgets import button")
    app = app.replace('registry.lookup("x").delay(1)', "button.delay(1)")
    report = check({"widgets.py": helper, "app.py": app}, {"run": ("inline", False)})
    assert by_handler(report)["run"].confidence == "certain"


def test_certain_when_every_call_is_understood_likely_when_one_is_not(check):
    services = """
        class Mailer:
            def notify_owner(self, x):
                return x

        class Pager:
            def notify_owner(self, x):
                return x

        class Logger:
            def notify_owner(self, x):
                return x
    """
    app = """
        from flask import Flask
        from tasks import crunch

        app = Flask(__name__)

        @app.post("/a")
        def plain():
            crunch.delay(1)
            return "ok"

        @app.post("/b/<service>")
        def unknown_receiver(service):
            service.notify_owner(1)
            return "ok"
    """
    report = check(
        {"tasks.py": TASKS, "services.py": services, "app.py": app},
        {"plain": ("offloaded", False), "unknown_receiver": ("inline", False)},
    )
    found = by_handler(report)
    assert found["plain"].confidence == "certain" and not found["plain"].unresolved_calls
    assert found["unknown_receiver"].confidence == "likely"
    (call,) = found["unknown_receiver"].unresolved_calls
    assert (call.file, call.line) == ("app.py", 13)
    assert "unknown type" in call.reason
    text = get_formatter("text")(report)
    assert (
        "1 endpoint with a status (likely, not certain) reaches calls the audit could not "
        "resolve (1 call):" in text
    )
    assert "app.py:13 service.notify_owner(1)" in text
    assert text.splitlines()[-1].endswith("reached by 1 endpoint")
    assert "`app.py:13`" in get_formatter("markdown")(report)


def test_a_dispatch_through_a_configured_wrapper_says_it_rests_on_config(check):
    app = """
        from flask import Flask
        from jobs import submit

        app = Flask(__name__)

        @app.post("/a")
        def queued():
            submit("x")
            return "ok"
    """
    jobs = "def submit(name):\n    return name\n"
    report = check(
        {"jobs.py": jobs, "app.py": app},
        {"queued": ("offloaded", False)},
        dispatch_wrappers=["jobs.submit"],
    )
    endpoint = by_handler(report)["queued"]
    assert endpoint.uses_config and endpoint.confidence == "likely"
    assert json.loads(get_formatter("json")(report))["endpoints"][0]["uses_config"] is True
    assert "(config)" in get_formatter("text")(report)
    assert "through a dispatch wrapper or task named in the config" in get_formatter("markdown")(
        report
    )


REGISTRATIONS = """
    from flask import Flask
    from flask_restful import Api, Resource

    app = Flask(__name__)
    api = Api(app)

    class Items(Resource):
        def get(self):
            return []

    api.add_resource(Items, "/items")
    api.add_resource(make_resource(), "/made")
    app.add_url_rule("/gone", view_func=missing_view)
"""


def test_registrations_not_understood_are_listed_with_file_line_and_why(check):
    report = check({"app.py": REGISTRATIONS}, {"Items.get": ("inline", False)})
    listed = [(u.file, u.line) for u in report.unrecognized]
    assert listed == [("app.py", 12), ("app.py", 13)]
    assert all(u.reason for u in report.unrecognized)
    text = get_formatter("text")(report)
    assert "2 route registrations in app.py not understood:" in text
    assert "app.py:13" in text
    markdown = get_formatter("markdown")(report)
    assert "## What the audit could not see" in markdown and "`app.py:12`" in markdown
    html = get_formatter("html")(report)
    assert "Route registrations not understood" in html and "app.py:13" in html
    data = json.loads(get_formatter("json")(report))
    assert data["version"] == 2
    assert data["summary"]["unrecognized_registrations"] == 2
    assert [u["line"] for u in data["unrecognized_registrations"]] == [12, 13]


def test_registrations_understood_list_nothing(check):
    app = REGISTRATIONS.split("    api.add_resource(make_resource()")[0]
    report = check({"app.py": app}, {"Items.get": ("inline", False)})
    assert report.unrecognized == []
    assert "not understood" not in get_formatter("text")(report)


def test_coverage_is_over_resolved_endpoints_beside_the_unresolved_count(check):
    app = (
        UNDECIDED
        + """
    @app.post("/sync")
    def sync():
        import requests
        return requests.get("https://example.org").text

    @app.post("/queued")
    def queued():
        from tasks import crunch
        crunch.delay(1)
        return "ok"
"""
    )
    report = check(
        {"plugins.py": "registry = None\n", "tasks.py": TASKS, "app.py": app},
        {"run": ("unresolved", False), "sync": ("inline", True), "queued": ("offloaded", False)},
    )
    summary = report.summary
    assert summary.coverage == 50.0
    text = "50.0% of the 2 endpoints with work to move are offloaded; 2 resolved, 1 unresolved"
    assert summary.coverage_text == text
    assert f"coverage {text}" in get_formatter("text")(report)


def test_the_baseline_gate_ignores_an_endpoint_becoming_unresolved_alone(run_audit):
    offloaded = UNDECIDED.replace('registry.lookup("x").delay(1)', "crunch.delay(1)").replace(
        "from plugins import registry", "from tasks import crunch"
    )
    before = run_audit({"tasks.py": TASKS, "app.py": offloaded})
    after = run_audit({"plugins.py": "registry = None\n", "app.py": UNDECIDED})
    assert by_handler(after)["run"].status == "unresolved"
    baseline = Report.from_dict(json.loads(get_formatter("json")(before)))
    assert evaluate(after, baseline=baseline).ok
    inline = UNDECIDED.replace('registry.lookup("x").delay(1)', "pass")
    assert not evaluate(run_audit({"app.py": inline}), baseline=baseline).ok


def test_a_version_1_report_still_reads_as_a_baseline():
    data = {
        "version": 1,
        "root": "/x",
        "endpoints": [
            {
                "file": "a.py",
                "line": 1,
                "handler": "h",
                "methods": ["GET"],
                "status": "offloaded",
                "heavy": False,
            }
        ],
    }
    (endpoint,) = Report.from_dict(data).endpoints
    assert endpoint.status == "offloaded" and endpoint.unresolved_calls == ()


def test_a_plain_handler_class_given_to_add_url_rule_is_listed_not_understood(check):
    """A blueprint subclass may wrap a plain request-handler class itself; which method
    handles the request is not known, so the rule is listed rather than dropped. A
    ``MethodView`` registered through ``as_view`` is understood."""
    report = check(
        {
            "app.py": """
            from flask import Blueprint
            from flask.views import MethodView

            bp = Blueprint("mod", __name__)

            class RHThing:
                def process(self):
                    return "x"

            class Things(MethodView):
                def get(self):
                    return []

            bp.add_url_rule("/thing", "thing", RHThing, methods=("GET", "POST"))
            bp.add_url_rule("/things", view_func=Things.as_view("things"))
            """
        },
        {"Things.get": ("inline", False)},
    )
    assert [(u.file, u.line) for u in report.unrecognized] == [("app.py", 14)]
    assert "RHThing is a class with no HTTP method handlers" in report.unrecognized[0].reason
