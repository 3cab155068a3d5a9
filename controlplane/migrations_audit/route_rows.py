"""Routes registered from the rows of a table: ``for pair in table: router.register(*pair)``.

The table may be a module-level list of ``(prefix, ViewSet[, basename])`` rows written in
another module, or an attribute of URL modules found by convention at run time::

    for app in settings.INSTALLED_APPS:
        urls = import_module(f"{app}.urls")
        for pair in getattr(urls, "api_urlpatterns", []):
            router.register(*pair)

Extraction (``RowLoops``, per file) marks each registration argument taken from a row as
``{"row": <table>, "item": "*" | index}``, the table being ``{"rows": [...]}`` (written in
the loop), ``{"table": name}`` (a module-level list) or ``{"convention": pattern, "over":
names, "attr": attribute}``. Expansion (``expand``, over the project) turns one such
registration into one per row. Module names come from what the project says (a literal
list, or a list such as ``INSTALLED_APPS`` in its settings); when the loop iterates over
something unknown, every module of the project that fits the pattern and has the attribute
is used, and the registration carries a note that makes its endpoints ``likely``.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .facts import Lit, ModuleFacts, RouteCall, UrlEntry
from .syntax import tail

if TYPE_CHECKING:
    from .names import Names
    from .project import Project

MAX_ROWS = 500  # longer lists are data, not route tables
MAX_DEPTH = 4
GUESSED = "URL modules found by convention: every module named like {pattern} with {attr}"
_SETTINGS = "django.conf.settings."
CONVENTION = "convention"  # UrlEntry.include: URL lists of modules found by convention


# ---- extraction (one file) -------------------------------------------------------------


def note_tables(names: Names, assigns: dict[str, ast.expr]) -> None:
    """Module-level lists of names or of rows, joined with ``+`` when both sides are."""
    for name, value in assigns.items():
        table = table_of(names, value)
        if table is not None:
            names.facts.tables[name] = table


def table_of(names: Names, node: ast.expr | None, depth: int = 0) -> list[Any] | None:
    """A list of strings, or of rows (lists of literals and references), as written."""
    if node is None or depth > MAX_DEPTH:
        return None
    if isinstance(node, ast.Name):
        return table_of(names, names.values.get(node.id), depth + 1)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left = table_of(names, node.left, depth + 1)
        right = table_of(names, node.right, depth + 1)
        return left + right if left is not None and right is not None else None
    if not isinstance(node, ast.List | ast.Tuple) or not 0 < len(node.elts) <= MAX_ROWS:
        return None
    if all(isinstance(e, ast.Constant) and isinstance(e.value, str) for e in node.elts):
        return [e.value for e in node.elts]  # type: ignore[attr-defined]
    rows = [e for e in node.elts if isinstance(e, ast.List | ast.Tuple)]
    if rows and all(isinstance(e, ast.List | ast.Tuple | ast.Call) for e in node.elts):
        # rows beside URL patterns (path(...)) that the loop hands elsewhere
        return [names.lit(e) for e in rows]
    return None


class RowLoops:
    """Loop variables that stand for rows of a table, while the loop body is walked."""

    def __init__(self) -> None:
        self.items: dict[str, tuple[dict[str, Any], int | None]] = {}  # var -> (table, index)
        self.sources: dict[str, Lit] = {}  # var -> the module names it iterates
        self.modules: dict[str, dict[str, Any]] = {}  # var -> {"pattern", "over"}
        self.read: dict[str, dict[str, Any]] = {}  # var = getattr(module var, "attr")
        self.loop_vars: dict[str, int] = {}  # every loop variable bound now (nesting count)
        # var -> the names a loop over a literal list of names gives it, one by one
        # (``for r in [items.router, users.router]: app.include_router(r)``: item 222)
        self.elements: dict[str, list[ast.expr]] = {}

    def enter(self, names: Names, node: ast.For | ast.AsyncFor) -> list[str]:
        """Bind the loop's variables; returns the names to forget when the loop ends."""
        target = node.target
        for element in ast.walk(target):
            if isinstance(element, ast.Name):
                self.loop_vars[element.id] = self.loop_vars.get(element.id, 0) + 1
        if isinstance(target, ast.Name):
            self.sources[target.id] = _names_given(names, node.iter)
            bound = [target.id]
            listed: ast.expr | None = node.iter
            if isinstance(listed, ast.Name) and names.scope is None:
                listed = names.values.get(listed.id)  # a module-level list of routers
            if (
                isinstance(listed, ast.List | ast.Tuple)
                and 0 < len(listed.elts) <= MAX_ROWS
                and all(isinstance(e, ast.Name | ast.Attribute) for e in listed.elts)
            ):
                self.elements[target.id] = list(listed.elts)
        else:
            bound = []
        table = self.table(names, node.iter)
        if table is None:
            return bound
        if isinstance(target, ast.Name):
            self.items[target.id] = (table, None)
        elif isinstance(target, ast.Tuple | ast.List):
            for index, element in enumerate(target.elts):
                if isinstance(element, ast.Name):
                    self.items[element.id] = (table, index)
                    bound.append(element.id)
        return bound

    def leave(self, node: ast.For | ast.AsyncFor, bound: list[str]) -> None:
        for name in bound:
            self.items.pop(name, None)
            self.sources.pop(name, None)
            self.elements.pop(name, None)
        for element in ast.walk(node.target):
            if isinstance(element, ast.Name):
                count = self.loop_vars.get(element.id, 0) - 1
                if count > 0:
                    self.loop_vars[element.id] = count
                else:
                    self.loop_vars.pop(element.id, None)

    def table(self, names: Names, node: ast.expr) -> dict[str, Any] | None:
        """What a loop iterates, when it may be a table of rows."""
        if isinstance(node, ast.Name) and node.id in self.read:
            return self.read[node.id]  # urls = getattr(module, "api_urlpatterns")
        read = self.attribute_read(node)
        if read is not None:
            return read
        literal = table_of(names, node) if isinstance(node, ast.List | ast.Tuple) else None
        if literal is not None:
            return {"rows": literal}
        dotted = _global_name(names, node)
        return {"table": dotted} if dotted else None

    def attribute_read(self, node: ast.expr) -> dict[str, Any] | None:
        """``getattr(urls, "api_urlpatterns"[, default])`` or ``urls.api_urlpatterns`` with
        ``urls`` a module imported by convention in the loop."""
        attr, holder = "", None
        if isinstance(node, ast.Call) and tail(node.func) == "getattr" and len(node.args) >= 2:
            name = node.args[1]
            if isinstance(name, ast.Constant) and isinstance(name.value, str):
                attr, holder = name.value, node.args[0]
        elif isinstance(node, ast.Attribute):
            attr, holder = node.attr, node.value
        if isinstance(holder, ast.Name) and holder.id in self.modules:
            return {"convention": self.modules[holder.id], "attr": attr}
        return None

    def assign(self, names: Names, target: ast.expr, value: ast.expr | None) -> None:
        """``urls = import_module(f"{app}.urls")`` with ``app`` a loop variable, and
        ``patterns = getattr(urls, "api_urlpatterns")`` read from such a module (also
        annotated: ``patterns: list = ...``)."""
        if not isinstance(target, ast.Name) or value is None:
            return
        read = self.attribute_read(value)
        if read is not None:
            self.read[target.id] = read
            return
        func = names.render(value.func) if isinstance(value, ast.Call) else ""
        if not func.endswith(("import_module", "import_string")):
            return
        given = value.args[0] if isinstance(value, ast.Call) and value.args else None
        if given is None and isinstance(value, ast.Call) and value.keywords:
            given = value.keywords[0].value  # import_string(dotted_path=...)
        found = _pattern(given) if given is not None else None
        if found is None:
            return
        pattern, var, plain = found
        if var not in self.sources and var != "self":
            return
        # app.name, or self.name in an AppConfig method run for each app: names we
        # cannot list
        over = self.sources[var] if plain and var in self.sources else None
        if func.endswith("import_module"):
            self.modules[target.id] = {"pattern": pattern, "over": over}
        elif "." in pattern:  # import_string(f"{app}.urls.api_urls"): an attribute
            module, _, attr = pattern.rpartition(".")
            self.read[target.id] = {"convention": {"pattern": module, "over": over}, "attr": attr}

    def url_list_added(self, names: Names, into: str, node: ast.expr, line: int) -> None:
        """``urlpatterns.extend(patterns)`` / ``+= patterns`` /
        ``.append(path("api/", include(patterns)))`` with ``patterns`` read from URL
        modules found by convention: an entry of ``into`` that includes them."""
        route, regex = "", False
        if isinstance(node, ast.Tuple | ast.List) and len(node.elts) == 1:
            node = node.elts[0]  # urlpatterns += (url(...),)
        if isinstance(node, ast.Call) and tail(node.func) in ("path", "re_path", "url"):
            keywords = {kw.arg: kw.value for kw in node.keywords if kw.arg}
            first = node.args[0] if node.args else keywords.get("route", keywords.get("regex"))
            given = names.lit(first)
            route, regex = (given if isinstance(given, str) else ""), tail(node.func) != "path"
            view = node.args[1] if len(node.args) > 1 else keywords.get("view")
            if isinstance(view, ast.Call) and tail(view.func) == "include" and view.args:
                node = view.args[0]
                if isinstance(node, ast.Tuple) and node.elts:  # include((patterns, "ns"))
                    node = node.elts[0]
        read: dict[str, Any] | None = None
        if isinstance(node, ast.Name) and node.id in self.read:
            read = self.read[node.id]
        elif isinstance(node, ast.Name) and node.id in self.items:
            # for entry in patterns: other_urls.append(entry): each element, so the list
            # (its URL patterns; rows beside them go to the router)
            table, index = self.items[node.id]
            read = table if index is None and "convention" in table else None
        else:
            read = self.attribute_read(node)
        if read is None:
            return
        entry = UrlEntry(line, route, regex, "", None, CONVENTION, [], [read])
        # a list imported from another module is extended there (DjangoRoutes merges it)
        rendered = names.render(ast.Name(into, ast.Load()))
        elsewhere = "." in rendered and rendered[0] != "~" and rendered != names.qualified(into)
        key = rendered if elsewhere else into
        names.facts.urllists.setdefault(key, []).append(entry)

    def arg(self, node: ast.expr) -> Lit:
        """The marker for a registration argument taken from a row, else None."""
        if isinstance(node, ast.Starred) and isinstance(node.value, ast.Name):
            found = self.items.get(node.value.id)
            if found is not None and found[1] is None:
                return {"row": found[0], "item": "*"}
        elif isinstance(node, ast.Name):
            found = self.items.get(node.id)
            if found is not None and found[1] is not None:
                return {"row": found[0], "item": found[1]}
        elif (
            isinstance(node, ast.Subscript)
            and isinstance(node.value, ast.Name)
            and isinstance(node.slice, ast.Constant)
            and isinstance(node.slice.value, int)
        ):
            found = self.items.get(node.value.id)
            if found is not None and found[1] is None:
                return {"row": found[0], "item": node.slice.value}
        return None


def _global_name(names: Names, node: ast.expr) -> str:
    """The dotted name of a module-level or imported table ("" for locals)."""
    scope = names.scope
    if isinstance(node, ast.Name):
        if scope is not None and (node.id in scope.locals or node.id in scope.param_names):
            return ""
        imported = names.facts.imports.get(node.id)
        if imported:
            return imported
        return names.qualified(node.id) if node.id in names.values else ""
    if isinstance(node, ast.Attribute):
        rendered = names.render(node)
        return rendered if rendered and rendered[0] != "~" and "(" not in rendered else ""
    return ""


def _names_given(names: Names, node: ast.expr) -> Lit:
    """Module names a loop iterates: a list as written, a reference to one, or None."""
    table = table_of(names, node)
    if table is not None and all(isinstance(t, str) for t in table):
        return table
    name = _global_name(names, node)
    return {"ref": name} if name else None


def _pattern(node: ast.expr) -> tuple[str, str, bool] | None:
    """``f"{app}.urls"`` / ``app + ".urls"`` / ``"%s.urls" % app`` -> ("{}.urls", "app",
    True); ``f"{app.name}.urls"`` -> (..., "app", False)."""
    parts: list[ast.expr] = []
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
        and isinstance(node.func.value, ast.Constant)
        and isinstance(node.func.value.value, str)
        and len(node.args) == 1
    ):  # "{}.urls".format(app)
        pieces = node.func.value.value.replace("{0}", "{}").split("{}")
        if len(pieces) != 2:
            return None
        parts = [ast.Constant(pieces[0]), node.args[0], ast.Constant(pieces[1])]
    elif isinstance(node, ast.JoinedStr):
        parts = [v.value if isinstance(v, ast.FormattedValue) else v for v in node.values]
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        parts = [node.left, node.right]
    elif (
        isinstance(node, ast.BinOp)
        and isinstance(node.op, ast.Mod)
        and isinstance(node.left, ast.Constant)
        and isinstance(node.left.value, str)
        and node.left.value.count("%s") == 1
    ):
        before, after = node.left.value.split("%s")
        parts = [ast.Constant(before), node.right, ast.Constant(after)]
    pattern, var, plain = "", "", True
    for part in parts:
        if isinstance(part, ast.Constant) and isinstance(part.value, str):
            pattern += part.value
            continue
        if var:
            return None
        if isinstance(part, ast.Attribute) and isinstance(part.value, ast.Name):
            var, plain = part.value.id, False
        elif isinstance(part, ast.Name):
            var = part.id
        else:
            return None
        pattern += "{}"
    return (pattern, var, plain) if var else None


# ---- expansion (the whole project) -----------------------------------------------------


def has_rows(call: RouteCall) -> bool:
    return any(_marker(v) is not None for v in [*call.args, *call.kwargs.values()])


def is_starred_row(call: RouteCall) -> bool:
    """``router.register(*pair)``: the row's length is only known once the table is."""
    return any((_marker(v) or {}).get("item") == "*" for v in call.args)


def _marker(value: Lit) -> dict[str, Any] | None:
    return value if isinstance(value, dict) and "row" in value else None


def expand(
    project: Project, module: str, call: RouteCall, guess: bool = True
) -> list[tuple[list[Lit], dict[str, Lit]]]:
    """One (args, kwargs) per row of the table the registration's arguments come from.

    References in a row are tagged with the module the row is written in (``"in"``) and,
    when its module was found by convention only, with a ``"note"`` saying so."""
    table = next(
        m["row"] for m in map(_marker, [*call.args, *call.kwargs.values()]) if m is not None
    )
    out = []
    for row, written, note in _rows(project, module, table, guess):
        if not isinstance(row, list):
            continue

        def value(raw: Lit, row: list[Any] = row) -> Lit:
            found = _marker(raw)
            if found is None:
                return raw
            item = found["item"]
            return row[item] if isinstance(item, int) and item < len(row) else None

        args: list[Lit] = []
        for raw in call.args:
            found = _marker(raw)
            args.extend(row if found is not None and found["item"] == "*" else [value(raw)])
        kwargs = {k: value(v) for k, v in call.kwargs.items()}
        out.append(
            (
                [_tag(a, written, note) for a in args],
                {k: _tag(v, written, note) for k, v in kwargs.items()},
            )
        )
    return out


def _tag(value: Lit, module: str, note: str) -> Lit:
    if isinstance(value, dict) and "ref" in value and "in" not in value:
        tagged = {**value, "in": module}
        return {**tagged, "note": note} if note else tagged
    return value


def _rows(
    project: Project, module: str, table: dict[str, Any], guess: bool
) -> list[tuple[Any, str, str]]:
    """(row, module it is written in, note) for each row of a table."""
    if "rows" in table:
        return [(row, module, "") for row in table["rows"]]
    if "table" in table:
        found = lookup(project, table["table"], module)
        return [(row, found[0], "") for row in found[1]] if found else []
    attr = table.get("attr", "")
    mods, note = convention_modules(project, module, table, lambda f: attr in f.tables, guess)
    return [(row, facts.module, note) for facts in mods for row in facts.tables.get(attr, [])]


def convention_modules(
    project: Project,
    module: str,
    read: dict[str, Any],
    fits: Callable[[ModuleFacts], bool],
    guess: bool = True,
) -> tuple[list[ModuleFacts], str]:
    """The modules a convention read (``{"convention": ..., "attr": ...}``) reaches, and
    a note when they were guessed: the modules the project names, else (``guess``) every
    module that fits the pattern and ``fits``."""
    convention, attr = read.get("convention") or {}, read.get("attr", "")
    pattern = convention.get("pattern", "")
    if not attr or "{}" not in pattern:
        return [], ""
    listed = _listed_names(project, convention.get("over"), module)
    if listed is not None:
        found = [project.module_for(pattern.format(name), module) for name in listed]
        return [f for f in found if f is not None], ""
    if not guess:
        return [], ""
    before, after = pattern.split("{}", 1)
    mods = [
        facts
        for name, facts in sorted(project.modules.items())
        if name.startswith(before) and name.endswith(after) and fits(facts)
    ]
    return mods, GUESSED.format(pattern=pattern.replace("{}", "*"), attr=attr)


def lookup(
    project: Project, name: str, module: str, depth: int = 0
) -> tuple[str, list[Any]] | None:
    """(module, table) for the dotted name of a module-level table, through imports."""
    head, _, symbol = name.rpartition(".")
    facts: ModuleFacts | None = project.module_for(head, module) if head else None
    if facts is None or depth > MAX_DEPTH:
        return None
    if symbol in facts.tables:
        return facts.module, facts.tables[symbol]
    imported = facts.imports.get(symbol)
    return lookup(project, imported, facts.module, depth + 1) if imported else None


def _listed_names(project: Project, over: Lit, module: str) -> list[str] | None:
    """The module names a loop iterates, when the project says which; None if unknown."""
    if isinstance(over, list):
        return [n for n in over if isinstance(n, str)]
    ref = over.get("ref", "") if isinstance(over, dict) else ""
    if ref.startswith(_SETTINGS):  # django.conf.settings.INSTALLED_APPS: the settings module
        setting = ref[len(_SETTINGS) :]
        found = [f for f in project.modules.values() if setting in f.tables]
        # the settings module the project runs with names ROOT_URLCONF; split settings
        # (base/dev/prod) each say part of it: their union
        chosen = [f for f in found if "ROOT_URLCONF" in f.lits] or found
        names = [n for f in chosen for n in f.tables[setting] if isinstance(n, str)]
        return list(dict.fromkeys(names)) if chosen else None
    table = lookup(project, ref, module) if ref else None
    return [n for n in table[1] if isinstance(n, str)] if table else None
