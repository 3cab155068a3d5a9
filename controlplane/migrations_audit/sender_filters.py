"""Receivers without ``sender=`` whose whole work sits under a test of the sender.

``@receiver(post_save)`` fires for every model, but a body that is only
``if isinstance(instance, Order): ...`` (or ``sender in (A, B)``, ``sender is Order``,
``issubclass(sender, Order)``, an ``elif`` chain of such tests without an ``else``) does
nothing for any other model: it is a receiver for those classes. ``wiring.sender_guard``
covers the early-return form (``if not isinstance(...): return``).
"""

from __future__ import annotations

import ast

from .syntax import tail


def positive_guard_classes(body: list[ast.stmt]) -> list[ast.expr]:
    """The classes the receiver's only statement (an ``if``) tests the sender against."""
    statements = [
        s for s in body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))
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
