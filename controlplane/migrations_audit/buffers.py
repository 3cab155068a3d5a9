"""Job buffers: jobs a request appends to a list that other code sends later (issue 14).

Some projects do not enqueue from the handler: ``enqueue_job("order.created", id)`` appends
to a per-request buffer (``self._pending.append(...)``) and a middleware, after the handler,
calls the buffer's ``flush()``, which turns each entry into a broker message. Nothing on the
handler's path calls the queue, yet every append becomes a job. The rule, by shape: a
method of a class that appends to ``self.<attr>`` enqueues, into system S, when another
method of the same class reads ``self.<attr>`` and sends to S: builds Dramatiq messages for
actors it looks up on a broker (``broker.get_actor(name).message_with_options(...)``, what
``Actor.send`` does before ``broker.enqueue``) or calls another queue's enqueue
(``queue.enqueue(...)``, ``dramatiq.*.send``). A buffer whose reader sends nothing (a log, a
batch of rows) is not a dispatch. A reader that hands each entry to a thread or executor
(``self.executor.submit(self._run, item)``) runs the work in this process after the
response: in-process background (PATTERNS.md item 111).
"""

from __future__ import annotations

import ast
from collections.abc import Callable

from .facts import FunctionFacts
from .project import Project, Target
from .queue_annotations import typed_dispatch, typed_receiver
from .queues import DRAMATIQ, external_system

IN_PROCESS = "in-process"  # a buffer drained on a thread or executor of this process
# what adds to a container held on self: list, deque, set, queue.Queue
_ADDS = frozenset(
    {"append", "extend", "appendleft", "extendleft", "insert", "add", "put", "put_nowait"}
)
# a Dramatiq message for an actor looked up by name on a broker
_DRAMATIQ_MESSAGES = (
    ".get_actor().message",
    ".get_actor().message_with_options",
    ".get_actor().send",
    ".get_actor().send_with_options",
)

# what builds or sends a message on a Dramatiq actor
_ACTOR_MESSAGES = frozenset({"message", "message_with_options", "send", "send_with_options"})


def self_attrs_read(node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    """The attributes of its first parameter (``self``) a method reads, sorted."""
    params = node.args.posonlyargs + node.args.args
    if not params:
        return []
    me = params[0].arg
    return sorted(
        {
            n.attr
            for n in ast.walk(node)
            if isinstance(n, ast.Attribute)
            and isinstance(n.ctx, ast.Load)
            and isinstance(n.value, ast.Name)
            and n.value.id == me
        }
    )


def sends(facts: FunctionFacts) -> str:
    """The queue system a method sends messages to by itself ("" when none)."""
    for call in facts.calls:
        name = call.name
        if name.startswith(("self.", "cls.")):
            continue
        if name.endswith(_DRAMATIQ_MESSAGES):
            return DRAMATIQ
        typed = typed_receiver(name)  # fn: dramatiq.Actor = ...; fn.message_with_options()
        if typed == DRAMATIQ and name.rpartition(".")[2] in _ACTOR_MESSAGES:
            return DRAMATIQ
        if typed and typed_dispatch(name):
            return typed
        system = external_system(name)
        if system:
            return system
    return ""


def hands_off(facts: FunctionFacts, background: Callable[[str], bool]) -> bool:
    """Whether a method hands work to something of this process that outlives the call
    (``self.executor.submit(self._run, item)``, a ``Thread``): a drain run on a thread."""
    return any(background(call.name) for call in facts.calls)


class JobBuffers:
    """Which project methods put a job into a buffer that their class sends to a queue, or
    hands to a thread or executor of its own (``IN_PROCESS``: item 111)."""

    def __init__(self, project: Project, background: Callable[[str], bool] | None = None) -> None:
        self.project = project
        self.background = background
        self._systems: dict[tuple[str, str], str] | None = None

    def system(self, target: Target) -> str:
        """The queue system a call of ``target`` enqueues into through a buffer, or ""."""
        if target.kind != "F" or "." not in target.name:
            return ""
        if self._systems is None:
            self._systems = self._index()
        return self._systems.get((target.module, target.name), "")

    def _index(self) -> dict[tuple[str, str], str]:
        out: dict[tuple[str, str], str] = {}
        for module in self.project.modules.values():
            for qualname, klass in module.classes.items():
                methods = {
                    name: module.functions[f"{qualname}.{name}"]
                    for name in klass.methods
                    if f"{qualname}.{name}" in module.functions
                }
                drained: dict[str, tuple[str, str]] = {}  # attr -> (system, reader)
                for name, facts in methods.items():
                    if not facts.reads:
                        continue
                    system = sends(facts)
                    if not system and self.background and hands_off(facts, self.background):
                        system = IN_PROCESS  # appended here, run on its thread later
                    if system:
                        for attr in facts.reads:
                            drained.setdefault(attr, (system, name))
                if not drained:
                    continue
                for name, facts in methods.items():
                    for call in facts.calls:
                        base, _, tail = call.name.rpartition(".")
                        attr = base[5:] if base.startswith("self.") else ""
                        if tail not in _ADDS or not attr.isidentifier() or attr not in drained:
                            continue
                        system, reader = drained[attr]
                        if reader != name:
                            out[(module.module, f"{qualname}.{name}")] = system
        return out
