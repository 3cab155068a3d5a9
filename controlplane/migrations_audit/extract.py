"""Turn one parsed module into ``ModuleFacts`` in a single pass over its syntax tree.

Nothing here knows about other files: names are rendered through this module's own imports
and assignments, and the cross-module work is left to ``project.py``. That keeps the result
cacheable by file content alone.
"""

from __future__ import annotations

import ast
import builtins
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from .facts import (
    AWAITED,
    EXCEPT,
    GUARD,
    TRY,
    UNGUARD,
    WAITED,
    Block,
    CallSite,
    ClassFacts,
    Decorator,
    EagerSetting,
    FunctionFacts,
    Lit,
    ModuleFacts,
    RouteCall,
    SignalHook,
    UrlEntry,
    module_name,
)

# Builtins are dropped from call lists, except the ones that matter to us.
_DROPPED_BUILTINS = frozenset(dir(builtins)) - {"open", "super", "exec", "eval", "__import__"}

ROUTE_CALL_KINDS = frozenset({
    "add_url_rule", "add_api_route", "add_route", "include_router", "register_blueprint",
    "add_resource", "add_namespace", "register", "add_api", "add_view", "add_view_no_menu",
})
_URL_FUNCS = frozenset({"path", "re_path", "url"})
_URL_WRAPPERS = frozenset({"format_suffix_patterns", "i18n_patterns"})
# Calls whose receiver, once called, is waited for: t.join(), fut.result(), res.get().
_WAIT_METHODS = frozenset({"join", "result", "wait", "get", "exception"})
# Calls that wait for the handles passed to them.
_WAIT_FUNCS = frozenset({"gather", "wait", "as_completed", "wait_for", "shield"})
# ``with X() as h``: leaving the block waits for everything submitted through ``h``.
_WAITING_CONTEXTS = frozenset({
    "ThreadPoolExecutor", "ProcessPoolExecutor", "Pool", "ThreadPool", "TaskGroup",
    "create_task_group", "open_nursery",
})
_EAGER_NAME = re.compile(r"(?i)^(celery_)?(tasks?_)?always_eager$")
_SETTINGLIKE = re.compile(
    r"(?i)settings|config|conf$|environ|getenv|feature|flag|celery|eager|broker|^use_|enable"
)
_ALLCAPS = re.compile(r"^[A-Z][A-Z0-9_]{2,}$")
_TRUTHY = frozenset({"1", "true", "yes", "on", "y", "t"})
# Methods of dicts, lists, strings and sets. Called on a local of unknown type they tell the
# analysis nothing, and they are a large share of all calls, so they are not stored.
_CONTAINER_METHODS = frozenset({
    "get", "items", "keys", "values", "setdefault", "update", "pop", "popitem", "append",
    "extend", "insert", "remove", "clear", "copy", "sort", "reverse", "index", "count", "add",
    "discard", "union", "intersection", "difference", "format", "join", "split", "rsplit",
    "strip", "lstrip", "rstrip", "lower", "upper", "replace", "startswith", "endswith",
    "encode", "decode", "splitlines", "title", "isdigit", "isalpha", "zfill", "find",
    "partition", "rpartition", "format_map", "issubset", "issuperset", "isoformat",
    "strftime", "total_seconds",
})
_LOG_METHODS = frozenset({"debug", "info", "warning", "warn", "error", "exception", "critical",
                          "log"})
_MAX_NAME = 240


@dataclass(slots=True)
class _Scope:
    """Local names of one function, rendered; parent is the enclosing function's scope."""

    locals: dict[str, str]
    parent: _Scope | None


@dataclass(slots=True)
class _Frame:
    """State while walking one function body."""

    facts: FunctionFacts | None  # None for module and class bodies (calls are dropped)
    scope: _Scope | None
    cls: ClassFacts | None = None
    calls: list[CallSite] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    block: int = -1
    await_depth: int = 0
    arg_stack: list[int] = field(default_factory=list)
    handles: dict[int, list[str]] = field(default_factory=dict)
    receivers: dict[int, str] = field(default_factory=dict)
    waited: set[str] = field(default_factory=set)
    tries: int = 0
    node_index: dict[int, int] = field(default_factory=dict)
    tables: dict[str, list[str]] = field(default_factory=dict)


def _root_name(node: ast.expr) -> str:
    """``a`` for ``a.b.c``, ``a[0].b``, ``a.b()``; "" when the chain starts elsewhere."""
    while True:
        if isinstance(node, ast.Name):
            return node.id
        if isinstance(node, ast.Attribute | ast.Subscript):
            node = node.value
        elif isinstance(node, ast.Call):
            node = node.func
        else:
            return ""


def _is_stub(body: list[ast.stmt]) -> bool:
    for stmt in body:
        if isinstance(stmt, ast.Pass):
            continue
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            continue  # docstring or ...
        if isinstance(stmt, ast.Raise):
            exc = stmt.exc
            if isinstance(exc, ast.Call):
                exc = exc.func
            if isinstance(exc, ast.Name) and exc.id == "NotImplementedError":
                continue
        return False
    return True


def _strip_optional(node: ast.expr) -> ast.expr:
    """``X`` for ``Optional[X]``, ``X | None``, ``Annotated[X, ...]``, ``"X"``."""
    if isinstance(node, ast.Subscript):
        head = node.value
        head_name = head.attr if isinstance(head, ast.Attribute) else getattr(head, "id", "")
        if head_name in ("Optional", "Annotated", "Union"):
            inner = node.slice
            if isinstance(inner, ast.Tuple) and inner.elts:
                return _strip_optional(inner.elts[0])
            return _strip_optional(inner)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        left = node.left
        if isinstance(left, ast.Constant) and left.value is None:
            return _strip_optional(node.right)
        return _strip_optional(left)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            return ast.parse(node.value, mode="eval").body
        except SyntaxError:
            return node
    return node


def _annotated_dep(node: ast.expr | None) -> ast.expr | None:
    """The ``Depends(...)`` inside ``Annotated[T, Depends(x)]``, if any."""
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Tuple):
        for extra in node.slice.elts[1:]:
            if isinstance(extra, ast.Call) and _tail(extra.func) in ("Depends", "Security"):
                return extra
    return None


def _tail(node: ast.expr) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Name):
        return node.id
    return ""


def _truthy(node: ast.expr | None) -> bool | None:
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
                return _truthy(kw.value)
        if len(node.args) >= 2:
            return _truthy(node.args[1])
    return None


# Fields that never hold statements or expressions (contexts, operators): not walked.
_SKIP_FIELDS = frozenset({"ctx", "op", "ops", "type_comment", "kind", "conversion",
                          "type_ignores"})
_WORDS: dict[str, bool] = {}


def _settinglike(word: str) -> bool:
    known = _WORDS.get(word)
    if known is None:
        known = _WORDS[word] = bool(_SETTINGLIKE.search(word) or _ALLCAPS.match(word))
    return known


_FIELDS: dict[type, tuple[str, ...]] = {}


def _expr_fields(kind: type) -> tuple[str, ...]:
    """The fields of a node type that can hold statements or expressions."""
    fields = _FIELDS.get(kind)
    if fields is None:
        fields = _FIELDS[kind] = tuple(f for f in getattr(kind, "_fields", ())
                                       if f not in _SKIP_FIELDS)
    return fields


def _walk(node: ast.AST) -> Iterator[ast.AST]:
    """``ast.walk`` without operator and context nodes."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        for name in _expr_fields(type(current)):
            value = getattr(current, name, None)
            if type(value) is list:
                stack.extend(v for v in value if isinstance(v, ast.AST))
            elif isinstance(value, ast.AST):
                stack.append(value)


class _FastVisitor(ast.NodeVisitor):
    """NodeVisitor with the dispatch cached per node type and operator nodes not walked:
    on large trees the walk costs as much as the parse, and this halves it."""

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
        for name in _expr_fields(type(node)):
            value = getattr(node, name, None)
            if value is None:
                continue
            if type(value) is list:
                for item in value:
                    if isinstance(item, ast.AST):
                        visit(item)
            elif isinstance(value, ast.AST):
                visit(value)


class _Extractor(_FastVisitor):
    """Walks a module once; fills a ModuleFacts."""

    def __init__(self, relpath: str, lines: int) -> None:
        module, is_package = module_name(relpath)
        self.module = module
        self.package = module if is_package else module.rpartition(".")[0]
        self.facts = ModuleFacts(
            relpath=relpath, module=module, is_package=is_package, lines=lines, imports={},
            star_imports=[], assigns={}, ctors={}, lits={}, functions={}, classes={},
            route_calls=[], urllists={}, signals=[], eager=[],
        )
        self.globals: set[str] = set()
        self.frame = _Frame(facts=None, scope=None)
        self.mounts: list[str] = []
        self.qual: list[str] = []
        self.appends: dict[int, str] = {}

    # ---- names -------------------------------------------------------------------------

    def import_target(self, node: ast.ImportFrom) -> str:
        if not node.level:
            return node.module or ""
        base = self.package.split(".") if self.package else []
        if node.level > 1:
            base = base[: len(base) - (node.level - 1)]
        if node.module:
            base.append(node.module)
        return ".".join(base)

    def bind_imports(self, node: ast.Import | ast.ImportFrom, into: dict[str, str]) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    into[alias.asname] = alias.name
                else:
                    head = alias.name.split(".", 1)[0]
                    into[head] = head
            return
        target = self.import_target(node)
        for alias in node.names:
            if alias.name == "*":
                if into is self.facts.imports:
                    self.facts.star_imports.append(target)
                continue
            into[alias.asname or alias.name] = f"{target}.{alias.name}" if target else alias.name

    def render_name(self, name: str) -> str:
        scope = self.frame.scope
        while scope is not None:
            value = scope.locals.get(name)
            if value is not None:
                return value or "~" + name
            scope = scope.parent
        target = self.facts.imports.get(name)
        if target is not None:
            return target
        if name in self.globals:
            return f"{self.module}.{name}" if self.module else name
        if name in _DROPPED_BUILTINS:
            return ""
        return f"{self.module}.{name}" if self.module else name

    def render(self, node: ast.expr) -> str:
        kind = type(node)
        if kind is ast.Name:
            return self.render_name(node.id)  # type: ignore[attr-defined]
        if kind is ast.Attribute:
            base = self.render(node.value)  # type: ignore[attr-defined]
            out = f"{base}.{node.attr}" if base else ""  # type: ignore[attr-defined]
        elif kind is ast.Call:
            base = self.render(node.func)  # type: ignore[attr-defined]
            out = base + "()" if base else ""
        elif kind is ast.Subscript:
            base = self.render(node.value)  # type: ignore[attr-defined]
            out = base + "[]" if base else ""
        elif kind is ast.Await:
            return self.render(node.value)  # type: ignore[attr-defined]
        elif kind is ast.BinOp and isinstance(node.op, ast.BitOr):  # type: ignore[attr-defined]
            # sig_a | sig_b builds a Celery chain
            sides = (self.render(node.left), self.render(node.right))  # type: ignore[attr-defined]
            canvas = any(s.endswith((".s()", ".si()", ".signature()", "chain()", "group()"))
                         for s in sides)
            return "celery.chain()" if canvas else ""
        else:
            return ""
        return out if len(out) <= _MAX_NAME else ""

    def lit(self, node: ast.expr | None) -> Lit:
        if node is None:
            return None
        if isinstance(node, ast.Constant):
            value = node.value
            return value if isinstance(value, str | int | float | bool) or value is None else None
        if isinstance(node, ast.List | ast.Tuple | ast.Set):
            return [self.lit(e) for e in node.elts]
        if isinstance(node, ast.Dict):
            return {k.value: self.lit(v) for k, v in zip(node.keys, node.values, strict=True)
                    if isinstance(k, ast.Constant) and isinstance(k.value, str)}
        if isinstance(node, ast.JoinedStr):
            parts = []
            for piece in node.values:
                if isinstance(piece, ast.Constant):
                    parts.append(str(piece.value))
                elif isinstance(piece, ast.FormattedValue):
                    parts.append("{" + ast.unparse(piece.value) + "}")
            return "".join(parts)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = self.lit(node.left), self.lit(node.right)
            if isinstance(left, str) and isinstance(right, str):
                return left + right
        if isinstance(node, ast.Name) and self.frame.scope is None:
            value = self.facts.lits.get(node.id)
            if isinstance(value, str):
                return value
        if isinstance(node, ast.Call) and _tail(node.func) in ("Depends", "Security"):
            return {"dep": self.render(node.args[0]) if node.args else ""}
        return {"ref": self.render(node)}

    # ---- module ------------------------------------------------------------------------

    def run(self, tree: ast.Module) -> ModuleFacts:
        assigns: dict[str, ast.expr] = {}
        self.prepass(tree.body, assigns)
        for name, value in assigns.items():
            rendered = self.render(value)
            self.facts.assigns[name] = rendered
            if isinstance(value, ast.Call):
                args = [self.lit(a) for a in value.args]
                kwargs = {kw.arg: self.lit(kw.value) for kw in value.keywords if kw.arg}
                self.facts.ctors[name] = [args, kwargs]
        self.collect_urls(tree.body)
        for stmt in tree.body:
            self.visit(stmt)
        return self.facts

    def prepass(self, body: list[ast.stmt], assigns: dict[str, ast.expr]) -> None:
        """Module-level names, so a function can refer to a global defined below it."""
        for stmt in body:
            if isinstance(stmt, ast.Import | ast.ImportFrom):
                self.bind_imports(stmt, self.facts.imports)
            elif isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                self.globals.add(stmt.name)
            elif isinstance(stmt, ast.Assign | ast.AnnAssign):
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                for target in targets:
                    for name_node in ast.walk(target):
                        if isinstance(name_node, ast.Name):
                            self.globals.add(name_node.id)
                    if isinstance(target, ast.Name) and stmt.value is not None:
                        assigns[target.id] = stmt.value
                        value = stmt.value
                        if isinstance(value, ast.Constant) and isinstance(value.value, str | int
                                                                          | bool):
                            self.facts.lits[target.id] = value.value
            elif isinstance(stmt, ast.If | ast.Try | ast.With):
                inner = list(stmt.body) + list(getattr(stmt, "orelse", []))
                for handler in getattr(stmt, "handlers", []):
                    inner.extend(handler.body)
                inner.extend(getattr(stmt, "finalbody", []))
                self.prepass(inner, assigns)

    # ---- Django url patterns (module level) --------------------------------------------

    def collect_urls(self, body: list[ast.stmt]) -> None:
        for stmt in body:
            if isinstance(stmt, ast.If | ast.Try):
                inner = list(stmt.body) + list(stmt.orelse)
                for handler in getattr(stmt, "handlers", []):
                    inner.extend(handler.body)
                self.collect_urls(inner)
                continue
            name, value, extend = "", None, False
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                target = stmt.targets[0]
                if isinstance(target, ast.Name):
                    name, value = target.id, stmt.value
            elif isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name):
                name, value, extend = stmt.target.id, stmt.value, True
            elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
                call = stmt.value
                func = call.func
                if (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name)
                        and func.attr in ("append", "extend", "insert") and call.args):
                    name, value, extend = func.value.id, call.args[-1], True
                    if func.attr != "extend":
                        value = ast.List(elts=[value], ctx=ast.Load())
            if not name or value is None:
                continue
            if name != "urlpatterns" and name not in self.facts.urllists \
                    and not self.looks_like_urls(value):
                continue
            entries = self.url_list(value)
            if extend:
                self.facts.urllists.setdefault(name, []).extend(entries)
            else:
                self.facts.urllists[name] = entries

    def looks_like_urls(self, node: ast.expr) -> bool:
        if isinstance(node, ast.List | ast.Tuple):
            return any(isinstance(e, ast.Call) and _tail(e.func) in _URL_FUNCS
                       and self.render(e.func).startswith("django.") for e in node.elts)
        return False

    def url_list(self, node: ast.expr) -> list[UrlEntry]:
        if isinstance(node, ast.List | ast.Tuple):
            out: list[UrlEntry] = []
            for elt in node.elts:
                if isinstance(elt, ast.Starred):
                    out.extend(self.url_list(elt.value))
                elif isinstance(elt, ast.Call):
                    out.extend(self.url_list(elt))
            return out
        if isinstance(node, ast.Call):
            tail = _tail(node.func)
            if tail in _URL_WRAPPERS:
                return [e for arg in node.args for e in self.url_list(arg)]
            if tail in _URL_FUNCS:
                entry = self.url_entry(node, tail)
                return [entry] if entry else []
            return []
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return self.url_list(node.left) + self.url_list(node.right)
        if isinstance(node, ast.Name | ast.Attribute):
            rendered = self.render(node)
            if rendered:
                return [UrlEntry(node.lineno, "", False, "", None, "ref:" + rendered, [])]
        return []

    def url_entry(self, call: ast.Call, tail: str) -> UrlEntry | None:
        args = list(call.args)
        kws = {kw.arg: kw.value for kw in call.keywords if kw.arg}
        route_node = args[0] if args else kws.get("route")
        view = args[1] if len(args) > 1 else kws.get("view")
        route = self.lit(route_node)
        route = route if isinstance(route, str) else ""
        regex = tail != "path"
        if view is None:
            return None
        if isinstance(view, ast.Call) and _tail(view.func) == "include":
            target = view.args[0] if view.args else kws.get("arg")
            if isinstance(target, ast.Tuple) and target.elts:
                target = target.elts[0]
            if isinstance(target, ast.Constant) and isinstance(target.value, str):
                return UrlEntry(call.lineno, route, regex, "", None, "module:" + target.value, [])
            if isinstance(target, ast.List | ast.Tuple):
                return UrlEntry(call.lineno, route, regex, "", None, "nested",
                                self.url_list(target))
            if target is not None:
                return UrlEntry(call.lineno, route, regex, "", None,
                                "ref:" + self.render(target), [])
            return None
        actions = None
        if (isinstance(view, ast.Call) and _tail(view.func) == "as_view" and view.args
                and isinstance(view.args[0], ast.Dict)):
            mapping = self.lit(view.args[0])
            if isinstance(mapping, dict):
                actions = {str(k): str(v) for k, v in mapping.items() if isinstance(v, str)}
        return UrlEntry(call.lineno, route, regex, self.render(view), actions, "", [])

    # ---- definitions -------------------------------------------------------------------

    def decorators(self, nodes: list[ast.expr]) -> list[Decorator]:
        out = []
        for node in nodes:
            if isinstance(node, ast.Call):
                name = self.render(node.func)
                if not name:
                    continue
                out.append(Decorator(
                    name + "()", node.lineno, [self.lit(a) for a in node.args],
                    {kw.arg: self.lit(kw.value) for kw in node.keywords if kw.arg}))
            else:
                name = self.render(node)
                if name:
                    out.append(Decorator(name, node.lineno, [], {}))
        return out

    def bind_nested(self, name: str, qualname: str) -> None:
        """A def inside a function is a local of that function: name it by its qualname."""
        scope = self.frame.scope
        if scope is not None and self.frame.facts is not None:
            scope.locals[name] = f"{self.module}.{qualname}" if self.module else qualname

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        qualname = ".".join([*self.qual, node.name])
        self.bind_nested(node.name, qualname)
        outer_cls = self.frame.cls
        facts = ClassFacts(
            qualname=qualname, line=node.lineno,
            bases=[b for b in (self.render(base) for base in node.bases) if b],
            decorators=self.decorators(node.decorator_list), methods=[], attrs={}, lits={},
            meta={},
        )
        self.facts.classes[qualname] = facts
        self.note_signal_decorators(facts.decorators, qualname, [])
        self.qual.append(node.name)
        self.frame.cls = facts
        for stmt in node.body:
            if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef):
                self.visit_function(stmt, facts)
            elif isinstance(stmt, ast.ClassDef) and stmt.name == "Meta":
                for inner in stmt.body:
                    if isinstance(inner, ast.Assign) and isinstance(inner.targets[0], ast.Name):
                        facts.meta[inner.targets[0].id] = self.render(inner.value)
            elif isinstance(stmt, ast.Assign | ast.AnnAssign) and stmt.value is not None:
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                for target in targets:
                    if isinstance(target, ast.Name):
                        facts.attrs[target.id] = self.render(stmt.value)
                        value = self.lit(stmt.value)
                        if not isinstance(value, dict):
                            facts.lits[target.id] = value
                        self.note_eager(target.id, stmt.value, stmt.lineno)
                self.visit(stmt.value)
            else:
                self.visit(stmt)
        self.frame.cls = outer_cls
        self.qual.pop()

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.visit_function(node, None)

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self.visit_function(node, None)

    def visit_function(self, node: ast.FunctionDef | ast.AsyncFunctionDef,
                       cls: ClassFacts | None) -> None:
        qualname = ".".join([*self.qual, node.name])
        if cls is None:
            self.bind_nested(node.name, qualname)
        decorators = self.decorators(node.decorator_list)
        tails = {d.tail for d in decorators}
        facts = FunctionFacts(
            qualname=qualname, line=node.lineno, end_line=node.end_lineno or node.lineno,
            is_async=isinstance(node, ast.AsyncFunctionDef), is_stub=_is_stub(node.body),
            decorators=decorators, returns=[], deps=[], blocks=[],
        )
        self.note_signal_decorators(decorators, qualname, node.body)
        previous = self.facts.functions.get(qualname)
        if previous is None or not tails & {"setter", "deleter"}:
            self.facts.functions[qualname] = facts
        if cls is not None and node.name not in cls.methods:
            cls.methods.append(node.name)

        scope = _Scope(locals={}, parent=self.frame.scope)
        self.bind_params(node.args, scope, facts, cls, tails)
        if node.returns is not None:
            ret = self.render(_strip_optional(node.returns))
            if ret and not ret.startswith("~"):
                facts.returns.append(ret + "()")
        outer = self.frame
        self.frame = _Frame(facts=facts, scope=scope, cls=cls if cls is not None else outer.cls)
        self.qual.append(node.name)
        for stmt in node.body:
            self.visit(stmt)
        self.qual.pop()
        self.finish(self.frame)
        self.frame = outer

    def bind_params(self, args: ast.arguments, scope: _Scope, facts: FunctionFacts,
                    cls: ClassFacts | None, tails: set[str]) -> None:
        positional = [*args.posonlyargs, *args.args]
        defaults: dict[str, ast.expr] = {}
        for arg, default in zip(positional[len(positional) - len(args.defaults):],
                                args.defaults, strict=True):
            defaults[arg.arg] = default
        for arg, kw_default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
            if kw_default is not None:
                defaults[arg.arg] = kw_default
        every = [*positional, *args.kwonlyargs]
        for index, arg in enumerate(every):
            if index == 0 and cls is not None and "staticmethod" not in tails:
                scope.locals[arg.arg] = "cls" if "classmethod" in tails else "self"
                continue
            value = ""
            dep = defaults.get(arg.arg)
            annotated = _annotated_dep(arg.annotation)
            if annotated is not None:
                dep = annotated
            if (isinstance(dep, ast.Call) and _tail(dep.func) in ("Depends", "Security")
                    and dep.args):
                target = self.render(dep.args[0])
                if target:
                    facts.deps.append(target)
                    value = target + "()"
            if not value and arg.annotation is not None:
                rendered = self.render(_strip_optional(arg.annotation))
                if rendered and not rendered.startswith("~"):
                    value = rendered + "()"
            scope.locals[arg.arg] = value
        for extra in (args.vararg, args.kwarg):
            if extra is not None:
                scope.locals[extra.arg] = ""

    def finish(self, frame: _Frame) -> None:
        """Mark handles that are awaited or joined, and store the calls."""
        facts = frame.facts
        if facts is None:
            return
        waited = frame.waited
        if waited:
            for index, names in frame.handles.items():
                if any(n in waited for n in names):
                    frame.calls[index].flags |= WAITED
            for index, root in frame.receivers.items():
                if root in waited:
                    frame.calls[index].flags |= WAITED
        facts.blocks = frame.blocks
        calls = _prune(frame.calls)
        facts.raw_calls = list(calls)
        facts._calls = calls

    # ---- statements ----------------------------------------------------------------------

    def local_scope(self) -> _Scope | None:
        return self.frame.scope

    def bind(self, target: ast.expr, value: str) -> None:
        scope = self.frame.scope
        if isinstance(target, ast.Name):
            if scope is not None:
                scope.locals[target.id] = value
        elif isinstance(target, ast.Tuple | ast.List):
            for elt in target.elts:
                self.bind(elt.value if isinstance(elt, ast.Starred) else elt, "")
        elif (isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name)
              and target.value.id == "self" and self.frame.cls is not None and value):
            attrs = self.frame.cls.attrs
            if not attrs.get(target.attr):
                attrs[target.attr] = value

    def function_table(self, value: ast.expr) -> list[str]:
        """Rendered functions in a dict/list/tuple literal of names (a dispatch table)."""
        if isinstance(value, ast.Dict):
            items: list[ast.expr] = [v for v in value.values if v is not None]
        elif isinstance(value, ast.List | ast.Tuple):
            items = list(value.elts)
        else:
            return []
        if not items or not all(isinstance(i, ast.Name | ast.Attribute) for i in items):
            return []
        return [r for r in (self.render(i) for i in items) if r and r[0] != "~"]

    def handle_of(self, value: ast.expr) -> int | None:
        """Index of the call whose result is stored by an assignment of ``value``."""
        if isinstance(value, ast.Await):
            value = value.value
        if isinstance(value, ast.ListComp | ast.SetComp | ast.GeneratorExp):
            value = value.elt
        if isinstance(value, ast.Call):
            return self.frame.node_index.get(id(value))
        return None

    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        rendered = self.render(node.value)
        handle = self.handle_of(node.value)
        table = self.function_table(node.value)
        for target in node.targets:
            if table and isinstance(target, ast.Name):
                self.frame.tables[target.id] = table
            if not isinstance(target, ast.Name):
                self.visit(target)
            self.bind(target, rendered)
            if handle is not None:
                root = _root_name(target)
                if root:
                    self.frame.handles.setdefault(handle, []).append(root)
            name = target.id if isinstance(target, ast.Name) else _tail(target)
            if name:
                self.note_eager(name, node.value, node.lineno)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is None:
            if isinstance(node.target, ast.Name):
                rendered = self.render(_strip_optional(node.annotation))
                self.bind(node.target, rendered + "()" if rendered else "")
            return
        self.visit(node.value)
        rendered = self.render(node.value)
        if not rendered:
            ann = self.render(_strip_optional(node.annotation))
            rendered = ann + "()" if ann else ""
        self.bind(node.target, rendered)
        handle = self.handle_of(node.value)
        root = _root_name(node.target)
        if handle is not None and root:
            self.frame.handles.setdefault(handle, []).append(root)
        name = node.target.id if isinstance(node.target, ast.Name) else _tail(node.target)
        if name:
            self.note_eager(name, node.value, node.lineno)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        self.bind(node.target, self.render(node.value))

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        self.visit(node.iter)
        self.bind(node.target, "")
        for stmt in node.body:
            self.visit(stmt)
        for stmt in node.orelse:
            self.visit(stmt)

    visit_AsyncFor = visit_For

    def visit_With(self, node: ast.With | ast.AsyncWith) -> None:
        for item in node.items:
            self.visit(item.context_expr)
            if item.optional_vars is not None:
                rendered = self.render(item.context_expr)
                self.bind(item.optional_vars, rendered)
                if isinstance(item.optional_vars, ast.Name):
                    head = rendered.rstrip("()").rsplit(".", 1)[-1]
                    if head in _WAITING_CONTEXTS:
                        self.frame.waited.add(item.optional_vars.id)
        for stmt in node.body:
            self.visit(stmt)

    visit_AsyncWith = visit_With

    def visit_Import(self, node: ast.Import) -> None:
        if self.frame.scope is not None:
            self.bind_imports(node, self.frame.scope.locals)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if self.frame.scope is not None:
            self.bind_imports(node, self.frame.scope.locals)

    def push_block(self, kind: str, try_id: int, text: str, line: int) -> int:
        frame = self.frame
        frame.blocks.append(Block(kind, try_id, text, frame.block, line))
        return len(frame.blocks) - 1

    def visit_Try(self, node: ast.Try | ast.TryStar) -> None:
        frame = self.frame
        if frame.facts is None:
            self.generic_visit(node)
            return
        frame.tries += 1
        try_id = frame.tries
        outer = frame.block
        frame.block = self.push_block(TRY, try_id, "", node.lineno)
        for stmt in node.body:
            self.visit(stmt)
        frame.block = outer
        if node.handlers:
            frame.block = self.push_block(EXCEPT, try_id, "", node.handlers[0].lineno)
            for handler in node.handlers:
                for stmt in handler.body:
                    self.visit(stmt)
            frame.block = outer
        for stmt in node.orelse:
            self.visit(stmt)
        for stmt in node.finalbody:
            self.visit(stmt)

    visit_TryStar = visit_Try

    def visit_If(self, node: ast.If) -> None:
        self.visit(node.test)
        frame = self.frame
        text = self.setting_test(node.test) if frame.facts is not None else ""
        outer = frame.block
        if text:
            frame.block = self.push_block(GUARD, 0, text, node.lineno)
        for stmt in node.body:
            self.visit(stmt)
        if text:
            frame.block = self.push_block(UNGUARD, 0, text, node.lineno) if node.orelse else outer
        for stmt in node.orelse:
            self.visit(stmt)
        frame.block = outer

    def setting_test(self, test: ast.expr) -> str:
        """The test as written when it reads a setting or a feature flag, else ""."""
        for node in _walk(test):
            kind = type(node)
            if kind is ast.Name:
                word = node.id  # type: ignore[attr-defined]
            elif kind is ast.Attribute:
                word = node.attr  # type: ignore[attr-defined]
            elif kind is ast.Constant and type(node.value) is str:  # type: ignore[attr-defined]
                word = node.value  # type: ignore[attr-defined]
            else:
                continue
            if _settinglike(word):
                text = ast.unparse(test)
                return text if len(text) <= 80 else text[:77] + "..."
        return ""

    def visit_Return(self, node: ast.Return) -> None:
        if node.value is None:
            return
        self.visit(node.value)
        self.note_return(node.value)

    def note_return(self, value: ast.expr) -> None:
        facts = self.frame.facts
        if facts is None:
            return
        rendered = self.render(value)
        if rendered and not rendered.startswith("~") and rendered not in facts.returns:
            facts.returns.append(rendered)

    def visit_Yield(self, node: ast.Yield) -> None:
        if node.value is not None:
            self.visit(node.value)
            self.note_return(node.value)

    def visit_Await(self, node: ast.Await) -> None:
        self.frame.await_depth += 1
        self.visit(node.value)
        self.frame.await_depth -= 1

    def visit_Name(self, node: ast.Name) -> None:
        if self.frame.await_depth:
            self.frame.waited.add(node.id)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self.visit(node.body)

    def visit_Constant(self, node: ast.Constant) -> None:
        return

    # ---- calls ---------------------------------------------------------------------------

    def visit_Call(self, node: ast.Call) -> None:
        frame = self.frame
        func = node.func
        name = self.render(func)
        tail = _tail(func)
        index = -1
        if name and frame.facts is not None:
            index = self.record_call(node, name, tail)
        if name:
            self.note_special(node, name, tail)
        self.visit(func)
        mount = ""
        if tail == "Mount" and name.startswith(("starlette.", "fastapi.")) and node.args:
            prefix = self.lit(node.args[0])
            mount = prefix if isinstance(prefix, str) else ""
        if mount:
            self.mounts.append(mount)
        if index >= 0:
            frame.arg_stack.append(index)
        for arg in node.args:
            self.visit(arg)
        for kw in node.keywords:
            self.visit(kw.value)
        if index >= 0:
            frame.arg_stack.pop()
        if mount:
            self.mounts.pop()

    def record_call(self, node: ast.Call, name: str, tail: str) -> int:
        frame = self.frame
        func = node.func
        line = node.lineno
        end_col = node.end_col_offset if node.end_lineno == line else None
        func_end = func.end_col_offset if func.end_lineno == line else None
        refs: list[str] = []
        for arg in (*node.args, *(kw.value for kw in node.keywords)):
            if isinstance(arg, ast.Name | ast.Attribute):
                ref = self.render(arg)
                if ref and ref[0] != "~":
                    refs.append(ref)
        if isinstance(func, ast.Subscript) and isinstance(func.value, ast.Name):
            # handlers[kind](request): a dispatch table of functions
            refs.extend(frame.tables.get(func.value.id, ()))
        call = CallSite(
            name=name, line=line, col=node.col_offset,
            end_col=end_col if end_col is not None else -1,
            func_end=func_end if func_end is not None else -1,
            flags=AWAITED if frame.await_depth else 0,
            parent=frame.arg_stack[-1] if frame.arg_stack else -1, block=frame.block,
            refs=refs,
        )
        index = len(frame.calls)
        frame.calls.append(call)
        frame.node_index[id(node)] = index
        appended_to = self.appends.pop(id(node), None)
        if appended_to is not None:  # tasks.append(create_task(...)): the list is the handle
            frame.handles.setdefault(index, []).append(appended_to)
        if isinstance(func, ast.Attribute):
            root = _root_name(func.value)
            if root:
                frame.receivers[index] = root
                if tail in _WAIT_METHODS:
                    frame.waited.add(root)
                elif tail in ("append", "add", "extend", "put", "put_nowait") and node.args:
                    inner = node.args[0]
                    if isinstance(inner, ast.Await):
                        inner = inner.value
                    if isinstance(inner, ast.Call):
                        # visited after this call: bind it when it is recorded
                        self.appends[id(inner)] = root
        if tail in _WAIT_FUNCS:
            for arg in node.args:
                if isinstance(arg, ast.Starred):
                    arg = arg.value
                root = _root_name(arg) if not isinstance(arg, ast.List | ast.Tuple) else ""
                if root:
                    frame.waited.add(root)
                elif isinstance(arg, ast.List | ast.Tuple):
                    for elt in arg.elts:
                        elt_root = _root_name(elt)
                        if elt_root:
                            frame.waited.add(elt_root)
        return index

    def note_special(self, node: ast.Call, name: str, tail: str) -> None:
        """Route registrations, Starlette routes, signal connections, eager settings."""
        if tail in ROUTE_CALL_KINDS and isinstance(node.func, ast.Attribute):
            receiver = name.rsplit(".", 1)[0]
            self.facts.route_calls.append(RouteCall(
                tail, node.lineno, receiver, [self.lit(a) for a in node.args],
                {kw.arg: self.lit(kw.value) for kw in node.keywords if kw.arg}))
        elif tail in ("Route", "APIRoute") and name.startswith(("starlette.", "fastapi.")):
            self.facts.route_calls.append(RouteCall(
                "Route", node.lineno, "", [self.lit(a) for a in node.args],
                {kw.arg: self.lit(kw.value) for kw in node.keywords if kw.arg},
                "".join(self.mounts)))
        elif tail == "connect" and isinstance(node.func, ast.Attribute):
            handler = node.args[0] if node.args else None
            sender = None
            for kw in node.keywords:
                if kw.arg == "receiver":
                    handler = kw.value
                elif kw.arg == "sender":
                    sender = kw.value
            if handler is not None:
                self.facts.signals.append(SignalHook(
                    name.rsplit(".", 1)[0], self.render(sender) if sender is not None else "",
                    self.render(handler), node.lineno))
        for kw in node.keywords:
            if kw.arg and _EAGER_NAME.match(kw.arg):
                self.note_eager(kw.arg, kw.value, kw.value.lineno)
        if tail in ("setdefault", "__setitem__") and len(node.args) >= 2:
            key = node.args[0]
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                self.note_eager(key.value, node.args[1], node.lineno)

    def visit_Dict(self, node: ast.Dict) -> None:
        for key, value in zip(node.keys, node.values, strict=True):
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                self.note_eager(key.value, value, value.lineno)
            if key is not None:
                self.visit(key)
            self.visit(value)

    def note_eager(self, name: str, value: ast.expr, line: int) -> None:
        if "eager" in name.lower() and _EAGER_NAME.match(name):
            self.facts.eager.append(EagerSetting(name, line, _truthy(value)))

    def note_signal_decorators(self, decorators: list[Decorator], qualname: str,
                               body: list[ast.stmt]) -> None:
        for dec in decorators:
            if dec.tail != "receiver" or not dec.args:
                continue
            signals = dec.args[0] if isinstance(dec.args[0], list) else [dec.args[0]]
            sender = dec.kwargs.get("sender")
            if isinstance(sender, str):
                sender_name = "str:" + sender  # sender="shop.Order"
            else:
                sender_name = sender.get("ref", "") if isinstance(sender, dict) else ""
            if not sender_name:
                guards = self.sender_guard(body)
                if guards:
                    sender_name = "isa:" + "|".join(guards)
            handler = f"{self.module}.{qualname}" if self.module else qualname
            for signal in signals:
                if isinstance(signal, dict) and signal.get("ref"):
                    self.facts.signals.append(
                        SignalHook(signal["ref"], sender_name, handler, dec.line))

    def sender_guard(self, body: list[ast.stmt]) -> list[str]:
        """Classes a receiver without ``sender=`` filters on in its first statements:
        ``if not issubclass(sender, Status): return`` makes it a receiver for Status only."""
        for stmt in body[:4]:
            if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
                continue
            if (isinstance(stmt, ast.If) and len(stmt.body) == 1
                    and isinstance(stmt.body[0], ast.Return)):
                nodes = _guard_classes(stmt.test)
                if nodes:
                    return [r for r in (self.render(n) for n in nodes) if r]
        return []


def _guard_classes(test: ast.expr) -> list[ast.expr]:
    """The classes in ``not isinstance(x, C)``, ``sender not in (A, B)``, ``sender != C``,
    alone or as one operand of ``or``."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.Or):
        for value in test.values:
            found = _guard_classes(value)
            if found:
                return found
        return []
    if (isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not)
            and isinstance(test.operand, ast.Call)):
        call = test.operand
        if _tail(call.func) in ("isinstance", "issubclass") and len(call.args) == 2:
            kinds = call.args[1]
            return list(kinds.elts) if isinstance(kinds, ast.Tuple) else [kinds]
    if (isinstance(test, ast.Compare) and len(test.ops) == 1
            and isinstance(test.left, ast.Name) and test.left.id == "sender"):
        right = test.comparators[0]
        if isinstance(test.ops[0], ast.NotIn) and isinstance(right, ast.Tuple | ast.List):
            return list(right.elts)
        if isinstance(test.ops[0], ast.NotEq | ast.IsNot):
            return [right]
    return []


def _noise(name: str) -> bool:
    receiver, _, tail = name.rpartition(".")
    if name[0] == "~" and tail in _CONTAINER_METHODS:
        return True
    return tail in _LOG_METHODS and ("log" in receiver.rsplit(".", 1)[-1].lower()
                                     or receiver == "logging")


def _prune(calls: list[CallSite]) -> list[CallSite]:
    """Drop calls that cannot matter (container methods, logging) and renumber parents."""
    keep = [not _noise(call.name) for call in calls]
    if all(keep):
        return calls
    new_index: list[int] = []
    out: list[CallSite] = []
    for call, kept in zip(calls, keep, strict=True):
        new_index.append(len(out) if kept else -1)
        if kept:
            out.append(call)
    for call in out:
        parent = call.parent
        while parent >= 0 and not keep[parent]:
            parent = calls[parent].parent
        call.parent = new_index[parent] if parent >= 0 else -1
    return out


def extract(source: str | bytes, relpath: str) -> ModuleFacts:
    """Facts for one file. Raises SyntaxError (or ValueError) when it does not parse."""
    tree = ast.parse(source, filename=relpath)
    lines = (source.count(b"\n") if isinstance(source, bytes) else source.count("\n")) + 1
    return _Extractor(relpath, lines).run(tree)
