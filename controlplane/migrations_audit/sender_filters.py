"""Receivers without ``sender=`` whose whole work sits under a test of the sender.

``@receiver(post_save)`` fires for every model, but a body that is only
``if isinstance(instance, Order): ...`` (or ``sender in (A, B)``, ``sender is Order``,
``issubclass(sender, Order)``, an ``elif`` chain of such tests without an ``else``) does
nothing for any other model: it is a receiver for those classes. ``wiring.sender_guard``
covers the early-return form (``if not isinstance(...): return``). A class named there is a
mixin as often as a model (``isinstance(instance, ScheduledModel)``): the receiver fires for
the models that subclass it (``Implicit.signal_receivers`` reads their MRO), and the mixin
is often imported in the receiver's body, before the test, to dodge an import cycle.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from .syntax import tail

if TYPE_CHECKING:
    from .names import Names


def local_imports(names: Names, body: list[ast.stmt]) -> dict[str, str]:
    """Names the receiver's own top-level imports bind (``from .models import Mixin``)."""
    out: dict[str, str] = {}
    for stmt in body:
        if isinstance(stmt, ast.Import | ast.ImportFrom):
            names.bind_imports(stmt, out)
    return out


def render_class(names: Names, node: ast.expr, local: dict[str, str]) -> str:
    """A tested class, rendered through the receiver's own imports first."""
    root: ast.expr = node
    while isinstance(root, ast.Attribute):
        root = root.value
    if isinstance(root, ast.Name) and root.id in local:
        text = ast.unparse(node)
        return local[root.id] + text[len(root.id) :]
    return names.render(node)


def positive_guard_classes(body: list[ast.stmt]) -> list[ast.expr]:
    """The classes the receiver's only statement (an ``if``) tests the sender against."""
    statements = [
        s
        for s in body
        if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
        and not isinstance(s, ast.Import | ast.ImportFrom)
    ]
    if len(statements) != 1 or not isinstance(statements[0], ast.If):
        return []
    out: list[ast.expr] = []
    branch: ast.stmt = statements[0]
    while isinstance(branch, ast.If):
        found = _tested_classes(branch.test)
        if not found:
            return []
        out.extend(found)
        if not branch.orelse:
            return out
        if len(branch.orelse) != 1:
            return []  # an else with work of its own runs for every sender
        branch = branch.orelse[0]
    return []


def _tested_classes(test: ast.expr) -> list[ast.expr]:
    """``isinstance(x, C)``, ``issubclass(sender, C)``, ``sender in (A, B)``, ``sender ==
    C``, ``sender is C``, alone or as one operand of ``and``."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        for value in test.values:
            found = _tested_classes(value)
            if found:
                return found
        return []
    if isinstance(test, ast.Call):
        if tail(test.func) in ("isinstance", "issubclass") and len(test.args) == 2:
            kinds = test.args[1]
            return list(kinds.elts) if isinstance(kinds, ast.Tuple) else [kinds]
        return []
    return sender_compared(test, ast.In, (ast.Eq, ast.Is))


def sender_compared(
    test: ast.expr, member: type[ast.cmpop], same: tuple[type[ast.cmpop], ...]
) -> list[ast.expr]:
    """The classes in ``sender <member> (A, B)`` or ``sender <same> C`` (for the given
    operators: ``in``/``==``/``is`` here, ``not in``/``!=``/``is not`` for early returns)."""
    if not (
        isinstance(test, ast.Compare)
        and len(test.ops) == 1
        and isinstance(test.left, ast.Name)
        and test.left.id == "sender"
    ):
        return []
    right = test.comparators[0]
    if isinstance(test.ops[0], member) and isinstance(right, ast.Tuple | ast.List | ast.Set):
        return list(right.elts)
    if isinstance(test.ops[0], same):
        return [right]
    return []
