"""Which class a view's ``get_serializer_class()`` / ``get_form_class()`` returns per action.

``if self.action == "create": return CreateSerializer`` then ``return DetailSerializer``:
DRF's ``update`` validates with ``DetailSerializer``, so ``CreateSerializer``'s validators
do not run there. Recorded at extraction as {action: rendered class}, ``"*"`` for the
return reached by every other action; tests of anything else leave the choice unknown.

A getter may also look its class up by another class's name (a versioned API:
``return registry[base_class.__name__][version]``): ``named_classes`` records what that
name is read from, so that the view's serializer is taken as that class when the lookup
itself cannot be read (PATTERNS.md item 29).
"""

from __future__ import annotations

import ast
from collections.abc import Callable

Render = Callable[[ast.expr], str]

CHOOSERS = frozenset({"get_serializer_class", "get_form_class"})
OTHERWISE = "*"


def action_choices(body: list[ast.stmt], render: Callable[[ast.expr], str]) -> dict[str, str]:
    """{action: rendered returned class}, or {} when the body is not a plain choice."""
    out: dict[str, str] = {}
    for stmt in body:
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            continue  # a docstring
        if isinstance(stmt, ast.If):
            if stmt.orelse or len(stmt.body) != 1 or not isinstance(stmt.body[0], ast.Return):
                return {}
            actions = _tested_actions(stmt.test)
            value = stmt.body[0].value
            rendered = render(value) if value is not None else ""
            if not actions or not rendered:
                return {}
            for action in actions:
                out.setdefault(action, rendered)
            continue
        if isinstance(stmt, ast.Return) and isinstance(stmt.value, ast.IfExp):
            return _conditional_choices(stmt.value, render, out)
        if isinstance(stmt, ast.Return) and stmt.value is not None and out:
            rendered = render(stmt.value)
            if not rendered:
                return {}
            out[OTHERWISE] = rendered
            return out
        return {}
    return {}


def _conditional_choices(value: ast.IfExp, render: Render, out: dict[str, str]) -> dict[str, str]:
    """``return CreateSerializer if self.action in ("create", "update") else Serializer``
    (conditional expressions chained in the else part too), added to the choices ``out``
    made so far; {} when a test is not of the action."""
    current: ast.expr = value
    while isinstance(current, ast.IfExp):
        actions = _tested_actions(current.test)
        rendered = render(current.body)
        if not actions or not rendered:
            return {}
        for action in actions:
            out.setdefault(action, rendered)
        current = current.orelse
    rendered = render(current)
    if not rendered:
        return {}
    out[OTHERWISE] = rendered
    return out


def _tested_actions(test: ast.expr) -> list[str]:
    """``self.action == "create"``, ``self.action in ("update", "partial_update")``."""
    if not (
        isinstance(test, ast.Compare)
        and len(test.ops) == 1
        and isinstance(test.left, ast.Attribute)
        and test.left.attr == "action"
        and isinstance(test.left.value, ast.Name)
        and test.left.value.id == "self"
    ):
        return []
    right = test.comparators[0]
    if isinstance(test.ops[0], ast.Eq):
        values = [right]
    elif isinstance(test.ops[0], ast.In) and isinstance(right, ast.Tuple | ast.List | ast.Set):
        values = list(right.elts)
    else:
        return []
    names = [v.value for v in values if isinstance(v, ast.Constant) and isinstance(v.value, str)]
    return names if len(names) == len(values) else []


def named_classes(function: ast.FunctionDef | ast.AsyncFunctionDef, render: Render) -> list[str]:
    """The classes a getter's return looks a class up by the name of, rendered, in order:
    ``return lookup(base.__name__)`` or ``return TABLE[base.__name__][...]``, with ``base``
    an expression or a local bound in the getter (each value it is bound to)."""
    named: list[ast.expr] = []
    for node in ast.walk(function):
        if isinstance(node, ast.Return) and node.value is not None:
            named.extend(_named_by(node.value))
    out: list[str] = []
    for value in named:
        values = _bound_values(function, value.id) if isinstance(value, ast.Name) else [value]
        for bound in values:
            rendered = render(bound)
            if rendered and rendered not in out:
                out.append(rendered)
    return out


def _named_by(value: ast.expr) -> list[ast.expr]:
    """``X`` of each ``X.__name__`` a returned call passes or a returned subscript reads."""
    keys: list[ast.expr] = []
    while isinstance(value, ast.Subscript):  # TABLE[X.__name__][version]
        keys.append(value.slice)
        value = value.value
    if isinstance(value, ast.Call):
        keys.extend(value.args)
        keys.extend(keyword.value for keyword in value.keywords)
    return [key.value for key in keys if isinstance(key, ast.Attribute) and key.attr == "__name__"]


def _bound_values(function: ast.FunctionDef | ast.AsyncFunctionDef, name: str) -> list[ast.expr]:
    """Each value the getter binds the local ``name`` to (``x = ...`` or ``x: T = ...``)."""
    out: list[ast.expr] = []
    for node in ast.walk(function):
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets = [node.target]
        else:
            continue
        if any(isinstance(target, ast.Name) and target.id == name for target in targets):
            assert node.value is not None
            out.append(node.value)
    return out
