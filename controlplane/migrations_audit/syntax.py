"""Small helpers over Python syntax trees, shared by the extraction passes."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Any

from .newer_syntax import downlevel

# Fields that never hold statements or expressions (contexts, operators): not walked.
_SKIP_FIELDS = frozenset({"ctx", "op", "ops", "type_comment", "kind", "conversion", "type_ignores"})
_FIELDS: dict[type, tuple[str, ...]] = {}
_TRUTHY = frozenset({"1", "true", "yes", "on", "y", "t"})


def expr_fields(kind: type) -> tuple[str, ...]:
    """The fields of a node type that can hold statements or expressions."""
    fields = _FIELDS.get(kind)
    if fields is None:
        fields = _FIELDS[kind] = tuple(
            f for f in getattr(kind, "_fields", ()) if f not in _SKIP_FIELDS
        )
    return fields


def walk(node: ast.AST) -> Iterator[ast.AST]:
    """``ast.walk`` without operator and context nodes."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        for name in expr_fields(type(current)):
            value = getattr(current, name, None)
            if type(value) is list:
                stack.extend(v for v in value if isinstance(v, ast.AST))
            elif isinstance(value, ast.AST):
                stack.append(value)


class FastVisitor(ast.NodeVisitor):
    """NodeVisitor with the dispatch cached per node type and operator nodes not walked:
    on large trees the walk costs as much as the parse, and this cuts it by a third."""

    _methods: dict[type, Any]

    def __init_subclass__(cls) -> None:
        super().__init_subclass__()
        cls._methods = {}

    def visit(self, node: ast.AST) -> Any:
        kind = type(node)
        method: Any = self._methods.get(kind)
        if method is None:
            method = getattr(type(self), "visit_" + kind.__name__, type(self).generic_visit)
            self._methods[kind] = method
        return method(self, node)

    def generic_visit(self, node: ast.AST) -> None:
        visit = self.visit
        for name in expr_fields(type(node)):
            value = getattr(node, name, None)
            if value is None:
                continue
            if type(value) is list:
                for item in value:
                    if isinstance(item, ast.AST):
                        visit(item)
            elif isinstance(value, ast.AST):
                visit(value)


def handle_name(node: ast.expr) -> str:
    """How code refers to a task/thread/future it keeps: ``t``, ``self._task``, ``tasks`` for
    ``tasks[i]``; "" when the chain does not start at a name."""
    parts: list[str] = []
    while True:
        if isinstance(node, ast.Name):
            parts.append(node.id)
            return ".".join(reversed(parts))
        if isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        elif isinstance(node, ast.Subscript):
            parts.clear()
            node = node.value
        else:
            return ""


def tail(node: ast.expr) -> str:
    """``c`` for ``a.b.c`` or ``c``; "" for anything else."""
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


def percent_format(node: ast.expr) -> tuple[str, list[ast.expr]] | None:
    """``"%s/<%s>" % (a, b)``: the template and the values it is formatted with; None for
    anything else."""
    if (
        isinstance(node, ast.BinOp)
        and isinstance(node.op, ast.Mod)
        and isinstance(node.left, ast.Constant)
        and isinstance(node.left.value, str)
    ):
        right = node.right
        return node.left.value, list(right.elts) if isinstance(right, ast.Tuple) else [right]
    return None


def is_stub(body: list[ast.stmt]) -> bool:
    """Whether a body is only ``pass``, ``...``, a docstring or ``raise NotImplementedError``."""
    for stmt in body:
        if isinstance(stmt, ast.Pass):
            continue
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            continue
        if isinstance(stmt, ast.Raise):
            exc = stmt.exc
            if isinstance(exc, ast.Call):
                exc = exc.func
            if isinstance(exc, ast.Name) and exc.id == "NotImplementedError":
                continue
        return False
    return True


def strip_optional(node: ast.expr) -> ast.expr:
    """``X`` for ``Optional[X]``, ``X | None``, ``Annotated[X, ...]``, ``"X"``."""
    if isinstance(node, ast.Subscript):
        head = node.value
        head_name = head.attr if isinstance(head, ast.Attribute) else getattr(head, "id", "")
        if head_name in ("Optional", "Annotated", "Union"):
            inner = node.slice
            if isinstance(inner, ast.Tuple) and inner.elts:
                return strip_optional(inner.elts[0])
            return strip_optional(inner)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        left = node.left
        if isinstance(left, ast.Constant) and left.value is None:
            return strip_optional(node.right)
        return strip_optional(left)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            return ast.parse(node.value, mode="eval").body
        except SyntaxError:
            return node
    return node


def annotated_dep(node: ast.expr | None) -> ast.expr | None:
    """The ``Depends(...)`` inside ``Annotated[T, Depends(x)]``, if any."""
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Tuple):
        for extra in node.slice.elts[1:]:
            if isinstance(extra, ast.Call) and tail(extra.func) in ("Depends", "Security"):
                return extra
    return None


def truthy(node: ast.expr | None) -> bool | None:
    """True for a truthy literal, False for a falsy one, None when it cannot be told."""
    if node is None:
        return None
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, str):
            return value.strip().lower() in _TRUTHY
        return bool(value) if value is not None else False
    if isinstance(node, ast.Call):
        # os.getenv("X", "1"), env.bool("X", default=True), config("X", default=True, cast=bool)
        for kw in node.keywords:
            if kw.arg == "default":
                return truthy(kw.value)
        if len(node.args) >= 2:
            return truthy(node.args[1])
    return None


def parse_source(source: str | bytes, relpath: str) -> ast.Module:
    """``ast.parse``, and once more with newer syntax spelled the old way when the running
    Python is older than the code (newer_syntax: same lines, so line numbers in the report
    stay those of the file). Raises the first SyntaxError when both fail."""
    try:
        return ast.parse(source, filename=relpath)
    except SyntaxError as first:
        data = source.encode("utf-8", "surrogateescape") if isinstance(source, str) else source
        rewritten = downlevel(data)
        if rewritten == data:
            raise
        try:
            return ast.parse(rewritten, filename=relpath)
        except SyntaxError:
            raise first from None
