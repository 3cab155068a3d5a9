"""Jobs a request buffers and a middleware sends after the handler (issue 14, dispatch
behind project wrappers): ``enqueue("actor.name", ...)`` appends to a per-request buffer,
and another method of the buffer's class turns what was appended into broker messages. The
append is the handler's dispatch. Snippets written for the audit, not copied from a project."""

from __future__ import annotations

BUFFER = """
    import contextvars

    import dramatiq

    _current = contextvars.ContextVar("jobs")


    class JobBuffer:
        def __init__(self):
            self._pending = []
            self._notes = []

        def add(self, actor, *args, **kwargs):
            self._pending.append((actor, args, kwargs))

        def note(self, text):
            self._notes.append(text)

        def flush(self, broker: dramatiq.Broker):
            for actor, args, kwargs in self._pending:
                message = broker.get_actor(actor).message_with_options(args=args, kwargs=kwargs)
                broker.client.rpush(message.queue_name, message.encode())
            self._pending = []

        def summary(self):
            return len(self._notes)

        @classmethod
        def current(cls) -> "JobBuffer":
            return _current.get()


    def enqueue(actor, *args, **kwargs):
        JobBuffer.current().add(actor, *args, **kwargs)


    def remember(text):
        JobBuffer.current().note(text)
"""
ROUTES = """
    from fastapi import APIRouter

    from app.worker import enqueue, remember

    router = APIRouter()


    @router.post("/items")
    async def create():
        enqueue("items.created", 1)
        return {}


    @router.get("/items")
    async def listing():
        remember("listed")
        return []
"""


def project(buffer: str = BUFFER) -> dict[str, str]:
    return {"app/__init__.py": "", "app/worker.py": buffer, "app/routes.py": ROUTES}


def test_appending_to_a_buffer_another_method_sends_as_messages_is_a_dispatch(check):
    report = check(project(), {"create": ("offloaded", False), "listing": ("inline", False)})
    [evidence] = next(e for e in report.endpoints if e.handler == "create").evidence
    where = (evidence.file, evidence.line, evidence.queue_system)
    assert where == ("app/worker.py", 34, "dramatiq")


def test_a_buffer_nothing_turns_into_messages_is_not_a_dispatch(check):
    drained_to_a_log = BUFFER.replace(
        "message = broker.get_actor(actor).message_with_options(args=args, kwargs=kwargs)",
        "message = format_message(actor, args, kwargs)",
    )
    check(project(drained_to_a_log), {"create": ("inline", False), "listing": ("inline", False)})


def test_messages_built_on_an_actor_annotated_as_dramatiqs_send_the_buffer(check):
    """``fn: dramatiq.Actor[Any, Any] = broker.get_actor(actor)`` (round 6, item 17): the
    annotation names the actor's class, and its ``message_with_options`` is still a message."""
    annotated = BUFFER.replace(
        "message = broker.get_actor(actor).message_with_options(args=args, kwargs=kwargs)",
        "fn: dramatiq.Actor[Any, Any] = broker.get_actor(actor)\n"
        "                message = fn.message_with_options(args=args, kwargs=kwargs)",
    ).replace("import dramatiq\n", "import dramatiq\n    from typing import Any\n", 1)
    check(project(annotated), {"create": ("offloaded", False), "listing": ("inline", False)})
