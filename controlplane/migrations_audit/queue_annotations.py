"""A value annotated with a queue library's class is that library's object (round 6, item 17).

``actor: Actor[Any, Any] = broker.get_actor(name)`` says what ``get_actor`` returns when the
audit cannot see it: ``actor.send_with_options(...)`` is a Dramatiq dispatch, as
``task: Task`` makes ``task.delay()`` Celery's and ``queue: Queue`` makes
``queue.enqueue()`` RQ's. The annotation must name the library through the module's imports
(``from dramatiq import Actor``), so a project class called ``Actor`` is not taken for it; the
extractor renders such a value as an instance of the class (``dramatiq.actor.Actor()``),
and ``typed_dispatch`` reads the system off a method called on it.
"""

from __future__ import annotations

import ast

from .names import Names
from .queues import (
    CELERY,
    CELERY_APPLY,
    DRAMATIQ,
    DRAMATIQ_SEND,
    HUEY,
    RQ,
    RQ_ENQUEUE,
    TASKIQ,
    TASKIQ_KICK,
)
from .syntax import strip_optional

# each system's top-level packages, and the methods that enqueue on its objects
_SYSTEMS: dict[str, tuple[tuple[str, ...], frozenset[str]]] = {
    CELERY: (("celery.",), CELERY_APPLY),
    DRAMATIQ: (("dramatiq.",), DRAMATIQ_SEND),
    RQ: (("rq.", "django_rq."), RQ_ENQUEUE),
    HUEY: (("huey.",), frozenset({"schedule"})),
    TASKIQ: (("taskiq.",), TASKIQ_KICK),
}
_ROOTS = tuple(root for roots, _ in _SYSTEMS.values() for root in roots)


def queue_annotation(names: Names, annotation: ast.expr | None) -> str:
    """``dramatiq.actor.Actor()`` for ``Actor[Any, Any]`` (``Optional``, a string, generic
    arguments dropped) when it names a queue library's class; "" for anything else."""
    if annotation is None:
        return ""
    node = strip_optional(annotation)
    if isinstance(node, ast.Subscript):
        node = node.value  # Actor[Any, Any]: the class, whatever its parameters
    if not isinstance(node, ast.Name | ast.Attribute):
        return ""
    rendered = names.render(node)
    if rendered.startswith(_ROOTS) and _is_class_name(rendered):
        return rendered + "()"
    return ""


def typed_receiver(name: str) -> str:
    """The system whose class ``name`` (a rendered call) is a method of an instance of
    (``dramatiq.actor.Actor().message``: dramatiq); "" for anything else."""
    base = name.rpartition(".")[0]
    if not base.endswith("()") or "()" in base[:-2] or not _is_class_name(base[:-2]):
        return ""
    return next((system for system, (roots, _) in _SYSTEMS.items() if base.startswith(roots)), "")


def typed_dispatch(name: str) -> str:
    """The system ``name`` (a rendered call) enqueues with: a dispatch method called on an
    instance of a queue library's class (``dramatiq.actor.Actor().send``); "" otherwise."""
    system = typed_receiver(name)
    if system and name.rpartition(".")[2] in _SYSTEMS[system][1]:
        return system
    return ""


def _is_class_name(dotted: str) -> bool:
    """``celery.Task``, not ``celery.shared_task`` or ``rq.get_current_job``."""
    last = dotted.rsplit(".", 1)[-1]
    return bool(last) and last[0].isupper()
