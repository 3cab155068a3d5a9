"""A method picked by the request's HTTP method: ``getattr(self, f"_process_{request.method}",
self._process)()``, the name also built by ``+``, ``%`` or ``.format``.

Handler bases dispatch to a per-verb method of ``self`` this way (indico-style ``RH``,
Django's ``View.dispatch``, Flask's ``MethodView.dispatch_request``). The call graph cannot
follow a name built at run time, so the extractor records the shape (``VerbDispatch``) and
the route stage, which knows each endpoint's HTTP method, names the method that runs
(``entry_hooks.py``).
"""

from __future__ import annotations

import ast
from typing import NamedTuple


class VerbDispatch(NamedTuple):
    """``getattr(self, prefix + <method, in case> + suffix, self.<default>)``."""

    line: int
    prefix: str
    suffix: str
    case: str  # "lower", "upper" or "" (as the framework gives it: upper case)
    default: str  # the method named by the default argument, "" if none
    refuses: bool = False  # the default is ``None``: a verb with no method is answered 405

    def method_name(self, http: str) -> str:
        """The attribute looked up for one HTTP method (``GET`` -> ``_process_GET``)."""
        verb = http.lower() if self.case == "lower" else http.upper()
        return f"{self.prefix}{verb}{self.suffix}"


def verb_dispatch(node: ast.Call) -> VerbDispatch | None:
    """The shape, when ``node`` is ``getattr(self, <name built from the request method>, ...)``."""
    func = node.func
    if not (isinstance(func, ast.Name) and func.id == "getattr") or len(node.args) < 2:
        return None
    owner, name = node.args[0], node.args[1]
    if not (isinstance(owner, ast.Name) and owner.id == "self"):
        return None
    parts = _parts(name)
    if parts is None:
        return None
    prefix, case, suffix = parts
    default = node.args[2] if len(node.args) > 2 else None
    attr = ""
    if (
        isinstance(default, ast.Attribute)
        and isinstance(default.value, ast.Name)
        and default.value.id == "self"
    ):
        attr = default.attr
    refuses = isinstance(default, ast.Constant) and default.value is None
    return VerbDispatch(node.lineno, prefix, suffix, case, attr, refuses)


def _parts(node: ast.expr) -> tuple[str, str, str] | None:
    """(prefix, case, suffix) of a string built around the request method, else None."""
    if isinstance(node, ast.JoinedStr):
        pieces: list[ast.expr] = list(node.values)
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        pieces = _concat(node)
    elif (formatted := _formatted(node)) is not None:
        pieces = formatted
    else:
        pieces = [node]
    texts: list[str] = []
    case: str | None = None
    for piece in pieces:
        if isinstance(piece, ast.Constant) and isinstance(piece.value, str):
            texts.append(piece.value)
            continue
        value = piece.value if isinstance(piece, ast.FormattedValue) else piece
        if case is not None:
            return None  # two computed parts
        case = _method_case(value)
        if case is None:
            return None
        texts.append("\0")
    if case is None:
        return None
    prefix, _, suffix = "".join(texts).partition("\0")
    return prefix, case, suffix


def _formatted(node: ast.expr) -> list[ast.expr] | None:
    """``'_process_%s' % x`` and ``'_process_{}'.format(x)`` as the pieces of a
    concatenation (one placeholder, one value), else None."""
    if (
        isinstance(node, ast.BinOp)
        and isinstance(node.op, ast.Mod)
        and isinstance(node.left, ast.Constant)
        and isinstance(node.left.value, str)
    ):
        text, marker = node.left.value, "%s"
        value = node.right
        if isinstance(value, ast.Tuple) and len(value.elts) == 1:
            value = value.elts[0]
        if text.count("%") != 1:
            return None
    elif (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
        and isinstance(node.func.value, ast.Constant)
        and isinstance(node.func.value.value, str)
        and len(node.args) == 1
        and not node.keywords
    ):
        text, value = node.func.value.value, node.args[0]
        marker = "{}" if "{}" in text else "{0}"
        if text.count("{") != 1:
            return None
    else:
        return None
    before, found, after = text.partition(marker)
    if not found:
        return None
    return [ast.Constant(before), value, ast.Constant(after)]


def _concat(node: ast.expr) -> list[ast.expr]:
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _concat(node.left) + _concat(node.right)
    return [node]


def _method_case(node: ast.expr) -> str | None:
    """ "" for ``request.method``, "lower"/"upper" for those calls on it; None for anything
    else."""
    case = ""
    if (
        isinstance(node, ast.Call)
        and not node.args
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("lower", "upper")
    ):
        case = node.func.attr
        node = node.func.value
    if isinstance(node, ast.Attribute) and node.attr == "method":
        return case  # request.method, self.request.method (a bare local could be anything)
    return None
