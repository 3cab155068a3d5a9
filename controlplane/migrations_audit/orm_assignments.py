"""Assignments that fire SQLAlchemy events (PATTERNS.md item 77).

``run.status = "PAUSED"`` on a row of ``Run`` runs the ``set`` listeners of ``Run.status``
at once, and, the row being one the session loaded, its ``before_update``/``after_update``
mapper listeners when the session flushes; ``Run(status="NEW")`` runs the ``set`` listeners
of each attribute the constructor is given (a new row is inserted, not updated). A value of
unknown class fires nothing the audit can name.
"""

from __future__ import annotations

from collections.abc import Callable

from .facts import CallSite
from .implicit import Implicit
from .project import Target

UPDATE_EVENTS = ("before_update", "after_update")
SET_NOTE = "set listener of {model}.{attr}, fired by assigning it at {where}"
UPDATE_NOTE = "update listener of {model}, fired by assigning {model}.{attr} at {where}"


def assignment_listeners(
    implicit: Implicit,
    resolve: Callable[[str], Target | None],
    obj_sets: list[list[object]],
    relpath: str,
) -> list[tuple[int, Target, str]]:
    """(line, listener, note) for each listener the function's attribute assignments run."""
    out: list[tuple[int, Target, str]] = []
    for line, base, attr in obj_sets:
        if not isinstance(base, str) or not isinstance(attr, str) or not isinstance(line, int):
            continue
        instance = resolve(base)
        if instance is None or instance.kind != "I":
            continue
        model = Target("C", instance.module, instance.name)
        name = model.name.rsplit(".", 1)[-1]
        where = f"{relpath}:{line}"
        for listener in implicit.attribute_event_targets(model, attr):
            out.append((line, listener, SET_NOTE.format(model=name, attr=attr, where=where)))
        made = base.endswith("()") and _is_class(resolve(base[:-2]))
        if made:
            continue  # a row made here is inserted when flushed: no update events
        for listener in implicit.orm_event_targets(model, UPDATE_EVENTS):
            note = UPDATE_NOTE.format(model=name, attr=attr, where=where)
            out.append((line, listener, note))
    return out


def constructor_listeners(
    implicit: Implicit, call: CallSite, resolved: Target | None, relpath: str
) -> list[tuple[Target, str]]:
    """``Run(status="NEW")``: the ``set`` listeners of each keyword's attribute."""
    if resolved is None or resolved.kind != "C":
        return []
    name = resolved.name.rsplit(".", 1)[-1]
    out: list[tuple[Target, str]] = []
    for key, _value in call.args:
        if not isinstance(key, str):
            continue
        for listener in implicit.attribute_event_targets(resolved, key):
            where = f"{relpath}:{call.line}"
            out.append((listener, SET_NOTE.format(model=name, attr=key, where=where)))
    return out


def _is_class(target: Target | None) -> bool:
    return target is not None and target.kind == "C"
