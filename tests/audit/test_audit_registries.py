"""A registry the project never fills (issue 14, brief item 5): callables enqueued from a
module-level container that starts empty and that nothing in the project puts project code
into are not known to exist, so the endpoint is ``unresolved`` with that reason, never
``offloaded`` on a guess; a registry the project does fill keeps its dispatch. Snippets of
audited projects (source text only, nothing runs)."""

from __future__ import annotations

from textwrap import indent

EVENTS = """
    from collections import OrderedDict
    from rq import Queue

    job_queue = Queue()
    handlers = {}

    def register(event, name, handler):
        if event not in handlers:
            handlers[event] = OrderedDict()
        handlers[event][name] = handler

    def register_all(event_map):
        for event_name, module in event_map.items():
            register(event_name, module.__name__, module)

    def emit(event, data):
        event_handlers = handlers.get(event, {})
        for func in event_handlers.values():
            job_queue.enqueue(func.handle_event, data)
"""
PLUGINS = """
    def load(app):
        try:
            import event_handlers
        except ImportError:
            return
        from events import register_all
        register_all(event_handlers.event_map)
"""
APP = """
    from flask import Flask
    from events import emit

    app = Flask(__name__)

    @app.post("/x")
    def handler():
        emit("task:update", {"id": 1})
        return "ok"
"""


def test_a_dispatch_from_a_registry_the_project_never_fills_is_unresolved(run_audit):
    report = run_audit({"events.py": EVENTS, "plugins.py": PLUGINS, "app.py": APP})
    [endpoint] = report.endpoints
    assert (endpoint.status, endpoint.heavy, endpoint.confidence) == ("unresolved", False, "")
    assert endpoint.reason == (
        "enqueues what the registry events.handlers holds (job_queue.enqueue(func.handle_event,"
        " data) at events.py:19); it starts empty and nothing in the project fills it"
    )
    assert [(e.kind, e.file, e.line) for e in endpoint.evidence] == [
        ("unfilled_registry", "events.py", 19)
    ]


def test_a_registry_the_project_fills_with_its_own_handlers_keeps_its_dispatch(check):
    for filler in (
        # a project module registered through the helper
        "import events\nimport audit_log\nevents.register('task:update', 'log', audit_log)\n",
        # a project function put in directly
        "from events import handlers\nfrom audit_log import handle_event\n"
        "handlers['task:update'] = {'log': handle_event}\n",
        # added with a container method
        "from events import handlers\nimport audit_log\n"
        "handlers.setdefault('task:update', audit_log)\n",
    ):
        check(
            {
                "events.py": EVENTS,
                "audit_log.py": "def handle_event(data):\n    return data\n",
                "configure.py": "def configure():\n" + indent(filler, "    "),
                "app.py": APP,
            },
            {"handler": ("offloaded", False)},
        )


def test_an_enqueue_over_a_filled_or_local_container_is_a_plain_dispatch(check):
    for events in (
        EVENTS.replace("handlers = {}", "handlers = {'task:update': {'x': object()}}"),
        EVENTS.replace(
            "        event_handlers = handlers.get(event, {})\n",
            "        event_handlers = {'a': data}\n",
        ),
    ):
        check(
            {"events.py": events, "plugins.py": PLUGINS, "app.py": APP},
            {"handler": ("offloaded", False)},
        )
