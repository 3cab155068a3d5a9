"""Callables made now and called later: whether they ever run.

``partial(crunch.delay, pk)`` enqueues only when it is called: handed to ``on_commit`` or
another call, called, or returned. A partial built into a local that nothing calls, passes
on or returns is dead code, not a dispatch. The extractor renders a local by what it was
assigned, so a use of ``job = partial(...)`` shows as ``functools.partial()``.

A dispatch method stored in a queue of callables (``g.pending.append((fn, payload))``, with
``fn = send_mail.delay if config.USE_QUEUE else send_now``) enqueues when a flusher calls
the queue's elements (``for fn, *args in g.pending: fn(*args)``), often after the commit in
another function. The extractor records each callable stored as a call site flagged
``STORED`` at the store (with the queue's key), and each key whose elements a loop calls;
a stored callable counts only as a dispatch, and only when some loop calls that queue.
"""

from __future__ import annotations

import ast

from .facts import STORED, CallSite

PARTIAL_NAMES = frozenset({"functools.partial", "partial"})
STORE_METHODS = frozenset({"append", "appendleft", "add", "put", "put_nowait", "insert"})
_COPIES = frozenset({"list", "tuple", "reversed", "sorted", "iter"})
_TAKES = frozenset({"pop", "get", "setdefault"})


def idle_partials(calls: list[CallSite], returns: list[str]) -> set[int]:
    """Indexes of the ``partial(...)`` calls whose result nothing calls, passes or returns."""
    built = [i for i, call in enumerate(calls) if call.name in PARTIAL_NAMES]
    if not built:
        return set()
    used: set[str] = set(returns)
    for call in calls:
        used.add(call.name)
        used.update(value for _, value in call.args if type(value) is str)
    idle = set()
    for index in built:
        call = calls[index]
        if call.parent >= 0 or f"{call.name}()" in used:
            continue
        idle.add(index)
    return idle


def idle_stored(calls: list[CallSite], stored: dict[str, str], called: set[str]) -> set[int]:
    """Indexes of the stored callables (``STORED``) of a queue no loop calls the elements of."""
    return {
        index
        for index, call in enumerate(calls)
        if call.flags & STORED and stored.get(f"{call.line}:{call.col}") not in called
    }


def queue_key(node: ast.expr) -> str:
    """The name a queue of callables goes by wherever it is reached from: ``pending`` for
    ``g.pending``, ``self.pending``, ``pending``, ``list(g.pending)``, ``g.pending.copy()``,
    ``g.pop("pending", [])``, ``g.setdefault("pending", [])``, ``getattr(g, "pending")``."""
    for _ in range(4):
        if isinstance(node, ast.Attribute):
            return node.attr
        if isinstance(node, ast.Name):
            return node.id
        if not isinstance(node, ast.Call):
            return ""
        func, args = node.func, node.args
        if isinstance(func, ast.Name) and func.id in _COPIES and args:
            node = args[0]
        elif isinstance(func, ast.Attribute) and func.attr == "copy" and not args:
            node = func.value
        elif (isinstance(func, ast.Attribute) and func.attr in _TAKES and args) or (
            isinstance(func, ast.Name) and func.id == "getattr" and len(args) > 1
        ):
            key = args[0] if isinstance(func, ast.Attribute) else args[1]
            return key.value if isinstance(key, ast.Constant) and type(key.value) is str else ""
        else:
            return ""
    return ""


def stored_callable(node: ast.Call) -> tuple[str, ast.expr] | None:
    """``g.pending.append((fn, payload))`` / ``callbacks.add(fn)``: (the queue's key, the
    callable stored: the element, or a tuple's first item), or None."""
    func = node.func
    if not isinstance(func, ast.Attribute) or func.attr not in STORE_METHODS or not node.args:
        return None
    value = node.args[-1]
    if isinstance(value, ast.Tuple | ast.List):
        if not value.elts:
            return None
        value = value.elts[0]
    if not isinstance(value, ast.Name | ast.Attribute):
        return None
    key = queue_key(func.value)
    return (key, value) if key else None


def calls_elements(node: ast.For | ast.AsyncFor) -> str:
    """``for fn, *args in g.pending: fn(*args)``: the key of the queue whose elements (or
    their first items) the loop calls, or ""."""
    target = node.target
    if isinstance(target, ast.Tuple | ast.List) and target.elts:
        target = target.elts[0]
    if not isinstance(target, ast.Name):
        return ""
    name = target.id
    for stmt in node.body:
        for inner in ast.walk(stmt):
            if (
                isinstance(inner, ast.Call)
                and isinstance(inner.func, ast.Name)
                and inner.func.id == name
            ):
                return queue_key(node.iter)
    return ""
