"""Conditions on a function's arguments, so a call that passes known values can skip the
branches they rule out.

``def update_user(sender, instance, created, update_fields=None, **kw)`` starts with
``if update_fields and "discoverable" not in update_fields: return``; a save with
``update_fields=["feed_status_types"]`` never gets past it. Extraction turns such a test
into a small JSON tree (``condition``); the call graph evaluates it with what a call site
passes (``evaluate``), in three-valued logic: a value, or UNKNOWN.

Tree nodes (lists, operator first):
  ["p", name]                 a parameter of the function
  ["k", value]                a literal (a list of literals for a list, tuple or set)
  ["pk"]                      ``self.pk`` / ``self.id``: set once the row exists
  ["add"]                     ``self._state.adding``: the row is being inserted
  ["chg", param, tracker]     ``param.tracker.changed()`` (django-model-utils FieldTracker)
  ["hc", param, tracker, f]   ``param.tracker.has_changed("f")``
  ["not", x], ["and", x...], ["or", x...], ["len", x], ["cmp", op, left, right]
  ["?"]                       anything else
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from typing import Any

UNKNOWN: Any = object()
HAS_PK = "@pk"  # context key: the instance is saved with update_fields, so its row exists
ADDING = "@adding"  # context key: the value of ``self._state.adding`` in the save run


class _Present:
    """A value known to be truthy and nothing else (a primary key)."""

    def __bool__(self) -> bool:
        return True


_PRESENT: Any = _Present()
_UNKNOWN_NODE = ["?"]
_OPS: dict[type, str] = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Is: "is",
    ast.IsNot: "is not",
    ast.In: "in",
    ast.NotIn: "not in",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Lt: "<",
    ast.LtE: "<=",
}
_MAX_NODES = 24  # longer tests are kept as unknown: a guard is short

# Fields a model's tracker follows: (parameter holding the instance, tracker attribute)
Tracked = Callable[[str, str], "tuple[str, ...] | None"]


class _Translator:
    def __init__(self, params: frozenset[str], assigned: Mapping[str, ast.expr]) -> None:
        self.params = params
        self.assigned = assigned
        self.nodes = 0
        self.useful = False

    def node(self, expr: ast.expr, depth: int = 0) -> list[Any]:
        self.nodes += 1
        if self.nodes > _MAX_NODES:
            return _UNKNOWN_NODE
        kind = type(expr)
        if kind is ast.Name:
            name = expr.id  # type: ignore[attr-defined]
            value = self.assigned.get(name)
            if value is not None and depth == 0:
                return self.node(value, depth + 1)  # a local set from the arguments
            if value is None and name in self.params:
                self.useful = True
                return ["p", name]
            return _UNKNOWN_NODE
        if kind is ast.Constant:
            value = expr.value  # type: ignore[attr-defined]
            return ["k", value] if _literal(value) else _UNKNOWN_NODE
        if kind in (ast.List, ast.Tuple, ast.Set):
            items = [
                e.value
                for e in expr.elts  # type: ignore[attr-defined]
                if isinstance(e, ast.Constant) and _literal(e.value)
            ]
            if len(items) == len(expr.elts):  # type: ignore[attr-defined]
                return ["k", items]
            return _UNKNOWN_NODE
        if kind is ast.UnaryOp and isinstance(expr.op, ast.Not):  # type: ignore[attr-defined]
            return ["not", self.node(expr.operand, depth)]  # type: ignore[attr-defined]
        if kind is ast.BoolOp:
            op = "and" if isinstance(expr.op, ast.And) else "or"  # type: ignore[attr-defined]
            return [op, *(self.node(v, depth) for v in expr.values)]  # type: ignore[attr-defined]
        if kind is ast.Compare:
            return self.compare(expr, depth)  # type: ignore[arg-type]
        if kind is ast.Call:
            return self.call(expr, depth)  # type: ignore[arg-type]
        if _self_pk(expr):
            self.useful = True
            return ["pk"]
        if _self_adding(expr):
            self.useful = True
            return ["add"]
        return _UNKNOWN_NODE

    def compare(self, expr: ast.Compare, depth: int) -> list[Any]:
        parts: list[Any] = []
        left = expr.left
        for op, right in zip(expr.ops, expr.comparators, strict=True):
            name = _OPS.get(type(op))
            if name is None:
                return _UNKNOWN_NODE
            parts.append(["cmp", name, self.node(left, depth), self.node(right, depth)])
            left = right
        return parts[0] if len(parts) == 1 else ["and", *parts]

    def call(self, expr: ast.Call, depth: int) -> list[Any]:
        func = expr.func
        if isinstance(func, ast.Name) and func.id in ("len", "bool") and len(expr.args) == 1:
            inner = self.node(expr.args[0], depth)
            return ["len", inner] if func.id == "len" else inner
        if (
            isinstance(func, ast.Attribute)
            and func.attr in ("changed", "has_changed")
            and isinstance(func.value, ast.Attribute)
            and isinstance(func.value.value, ast.Name)
            and func.value.value.id in self.params
        ):
            holder, tracker = func.value.value.id, func.value.attr
            self.useful = True
            if func.attr == "changed" and not expr.args:
                return ["chg", holder, tracker]
            if (
                func.attr == "has_changed"
                and len(expr.args) == 1
                and isinstance(expr.args[0], ast.Constant)
                and isinstance(expr.args[0].value, str)
            ):
                return ["hc", holder, tracker, expr.args[0].value]
        return _UNKNOWN_NODE


def _self_adding(expr: ast.expr) -> bool:
    """``self._state.adding`` (Django: True until the row is inserted)."""
    return (
        isinstance(expr, ast.Attribute)
        and expr.attr == "adding"
        and isinstance(expr.value, ast.Attribute)
        and expr.value.attr == "_state"
        and isinstance(expr.value.value, ast.Name)
        and expr.value.value.id == "self"
    )


def _self_pk(expr: ast.expr) -> bool:
    """``self.id`` or ``self.pk``."""
    return (
        isinstance(expr, ast.Attribute)
        and expr.attr in ("id", "pk")
        and isinstance(expr.value, ast.Name)
        and expr.value.id == "self"
    )


def _literal(value: Any) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def condition(
    test: ast.expr, params: frozenset[str], assigned: Mapping[str, ast.expr]
) -> list[Any] | None:
    """The test as a condition tree, or None when no argument can decide it."""
    translator = _Translator(params, assigned)
    tree = translator.node(test)
    if not translator.useful:
        return None
    tree = _simplify(tree)
    return tree if _decidable(tree) else None


def forget(tree: list[Any], names: set[str]) -> list[Any] | None:
    """The condition with these parameters unknown (the function assigns them somewhere,
    perhaps after the test in a loop), or None when nothing is left to decide it."""
    tree = _simplify(_replace(tree, names))
    return tree if _decidable(tree) else None


def _replace(tree: list[Any], names: set[str]) -> list[Any]:
    head = tree[0]
    if head == "p" or head in ("chg", "hc"):
        return _UNKNOWN_NODE if tree[1] in names else tree
    if head in ("not", "and", "or", "len"):
        return [head, *(_replace(item, names) for item in tree[1:])]
    if head == "cmp":
        return ["cmp", tree[1], _replace(tree[2], names), _replace(tree[3], names)]
    return tree


def _simplify(tree: list[Any]) -> list[Any]:
    """Fold what can never be known: a comparison or ``len`` of an unknown is unknown."""
    head = tree[0]
    if head == "not":
        inner = _simplify(tree[1])
        return _UNKNOWN_NODE if inner is _UNKNOWN_NODE else ["not", inner]
    if head in ("and", "or"):
        items = [_simplify(item) for item in tree[1:]]
        if all(item is _UNKNOWN_NODE for item in items):
            return _UNKNOWN_NODE
        return [head, *items]
    if head == "len":
        inner = _simplify(tree[1])
        return _UNKNOWN_NODE if inner is _UNKNOWN_NODE else ["len", inner]
    if head == "cmp":
        left, right = _simplify(tree[2]), _simplify(tree[3])
        if left is _UNKNOWN_NODE or right is _UNKNOWN_NODE:
            return _UNKNOWN_NODE
        return ["cmp", tree[1], left, right]
    return tree


def _decidable(tree: list[Any]) -> bool:
    """Whether some argument value could decide the tree (it reads one)."""
    head = tree[0]
    if head in ("p", "pk", "add", "chg", "hc"):
        return True
    if head in ("not", "and", "or", "len"):
        return any(_decidable(item) for item in tree[1:])
    if head == "cmp":
        return _decidable(tree[2]) or _decidable(tree[3])
    return False


def names_in(tree: list[Any], into: set[str]) -> set[str]:
    """Parameters a condition reads (the holders of trackers too)."""
    head = tree[0]
    if head == "pk":
        into.add(HAS_PK)
    elif head == "add":
        into.add(ADDING)
    elif head == "p" or head in ("chg", "hc"):
        into.add(tree[1])
        if head != "p":
            into.add("update_fields")
    elif head in ("not", "and", "or", "len"):
        for item in tree[1:]:
            names_in(item, into)
    elif head == "cmp":
        names_in(tree[2], into)
        names_in(tree[3], into)
    return into


def evaluate(tree: list[Any], values: Mapping[str, Any], tracked: Tracked) -> Any:
    """The value of a condition given some arguments' literal values, or UNKNOWN.

    ``values`` maps a parameter to its literal value (lists as tuples); ``tracked`` gives
    the fields a model's tracker follows, for ``changed()`` after a save that names the
    fields it writes (``update_fields``): the tracked fields among those. A view that saves
    with ``update_fields`` says which fields it changed; a tracked field it changed but did
    not list would not be written, so it is not counted.
    """
    head = tree[0]
    if head == "k":
        value = tree[1]
        return tuple(value) if isinstance(value, list) else value
    if head == "p":
        return values.get(tree[1], UNKNOWN)
    if head == "pk":
        return _PRESENT if values.get(HAS_PK) else UNKNOWN
    if head == "add":
        return values.get(ADDING, UNKNOWN)
    if head == "not":
        inner = evaluate(tree[1], values, tracked)
        return UNKNOWN if inner is UNKNOWN else not inner
    if head in ("and", "or"):
        return _boolean(head == "and", tree[1:], values, tracked)
    if head == "len":
        inner = evaluate(tree[1], values, tracked)
        return len(inner) if isinstance(inner, tuple | str) else UNKNOWN
    if head == "cmp":
        return _compare(
            tree[1], evaluate(tree[2], values, tracked), evaluate(tree[3], values, tracked)
        )
    if head in ("chg", "hc"):
        changed = _changed(tree[1], tree[2], values, tracked)
        if changed is UNKNOWN or head == "chg":
            return changed
        return tree[3] in changed
    return UNKNOWN


def _boolean(is_and: bool, items: list[Any], values: Mapping[str, Any], tracked: Tracked) -> Any:
    unknown = False
    last: Any = None
    for item in items:
        value = evaluate(item, values, tracked)
        if value is UNKNOWN:
            unknown = True
            continue
        if bool(value) != is_and:
            return value  # decides the whole expression whatever the unknowns are
        last = value
    return UNKNOWN if unknown else last


def _compare(op: str, left: Any, right: Any) -> Any:
    if left is UNKNOWN or right is UNKNOWN or left is _PRESENT or right is _PRESENT:
        return UNKNOWN
    try:
        if op == "==":
            return left == right
        if op == "!=":
            return left != right
        if op == "is":
            return left is right
        if op == "is not":
            return left is not right
        if op == "in":
            return left in right
        if op == "not in":
            return left not in right
        if op == ">":
            return left > right
        if op == ">=":
            return left >= right
        if op == "<":
            return left < right
        if op == "<=":
            return left <= right
    except TypeError:
        return UNKNOWN
    return UNKNOWN


def _changed(holder: str, tracker: str, values: Mapping[str, Any], tracked: Tracked) -> Any:
    written = values.get("update_fields", UNKNOWN)
    if not isinstance(written, tuple):
        return UNKNOWN
    fields = tracked(holder, tracker)
    if fields is None:
        return UNKNOWN
    return tuple(f for f in fields if f in written)
