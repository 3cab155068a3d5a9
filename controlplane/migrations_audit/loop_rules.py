"""URL rules composed from loop variables in module-level loops.

``for object_type, prefixes in url_prefixes.items(): for prefix in prefixes:
bp.add_url_rule(prefix + "/note/", "view", RHViewNote)``: the rule is the literal part with
each loop variable as a placeholder (``{"template": "{prefix}/note/"}``), so the registration
is an endpoint of the view it names. When the loop's table is a literal the extraction can
read (``extract.unroll_routes``), the placeholders are filled, one route per value;
otherwise the route keeps them and the endpoint is ``likely`` (``LOOP_NOTE``).
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Any

from .facts import Lit

if TYPE_CHECKING:
    from .names import Names

LOOP_NOTE = "the route is composed from loop variables over a table the audit cannot read"


def loop_template(names: Names, node: ast.expr) -> dict[str, Any] | None:
    """``prefix + "/note/"`` / ``f"{prefix}/note/"`` at module level, with ``prefix`` a
    loop variable: {"template": "{prefix}/note/"}; None for anything else."""
    if names.scope is not None or not names.rows.loop_vars:
        return None
    parts = _parts(node)
    if not parts or not any(isinstance(p, ast.Name) for p in parts):
        return None
    text, used = "", []
    for part in parts:
        if isinstance(part, ast.Constant) and isinstance(part.value, str):
            text += part.value
        elif isinstance(part, ast.Name) and part.id in names.rows.loop_vars:
            text += "{" + part.id + "}"
            used.append(part.id)
        else:
            return None
    return {"template": text, "vars": used}


def _parts(node: ast.expr) -> list[ast.expr]:
    """The pieces of a string built with ``+`` or an f-string, in order."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _parts(node.left), _parts(node.right)
        return left + right if left and right else []
    if isinstance(node, ast.JoinedStr):
        pieces: list[ast.expr] = []
        for value in node.values:
            if isinstance(value, ast.FormattedValue):
                if value.format_spec is not None or value.conversion != -1:
                    return []
                pieces.append(value.value)
            else:
                pieces.append(value)
        return pieces
    if isinstance(node, ast.Constant | ast.Name):
        return [node]
    return []


def fill(value: Lit, known: dict[str, Lit]) -> Lit:
    """A template with every placeholder's loop variable known as a string: the rule."""
    if not isinstance(value, dict) or not isinstance(value.get("template"), str):
        return value
    text: str = value["template"]
    left = []
    for name in value.get("vars") or []:
        given = known.get(name)
        if isinstance(given, str):
            text = text.replace("{" + name + "}", given)
        elif name not in left:
            left.append(name)
    return {"template": text, "vars": left} if left else text


def template_rule(value: Lit) -> str:
    """The rule of a registration whose rule is a loop template ("" otherwise)."""
    if isinstance(value, dict) and isinstance(value.get("template"), str):
        return str(value["template"])
    return ""
