"""A view whose ``as_view(action=...)`` binds each HTTP verb to a method named in a table
(the shape of Neapolitan's ``CRUDView``)::

    ACTIONS = {"list": {"get": "list"}, "create": {"get": "form_view", "post": "form_handler"}}

    class CRUDView(View):
        @classmethod
        def as_view(cls, action, **initkwargs):
            def view(request, *args, **kwargs):
                self = cls(**initkwargs)
                for verb, method in ACTIONS[action].items():
                    setattr(self, verb, getattr(self, method))
                return self.dispatch(request, *args, **kwargs)
            return view

Django's ``dispatch`` then runs ``self.<verb>``, that is the method the table names. The
extractor records the table the loop reads (``verb_loop_table``); the route stage reads the
table, a module-level literal dict of dicts, and routes each (action, verb) to its method
(``action_tables``). A table that is no literal, or a method the class lacks, routes nothing.
"""

from __future__ import annotations

import ast

from .project import Project, Target

AS_VIEW = "as_view"
TABLE_UPDATE = "+"  # FunctionFacts.verb_tables: what ``table.update(...)`` adds before the loop


def verb_loop_table(node: ast.For | ast.AsyncFor) -> ast.expr | None:
    """``X`` when ``node`` is ``for verb, method in X.items():`` whose body does
    ``setattr(self, verb, getattr(self, method))`` (also through a local:
    ``handler = getattr(self, method, None)``, then ``setattr(self, verb, handler)``, also
    under an ``if``), else None."""
    target, iterable = node.target, node.iter
    if not (
        isinstance(target, ast.Tuple)
        and len(target.elts) == 2
        and all(isinstance(e, ast.Name) for e in target.elts)
        and isinstance(iterable, ast.Call)
        and isinstance(iterable.func, ast.Attribute)
        and iterable.func.attr == "items"
        and not iterable.args
    ):
        return None
    verb, method = (e.id for e in target.elts if isinstance(e, ast.Name))
    got: set[str] = set()  # locals holding getattr(self, method)
    for stmt in node.body:
        for inner in ast.walk(stmt):  # also under ``if hasattr(self, method):``
            if isinstance(inner, ast.Assign) and _is_getattr(inner.value, method):
                got.update(t.id for t in inner.targets if isinstance(t, ast.Name))
            elif isinstance(inner, ast.Call) and _is_setattr(inner, verb, method, got):
                return iterable.func.value
    return None


def _is_self(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id == "self"


def _is_name(node: ast.expr, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def _is_getattr(node: ast.expr | None, method: str) -> bool:
    """``getattr(self, method)``, also with a default (``getattr(self, method, None)``)."""
    return (
        isinstance(node, ast.Call)
        and _is_name(node.func, "getattr")
        and len(node.args) in (2, 3)
        and _is_self(node.args[0])
        and _is_name(node.args[1], method)
    )


def _is_setattr(node: ast.Call, verb: str, method: str, got: set[str]) -> bool:
    """``setattr(self, verb, getattr(self, method))`` or ``setattr(self, verb, <got>)``."""
    if not (_is_name(node.func, "setattr") and len(node.args) == 3):
        return False
    owner, name, value = node.args
    bound = _is_getattr(value, method) or (isinstance(value, ast.Name) and value.id in got)
    if isinstance(name, ast.Call) and isinstance(name.func, ast.Attribute) and not name.args:
        name = name.func.value  # setattr(self, verb.lower(), ...)
    return _is_self(owner) and _is_name(name, verb) and bound


def action_tables(project: Project, module: str, cls: str) -> dict[str, dict[str, str]] | None:
    """{action: {verb: method}} of the table the class's ``as_view`` (its own or a project
    base's, or a closure defined in it) binds verbs from; None when it binds none, {} when
    the table is not read: no module-level literal dict of dicts of method names, named
    directly or by a class attribute (``for verb, method in cls.actions[action].items()``)."""
    for mod, qual in project.mro(module, cls):
        facts = project.modules[mod]
        prefix = f"{qual}.{AS_VIEW}"
        if prefix not in facts.functions:
            continue
        tables = [
            table
            for name, function in facts.functions.items()
            if name == prefix or name.startswith(prefix + ".")
            for table in function.verb_tables
        ]
        if not tables:
            return None  # the nearest as_view decides
        updates = [t[len(TABLE_UPDATE) :] for t in tables if t.startswith(TABLE_UPDATE)]
        for table in tables:
            if table.startswith(TABLE_UPDATE):
                continue
            found = _literal_table(project, _through_class(project, module, cls, table))
            if found:
                return _updated(found, [_class_table(project, module, cls, u) for u in updates])
        return {}
    return None


def _updated(
    table: dict[str, dict[str, str]], added: list[dict[str, dict[str, str]]]
) -> dict[str, dict[str, str]]:
    """The table with each action's verbs updated from what the class adds."""
    out = {action: dict(verbs) for action, verbs in table.items()}
    for extra in added:
        for action, verbs in extra.items():
            out.setdefault(action, {}).update(verbs)
    return out


def _class_table(
    project: Project, module: str, cls: str, rendered: str
) -> dict[str, dict[str, str]]:
    """``cls.extra_actions.get()`` (or ``[]``): the literal {action: {verb: method}} the
    routed class (or its nearest base) assigns to ``extra_actions`` (kept in the module's
    ``verb_maps`` as ``Class.attr``); {} when not one."""
    owner, _, rest = rendered.partition(".")
    attr = rest.removesuffix(".get()").removesuffix("[]")
    if owner not in ("cls", "self") or not attr.isidentifier():
        return {}
    for mod, qual in project.mro(module, cls):
        facts = project.modules[mod]
        if attr in facts.classes[qual].attrs:  # the nearest assignment decides
            return facts.verb_maps.get(f"{qual}.{attr}", {})
    return {}


def _through_class(project: Project, module: str, cls: str, rendered: str) -> str:
    """``cls.actions[]`` as what the routed class (or its nearest base) assigns to
    ``actions``; any other name as it is."""
    owner, _, rest = rendered.partition(".")
    if owner not in ("cls", "self") or not rest:
        return rendered
    attr, _, tail = rest.partition("[")
    for mod, qual in project.mro(module, cls):
        value = project.modules[mod].classes[qual].attrs.get(attr.removesuffix(".get()"))
        if value:
            return value + ("[" + tail if tail else "")
    return rendered


def verb_map(node: ast.expr) -> dict[str, dict[str, str]]:
    """The entries of a literal dict that map a string to a dict of strings
    (``{"create": {"get": "form_view"}}``, also ``dict(get="form_view")``); {} when it has
    none. Other entries are left out: the table is read only for a loop that binds verbs
    from it."""
    if not isinstance(node, ast.Dict):
        return {}
    out: dict[str, dict[str, str]] = {}
    for key, value in zip(node.keys, node.values, strict=True):
        if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
            continue
        pairs = {
            verb.lower(): method.value
            for verb, method in _items(value)
            if isinstance(method, ast.Constant) and isinstance(method.value, str)
        }
        if pairs:
            out[key.value] = pairs
    return out


def _items(node: ast.expr) -> list[tuple[str, ast.expr]]:
    """(string key, value) of ``{"get": "list"}`` or ``dict(get="list")``."""
    if isinstance(node, ast.Dict):
        return [
            (k.value, v)
            for k, v in zip(node.keys, node.values, strict=True)
            if isinstance(k, ast.Constant) and isinstance(k.value, str)
        ]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict":
        return [(kw.arg, kw.value) for kw in node.keywords if kw.arg]
    return []


def _literal_table(project: Project, rendered: str) -> dict[str, dict[str, str]]:
    """The table a rendered ``ACTIONS[action]`` (``ACTIONS.get(action)``, ``ACTIONS``, or a
    ``.copy()`` of one: the same mapping) names, when it is a module's literal."""
    entry = rendered.removesuffix(".copy()")
    module, _, name = entry.removesuffix("[]").removesuffix(".get()").rpartition(".")
    facts = project.modules.get(module)
    return facts.verb_maps.get(name, {}) if facts is not None else {}


def routed_pairs(
    project: Project, view: Target, table: dict[str, dict[str, str]], actions: list[str]
) -> dict[str, dict[str, str]]:
    """{action: {verb: method}} for the actions routed, keeping methods the class has."""
    have: set[str] = set()
    for mod, qual in project.mro(view.module, view.name):
        have.update(project.modules[mod].classes[qual].methods)
    out: dict[str, dict[str, str]] = {}
    for action in actions:
        pairs = {v: m for v, m in table.get(action, {}).items() if m in have}
        if pairs:
            out[action] = pairs
    return out
