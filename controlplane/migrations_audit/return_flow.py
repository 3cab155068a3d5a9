"""Which methods of ``self`` the value a function finally returns comes from.

A template method often does not ``return self._hook()`` directly: it assigns the hook's
value to a local, does more work, and returns that local later, possibly wrapped
(``res = self._do_process()`` ... ``return current_app.make_response(res)``). Following that
data flow, and not every self-call, is what tells the hook that answers the request from the
checks that merely run before it (``self._check_access()``). Only the final ``return`` on
the function's main path counts (its body, and the bodies of ``with`` and ``try`` it goes
through): returns under an ``if``, a loop or an ``except`` are guards and bail-outs (``if rv
:= self.normalize_url(): return rv``) that do not name the request's work. The exception is
an ``if``/``elif``/``else`` that ends the body and whose every branch returns or raises
(``elif signal_rv: return signal_rv[0]`` / ``else: return rv``): there is no return after
it, so each branch's return is a final one. A local bound in the arms of an ``if`` carries
the value of every arm that goes on past it (``if config.PROFILE: ... rv = result[0]`` /
``else: rv = self._process()``): ``joined`` records that as one binding.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Sequence

MAX_HOPS = 16  # bindings followed back from the returned value

History = Sequence[tuple[str, ast.expr]]
Render = Callable[[ast.expr], str]  # a name as the extractor renders it (imports resolved)


class Either(ast.expr):
    """The value of a local after an ``if``: one of several earlier bindings (indices into
    the function's binding history), one per path that reaches the end of the ``if``."""

    _fields = ()

    def __init__(self, bindings: tuple[int, ...]) -> None:
        super().__init__()
        self.bindings = bindings


def main_returns(body: list[ast.stmt], chain: int = 0) -> dict[int, int]:
    """ids of the ``return`` statements on the main path of a function body -> 0, or for
    the returns of a terminal ``if`` chain whose branches all leave, the id of that chain's
    outermost ``if`` (its returns are final together)."""
    out: dict[int, int] = {}
    for stmt in body:
        if isinstance(stmt, ast.Return):
            out[id(stmt)] = chain
        elif isinstance(stmt, ast.With | ast.AsyncWith):
            out |= main_returns(stmt.body, chain)
        elif isinstance(stmt, ast.Try | ast.TryStar):
            out |= main_returns(stmt.body + stmt.orelse + stmt.finalbody, chain)
    last = body[-1] if body else None
    if isinstance(last, ast.If) and leaves(body):
        key = chain or id(last)
        out |= main_returns(last.body, key)
        out |= main_returns(last.orelse, key)
    return out


def leaves(body: list[ast.stmt], *, loops: bool = True, errors: bool = True) -> bool:
    """Whether no path through ``body`` goes on to the statement after it: it ends in a
    ``return``, ``raise``, ``continue`` or ``break`` (``loops=False``: only the first
    two), or in an ``if``/``else``, ``with`` or ``try`` whose every way out does
    (``errors=False``: the ``except`` paths left out, as a guard on a setting reads them,
    PATTERNS.md item 174)."""
    if not body:
        return False
    last = body[-1]
    ends = (ast.Return, ast.Raise, ast.Continue, ast.Break) if loops else (ast.Return, ast.Raise)
    if isinstance(last, ends):
        return True
    if isinstance(last, ast.If):
        return (
            bool(last.orelse)
            and leaves(last.body, loops=loops, errors=errors)
            and leaves(last.orelse, loops=loops, errors=errors)
        )
    if isinstance(last, ast.With | ast.AsyncWith):
        return leaves(last.body, loops=loops, errors=errors)
    if isinstance(last, ast.Try | ast.TryStar):
        if leaves(last.finalbody, loops=loops, errors=errors):
            return True
        normal = last.orelse or last.body
        return leaves(normal, loops=loops, errors=errors) and (
            not errors or all(leaves(h.body, loops=loops) for h in last.handlers)
        )
    return False


def joined(
    history: History, start: int, mid: int, body_leaves: bool, orelse_leaves: bool
) -> list[tuple[str, ast.expr]]:
    """The bindings to add after an ``if`` whose body bound ``history[start:mid]`` and whose
    ``else`` bound ``history[mid:]``: for each local bound in either, an ``Either`` of the
    binding each arm that does not leave ends with (an arm that does not bind it keeps the
    binding from before the ``if``), body first."""
    end = len(history)
    out: list[tuple[str, ast.expr]] = []
    for name in dict.fromkeys(name for name, _ in history[start:end]):
        reaching: list[int] = []
        for low, high, gone in ((start, mid, body_leaves), (mid, end, orelse_leaves)):
            if gone:
                continue
            index = _last_binding(history, name, low, high)
            if index is None:
                index = _last_binding(history, name, 0, start)
            if index is not None and index not in reaching:
                reaching.append(index)
        if reaching:
            out.append((name, Either(tuple(reaching))))
    return out


def _last_binding(history: History, name: str, low: int, high: int) -> int | None:
    for index in range(high - 1, low - 1, -1):
        if history[index][0] == name:
            return index
    return None


def class_named_self_call(node: ast.Call, render: Render) -> str:
    """``"pkg.mod.Base.m"`` for ``Base.m(self, ...)`` (the class's name as ``render`` gives
    it): a base's method called by class name with an explicit ``self``, which runs like
    ``super().m(...)`` for the class ``self`` has; "" for any other call (``Base.m(other)``,
    ``self.m()``)."""
    func = node.func
    if not isinstance(func, ast.Attribute) or not node.args:
        return ""
    first = node.args[0]
    if not isinstance(first, ast.Name) or first.id != "self":
        return ""
    root = func.value
    while isinstance(root, ast.Attribute):
        root = root.value
    if not isinstance(root, ast.Name) or root.id == "self":
        return ""
    owner = render(func.value)
    return f"{owner}.{func.attr}" if owner and owner[0] != "~" else ""


def returned_self_calls(value: ast.expr, history: History, render: Render) -> list[str]:
    """Methods ``m`` of ``self`` whose call ``self.m(...)`` (or ``Base.m(self)``, given as
    ``"Base.m"``: class_named_self_call) the value is, or is built from: through locals
    (``history``: the function's bindings so far, in order; a name stands for its binding
    before the one it is read in, so ``rv = wrap(rv)`` keeps the older ``rv``; an ``Either``
    for each of the bindings it joins) and through the arguments of a call that wraps them
    (``make_response(res)``); in the order they are met."""
    out: list[str] = []
    hops = 0

    def follow(index: int) -> None:
        nonlocal hops
        if hops < MAX_HOPS:
            hops += 1
            visit(history[index][1], index)

    def visit(node: ast.expr, before: int) -> None:
        if isinstance(node, ast.Name):
            index = _last_binding(history, node.id, 0, before)
            if index is not None:
                follow(index)
        elif isinstance(node, Either):
            for index in node.bindings:
                follow(index)
        elif isinstance(node, ast.Call):
            func = node.func
            if (
                isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Name)
                and func.value.id == "self"
                and func.attr not in out
            ):
                out.append(func.attr)
            elif (named := class_named_self_call(node, render)) and named not in out:
                out.append(named)
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
