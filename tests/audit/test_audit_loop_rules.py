"""``add_url_rule`` inside module-level loops over a project table (issue 14, round 5d
item 12): each registration is an endpoint of the view it names, its route the literal part
with the loop variable as a placeholder (``likely``) or, when the table can be read, the
value. Snippets written for the audit, not copied."""

from __future__ import annotations

import html
import json

from controlplane.migrations_audit.formatters import get_formatter
from controlplane.migrations_audit.loop_rules import LOOP_NOTE

from .test_audit_handler_classes import CLOSURE_CALLING_RUN, TASKS, web

HANDLERS = """
    from app.tasks import crunch
    from app.web import RequestHandler


    class RHViewNote(RequestHandler):
        def process(self):
            return "x"


    class RHEditNote(RequestHandler):
        def process(self):
            crunch.delay(1)
            return "queued"
"""
# a table built at import time: the audit cannot read its values
COMPUTED_TABLE = """
    from app.plugins import prefixes_of

    url_prefixes = prefixes_of("event", "category")
"""
NESTED_LOOPS = """
    from app.handlers import RHEditNote, RHViewNote
    from app.tables import url_prefixes
    from app.web import AppBlueprint

    bp = AppBlueprint("notes", __name__)

    for object_type, prefixes in url_prefixes.items():
        for prefix in prefixes:
            bp.add_url_rule(prefix + "/note/", "view", RHViewNote, defaults={"t": object_type})
            bp.add_url_rule(
                f"{prefix}/note/edit", "edit", RHEditNote, methods=("GET", "POST")
            )
"""


def found(report):
    return {e.handler: (list(e.methods), e.route, e.confidence) for e in report.endpoints}


def test_handler_classes_registered_in_nested_loops_over_an_unread_table(check):
    report = check(
        {
            "app/__init__.py": "",
            "app/tasks.py": TASKS,
            "app/web.py": web(CLOSURE_CALLING_RUN),
            "app/handlers.py": HANDLERS,
            "app/tables.py": COMPUTED_TABLE,
            "app/blueprint.py": NESTED_LOOPS,
        },
        {"RHViewNote.process": ("inline", False), "RHEditNote.process": ("offloaded", False)},
    )
    assert found(report) == {
        "RHViewNote.process": (["GET"], "/{prefix}/note/", "likely"),
        "RHEditNote.process": (["GET", "POST"], "/{prefix}/note/edit", "likely"),
    }
    assert report.unrecognized == []
    # why they are likely is said in every format, not only implied by the placeholder
    assert {e.route_note for e in report.endpoints} == {LOOP_NOTE}
    data = json.loads(get_formatter("json")(report))
    assert {e["route_note"] for e in data["endpoints"]} == {LOOP_NOTE}
    said = f"2 endpoints likely, because of the route: {LOOP_NOTE}"
    assert said in get_formatter("text")(report)
    assert said in get_formatter("markdown")(report)
    assert html.escape(f"route: {LOOP_NOTE}") in get_formatter("html")(report)


def test_a_view_function_given_in_a_loop_over_a_literal_list_gets_its_route(check):
    report = check(
        {
            "app/__init__.py": "",
            "app/tasks.py": TASKS,
            "app/views.py": """
            from flask import Blueprint
            from app.tasks import crunch

            bp = Blueprint("notes", __name__)


            def edit_note(**kwargs):
                crunch.delay(1)
                return "queued"


            for prefix in ["/event/<int:event_id>"]:
                bp.add_url_rule(prefix + "/note/edit", view_func=edit_note, methods=["POST"])
        """,
        },
        {"edit_note": ("offloaded", False)},
    )
    assert found(report) == {"edit_note": (["POST"], "/event/<int:event_id>/note/edit", "certain")}


def test_a_view_function_in_a_loop_over_an_imported_list(check):
    report = check(
        {
            "app/__init__.py": "",
            "app/tasks.py": TASKS,
            "app/tables.py": COMPUTED_TABLE,
            "app/views.py": """
            from flask import Blueprint
            from app.tables import url_prefixes
            from app.tasks import crunch

            bp = Blueprint("notes", __name__)


            def edit_note(**kwargs):
                crunch.delay(1)
                return "queued"


            for prefix in url_prefixes:
                bp.add_url_rule(prefix + "/note/edit", view_func=edit_note, methods=["POST"])
        """,
        },
        {"edit_note": ("offloaded", False)},
    )
    assert found(report) == {"edit_note": (["POST"], "/{prefix}/note/edit", "likely")}


def test_a_loop_over_an_unknown_iterable_that_registers_nothing(check):
    report = check(
        {
            "app/__init__.py": "",
            "app/tables.py": COMPUTED_TABLE,
            "app/views.py": """
            from flask import Blueprint
            from app.tables import url_prefixes

            bp = Blueprint("notes", __name__)
            names = []

            for object_type, prefixes in url_prefixes.items():
                for prefix in prefixes:
                    names.append(prefix + "/note/")
        """,
        },
        {},
    )
    assert report.unrecognized == []


def test_a_class_registered_in_a_loop_that_cannot_be_resolved_is_not_understood(check):
    report = check(
        {
            "app/__init__.py": "",
            "app/tasks.py": TASKS,
            "app/web.py": web(CLOSURE_CALLING_RUN),
            "app/tables.py": COMPUTED_TABLE,
            "app/blueprint.py": """
            from app.tables import url_prefixes
            from app.web import AppBlueprint

            bp = AppBlueprint("notes", __name__)

            for object_type, prefixes in url_prefixes.items():
                for prefix in prefixes:
                    bp.add_url_rule(prefix + "/note/", "view", RHMissing)
        """,
        },
        {},
    )
    assert [(u.file, u.line) for u in report.unrecognized] == [("app/blueprint.py", 8)]


def test_a_route_decorator_in_a_loop_over_an_imported_table(check):
    report = check(
        {
            "app/__init__.py": "",
            "app/tasks.py": TASKS,
            "app/tables.py": COMPUTED_TABLE,
            "app/views.py": """
            from flask import Blueprint
            from app.tables import url_prefixes
            from app.tasks import crunch

            bp = Blueprint("notes", __name__)

            for object_type, prefixes in url_prefixes.items():
                for prefix in prefixes:

                    @bp.route(f"{prefix}/note/edit", endpoint=object_type, methods=["POST"])
                    def edit_note(**kwargs):
                        crunch.delay(1)
                        return "queued"
        """,
        },
        {"edit_note": ("offloaded", False)},
    )
    assert found(report) == {"edit_note": (["POST"], "/{prefix}/note/edit", "likely")}


def test_a_route_decorator_with_a_computed_path_outside_loops_stays_certain(check):
    report = check(
        {
            "app/__init__.py": "",
            "app/tables.py": COMPUTED_TABLE,
            "app/views.py": """
            from flask import Blueprint
            from app.tables import url_prefixes

            bp = Blueprint("notes", __name__)
            PREFIX = url_prefixes["event"]


            @bp.route(PREFIX + "/note/")
            def view_note():
                return "x"
        """,
        },
        {"view_note": ("inline", False)},
    )
    assert found(report) == {"view_note": (["GET"], "/", "certain")}


def test_a_prefix_joined_from_another_module_level_prefix_is_read(check):
    report = check(
        {
            "app/__init__.py": "",
            "app/tasks.py": TASKS,
            "app/views.py": """
            from flask import Blueprint
            from app.tasks import crunch

            bp = Blueprint("notes", __name__, url_prefix="/event/<int:event_id>")
            note_prefix = "/notes/<int:note_id>"
            api_prefix = "/api" + note_prefix
            unknown_prefix = "/api" + str(note_prefix)


            def edit_note(**kwargs):
                crunch.delay(1)
                return "queued"


            def show_note(**kwargs):
                return "note"


            bp.add_url_rule(api_prefix + "/edit", "edit", view_func=edit_note, methods=["POST"])
            bp.add_url_rule(unknown_prefix, "show", view_func=show_note)
        """,
        },
        {"edit_note": ("offloaded", False)},
    )
    assert found(report) == {
        "edit_note": (["POST"], "/event/<int:event_id>/api/notes/<int:note_id>/edit", "certain")
    }
    [unread] = report.unrecognized
    assert unread.line == 20 and "computed" in unread.reason
