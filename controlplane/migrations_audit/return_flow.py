"""Which methods of ``self`` the value a function finally returns comes from.

A template method often does not ``return self._hook()`` directly: it assigns the hook's
value to a local, does more work, and returns that local later, possibly wrapped
(``res = self._do_process()`` ... ``return current_app.make_response(res)``). Following that
data flow, and not every self-call, is what tells the hook that answers the request from the
checks that merely run before it (``self._check_access()``). Only the last ``return`` on
the function's main path counts (its body, and the bodies of ``with`` and ``try`` it goes
through): returns under an ``if``, a loop or an ``except`` are guards and bail-outs (``if rv
:= self.normalize_url(): return rv``) that do not name the request's work.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence

MAX_HOPS = 8  # locals followed back from the returned value


def main_returns(body: list[ast.stmt]) -> set[int]:
    """ids of the ``return`` statements on the main path of a function body."""
    out: set[int] = set()
    for stmt in body:
        if isinstance(stmt, ast.Return):
            out.add(id(stmt))
        elif isinstance(stmt, ast.With | ast.AsyncWith):
            out |= main_returns(stmt.body)
        elif isinstance(stmt, ast.Try | ast.TryStar):
            out |= main_returns(stmt.body + stmt.orelse + stmt.finalbody)
    return out


def returned_self_calls(value: ast.expr, history: Sequence[tuple[str, ast.expr]]) -> list[str]:
    """Methods ``m`` of ``self`` whose call ``self.m(...)`` the value is, or is built from:
    through locals (``history``: the function's bindings so far, in order; a name stands
    for its binding before the one it is read in, so ``rv = wrap(rv)`` keeps the older
    ``rv``) and through the arguments of a call that wraps them (``make_response(res)``);
    in the order they are met."""
    out: list[str] = []
    hops = 0

    def visit(node: ast.expr, before: int) -> None:
        nonlocal hops
        if isinstance(node, ast.Name):
            for index in range(before - 1, -1, -1):
                name, source = history[index]
                if name == node.id:
                    if hops < MAX_HOPS:
                        hops += 1
                        visit(source, index)
                    return
        elif isinstance(node, ast.Call):
            func = node.func
            if (
                isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Name)
                and func.value.id == "self"
                and func.attr not in out
            ):
                out.append(func.attr)
            for arg in node.args:
                visit(arg.value if isinstance(arg, ast.Starred) else arg, before)
            for keyword in node.keywords:
                visit(keyword.value, before)
        elif isinstance(node, ast.Await | ast.NamedExpr):
            visit(node.value, before)
        elif isinstance(node, ast.IfExp):
            visit(node.body, before)
            visit(node.orelse, before)
        elif isinstance(node, ast.BoolOp):
            for part in node.values:
                visit(part, before)

    visit(value, len(history))
    return out
