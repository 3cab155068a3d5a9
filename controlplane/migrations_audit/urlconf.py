"""Django URL patterns of one module: ``urlpatterns`` (and other lists of ``path()``),
read structurally so ``include()`` nesting and prefixes survive into the facts."""

from __future__ import annotations

import ast
import copy
from typing import Any

from .facts import UrlEntry
from .names import Names
from .syntax import tail

URL_FUNCS = frozenset({"path", "re_path", "url"})
_URL_WRAPPERS = frozenset({"format_suffix_patterns", "i18n_patterns"})
UNREAD = "unread:"  # UrlEntry.include: an addition to a URL list that could not be read
IN_LOOP = "unread-loop:"  # one a loop makes (PATTERNS.md item 164)
LAMBDA_VIEW = "unread-lambda:"  # path("x/", lambda request: ...): a view with no def (item 237)
_MAX_TEXT = 80


class UrlPatterns:
    """Collects the module's URL lists into ``names.facts.urllists``."""

    def __init__(self, names: Names) -> None:
        self.names = names
        self.urllists = names.facts.urllists
        self.empty: set[str] = set()  # module-level lists started empty: ``api_urls = []``
        self.body: list[ast.stmt] = []
        self._included: set[str] | None = None

    def collect(self, body: list[ast.stmt]) -> None:
        """Every URL list of the module (its top-level statements)."""
        self.body = body
        self.collect_in(body)

    def included(self) -> set[str]:
        """Module-level names this module passes to Django's ``include()``: lists of URL
        patterns whatever they hold (``crud = [*TrackView.get_urls("tracks")]``). Read
        once, and only for a list no ``path()`` marks as URLs."""
        if self._included is None:
            self._included = {
                node.args[0].id
                for stmt in self.body
                for node in ast.walk(stmt)
                if isinstance(node, ast.Call)
                and tail(node.func) == "include"
                and node.args
                and isinstance(node.args[0], ast.Name)
                and self.names.render(node.func).startswith("django.")
            }
        return self._included

    def collect_in(self, body: list[ast.stmt]) -> None:
        """``urlpatterns = [...]``, ``+= [...]``, ``.append(path(...))``, also under ``if``;
        a list started empty and built by such statements (``api_urls = []`` then
        ``api_urls.extend(api_urls_books)``) is one too."""
        for stmt in body:
            if isinstance(stmt, ast.If):
                self.both_arms(stmt)
                continue
            if isinstance(stmt, ast.Try):
                inner = list(stmt.body) + list(stmt.orelse)
                for handler in getattr(stmt, "handlers", []):
                    inner.extend(handler.body)
                self.collect_in(inner)
                continue
            if isinstance(stmt, ast.For | ast.AsyncFor | ast.While):
                self.filled_in_loop(stmt)
                continue
            name, value, extend, given = "", None, False, None
            if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
                target = stmt.targets[0]
                if isinstance(target, ast.Name):
                    name, value = target.id, stmt.value
            elif (
                isinstance(stmt, ast.AnnAssign)
                and isinstance(stmt.target, ast.Name)
                and stmt.value is not None
            ):  # urlpatterns: list[URLPattern | URLResolver] = [...] (PATTERNS.md item 113)
                name, value = stmt.target.id, stmt.value
            elif isinstance(stmt, ast.AugAssign) and isinstance(stmt.target, ast.Name):
                name, value, extend = stmt.target.id, stmt.value, True
            elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
                call = stmt.value
                func = call.func
                if (
                    isinstance(func, ast.Attribute)
                    and isinstance(func.value, ast.Name)
                    and func.attr in ("append", "extend", "insert")
                    and call.args
                ):
                    name, value, extend = func.value.id, call.args[-1], True
                    given = value
                    if func.attr != "extend":
                        value = _listed(value)
            if not name or value is None:
                continue
            if not self.is_url_list(name, value, extend) and not (
                _has_starred_call(value) and name in self.included()
            ):
                if not extend:
                    self.started(name, value)
                continue
            if not extend and name in self.urllists and _adds_itself(value, name):
                # urlpatterns = [path(...)] + urlpatterns: the list grows, it is not replaced
                value, extend = _without(value, name), True
            elif not extend and name in self.urllists and _mentions(value, name):
                # urlpatterns = [path("", include((urlpatterns, "app")))]: the name on the
                # right is the list as it was, kept under a name of its own
                kept = f"{name}#{stmt.lineno}"
                self.urllists[kept] = self.urllists.pop(name)
                value = _renamed(value, name, kept)
            entries = self.entries(value) if value is not None else []
            if extend and not entries and value is not None and not _is_empty(value):
                entries = [_unread(stmt.lineno, given or value)]  # reported, never dropped
            if extend:
                self.urllists.setdefault(name, []).extend(entries)
            else:
                self.urllists[name] = entries

    def both_arms(self, stmt: ast.If) -> None:
        """``if settings.X: urlpatterns = [...] else: urlpatterns = [...]``: which arm runs
        is the deployment's choice, so a list either arm sets holds the routes of both
        (PATTERNS.md item 185)."""
        before = {name: list(entries) for name, entries in self.urllists.items()}
        self.collect_in(stmt.body)
        first = {name: list(entries) for name, entries in self.urllists.items()}
        self.urllists.clear()
        self.urllists.update(before)
        self.collect_in(stmt.orelse)
        for name, entries in first.items():
            other = self.urllists.get(name, [])
            self.urllists[name] = entries + [e for e in other if e not in entries]

    def filled_in_loop(self, loop: ast.For | ast.AsyncFor | ast.While) -> None:
        """``for t in TYPES: type_urls.append(re_path(..., include(t.get_urls())))``: what
        a loop adds to a URL list is not read; each addition is listed as a registration
        the audit could not read, never dropped (PATTERNS.md item 164)."""
        for node in ast.walk(loop):
            name, added, many = "", None, True
            if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
                name, added = node.target.id, node.value
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.attr in ("append", "extend", "insert")
                and node.args
            ):
                name, added = node.func.value.id, node.args[-1]
                many = node.func.attr == "extend"
            if not name or added is None:
                continue
            if self.is_url_list(name, added if many else _listed(added), True):
                self.urllists.setdefault(name, []).append(_unread(added.lineno, added, IN_LOOP))

    def is_url_list(self, name: str, value: ast.expr, extend: bool) -> bool:
        return (
            name == "urlpatterns"
            or name in self.urllists
            or self.looks_like_urls(value)
            or (extend and name in self.empty and self.names_url_lists(value))
        )

    def started(self, name: str, value: ast.expr) -> None:
        """Remember a module-level list started empty; any other value forgets it."""
        if _is_empty(value):
            self.empty.add(name)
        else:
            self.empty.discard(name)

    def names_url_lists(self, node: ast.expr) -> bool:
        """What a list started empty is extended with, when it may be URL patterns: this
        module's URL lists, imported names or attributes (read where they are written),
        alone, in a list or summed."""
        if isinstance(node, ast.Starred):
            return self.names_url_lists(node.value)
        if isinstance(node, ast.List | ast.Tuple):
            return bool(node.elts) and all(self.names_url_lists(e) for e in node.elts)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return all(self.names_url_lists(t) for t in _operands(node))
        if isinstance(node, ast.Name):
            return node.id in self.urllists or node.id in self.names.facts.imports
        if isinstance(node, ast.Attribute):
            rendered = self.names.render(node)
            return bool(rendered) and rendered[0] != "~"
        return False

    def looks_like_urls(self, node: ast.expr) -> bool:
        """A list of ``path()``s, or a sum with one (``router.urls + extra_patterns``, where
        ``extra_patterns`` is a URL list of this module): Django serves it all the same."""
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return any(
                (isinstance(term, ast.Name) and term.id in self.urllists)
                or self.looks_like_urls(term)
                for term in _operands(node)
            )
        if isinstance(node, ast.List | ast.Tuple):
            return any(
                isinstance(e, ast.Call)
                and tail(e.func) in URL_FUNCS
                and self.names.render(e.func).startswith("django.")
                for e in node.elts
            )
        return False

    def entries(self, node: ast.expr) -> list[UrlEntry]:
        if isinstance(node, ast.ListComp | ast.GeneratorExp):
            # [path(f"{n}/", page) for n in NAMES]: listed, never read as no routes
            # (PATTERNS.md item 138)
            return [_unread(node.lineno, node)]
        if isinstance(node, ast.List | ast.Tuple):
            out: list[UrlEntry] = []
            for elt in node.elts:
                if isinstance(elt, ast.Starred):
                    out.extend(self.entries(elt.value))
                elif isinstance(elt, ast.Call):
                    out.extend(self.entries(elt))
            return out
        if isinstance(node, ast.Call):
            name = tail(node.func)
            if name in _URL_WRAPPERS:
                return [e for arg in node.args for e in self.entries(arg)]
            if name in URL_FUNCS:
                entry = self.entry(node, name)
                return [entry] if entry else []
            rendered = self.names.render(node)  # *build_urls(...): a project function may
            if rendered and rendered[0] != "~":  # return patterns (view_registries.py)
                return [
                    UrlEntry(
                        node.lineno, "", False, "", None, "ref:" + rendered, [], self.args(node)
                    )
                ]
            return []
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return self.entries(node.left) + self.entries(node.right)
        if isinstance(node, ast.Name | ast.Attribute):
            rendered = self.names.render(node)
            if rendered:
                return [UrlEntry(node.lineno, "", False, "", None, "ref:" + rendered, [])]
        return []

    def summed_route(self, node: ast.expr) -> str:
        """``"x/" + views.SUB + "/y/"``: the literal terms, and each other name as a
        ``{views.SUB}`` placeholder (replaced by the constant it names where the project
        holds one, as an f-string route's are; PATTERNS.md item 206); "" for anything else
        or a sum with no literal term."""
        if not (isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add)):
            return ""
        parts: list[str] = []
        literal = False
        for term in _operands(node):
            literal = literal or (isinstance(term, ast.Constant) and isinstance(term.value, str))
            value = self.names.lit(term)
            if isinstance(value, str):
                parts.append(value)
            elif isinstance(term, ast.Name | ast.Attribute):
                parts.append("{" + ast.unparse(term) + "}")
            else:
                return ""
        return "".join(parts) if literal else ""

    def args(self, call: ast.Call) -> list[Any]:
        """[args, kwargs] of a call, as literals."""
        names = self.names
        return [
            [names.lit(a) for a in call.args if not isinstance(a, ast.Starred)],
            {kw.arg: names.lit(kw.value) for kw in call.keywords if kw.arg},
        ]

    def entry(self, call: ast.Call, func: str) -> UrlEntry | None:
        names = self.names
        args = list(call.args)
        kws = {kw.arg: kw.value for kw in call.keywords if kw.arg}
        written = args[0] if args else kws.get("route", kws.get("regex"))
        route = names.lit(written)
        if not isinstance(route, str):
            route = self.summed_route(written) if written is not None else ""
        regex = func != "path"
        view = args[1] if len(args) > 1 else kws.get("view")
        if view is None:
            return None
        if isinstance(view, ast.Call) and tail(view.func) == "include":
            target = view.args[0] if view.args else kws.get("arg")
            if isinstance(target, ast.Tuple) and target.elts:
                target = target.elts[0]
            if isinstance(target, ast.Constant) and isinstance(target.value, str):
                return UrlEntry(call.lineno, route, regex, "", None, "module:" + target.value, [])
            if isinstance(target, ast.List | ast.Tuple | ast.BinOp):  # also a + b
                return UrlEntry(call.lineno, route, regex, "", None, "nested", self.entries(target))
            if target is not None:
                given = self.args(target) if isinstance(target, ast.Call) else None
                return UrlEntry(
                    call.lineno, route, regex, "", None, "ref:" + names.render(target), [], given
                )
            return None
        view = _unwrapped(view)
        if isinstance(view, ast.Lambda):
            return _unread(call.lineno, view, LAMBDA_VIEW)
        actions = None
        given = None  # as_view(action="create"): the keywords, for a view that reads a table
        if isinstance(view, ast.Call) and tail(view.func) == "as_view" and view.keywords:
            given = self.args(view)
        if (
            isinstance(view, ast.Call)
            and tail(view.func) == "as_view"
            and view.args
            and isinstance(view.args[0], ast.Dict)
        ):
            mapping = names.lit(view.args[0])
            if isinstance(mapping, dict):
                actions = {str(k): str(v) for k, v in mapping.items() if isinstance(v, str)}
        if isinstance(view, ast.Constant) and isinstance(view.value, str):
            return UrlEntry(call.lineno, route, regex, view.value, None, "", [])  # old Django
        return UrlEntry(call.lineno, route, regex, names.render(view), actions, "", [], given)


def _unwrapped(view: ast.expr, depth: int = 0) -> ast.expr:
    """The view inside decorators applied in the URLconf: ``login_required(v)``,
    ``csrf_exempt(cache_page(60)(V.as_view()))``; a call given anything but a view
    reference (``make_view("x")``) is left as it is."""
    if _is_view_ref(view) or not isinstance(view, ast.Call) or not view.args or depth > 4:
        return view
    inner = _unwrapped(view.args[0], depth + 1)
    return inner if _is_view_ref(inner) else view


def _is_view_ref(node: ast.expr) -> bool:
    return isinstance(node, ast.Name | ast.Attribute) or (
        isinstance(node, ast.Call) and tail(node.func) == "as_view"
    )


def _is_empty(node: ast.expr) -> bool:
    """``[]``, ``()`` or ``list()``."""
    if isinstance(node, ast.List | ast.Tuple):
        return not node.elts
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "list"
        and not node.args
        and not node.keywords
    )


def _listed(node: ast.expr) -> ast.List:
    """``[node]``, at node's place: what ``append(node)`` adds."""
    return ast.copy_location(ast.List(elts=[node], ctx=ast.Load()), node)


def _unread(line: int, node: ast.expr, kind: str = UNREAD) -> UrlEntry:
    """An addition to a URL list the audit cannot read (a comprehension, a subscript, one
    made in a loop)."""
    text = ast.unparse(node)
    text = text if len(text) <= _MAX_TEXT else text[: _MAX_TEXT - 3] + "..."
    return UrlEntry(line, "", False, "", None, kind + text, [])


def _has_starred_call(node: ast.expr) -> bool:
    """``[*build_urls(...), ...]``: a list a pattern builder may fill."""
    return isinstance(node, ast.List | ast.Tuple) and any(
        isinstance(e, ast.Starred) and isinstance(e.value, ast.Call) for e in node.elts
    )


def _operands(node: ast.expr) -> list[ast.expr]:
    """The terms of ``a + b + c``, left to right, without recursion (generated modules
    hold sums of thousands of terms)."""
    terms: list[ast.expr] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, ast.BinOp) and isinstance(item.op, ast.Add):
            stack.extend((item.right, item.left))
        else:
            terms.append(item)
    return terms


def _adds_itself(node: ast.expr, name: str) -> bool:
    """``[path(...)] + urlpatterns``: a sum with the list being assigned among its terms."""
    return isinstance(node, ast.BinOp) and any(
        isinstance(term, ast.Name) and term.id == name for term in _operands(node)
    )


def _mentions(node: ast.expr, name: str) -> bool:
    """Whether ``name`` is read anywhere in ``node``."""
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(node))


def _renamed(node: ast.expr, old: str, new: str) -> ast.expr:
    """A copy of ``node`` reading ``new`` where it read ``old``."""

    class Rename(ast.NodeTransformer):
        def visit_Name(self, name: ast.Name) -> ast.Name:
            if name.id != old:
                return name
            # the copy keeps the position: entries read the line of what they list
            return ast.copy_location(ast.Name(id=new, ctx=name.ctx), name)

    renamed: ast.expr = Rename().visit(copy.deepcopy(node))
    return renamed


def _without(node: ast.expr, name: str) -> ast.expr | None:
    """The other terms of that sum, as a list of them (None when there are none)."""
    terms = [t for t in _operands(node) if not (isinstance(t, ast.Name) and t.id == name)]
    if not terms:
        return None
    listed = ast.List(elts=[ast.Starred(value=t, ctx=ast.Load()) for t in terms], ctx=ast.Load())
    for starred, term in zip(listed.elts, terms, strict=True):
        ast.copy_location(starred, term)
    return ast.copy_location(listed, node)
