"""What a name means inside one module: imports, module globals and the locals in scope.

``render`` turns an expression into a dotted string with imports replaced by their targets
and locals by what was assigned to them (``pd.read_csv`` -> ``pandas.read_csv``,
``svc.run`` -> ``app.svc.Service().run``); ``lit`` reads literal arguments.
"""

from __future__ import annotations

import ast
import builtins
import re
from dataclasses import dataclass, field
from typing import Any

from .facts import Lit, ModuleFacts
from .route_rows import RowLoops
from .self_attrs import attr_value
from .syntax import percent_format, tail
from .verb_dispatch import verb_dispatch

# Builtins are dropped from call lists, except the ones that matter to us.
_KEPT_BUILTINS = frozenset({"open", "super", "exec", "eval", "__import__"})
_DROPPED_BUILTINS = frozenset(dir(builtins)) - _KEPT_BUILTINS
_MAX_NAME = 240
UNKNOWN_ATTR = "~getattr()"  # getattr(obj, name) with a name computed at run time
# getattr(requests, method)(url): called at once, the owner kept (callgraph decides)
COMPUTED_ATTR = "<computed>"
_SHORTCUTS = ("get_object_or_404", "aget_object_or_404")
_CANVAS_ENDINGS = (".s()", ".si()", ".signature()", "chain()", "group()")


def _getattr_call(node: ast.Call) -> bool:
    """``getattr(obj, name)`` / ``getattr(obj, name, default)``."""
    func = node.func
    return type(func) is ast.Name and func.id == "getattr" and 2 <= len(node.args) <= 3


def _declared_field(node: ast.Subscript) -> str:
    """``avatar`` for ``self.fields["avatar"]``: Django copies a form's declared fields into
    ``fields`` under their names; "" for anything else."""
    value = node.value
    if (
        isinstance(value, ast.Attribute)
        and value.attr == "fields"
        and isinstance(value.value, ast.Name)
        and value.value.id == "self"
    ):
        return _literal_name(node.slice)
    return ""


def _session_rows(node: ast.Call) -> tuple[ast.expr, str] | None:
    """A SQLAlchemy session's query of one model, ``session.query(Run)`` (its rows, as
    ``Run.objects`` reads in Django) or ``session.get(Run, pk)`` (one row, ``.get()``):
    (the model, what follows). A receiver not named like a session, a query of columns, or
    a first argument not spelled like a class is none (PATTERNS.md item 77)."""
    func = node.func
    if not isinstance(func, ast.Attribute) or func.attr not in ("query", "get"):
        return None
    receiver = func.value
    named = receiver.func if isinstance(receiver, ast.Call) else receiver
    spelled = named.attr if isinstance(named, ast.Attribute) else getattr(named, "id", "")
    if "session" not in spelled.lower():
        return None
    wanted = 1 if func.attr == "query" else 2
    if len(node.args) != wanted or node.keywords:
        return None
    first = node.args[0]
    spelled_first = first.id if isinstance(first, ast.Name) else getattr(first, "attr", "")
    if not spelled_first[:1].isupper():  # a class, as written: session.get(url, ...) is HTTP
        return None
    return first, "" if func.attr == "query" else ".get()"


def name_pattern(node: ast.expr) -> str:
    """``*_sync`` for ``f"{mode}_sync"`` or ``mode + "_sync"``: an attribute name computed
    at run time around literal parts, each computed part a ``*``; "" when no part is
    literal or the name could not be an identifier (PATTERNS.md item 92)."""
    if isinstance(node, ast.JoinedStr):
        parts = [
            v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else "*"
            for v in node.values
        ]
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        parts = [_pattern_piece(node.left), _pattern_piece(node.right)]
    elif (formatted := percent_format(node)) is not None:
        # "action_%s" % name (PATTERNS.md item 166): each conversion a computed part
        parts = [_PERCENT_CONVERSION.sub("*", formatted[0])]
    else:
        return ""
    pattern = "".join(parts)
    literal = pattern.replace("*", "")
    if not literal or "*" not in pattern or not literal.replace("_", "a").isalnum():
        return ""
    while "**" in pattern:
        pattern = pattern.replace("**", "*")
    return pattern


_PERCENT_CONVERSION = re.compile(r"%(?:\([^)]*\))?[-#0 +]*\d*(?:\.\d+)?[sdrif]")


def _pattern_piece(node: ast.expr) -> str:
    """One side of a ``+`` in ``name_pattern``: a string as written, else its pattern or
    ``*``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return name_pattern(node) or "*"


def _literal_name(node: ast.expr) -> str:
    """The attribute name a ``getattr`` reads when it is written as a literal, else ""."""
    if type(node) is ast.Constant and type(node.value) is str and node.value.isidentifier():
        return node.value
    return ""


@dataclass(slots=True)
class Scope:
    """Local names of one function, rendered; parent is the enclosing function's scope."""

    locals: dict[str, str]
    parent: Scope | None
    owner: str = ""  # qualname of the function
    params: list[str] = field(default_factory=list)  # in order; "*a" and "**kw" for catch-alls
    param_names: frozenset[str] = frozenset()  # the same without the stars
    # parameters FastAPI fills from a dependency (``x = Depends(get_x)``): their value is
    # what the provider returns, rendered ``get_x()`` in ``locals`` (PATTERNS.md item 182)
    injected: set[str] = field(default_factory=set)
    # parameters whose value in ``locals`` comes from their annotation (``send: Sender``):
    # a direct call of one stays a call of the parameter (PATTERNS.md item 189)
    annotated: set[str] = field(default_factory=set)
    each: dict[str, str] = field(default_factory=dict)  # loop variable -> parameter iterated
    # loop variable -> instance or class attribute iterated (``for m in self.models``)
    attr_each: dict[str, str] = field(default_factory=dict)
    # loop variable -> the argument-less call iterated (``for m in SearchModel.all()``)
    call_each: dict[str, str] = field(default_factory=dict)
    # loop variable -> "<call>:<attr>" iterated (``for p in m.proxies``, m over ``R.all()``)
    item_each: dict[str, str] = field(default_factory=dict)
    # local -> model class name it was looked up by (``Doc = self.get_model("Doc")``)
    models: dict[str, str] = field(default_factory=dict)
    # "self.object" -> what the method last assigned to it from a call, rendered
    # (``self.object = form.save(commit=False)``): later ``self.object.save()`` is that
    # value's ``save``, as through a local (self_attrs.py)
    attr_values: dict[str, str] = field(default_factory=dict)
    # the function's node, for a question about its whole body asked rarely (callables_of)
    node: Any = None
    _callables: frozenset[str] | None = None

    def callables(self) -> frozenset[str]:
        """Locals only ever called directly in the function (``send(x)``), never read as an
        object (``send.close()``): binding one in both arms of an ``if`` makes it either."""
        if self._callables is None:
            called: set[str] = set()
            objects: set[str] = set()
            for sub in ast.walk(self.node) if self.node is not None else ():
                if type(sub) is ast.Call and type(sub.func) is ast.Name:
                    called.add(sub.func.id)
                elif type(sub) is ast.Attribute and type(sub.value) is ast.Name:
                    objects.add(sub.value.id)
            self._callables = frozenset(called - objects)
        return self._callables


class Names:
    """Renders names for one module; ``scope`` is the function being walked (None at top)."""

    def __init__(self, facts: ModuleFacts) -> None:
        self.facts = facts
        self.module = facts.module
        self.package = facts.module if facts.is_package else facts.module.rpartition(".")[0]
        self.globals: set[str] = set()
        self.scope: Scope | None = None
        self.values: dict[str, ast.expr] = {}  # module-level assignments, as written
        self.rows = RowLoops()  # loop variables standing for rows of a route table

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

    def qualified(self, name: str) -> str:
        return f"{self.module}.{name}" if self.module else name

    def related_model(self, call: ast.Call) -> str:
        """The model a ``ForeignKey``/``OneToOneField`` points to, as an instance name:
        ``User`` or ``"User"`` -> ``app.models.User()``, ``"shop.Order"`` ->
        ``shop.models.Order()``. Attribute access on the field gives that model."""
        target = (
            call.args[0]
            if call.args
            else next((kw.value for kw in call.keywords if kw.arg == "to"), None)
        )
        if isinstance(target, ast.Constant) and isinstance(target.value, str):
            label = target.value
            if "." in label:
                app, _, model = label.rpartition(".")
                return f"{app}.models.{model}()"
            if label == "self":
                return ""
            home = self.package if self.module.rsplit(".", 1)[-1] != "models" else self.module
            return f"{home}.{label}()" if home else f"{label}()"
        if isinstance(target, ast.Name | ast.Attribute):
            rendered = self.render(target)
            return rendered + "()" if rendered else ""
        return ""

    def render_name(self, name: str) -> str:
        scope = self.scope
        while scope is not None:
            value = scope.locals.get(name)
            if value is not None:
                return value or "~" + name
            scope = scope.parent
        target = self.facts.imports.get(name)
        if target is not None:
            return target
        if name in self.globals:
            return self.qualified(name)
        if name in _DROPPED_BUILTINS:
            return ""
        if name in _KEPT_BUILTINS:
            return name
        return self.qualified(name)  # perhaps from a star import; the resolver looks there

    def render(self, node: ast.expr) -> str:
        kind = type(node)
        if kind is ast.Name:
            return self.render_name(node.id)  # type: ignore[attr-defined]
        if kind is ast.Attribute:
            scope = self.scope
            if scope is not None and scope.attr_values:
                known = attr_value(scope.attr_values, node)  # type: ignore[arg-type]
                if known:
                    return known
            base = self.render(node.value)  # type: ignore[attr-defined]
            out = f"{base}.{node.attr}" if base else ""  # type: ignore[attr-defined]
        elif kind is ast.Call:
            if _getattr_call(node) and self.render_name("getattr") == "":  # type: ignore[arg-type]
                # the builtin, not shadowed: getattr(tasks, "crunch") is tasks.crunch;
                # getattr(tasks, f"{kind}_task") an attribute chosen at run time, a value the
                # audit cannot know (a call on it is unresolved, not absent)
                attr = _literal_name(node.args[1])  # type: ignore[attr-defined]
                pattern = (
                    ""  # a name built from the request's method: verb_dispatch.py reads it
                    if attr or verb_dispatch(node) is not None  # type: ignore[arg-type]
                    else name_pattern(node.args[1])  # type: ignore[attr-defined]
                )
                first = node.args[0]  # type: ignore[attr-defined]
                if pattern and isinstance(first, ast.Name) and first.id in ("self", "cls"):
                    return f"{first.id}.{pattern}"  # getattr(self, f"{mode}_sync"): callgraph
                owner = self.render(first) if pattern else ""
                if owner and "*" not in owner:  # getattr(Alert, f"bulk_{x}"): item 118
                    return f"{owner}.{pattern}"
                if not attr:
                    return UNKNOWN_ATTR
                base = self.render(node.args[0])  # type: ignore[attr-defined]
                return f"{base}.{attr}" if base else ""
            func = node.func  # type: ignore[attr-defined]
            if (  # self.__getattribute__(mode + "_sync"): as getattr(self, ...)
                isinstance(func, ast.Attribute)
                and func.attr == "__getattribute__"
                and isinstance(func.value, ast.Name)
                and func.value.id in ("self", "cls")
                and len(node.args) == 1  # type: ignore[attr-defined]
            ):
                pattern = name_pattern(node.args[0])  # type: ignore[attr-defined]
                if pattern:
                    return f"{func.value.id}.{pattern}"
            if (  # type(self).x: the class of self, whose attributes self reads (item 219)
                isinstance(func, ast.Name)
                and func.id == "type"
                and len(node.args) == 1  # type: ignore[attr-defined]
                and not node.keywords  # type: ignore[attr-defined]
                and isinstance(node.args[0], ast.Name)  # type: ignore[attr-defined]
                and node.args[0].id in ("self", "cls")  # type: ignore[attr-defined]
                and self.render_name("type") == ""
            ):
                return node.args[0].id  # type: ignore[attr-defined]
            rows = _session_rows(node)  # type: ignore[arg-type]
            if rows is not None:  # session.query(Run) / session.get(Run, pk): Run's rows
                model = self.render(rows[0])
                return f"{model}.objects{rows[1]}" if model and model[0] != "~" else ""
            base = self.render(node.func)  # type: ignore[attr-defined]
            out = base + "()" if base else ""
            dotted = _literal_path(node) if base in LOADS_BY_PATH else ""  # type: ignore[arg-type]
            if dotted:
                # import_string("core.jobs.sync"): the object that path names (item 162)
                out = dotted
            elif base.endswith(_SHORTCUTS) and node.args:  # type: ignore[attr-defined]
                # get_object_or_404(Order, pk=1) is Order.objects.get(pk=1)
                model = self.render(node.args[0])  # type: ignore[attr-defined]
                if model:
                    # Model.objects / Model.unfiltered / a name for a queryset: the rows it
                    # holds (item 234); a class: its default manager's
                    attribute = model.endswith(")") or model.rpartition(".")[2][:1].islower()
                    out = model + (".get()" if attribute else ".objects.get()")
            elif base == "django.shortcuts._get_queryset" and node.args:  # type: ignore[attr-defined]
                # the shortcuts' own helper: a model's default queryset
                model = self.render(node.args[0])  # type: ignore[attr-defined]
                if model:
                    out = model if model.endswith(")") else model + ".objects"
        elif kind is ast.Subscript:
            declared = _declared_field(node)  # type: ignore[arg-type]
            if declared:  # self.fields["avatar"]: the field the form class declares
                return "self." + declared
            base = self.render(node.value)  # type: ignore[attr-defined]
            # rows[:10], events[:]: a slice is a sequence of the same kind
            sliced = isinstance(node.slice, ast.Slice)  # type: ignore[attr-defined]
            out = base if sliced or not base else base + "[]"
        elif kind is ast.Await:
            return self.render(node.value)  # type: ignore[attr-defined]
        elif kind is ast.IfExp:
            # engine if engine.ready() else None: nothing is called on None, so a call on
            # the value is a call on the other arm (PATTERNS.md item 238)
            body, orelse = node.body, node.orelse  # type: ignore[attr-defined]
            if _is_none(orelse):
                return self.render(body)
            return self.render(orelse) if _is_none(body) else ""
        elif kind is ast.BoolOp and isinstance(node.op, ast.Or):  # type: ignore[attr-defined]
            # (executor or POOL).submit(f): the first alternative of a known value, a
            # parameter (``~executor``) or a literal being of none (PATTERNS.md item 94)
            for value in node.values:  # type: ignore[attr-defined]
                rendered = self.render(value)
                if rendered and rendered[0] != "~":
                    return rendered
            return ""
        elif kind is ast.BinOp and isinstance(node.op, ast.BitOr):  # type: ignore[attr-defined]
            # sig_a | sig_b builds a Celery chain
            sides = (self.render(node.left), self.render(node.right))  # type: ignore[attr-defined]
            return "celery.chain()" if any(s.endswith(_CANVAS_ENDINGS) for s in sides) else ""
        else:
            return ""
        return out if len(out) <= _MAX_NAME else ""

    def module_constant(self, piece: ast.FormattedValue) -> str | None:
        """The value of ``{base_prefix}`` in an f-string when ``base_prefix`` is a string
        the module assigns at its top (``base_prefix = "/organizers"``), not a parameter of
        the function the f-string is in (PATTERNS.md item 129); else None."""
        value = piece.value
        if not isinstance(value, ast.Name) or piece.format_spec is not None:
            return None
        if piece.conversion not in (-1, ord("s")):
            return None
        scope = self.scope
        if scope is not None and value.id in scope.param_names:
            return None
        known = self.facts.lits.get(value.id)
        return known if isinstance(known, str) else None

    def lit(self, node: ast.expr | None) -> Lit:
        """A literal as written; anything else as {"ref": rendered} (or {"dep": ...})."""
        if node is None:
            return None
        if isinstance(node, ast.Constant):
            value = node.value
            return value if isinstance(value, str | int | float | bool) or value is None else None
        if isinstance(node, ast.List | ast.Tuple | ast.Set):
            return [self.lit(e) for e in node.elts]
        if isinstance(node, ast.Dict):
            return {
                k.value: self.lit(v)
                for k, v in zip(node.keys, node.values, strict=True)
                if isinstance(k, ast.Constant) and isinstance(k.value, str)
            }
        if isinstance(node, ast.JoinedStr):
            parts = []
            for piece in node.values:
                if isinstance(piece, ast.Constant):
                    parts.append(str(piece.value))
                elif isinstance(piece, ast.FormattedValue):
                    known = self.module_constant(piece)
                    parts.append(
                        known if known is not None else "{" + ast.unparse(piece.value) + "}"
                    )
            return "".join(parts)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left, right = self.lit(node.left), self.lit(node.right)
            if isinstance(left, str) and isinstance(right, str):
                return left + right
        if isinstance(node, ast.Name) and self.scope is None:
            value = self.facts.lits.get(node.id)
            if isinstance(value, str):
                return value
            held = self.values.get(node.id)
            if isinstance(held, ast.JoinedStr):
                # prefix = f"{settings.ADMIN_PATH}/": read as the f-string written in place
                # (its unknown parts shown as written; PATTERNS.md item 165)
                return self.lit(held)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "format"
            and isinstance(node.func.value, ast.Constant)
            and isinstance(node.func.value.value, str)
        ):
            # "/<int(min=1, max={0}):ver>".format(MAX): the values when known, else the text
            template = node.func.value.value
            values = [
                self.facts.lits.get(a.id)
                if isinstance(a, ast.Name) and self.scope is None
                else self.lit(a)
                for a in node.args
            ]
            if all(isinstance(v, str | int) for v in values) and not node.keywords:
                try:
                    return template.format(*values)
                except (IndexError, KeyError, ValueError):
                    return template
            return template
        formatted = percent_format(node)
        if formatted is not None:
            # r"^%s(?P<path>.*)$" % prefix: the values when known, else the text, its
            # placeholders showing (PATTERNS.md item 153)
            template, items = formatted
            values = [self.lit(item) for item in items]
            if all(isinstance(v, str | int) for v in values):
                try:
                    return template % tuple(values)
                except (TypeError, ValueError):
                    return template
            return template
        if isinstance(node, ast.Call) and tail(node.func) in ("Depends", "Security"):
            return {"dep": self.render(node.args[0]) if node.args else ""}
        return {"ref": self.render(node)}


# calls that load an object (or a module) by its dotted path: with a literal path, that
# object, as if imported (PATTERNS.md item 162)
LOADS_BY_PATH = frozenset(
    {
        "django.utils.module_loading.import_string",
        "werkzeug.utils.import_string",
        "werkzeug.import_string",
        "invenio_base.utils.obj_or_import_string",
        "invenio_records_rest.utils.obj_or_import_string",
        "pydoc.locate",
        "importlib.import_module",
    }
)


def _literal_path(node: ast.Call) -> str:
    """``"core.jobs.sync"`` for ``import_string("core.jobs.sync")``: one literal, absolute
    dotted path and nothing else passed; "" otherwise."""
    if len(node.args) != 1 or node.keywords:
        return ""
    value = node.args[0]
    if not isinstance(value, ast.Constant) or not isinstance(value.value, str):
        return ""
    path = value.value.replace(":", ".", 1)  # "pkg.mod:Name", werkzeug's and Invenio's form
    return path if all(p.isidentifier() for p in path.split(".")) else ""


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None
