"""Plain request-handler classes registered through a blueprint subclass's own
``add_url_rule`` (issue 14, brief item 2): the method the subclass's wrapper calls on an
instance handles every listed HTTP method. Snippets written for the audit, not copied."""

from __future__ import annotations

TASKS = """
    from celery import shared_task

    @shared_task
    def crunch(x):
        return x
"""
HANDLERS = """
    from app.tasks import crunch
    from app.web import RequestHandler


    class RHExport(RequestHandler):
        def process(self):
            crunch.delay(1)
            return "queued"


    class RHShow(RequestHandler):
        def process(self):
            return "x"
"""
BLUEPRINT = """
    from app.handlers import RHExport, RHShow
    from app.web import AppBlueprint

    bp = AppBlueprint("items", __name__, url_prefix="/items")
    bp.add_url_rule("/export", "export", RHExport, methods=("GET", "POST"))
    bp.add_url_rule("/<int:id>", "show", RHShow)
"""


def web(wrapper_body: str) -> str:
    """A handler base with an entry method ``run``, and a blueprint subclass whose
    ``add_url_rule`` hands the view to ``as_view_func`` (whose body is given)."""
    return (
        """
    from flask import Blueprint


    class RequestHandler:
        def run(self):
            self.check()
            return self.process()

        def check(self):
            pass

        def process(self):
            raise NotImplementedError


    def as_view_func(handler_class):
"""
        + wrapper_body
        + """

    class AppBlueprint(Blueprint):
        def add_url_rule(self, rule, endpoint=None, view_func=None, **options):
            if view_func is not None:
                view_func = as_view_func(view_func)
            super().add_url_rule(rule, endpoint, view_func, **options)
"""
    )


CLOSURE_CALLING_RUN = """
        if isinstance(handler_class, type) and issubclass(handler_class, RequestHandler):
            cls = handler_class

            def wrapper(**kwargs):
                return cls().run()

            return wrapper
        return handler_class
"""


def test_the_method_the_wrapper_calls_handles_each_listed_method(check):
    report = check(
        {
            "app/__init__.py": "",
            "app/tasks.py": TASKS,
            "app/web.py": web(CLOSURE_CALLING_RUN),
            "app/handlers.py": HANDLERS,
            "app/blueprint.py": BLUEPRINT,
        },
        # run() is the base's; the self.process() it returns runs the routed class's
        # override, which names each endpoint (entry_hooks.py)
        {"RHExport.process": ("offloaded", False), "RHShow.process": ("inline", False)},
    )
    found = {e.handler: (e.file, e.line, list(e.methods), e.route) for e in report.endpoints}
    assert found == {
        "RHExport.process": ("app/handlers.py", 6, ["GET", "POST"], "/items/export"),
        "RHShow.process": ("app/handlers.py", 12, ["GET"], "/items/<int:id>"),
    }
    assert report.unrecognized == []


def test_a_wrapper_that_calls_the_view_itself_stays_not_understood(check):
    # the wrapper calls the class (a constructor that does the work?) and nothing on an
    # instance: no method can be named, so the rules are listed, not guessed
    report = check(
        {
            "app/__init__.py": "",
            "app/tasks.py": TASKS,
            "app/web.py": web(
                """
        def wrapper(**kwargs):
            return handler_class(**kwargs)

        return wrapper
"""
            ),
            "app/handlers.py": HANDLERS,
            "app/blueprint.py": BLUEPRINT,
        },
        {},
    )
    assert [(u.file, u.line) for u in report.unrecognized] == [
        ("app/blueprint.py", 5),
        ("app/blueprint.py", 6),
    ]


def test_a_method_the_handler_class_lacks_stays_not_understood(check):
    report = check(
        {
            "app/__init__.py": "",
            "app/tasks.py": TASKS,
            "app/web.py": web(
                """
        def wrapper(**kwargs):
            return handler_class().respond()

        return wrapper
"""
            ),
            "app/handlers.py": HANDLERS,
            "app/blueprint.py": BLUEPRINT,
        },
        {},
    )
    assert len(report.unrecognized) == 2
    assert "RHExport is a class with no HTTP method handlers" in report.unrecognized[0].reason


def test_a_plain_blueprint_does_not_wrap_handler_classes(check):
    # the same classes on flask's own Blueprint: no wrapper, so nothing to read
    report = check(
        {
            "app/__init__.py": "",
            "app/tasks.py": TASKS,
            "app/web.py": web(CLOSURE_CALLING_RUN),
            "app/handlers.py": HANDLERS,
            "app/blueprint.py": """
            from flask import Blueprint
            from app.handlers import RHExport

            bp = Blueprint("items", __name__)
            bp.add_url_rule("/export", "export", RHExport, methods=("GET", "POST"))
        """,
        },
        {},
    )
    assert [(u.file, u.line) for u in report.unrecognized] == [("app/blueprint.py", 5)]
