"""Loop variables over a literal list of different values (PATTERNS.md item 61).

``order = [(event.information.all(), True), (Resource.objects.filter(...), True)]`` then
``for entry, detail in order: for obj in entry: obj.delete()``: no single value for
``entry``, so the audit binds it to nothing. Each column of the list is kept instead, and a
method called on the variable (``extract.union_arms``) becomes one call per value, as the
``fn = a if x else b`` arms do.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import Any

MAX_VALUES = 32  # elements of a literal list followed value by value


def loop_unions(
    frame: Any,
    render: Callable[[ast.expr], str],
    node: ast.For | ast.AsyncFor,
    module_values: dict[str, ast.expr] | None = None,
) -> dict[str, list[str]]:
    """{loop variable: the values it takes} for a loop over a list or tuple written in the
    function (or a local last bound to one, or a module-level name bound to one:
    ``for sink in EVENT_SINKS``, PATTERNS.md item 228), or over another such variable (an
    element of each value); {} when a variable has one value or the list cannot be read."""
    target = node.target
    iterated: ast.expr | None = node.iter
    if isinstance(iterated, ast.Name) and isinstance(target, ast.Name):
        outer = frame.unions.get(iterated.id)
        if outer:  # for obj in entry: each element of each value entry takes
            return {target.id: [value + "[]" for value in outer]}
    if isinstance(iterated, ast.Name):
        name = iterated.id
        iterated = frame.assigned.get(name)
        if iterated is None and module_values is not None:
            iterated = module_values.get(name)
    if not isinstance(iterated, ast.List | ast.Tuple) or not iterated.elts:
        return {}
    rows = iterated.elts
    if len(rows) > MAX_VALUES or any(isinstance(row, ast.Starred) for row in rows):
        return {}
    if isinstance(target, ast.Name):
        columns = {target.id: rows}
    elif isinstance(target, ast.Tuple | ast.List) and all(
        isinstance(name, ast.Name) for name in target.elts
    ):
        width = len(target.elts)
        if not all(
            isinstance(row, ast.Tuple | ast.List) and len(row.elts) == width for row in rows
        ):
            return {}
        columns = {
            name.id: [row.elts[index] for row in rows]  # type: ignore[attr-defined]
            for index, name in enumerate(target.elts)
            if isinstance(name, ast.Name)
        }
    else:
        return {}
    out: dict[str, list[str]] = {}
    for name, values in columns.items():
        rendered = list(dict.fromkeys(render(value) for value in values))
        kept = [value for value in rendered if value and value[0] != "~"]
        if len(kept) > 1:
            out[name] = kept
    return out
