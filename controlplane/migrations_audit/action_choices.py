"""Which class a view's ``get_serializer_class()`` / ``get_form_class()`` returns per action.

``if self.action == "create": return CreateSerializer`` then ``return DetailSerializer``:
DRF's ``update`` validates with ``DetailSerializer``, so ``CreateSerializer``'s validators
do not run there. Recorded at extraction as {action: rendered class}, ``"*"`` for the
return reached by every other action; tests of anything else leave the choice unknown.
"""

from __future__ import annotations

import ast
from collections.abc import Callable

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
        if isinstance(stmt, ast.Return) and stmt.value is not None and out:
            rendered = render(stmt.value)
            if not rendered:
                return {}
            out[OTHERWISE] = rendered
            return out
        return {}
    return {}


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
