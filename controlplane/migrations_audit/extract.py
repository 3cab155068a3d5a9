"""Turn one parsed module into ``ModuleFacts`` in a single pass over its syntax tree.

Nothing here knows about other files: names are rendered through this module's own imports
and assignments (``names.py``), and the cross-module work is left to ``project.py``. That
keeps the result cacheable by file content alone. For each function it records every call
that may matter, with where it sits (try body, except handler, an ``if`` on a setting),
whether its result is awaited, joined or waited for, and the functions passed to it.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field, replace
from typing import Any

from .action_choices import CHOOSERS, action_choices, named_classes
from .buffers import self_attrs_read
from .cascades import note_cascade
from .class_additions import note_addition
from .conditions import condition, forget
from .facts import (
    ARGS_SEEN,
    AWAITED,
    DEP_ALIAS,
    DISCARDED,
    EXCEPT,
    FIELDS,
    GUARD,
    KEPT_DICT,
    KEPT_UNWAITED,
    MODEL_BY_NAME,
    QUERYSET_OF,
    REDEFINED,
    RETURNED,
    SPLATTED,
    STORED,
    TRY,
    TUPLE_ELEMENT,
    UNGUARD,
    UNLESS,
    WAITED,
    WHEN,
    WITH_INSTANCE,
    WITHOUT_INSTANCE,
    Block,
    CallSite,
    ClassFacts,
    Decorator,
    FunctionFacts,
    Lit,
    ModuleFacts,
    RouteCall,
    block_chain,
    module_name,
)
from .field_loops import (
    empty_container,
    fill_target,
    filtered_fields,
    iterated_name,
    meta_fields,
    negated_type_test,
    self_member,
    type_test,
)
from .loop_rules import fill, loop_template
from .loop_unions import loop_unions
from .m2m_relations import note_m2m
from .names import COMPUTED_ATTR, LOADS_BY_PATH, UNKNOWN_ATTR, Names, Scope
from .partials import PARTIAL_NAMES, STORE_METHODS, calls_elements, stored_callable
from .project import KNOWN_EXTERNAL
from .queue_annotations import queue_annotation
from .queues import CELERY_APPLY, DRAMATIQ_SEND, TASKIQ_KICK
from .registries import fill_of, fill_of_call
from .return_flow import joined, leaves, main_returns, returned_self_calls
from .reverse_managers import note_fk
from .route_rows import is_starred_row, note_tables
from .runtime_containers import held_value
from .self_attrs import attr_key, carried
from .syntax import (
    FastVisitor,
    annotated_dep,
    handle_name,
    is_stub,
    parse_source,
    strip_optional,
    tail,
    walk,
)
from .urlconf import UrlPatterns
from .verb_dispatch import verb_dispatch
from .verb_tables import TABLE_UPDATE, verb_loop_table, verb_map
from .wiring import looked_up_model, note_call, note_eager, note_model_lookup, note_receivers

# Calls whose receiver, once called, is waited for: t.join(), fut.result(), res.get().
# (``cancel``, ``terminate``, ``kill``: a task or process the request ends does not outlive it)
_WAIT_METHODS = frozenset(
    {"join", "result", "wait", "get", "exception", "communicate", "cancel", "terminate", "kill"}
)
# ``with X(...)``: leaving the block waits for what X started (a child process)
_WAITED_ON_EXIT = frozenset({"Popen"})
# Calls that wait for the handles passed to them.
_WAIT_FUNCS = frozenset({"gather", "wait", "as_completed", "wait_for", "shield"})
# ``with X() as h``: leaving the block waits for everything submitted through ``h``.
_WAITING_CONTEXTS = frozenset(
    {
        "ThreadPoolExecutor",
        "ProcessPoolExecutor",
        "Pool",
        "ThreadPool",
        "TaskGroup",
        "create_task_group",
        "open_nursery",
    }
)
_SETTINGLIKE = re.compile(
    r"(?i)settings|config|conf$|environ|getenv|feature|flag|celery|eager|broker|^use_|enable"
)
_ALLCAPS = re.compile(r"^[A-Z][A-Z0-9_]{2,}$")
_REQUEST_DATA = frozenset({"GET", "POST", "FILES", "META", "COOKIES"})  # Django's request
_WORDS: dict[str, bool] = {}
_M2M_METHODS = frozenset({"add", "remove", "clear"})  # also a related manager's
# Methods of dicts, lists, strings and sets. Called on a local of unknown type they tell the
# analysis nothing, and they are a large share of all calls, so they are not stored.
_CONTAINER_METHODS = frozenset(
    {
        "get",
        "items",
        "keys",
        "values",
        "setdefault",
        "update",
        "pop",
        "popitem",
        "append",
        "extend",
        "insert",
        "remove",
        "clear",
        "copy",
        "sort",
        "reverse",
        "index",
        "count",
        "add",
        "discard",
        "union",
        "intersection",
        "difference",
        "format",
        "join",
        "split",
        "rsplit",
        "strip",
        "lstrip",
        "rstrip",
        "lower",
        "upper",
        "replace",
        "startswith",
        "endswith",
        "encode",
        "decode",
        "splitlines",
        "title",
        "isdigit",
        "isalpha",
        "zfill",
        "find",
        "partition",
        "rpartition",
        "format_map",
        "issubset",
        "issuperset",
        "isoformat",
        "strftime",
        "total_seconds",
    }
)
_TRACKERS = frozenset({"FieldTracker", "ModelTracker"})
# containers of dicts a registry keeps and reads back (``self._proxies.append({...})``)
_KEEPERS = frozenset({"append", "add", "insert"})
_OPAQUE = ast.Name(id="~")  # a local bound to something a condition cannot read
_RELATIONS = frozenset({"ForeignKey", "OneToOneField", "ParentalKey"})
_MANY = frozenset({"ManyToManyField", "ParentalManyToManyField"})
# route decorators of Flask and FastAPI/Starlette routers, applied by hand: item 137
_ROUTE_DECORATORS = frozenset(
    {"route", "get", "post", "put", "patch", "delete", "head", "options", "api_route", "websocket"}
)
# defaults of a class-level annotated attribute that leave its type to the annotation:
# dependency markers (``bus: Bus = Depends(...)``) and field specifiers (item 120)
_DECLARING_DEFAULTS = frozenset({"Depends", "Security", "Inject", "Provide", "field", "Field"})
# Annotations that name no class: ``get_serializer: Callable`` types nothing (PATTERNS.md
# item 198), and as a bare annotation defines nothing either
_NO_CLASS_TYPES = frozenset(
    {"typing.Callable", "collections.abc.Callable", "typing.Any", "typing_extensions.Any", "object"}
)
_LOG_METHODS = frozenset(
    {"debug", "info", "warning", "warn", "error", "exception", "critical", "log"}
)

# ``instance: Model`` names no model: which one is the caller's (a serializer's update() gets
# the view's object, PATTERNS.md item 19), so the parameter stays the caller's value
_ANY_MODEL = frozenset({"django.db.models.Model", "django.db.models.base.Model"})


# a method read as an attribute (``@property``, ``functools`` / Django ``cached_property``)
PROPERTY_DECORATORS = frozenset({"property", "cached_property"})


_TYPE_VARIABLES = frozenset({"TypeVar", "ParamSpec", "TypeVarTuple"})


def _declared_class(annotation: ast.expr) -> ast.expr | None:
    """``X`` of ``type[X]`` / ``Type[X]`` (``typing.Type[X]``, ``Type["X"]``), else None."""
    if not isinstance(annotation, ast.Subscript):
        return None
    if tail(annotation.value) not in ("type", "Type") or isinstance(annotation.slice, ast.Tuple):
        return None
    named = annotation.slice
    if isinstance(named, ast.Constant) and isinstance(named.value, str):
        try:  # Type["Plugin"]: a forward reference, written as a string
            named = ast.parse(named.value.strip(), mode="eval").body
        except SyntaxError:
            return None
    return named


def _self_annotation(node: ast.expr) -> bool:
    """``Self`` (bare, ``typing.Self`` or ``typing_extensions.Self``)."""
    if isinstance(node, ast.Name):
        return node.id == "Self"
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "Self"
        and isinstance(node.value, ast.Name)
        and node.value.id in ("typing", "typing_extensions", "t")
    )


def _class_member(node: ast.Attribute) -> bool:
    """``Event.Kind.DELETED``: an ALL-CAPS attribute of a CamelCase name, a member of a
    class (an enumeration's, a class constant), unless the word itself says setting; and
    ``request.GET`` and the like, the request's data."""
    owner = node.value
    name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
    if name == "request" and node.attr in _REQUEST_DATA:
        return True  # request.GET["k"]: what the client sent, not a setting
    return (
        bool(_ALLCAPS.match(node.attr))
        and not _SETTINGLIKE.search(node.attr)
        and name[:1].isupper()
        and not name.isupper()
    )


def _settinglike(word: str) -> bool:
    known = _WORDS.get(word)
    if known is None:
        known = _WORDS[word] = bool(_SETTINGLIKE.search(word) or _ALLCAPS.match(word))
    return known


@dataclass(slots=True)
class _Frame:
    """State while walking one function body."""

    facts: FunctionFacts | None  # None for module and class bodies (calls are dropped)
    scope: Scope | None
    cls: ClassFacts | None = None
    calls: list[CallSite] = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    block: int = -1
    await_depth: int = 0
    arg_stack: list[int] = field(default_factory=list)
    handles: dict[int, list[str]] = field(default_factory=dict)
    receivers: dict[int, str] = field(default_factory=dict)
    waited: set[str] = field(default_factory=set)
    # name -> indexes of the calls that wait for it (-1: a wait that is no call, ``await t``)
    wait_sites: dict[str, list[int]] = field(default_factory=dict)
    tries: int = 0
    node_index: dict[int, int] = field(default_factory=dict)
    tables: dict[str, list[str]] = field(default_factory=dict)
    # call index -> [position or keyword, local name] of the locals it is given
    passed: dict[int, list[list[Any]]] = field(default_factory=dict)
    # method = actions[key] / actions.get(key): a local holding one of a table's functions
    picked: dict[str, list[str]] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)  # for t in tasks: t -> tasks
    # tasks.append(task): container -> the handles put in it, waited with it
    contents: dict[str, set[str]] = field(default_factory=dict)
    returned: set[str] = field(default_factory=set)  # handles in a ``return`` value
    assigned: dict[str, ast.expr] = field(default_factory=dict)  # local -> last value so far
    # locals last bound inside an if, try or loop already left: their last binding may not
    # have run, so a condition reads them as unknown (PATTERNS.md item 233)
    uncertain: set[str] = field(default_factory=set)
    rebound: set[str] = field(default_factory=set)  # parameters assigned in the body
    conds: dict[int, list[Any]] = field(default_factory=dict)  # id(If) -> its condition
    loop_sources: dict[str, str] = field(default_factory=dict)  # for f in X: f -> X rendered
    main_returns: dict[int, int] = field(default_factory=dict)  # return_flow.main_returns
    flow_chain: int = 0  # the terminal ``if`` chain of the last final return read, or 0
    history: list[tuple[str, ast.expr]] = field(default_factory=list)  # every local binding
    field_vars: set[str] = field(default_factory=set)  # for f in self._meta.fields: f
    # local containers filled only inside one FIELDS block: name -> its condition (None
    # once filled anywhere else), so a later loop over them runs under it (field_loops.py)
    field_fills: dict[str, list[Any] | None] = field(default_factory=dict)
    # loop variables over a literal list of different values: each value (loop_unions.py)
    unions: dict[str, list[str]] = field(default_factory=dict)
    attrs_read: set[str] = field(default_factory=set)  # FunctionFacts.attr_reads, rendered


# builtin decorators kept among a function's decorators: a staticmethod has no self
_BINDING_BUILTINS = frozenset({"staticmethod", "classmethod"})

MAX_UNROLLED = 500  # elements of a module-level route table expanded one by one
# dispatch methods a local may be bound to uncalled in the arms of an ``if`` (Celery, Dramatiq,
# RQ, Huey, Taskiq): the local is then either arm (``join_bound_dispatch``)
# Django's calls returning (row, created): the row is what the audit reads the call as
_ROW_PAIRS = (
    ".get_or_create()",
    ".update_or_create()",
    ".aget_or_create()",
    ".aupdate_or_create()",
)
_BOUND_DISPATCH = CELERY_APPLY | DRAMATIQ_SEND | TASKIQ_KICK | {"enqueue", "enqueue_call"}
_MAX_ARM_DEPTH = 4  # nested conditional expressions followed in a bound local's value


class _Extractor(FastVisitor):
    """Walks a module once; fills a ModuleFacts."""

    def __init__(self, relpath: str, lines: int) -> None:
        module, is_package = module_name(relpath)
        self.facts = ModuleFacts(
            relpath=relpath,
            module=module,
            is_package=is_package,
            lines=lines,
            imports={},
            star_imports=[],
            assigns={},
            ctors={},
            lits={},
            functions={},
            classes={},
            route_calls=[],
            urllists={},
            signals=[],
            eager=[],
        )
        self.names = Names(self.facts)
        self.render = self.names.render
        self.lit = self.names.lit
        self.frame = _Frame(facts=None, scope=None)
        self.top_seen: set[str] = set()  # ModuleFacts.top_refs, for a quick membership test
        self.mounts: list[str] = []
        self.qual: list[str] = []
        self.appends: dict[int, str] = {}
        self.callee = 0  # id() of the callee a call is visiting: not an attribute read
        self._fastapi: bool | None = None

    def uses_fastapi(self) -> bool:
        """Whether the module imports FastAPI: only there is a parameter's annotation read
        as a possible dependency alias."""
        if self._fastapi is None:
            self._fastapi = any(t.startswith("fastapi") for t in self.facts.imports.values())
        return self._fastapi

    # ---- module ------------------------------------------------------------------------

    def run(self, tree: ast.Module) -> ModuleFacts:
        assigns: dict[str, ast.expr] = {}
        self.prepass(tree.body, assigns)
        self.names.values = assigns
        for name, value in assigns.items():
            model = looked_up_model(value)  # Order = apps.get_model("shop", "Order")
            self.facts.assigns[name] = f"{MODEL_BY_NAME}.{model}" if model else self.render(value)
            dep = annotated_dep(value)
            aliased = self.render(dep.args[0]) if isinstance(dep, ast.Call) and dep.args else ""
            if aliased:
                self.facts.dep_aliases[name] = aliased
            table = self.function_table(value)
            if table and name not in self.facts.lits:
                # TASKS = {"crunch": crunch, ...}: a table of functions, picked by a value
                self.facts.lits[name] = [{"ref": ref} for ref in table]
            mapping = verb_map(value)
            if mapping:
                self.facts.verb_maps[name] = mapping
            if isinstance(value, ast.Call):
                args = [self.lit(a) for a in value.args]
                kwargs = {kw.arg: self.lit(kw.value) for kw in value.keywords if kw.arg}
                self.facts.ctors[name] = [args, kwargs]
        note_tables(self.names, assigns)
        UrlPatterns(self.names).collect(tree.body)
        for stmt in tree.body:
            self.visit(stmt)
        return self.facts

    def prepass(self, body: list[ast.stmt], assigns: dict[str, ast.expr]) -> None:
        """Module-level names, so a function can refer to a global defined below it."""
        names = self.names
        for stmt in body:
            if isinstance(stmt, ast.Import | ast.ImportFrom):
                names.bind_imports(stmt, self.facts.imports)
            elif isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                names.globals.add(stmt.name)
            elif isinstance(stmt, ast.Assign | ast.AnnAssign):
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                for target in targets:
                    for name_node in walk(target):
                        if isinstance(name_node, ast.Name):
                            names.globals.add(name_node.id)
                    value = stmt.value
                    if isinstance(target, ast.Name) and value is not None:
                        assigns[target.id] = value
                        if isinstance(value, ast.Constant) and isinstance(
                            value.value, str | int | bool
                        ):
                            self.facts.lits[target.id] = value.value
                        elif isinstance(value, ast.BinOp) and isinstance(value.op, ast.Add):
                            # API_PREFIX = "/api" + PREFIX: joined from the literals above
                            joined = names.lit(value)
                            if isinstance(joined, str):
                                self.facts.lits[target.id] = joined
            elif isinstance(stmt, ast.If | ast.Try | ast.With):
                inner = list(stmt.body) + list(getattr(stmt, "orelse", []))
                for handler in getattr(stmt, "handlers", []):
                    inner.extend(handler.body)
                inner.extend(getattr(stmt, "finalbody", []))
                self.prepass(inner, assigns)

    # ---- definitions -------------------------------------------------------------------

    def decorators(self, nodes: list[ast.expr]) -> list[Decorator]:
        out = []
        for node in nodes:
            if isinstance(node, ast.Call):
                name = self.render(node.func)
                if not name:
                    continue
                out.append(
                    Decorator(
                        name + "()",
                        node.lineno,
                        [self.loop_lit(a) for a in node.args],
                        {kw.arg: self.loop_lit(kw.value) for kw in node.keywords if kw.arg},
                    )
                )
            else:
                name = self.render(node)
                if not name and isinstance(node, ast.Name) and node.id in _BINDING_BUILTINS:
                    name = node.id  # a builtin renders to nothing, but says how args bind
                if name:
                    out.append(Decorator(name, node.lineno, [], {}))
        return out

    def loop_lit(self, node: ast.expr) -> Lit:
        """A decorator argument; ``prefix + "/x"`` in a module-level loop as a template
        (``@bp.route(prefix + "/x")`` on a function defined in the loop, loop_rules.py)."""
        template = loop_template(self.names, node)
        return template if template is not None else self.lit(node)

    def bind_nested(self, name: str, qualname: str) -> None:
        """A def inside a function is a local of that function: name it by its qualname."""
        scope = self.frame.scope
        if scope is not None and self.frame.facts is not None:
            scope.locals[name] = self.names.qualified(qualname)

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        qualname = ".".join([*self.qual, node.name])
        self.bind_nested(node.name, qualname)
        outer_cls = self.frame.cls
        written = [self.render(base) for base in node.bases]
        facts = ClassFacts(
            qualname=qualname,
            line=node.lineno,
            bases=[b for b in written if b],
            decorators=self.decorators(node.decorator_list),
            methods=[],
            attrs={},
            lits={},
            meta={},
            unseen_bases=sum(
                1
                for text, base in zip(written, node.bases, strict=True)
                if not text and not (isinstance(base, ast.Name) and base.id == "object")
            ),
        )
        for keyword in node.keywords:
            if keyword.arg == "metaclass":  # kept as Python 2 spelled it (class_registries.py)
                facts.attrs["__metaclass__"] = self.render(keyword.value)
        self.facts.classes[qualname] = facts
        note_receivers(self.names, facts.decorators, qualname, [])
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
                value_node = stmt.value
                related = ""
                if isinstance(value_node, ast.Call) and tail(value_node.func) in _RELATIONS:
                    related = self.names.related_model(value_node)
                elif isinstance(value_node, ast.Call) and tail(value_node.func) in _MANY:
                    # orgs = ManyToManyField(Organization): course.orgs is a manager of
                    # Organization rows (course.orgs.first() one of them): item 130
                    model = self.names.related_model(value_node)
                    related = model[:-2] + ".objects" if model.endswith("()") else ""
                annotated = self.annotated_instance(stmt)
                for target in targets:
                    if isinstance(target, ast.Name):
                        note_m2m(self.names, qualname, target.id, value_node)
                        note_fk(self.names, qualname, target.id, value_node)
                        note_cascade(self.names, qualname, value_node)
                        facts.attrs[target.id] = related or annotated or self.render(value_node)
                        made = from_queryset(value_node)
                        if made is not None:  # objects = M.from_queryset(QS)(): item 231
                            manager, queryset = (self.render(n) for n in made)
                            if manager and queryset:
                                facts.attrs[target.id] = manager + "()"
                                facts.attrs[target.id + QUERYSET_OF] = queryset + "()"
                        value = self.lit(stmt.value)
                        if isinstance(value_node, ast.Call) and tail(value_node.func) in _TRACKERS:
                            # FieldTracker(fields=[...]): the fields changed() can report
                            value = next(
                                (
                                    self.lit(kw.value)
                                    for kw in value_node.keywords
                                    if kw.arg == "fields"
                                ),
                                None,
                            )
                        if not isinstance(value, dict):
                            facts.lits[target.id] = value
                        mapping = verb_map(value_node)
                        if mapping:  # extra_actions = {"detail": {"post": "reset"}}
                            self.facts.verb_maps[f"{qualname}.{target.id}"] = mapping
                        note_eager(self.names, target.id, stmt.value, stmt.lineno)
                self.visit(stmt.value)
            elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name):
                declared = _declared_class(strip_optional(stmt.annotation))
                rendered = self.render(declared) if declared is not None else ""
                # Model: type[IndicoModel]: the attribute is that class; wallet: LndWallet
                # (item 120): an instance of it
                rendered = rendered or self.annotated_instance(stmt)
                if rendered:
                    facts.attrs.setdefault(stmt.target.id, rendered)
                self.visit(stmt)
            else:
                self.visit(stmt)
        self.frame.cls = outer_cls
        self.qual.pop()

    def annotated_instance(self, stmt: ast.Assign | ast.AnnAssign) -> str:
        """``Bus()`` for a class-level ``bus: Bus``, ``bus: Bus = Depends(...)``, ``bus: Bus |
        None = None`` or ``bus: Bus = field(...)``: an instance of the class annotated, where
        the value (if any) says nothing of its type (PATTERNS.md item 120); else ""."""
        if not isinstance(stmt, ast.AnnAssign):
            return ""
        value = stmt.value
        if value is not None and not (
            (isinstance(value, ast.Constant) and value.value is None)
            or (isinstance(value, ast.Call) and tail(value.func) in _DECLARING_DEFAULTS)
        ):
            return ""
        annotation = strip_optional(stmt.annotation)
        if not isinstance(annotation, ast.Name | ast.Attribute) or self.type_variable(annotation):
            return ""
        rendered = self.render(annotation)
        if not rendered or rendered[0] == "~" or rendered in _NO_CLASS_TYPES:
            return ""
        return rendered + "()"

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.visit_function(node, self.body_class())

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> None:
        self.visit_function(node, self.body_class())

    def body_class(self) -> ClassFacts | None:
        """The class whose body a ``def`` met here is in: one under an ``if`` or ``try`` of
        the class body, not inside a function, is a method (PATTERNS.md item 245)."""
        frame = self.frame
        return frame.cls if frame.facts is None and self.qual else None

    def visit_function(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef, cls: ClassFacts | None
    ) -> None:
        qualname = ".".join([*self.qual, node.name])
        if cls is None:
            self.bind_nested(node.name, qualname)
        decorators = self.decorators(node.decorator_list)
        tails = {d.tail for d in decorators}
        # builtins render to nothing: ``@classmethod`` still makes the first parameter cls
        tails.update(d.id for d in node.decorator_list if isinstance(d, ast.Name))
        facts = FunctionFacts(
            qualname=qualname,
            line=node.lineno,
            end_line=node.end_lineno or node.lineno,
            is_async=isinstance(node, ast.AsyncFunctionDef),
            is_stub=is_stub(node.body),
            decorators=decorators,
            returns=[],
            deps=[],
            blocks=[],
        )
        facts.is_property = cls is not None and bool(tails & PROPERTY_DECORATORS)
        note_receivers(self.names, decorators, qualname, node.body)
        if cls is not None and node.name in CHOOSERS:
            facts.choices = action_choices(node.body, self.render)
        if cls is not None:
            facts.reads = self_attrs_read(node)
        previous = self.facts.functions.get(qualname)
        if previous is None or not tails & {"setter", "deleter"}:
            if previous is not None and previous.decorators:
                # def root() twice, each under its own @app.get: the name is the last one's,
                # but the first one's decorators ran (a route): kept under its line
                previous.qualname = f"{qualname}{REDEFINED}{previous.line}"
                self.facts.functions[previous.qualname] = previous
            self.facts.functions[qualname] = facts
        if cls is not None and node.name not in cls.methods:
            cls.methods.append(node.name)

        scope = Scope(locals={}, parent=self.frame.scope, owner=qualname, node=node)
        own = frozenset(p.name for p in getattr(node, "type_params", ()))  # def f[T](x: T)
        self.bind_params(node.args, scope, facts, cls, tails, own)
        if node.returns is not None and _self_annotation(strip_optional(node.returns)):
            # -> Self: an instance of the class it is called on (cls(), or self)
            first = scope.params[0] if scope.params and cls is not None else ""
            if first and "staticmethod" not in tails:
                facts.returns.append(first + "()" if "classmethod" in tails else first)
        elif node.returns is not None:
            declared = _declared_class(strip_optional(node.returns))
            if declared is not None:  # -> type[Plugin]: the class itself (PATTERNS.md 80)
                ret = self.render(declared)
                if ret and not ret.startswith("~"):
                    facts.returns.append(ret)
            else:
                ret = queue_annotation(self.names, node.returns)[:-2]
                ret = ret or self.render(strip_optional(node.returns))
                if ret and not ret.startswith("~"):
                    facts.returns.append(ret + "()")
                elements = self.annotated_elements(strip_optional(node.returns))
                if elements:  # -> tuple[Webhook, bool] (PATTERNS.md item 232)
                    facts.tuple_returns.append(elements)
        outer = self.frame
        self.frame = _Frame(facts=facts, scope=scope, cls=cls if cls is not None else outer.cls)
        if cls is not None:
            self.frame.main_returns = main_returns(node.body)
        self.names.scope = scope
        self.qual.append(node.name)
        facts.params = list(scope.params)
        self.visit_body(node.body)
        if cls is not None:
            kept = filtered_fields(node)
            if kept is not None:
                facts.field_types = [self.render(k) for k in kept]
            if node.name in CHOOSERS:  # rendered in the getter's scope, as its returns are
                facts.named_by = named_classes(node, self.render)
        self.qual.pop()
        self.finish(self.frame)
        self.frame = outer
        self.names.scope = outer.scope

    def type_variable(self, annotation: ast.expr, own: frozenset[str] = frozenset()) -> bool:
        """``T`` of ``T = TypeVar("T")``, or a function's own type parameter: it names no
        class, so it types nothing (``action: T`` is whatever callable is passed; PATTERNS.md
        item 158)."""
        node = strip_optional(annotation)
        if not isinstance(node, ast.Name):
            return False
        value = self.names.values.get(node.id)
        return node.id in own or (
            isinstance(value, ast.Call) and tail(value.func) in _TYPE_VARIABLES
        )

    def bind_params(
        self,
        args: ast.arguments,
        scope: Scope,
        facts: FunctionFacts,
        cls: ClassFacts | None,
        tails: set[str],
        type_params: frozenset[str] = frozenset(),
    ) -> None:
        positional = [*args.posonlyargs, *args.args]
        defaults: dict[str, ast.expr] = {}
        for arg, default in zip(
            positional[len(positional) - len(args.defaults) :], args.defaults, strict=True
        ):
            defaults[arg.arg] = default
        for arg, kw_default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
            if kw_default is not None:
                defaults[arg.arg] = kw_default
        every = [*positional, *args.kwonlyargs]
        facts.required = [a.arg for a in every if a.arg not in defaults]
        for name, default in defaults.items():
            if type(default) is ast.Constant and (
                default.value is None or type(default.value) in (bool, int, str)
            ):
                facts.defaults[name] = [default.value]
        scope.params = [a.arg for a in every]
        if args.vararg is not None:
            scope.params.append("*" + args.vararg.arg)
        if args.kwarg is not None:
            scope.params.append("**" + args.kwarg.arg)
        scope.param_names = frozenset(p.lstrip("*") for p in scope.params)
        for index, arg in enumerate(every):
            if index == 0 and cls is not None and "staticmethod" not in tails:
                scope.locals[arg.arg] = "cls" if "classmethod" in tails else "self"
                continue
            value = ""
            dep = defaults.get(arg.arg)
            annotated = annotated_dep(arg.annotation)
            if annotated is not None:
                dep = annotated
            if isinstance(dep, ast.Call) and tail(dep.func) in ("Depends", "Security") and dep.args:
                target = self.render(dep.args[0])
                if target:
                    facts.deps.append(target)
                    value = target + "()"
                    scope.injected.add(arg.arg)
            elif (
                dep is None
                and isinstance(arg.annotation, ast.Name | ast.Attribute)
                and self.uses_fastapi()
            ):
                # maybe an Annotated[T, Depends(f)] alias, defined anywhere (item 212)
                named = self.render(arg.annotation)
                if named and "." in named:
                    facts.deps.append(DEP_ALIAS + named)
            # kind: Type[Base] names no instance: the class the caller passes decides (99)
            if (
                not value
                and arg.annotation is not None
                and not _declared_class(arg.annotation)
                and not self.type_variable(arg.annotation, type_params)
            ):
                typed = queue_annotation(self.names, arg.annotation)[:-2]
                rendered = typed or self.render(strip_optional(arg.annotation))
                if rendered and not rendered.startswith("~") and rendered not in _ANY_MODEL:
                    value = rendered + "()"
                    scope.annotated.add(arg.arg)
            scope.locals[arg.arg] = value
        for extra in (args.vararg, args.kwarg):
            if extra is not None:
                scope.locals[extra.arg] = ""

    def note_handed(self, frame: _Frame, waited: set[str]) -> None:
        """The parameters this function waits for (``process.wait()``, ``worker.join()``),
        and where its unwaited handles are given to a call, which may wait for them (a
        helper: ``self._collect_output(p, result)``; PATTERNS.md item 148)."""
        facts = frame.facts
        if facts is None:
            return
        facts.param_waits = sorted(p for p in facts.params if p in waited)
        if not frame.passed:
            return
        for index, names in _handles_and_starts(frame):
            call = frame.calls[index]
            if call.flags & WAITED:
                continue
            handed = [
                [frame.calls[other].name, key]
                for other, given in frame.passed.items()
                if other != index
                for key, local in given
                if local in names
            ]
            if handed:
                facts.handed[f"{call.line}:{call.col}"] = handed

    def note_conditional_waits(self, frame: _Frame) -> None:
        """Handles waited for only inside an ``if`` on the function's arguments the handle
        is not made in (``if join: task.result()``): where their waits are, so a caller
        whose arguments rule those branches out leaves the work running (PATTERNS.md item
        150)."""
        facts = frame.facts
        if facts is None or not frame.blocks:
            return
        blocks = frame.blocks
        for index, names in _handles_and_starts(frame):
            call = frame.calls[index]
            if not call.flags & WAITED:
                continue
            waits = [j for name in names for j in frame.wait_sites.get(name, [-1])]
            made = set(block_chain(blocks, call.block))
            if not waits or any(
                j < 0
                or not any(
                    blocks[b].kind in (WHEN, UNLESS)
                    for b in block_chain(blocks, frame.calls[j].block)
                    if b not in made
                )
                for j in waits
            ):
                continue  # waited on every path
            facts.cond_waits[f"{call.line}:{call.col}"] = [
                f"{frame.calls[j].line}:{frame.calls[j].col}" for j in waits
            ]

    def finish(self, frame: _Frame) -> None:
        """Mark handles that are awaited or joined, and store the calls."""
        facts = frame.facts
        if facts is None:
            return
        waited = frame.waited
        sites = frame.wait_sites
        for name in [n for n in waited if n in frame.aliases]:  # for t in tasks: t.join()
            sites.setdefault(frame.aliases[name], []).extend(sites.get(name, [-1]))
        waited.update([frame.aliases[n] for n in waited if n in frame.aliases])
        for name in list(waited):  # tasks.append(t); wait(tasks)
            for item in frame.contents.get(name, ()):
                sites.setdefault(item, []).extend(sites.get(name, [-1]))
        waited.update([h for n in list(waited) for h in frame.contents.get(n, ())])
        returned = frame.returned
        returned.update([h for n in list(returned) for h in frame.contents.get(n, ())])
        if waited:
            for index, names in frame.handles.items():
                if any(n in waited for n in names):
                    frame.calls[index].flags |= WAITED
            for index, root in frame.receivers.items():
                if root in waited:
                    frame.calls[index].flags |= WAITED
        self.note_handed(frame, waited)
        self.note_conditional_waits(frame)
        held = {h for contents in frame.contents.values() for h in contents}
        for index, names in frame.handles.items():
            if (
                not frame.calls[index].flags & WAITED
                and not any(n in returned or n in held for n in names)
                and all(n.isidentifier() for n in names)
            ):
                frame.calls[index].flags |= KEPT_UNWAITED
            if any(n in returned for n in names):
                frame.calls[index].flags |= RETURNED
            elif frame.cls is not None and not frame.calls[index].flags & WAITED:
                kept = next((n[5:] for n in names if n.startswith("self.")), "")
                if not kept:  # future = pool.submit(...); self.futures.append(future)
                    kept = next(
                        (
                            c[5:]
                            for c, held in frame.contents.items()
                            if c.startswith("self.") and any(n in held for n in names)
                        ),
                        "",
                    )
                if kept and "." not in kept:  # self._task = asyncio.ensure_future(...)
                    call = frame.calls[index]
                    facts.self_tasks[f"{call.line}:{call.col}"] = kept
        if frame.cls is not None:
            facts.self_waits = sorted(
                n[5:] for n in waited if n.startswith("self.") and "." not in n[5:]
            )
        calls = _prune(frame.calls)
        facts.blocks = _used_blocks(frame.blocks, calls)
        if frame.rebound:
            for block in facts.blocks:
                if block.cond is not None and block.kind in (WHEN, UNLESS):
                    block.cond = forget(block.cond, frame.rebound)
        facts.raw_calls = list(calls)
        facts._calls = calls

    # ---- statements ----------------------------------------------------------------------

    def bind(self, target: ast.expr, value: str, node: ast.expr | None = None) -> None:
        scope = self.frame.scope
        if isinstance(target, ast.Name):
            if scope is not None:
                scope.locals[target.id] = value
                frame = self.frame
                frame.unions.pop(target.id, None)
                frame.assigned[target.id] = node if node is not None else _OPAQUE
                frame.history.append((target.id, frame.assigned[target.id]))
                frame.uncertain.discard(target.id)
                if target.id in scope.params:
                    frame.rebound.add(target.id)
        elif isinstance(target, ast.Tuple | ast.List):
            elts = target.elts
            # x, y = helper(...): element i of what the helper returns (item 232)
            positional = (
                value.endswith("()")
                and not value.endswith(_ROW_PAIRS)
                and not any(isinstance(e, ast.Starred) for e in elts)
            )
            for index, elt in enumerate(elts):
                # obj, created = Order.objects.get_or_create(...): obj is the row, as the
                # call's value is read elsewhere (PATTERNS.md item 224)
                row = index == 0 and len(elts) == 2 and value.endswith(_ROW_PAIRS)
                bound = value if row else f"{value}.{TUPLE_ELEMENT}{index}" if positional else ""
                self.bind(elt.value if isinstance(elt, ast.Starred) else elt, bound)
            return
        if isinstance(target, ast.Attribute) and scope is not None:
            self.carry_attr(target, scope, value, node)
        if (
            isinstance(target, ast.Attribute)
            and isinstance(target.value, ast.Name)
            and (target.value.id == "self" or self.class_param(target.value.id))
            and self.frame.cls is not None
            and value
        ):
            attrs = self.frame.cls.attrs
            if not attrs.get(target.attr):
                attrs[target.attr] = value

    def class_param(self, name: str) -> bool:
        """Whether ``name`` is the class a classmethod or ``__init_subclass__`` is given
        (``cls.async_execute = app.task(...)(fn)``: an attribute of the class, item 229)."""
        scope = self.frame.scope
        return scope is not None and name == "cls" and scope.locals.get(name) in ("cls", "self")

    def carry_attr(
        self, target: ast.Attribute, scope: Scope, value: str, node: ast.expr | None
    ) -> None:
        """``self.object = form.save()``: later ``self.object`` in this method is that value
        (self_attrs.py); any other assignment to it forgets what it was."""
        base = target.value
        if type(base) is not ast.Name or scope.locals.get(base.id) != "self":
            facts = self.frame.facts
            rendered = self.render(base) if facts is not None else ""
            if rendered and (rendered[0] != "~" or target.attr in ("delay", "apply_async")):
                # run.status = "PAUSED" (orm_assignments.py); func.delay = partial(...): a
                # decorator giving what it wraps a .delay (callgraph.may_give_delay)
                facts.obj_sets.append([target.lineno, rendered, target.attr])  # type: ignore[union-attr]
            return
        key = attr_key(target, base.id)
        kept = value if value and carried(node) else ""
        if kept:
            scope.attr_values[key] = kept
        else:
            scope.attr_values.pop(key, None)
        facts = self.frame.facts
        if facts is not None:
            end = node if node is not None else target
            line, col = end.end_lineno or end.lineno, end.end_col_offset or end.col_offset
            facts.attr_sets.append([line, col, target.attr, kept])

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

    def handles_of(self, value: ast.expr) -> list[int]:
        """Indexes of the calls whose results an assignment of ``value`` stores: the call,
        the element of a comprehension, or each call in a list or tuple written out."""
        if isinstance(value, ast.Await):
            value = value.value
        if isinstance(value, ast.ListComp | ast.SetComp | ast.GeneratorExp):
            value = value.elt
        items = value.elts if isinstance(value, ast.List | ast.Tuple) else [value]
        found = [
            self.frame.node_index.get(id(item)) for item in items if isinstance(item, ast.Call)
        ]
        return [index for index in found if index is not None]

    def visit_Assign(self, node: ast.Assign) -> None:
        calls = self.facts.route_calls
        before = len(calls)
        self.visit(node.value)
        if self.frame.facts is not None:
            for target in node.targets:
                self.note_assigned(target, node.value)
                if (  # request.method = "GET", the request a parameter
                    isinstance(target, ast.Attribute)
                    and target.attr == "method"
                    and isinstance(target.value, ast.Name)
                    and target.value.id in self.frame.facts.params
                    and isinstance(node.value, ast.Constant)
                    and isinstance(node.value.value, str)
                ):
                    self.frame.facts.request_method = node.value.value.lower()
        if len(calls) > before and isinstance(node.value, ast.Call):
            last = calls[-1]
            target = node.targets[0]
            if last.line == node.value.lineno and isinstance(target, ast.Name):
                last.assigned = target.id  # projects = router.register("projects", V)
        self.note_view_of_each(node)
        if len(node.targets) == 1:
            self.names.rows.assign(self.names, node.targets[0], node.value)
        model = note_model_lookup(self.names, node.targets, node.value)
        rendered = f"{MODEL_BY_NAME}.{model}" if model else self.render(node.value)
        if rendered == UNKNOWN_ATTR:
            rendered = ""  # task = getattr(tasks, kind): a local of unknown value, by its name
        handles = self.handles_of(node.value)
        table = self.function_table(node.value)
        picked = self.picked_from_table(node.value)
        for target in node.targets:
            if table and isinstance(target, ast.Name):
                self.frame.tables[target.id] = table
            if isinstance(target, ast.Name):
                if picked:  # PATTERNS.md item 144
                    self.frame.picked[target.id] = picked
                else:
                    self.frame.picked.pop(target.id, None)
            fill = fill_of(self.names, target, node.value)
            if fill is not None:  # registries.py
                self.facts.fills.setdefault(fill[0], []).append(fill[1])
            if not isinstance(target, ast.Name):
                self.visit(target)
            self.bind(target, rendered, node.value)
            root = handle_name(target)
            for handle in handles if root else []:
                self.frame.handles.setdefault(handle, []).append(root)
            name = target.id if isinstance(target, ast.Name) else tail(target)
            if name:
                note_eager(self.names, name, node.value, node.lineno)

    def picked_from_table(self, value: ast.expr) -> list[str]:
        """The functions of a local table ``value`` picks one of: ``actions[key]``,
        ``actions.get(key)``; [] for anything else."""
        if isinstance(value, ast.Subscript) and isinstance(value.value, ast.Name):
            return self.frame.tables.get(value.value.id, [])
        if (
            isinstance(value, ast.Call)
            and isinstance(value.func, ast.Attribute)
            and value.func.attr == "get"
            and isinstance(value.func.value, ast.Name)
            and value.args
        ):
            return self.frame.tables.get(value.func.value.id, [])
        return []

    def note_view_of_each(self, node: ast.Assign) -> None:
        """``view = resource.as_view(...)`` (or ``decorate(view)``) where ``resource`` is a
        loop variable over a parameter: ``view`` stands for that element too, so a helper's
        ``bp.add_url_rule(path, view_func=view)`` registers the class it was built from."""
        scope = self.frame.scope
        value = node.value
        if scope is None or not scope.each or not isinstance(value, ast.Call):
            return
        func = value.func
        source = ""
        if isinstance(func, ast.Attribute) and func.attr == "as_view":
            if isinstance(func.value, ast.Name):
                source = scope.each.get(func.value.id, "")
        elif value.args and isinstance(value.args[0], ast.Name):
            name = value.args[0].id  # view = decorator(view)
            if any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
                source = scope.each.get(name, "")
        if source:
            for target in node.targets:
                if isinstance(target, ast.Name):
                    scope.each[target.id] = source

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        if node.value is None:
            if isinstance(node.target, ast.Name) and not self.type_variable(node.annotation):
                typed = queue_annotation(self.names, node.annotation)
                rendered = self.render(strip_optional(node.annotation))
                self.bind(node.target, typed or (rendered + "()" if rendered else ""))
            return
        self.visit(node.value)
        self.names.rows.assign(self.names, node.target, node.value)
        # a queue library's class says what the value is, whatever call made it
        rendered = queue_annotation(self.names, node.annotation) or self.render(node.value)
        if not rendered or held_value(rendered):
            # context: Ctx = request.app.ctx: what the annotation says (item 193)
            annotation = strip_optional(node.annotation)
            ann = "" if self.type_variable(annotation) else self.render(annotation)
            rendered = ann + "()" if ann and ann[0] != "~" else rendered
        self.bind(node.target, rendered)
        root = handle_name(node.target)
        for handle in self.handles_of(node.value) if root else []:
            self.frame.handles.setdefault(handle, []).append(root)
        name = node.target.id if isinstance(node.target, ast.Name) else tail(node.target)
        if name:
            note_eager(self.names, name, node.value, node.lineno)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self.visit(node.value)
        target = node.target
        if self.frame.facts is not None and isinstance(target, ast.Name):
            self.note_fill(target.id)  # files += [...]
        if isinstance(target, ast.Name) and isinstance(node.op, ast.Add):
            self.names.rows.url_list_added(self.names, target.id, node.value, node.lineno)
        if isinstance(target, ast.Attribute) and self.frame.scope is not None:
            self.carry_attr(target, self.frame.scope, "", None)  # self.total += 1: forget it
        if isinstance(target, ast.Name):
            scope, frame = self.frame.scope, self.frame
            frame.assigned[target.id] = _OPAQUE
            frame.history.append((target.id, _OPAQUE))
            if scope is not None and target.id in scope.params:
                frame.rebound.add(target.id)
        else:
            self.visit(target)

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        self.bind(node.target, self.render(node.value))

    def visit_ListComp(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp) -> None:
        self.visit_comprehension_parts(node.generators, [node.elt])

    visit_SetComp = visit_GeneratorExp = visit_ListComp

    def visit_DictComp(self, node: ast.DictComp) -> None:
        self.visit_comprehension_parts(node.generators, [node.key, node.value])

    def visit_comprehension_parts(
        self, generators: list[ast.comprehension], results: list[ast.expr]
    ) -> None:
        """``[s.avatar() for s in Speaker.objects.filter()]``: inside the comprehension each
        ``s`` is an element of what it iterates (a row of the model), as a ``for`` loop's
        variable is; outside it, whatever the name was before."""
        scope = self.frame.scope
        saved: dict[str, str | None] = {}
        for generator in generators:
            self.visit(generator.iter)
            target = generator.target
            if scope is not None and isinstance(target, ast.Name):
                saved.setdefault(target.id, scope.locals.get(target.id))
                iterable = self.render(generator.iter)
                known = bool(iterable) and iterable[0] != "~"
                scope.locals[target.id] = iterable + "[]" if known else ""
                source = handle_name(generator.iter)
                if source:  # [f.result() for f in futures]: waiting for each is for all
                    self.frame.aliases[target.id] = source
            for test in generator.ifs:
                self.visit(test)
        for result in results:
            self.visit(result)
        if scope is not None:
            for name, value in saved.items():
                if value is None:
                    scope.locals.pop(name, None)
                else:
                    scope.locals[name] = value

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        start = len(self.frame.history)
        self.visit_loop(node)
        self.mark_uncertain(start)

    def visit_While(self, node: ast.While) -> None:
        start = len(self.frame.history)
        self.generic_visit(node)
        self.mark_uncertain(start)

    def mark_uncertain(self, start: int) -> None:
        """The locals bound since ``history[start]``, inside a statement that may not have
        run them, are unknown to the conditions after it (``try: author = rows[0]`` /
        ``except IndexError: author = None``, then ``if author and ...``: item 233)."""
        frame = self.frame
        frame.uncertain.update(name for name, _ in frame.history[start:])

    def visit_loop(self, node: ast.For | ast.AsyncFor) -> None:
        self.visit(node.iter)
        iterable = self.render(node.iter)
        table = verb_loop_table(node)
        if table is not None and self.frame.facts is not None:
            rendered = self.render(table)
            self.frame.facts.verb_tables.append(rendered)
            # crud_map.update(getattr(cls, "extra_actions", {}).get(action)) before the loop:
            # what the routed class adds to the table (verb_tables.py)
            for call in self.frame.calls:
                if rendered and call.name == rendered + ".update":
                    added = next((v for k, v in call.args if k == 0 and type(v) is str), "")
                    if added:
                        self.frame.facts.verb_tables.append(TABLE_UPDATE + added)
        known = bool(iterable) and iterable[0] != "~"
        # for p in Project.objects.filter(): each p is a row of the model (an element of
        # what the iterable resolves to; nothing when that is not known)
        listed: dict[str, list[str]] = {}
        if (  # for sink in EVENT_SINKS, a module-level literal list (item 228)
            known
            and self.frame.facts is not None
            and isinstance(node.iter, ast.Name)
            and self.frame.assigned.get(node.iter.id) is None
            and isinstance(self.names.values.get(node.iter.id), ast.List | ast.Tuple)
        ):
            listed = loop_unions(self.frame, self.render, node, self.names.values)
        self.bind(node.target, iterable + "[]" if known and not listed else "")
        if listed:
            self.frame.unions.update(listed)
        elif self.frame.facts is not None and not known:
            self.frame.unions.update(loop_unions(self.frame, self.render, node, self.names.values))
        source = handle_name(node.iter)
        if source and isinstance(node.target, ast.Name):
            self.frame.aliases[node.target.id] = source
            scope = self.frame.scope
            if scope is not None and source in scope.param_names:
                scope.each[node.target.id] = source  # for route in routes: bp.add_url_rule(route)
        elif source and isinstance(node.target, ast.Tuple | ast.List):
            scope = self.frame.scope
            if scope is not None and source in scope.param_names:
                # for path, resource in route_tuples: bp.add_url_rule(path, view_func=...)
                for index, element in enumerate(node.target.elts):
                    if isinstance(element, ast.Name):
                        scope.each[element.id] = f"{source}#{index}"
        queue = calls_elements(node) if self.frame.facts is not None else ""
        if queue and queue not in self.facts.called_queues:
            self.facts.called_queues.append(queue)  # partials.py
        if isinstance(node.target, ast.Name):
            if known and self.frame.facts is not None:
                self.frame.loop_sources[node.target.id] = iterable  # registries.py
            attr = _iterated_attr(node.iter)
            if attr and self.frame.scope is not None:
                self.frame.scope.attr_each[node.target.id] = attr  # for m in self.models
            if known and _bare_call(node.iter) and self.frame.scope is not None:
                self.frame.scope.call_each[node.target.id] = iterable  # for m in Reg.all()
            item = _item_attr(self.frame.scope, node.iter)
            if item and self.frame.scope is not None:
                self.frame.scope.item_each[node.target.id] = item  # for p in m.proxies
        before = len(self.facts.route_calls)
        bound = self.names.rows.enter(self.names, node)
        frame, outer = self.frame, self.frame.block
        field_var = ""
        if frame.facts is not None and isinstance(node.target, ast.Name):
            if meta_fields(node.iter):  # for f in self._meta.fields: isinstance(f, T) inside
                field_var = node.target.id
                frame.field_vars.add(field_var)
            elif self_member(node.iter):  # for name in self._file_fields: once per such field
                frame.block = self.push_block(
                    FIELDS, 0, "", node.lineno, ["via", self_member(node.iter)]
                )
        container = iterated_name(node.iter)
        if frame.facts is not None and frame.field_fills.get(container) is not None:
            # for field, path in old_files.items(): filled only inside a file-field loop
            frame.block = self.push_block(FIELDS, 0, "", node.lineno, frame.field_fills[container])
        self.visit_body(node.body)
        frame.block = outer
        frame.field_vars.discard(field_var)
        self.names.rows.leave(node, bound)
        if self.frame.scope is None and len(self.facts.route_calls) > before:
            self.unroll_routes(node, before)
        self.visit_body(node.orelse)

    def unroll_routes(self, node: ast.For | ast.AsyncFor, before: int) -> None:
        """A module-level loop over a literal table registers one route per element:
        ``for rule, view in util_rules: api.add_url_rule(rule, view_func=view)``."""
        names = self.names
        table: ast.expr | None = node.iter
        if isinstance(table, ast.Name):
            table = names.values.get(table.id)
        if not isinstance(table, ast.List | ast.Tuple) or len(table.elts) > MAX_UNROLLED:
            return
        targets = (
            node.target.elts if isinstance(node.target, ast.Tuple | ast.List) else [node.target]
        )
        if not all(isinstance(t, ast.Name) for t in targets):
            return
        markers = [names.lit(t) for t in targets]  # how each loop variable reads as written
        loop_names = [t.id for t in targets if isinstance(t, ast.Name)]
        calls = self.facts.route_calls
        written = calls[before:]
        if any(is_starred_row(c) for c in written):
            return  # router.register(*pair): expanded over the project (route_rows.py)
        rows = [e.elts if isinstance(e, ast.Tuple | ast.List) else [e] for e in table.elts]
        if any(len(items) != len(targets) for items in rows):
            # for pair in pairs: ... pair[0]: each registration stays as written, once
            return
        del calls[before:]
        for items in rows:
            values = [names.lit(item) for item in items]

            def sub(value: Lit, values: list[Lit] = values) -> Lit:
                item = value.get("item") if isinstance(value, dict) and "row" in value else None
                if isinstance(item, int):  # an item of the row (route_rows.RowLoops.arg)
                    return values[item] if item < len(values) else None
                for marker, given in zip(markers, values, strict=True):
                    if value == marker:
                        return given
                return fill(value, dict(zip(loop_names, values, strict=True)))

            for call in written:
                calls.append(
                    RouteCall(
                        call.kind,
                        call.line,
                        call.receiver,
                        [sub(a) for a in call.args],
                        {k: sub(v) for k, v in call.kwargs.items()},
                        call.prefix,
                    )
                )

    visit_AsyncFor = visit_For

    def visit_With(self, node: ast.With | ast.AsyncWith) -> None:
        for item in node.items:
            self.visit(item.context_expr)
            index = self.frame.node_index.get(id(item.context_expr))
            started = self.frame.calls[index] if index is not None else None
            if started is not None and started.name.rpartition(".")[2] in _WAITED_ON_EXIT:
                # with Popen(cmd) as proc: leaving the block waits for the process
                started.flags |= WAITED
            if item.optional_vars is not None:
                rendered = self.render(item.context_expr)
                self.bind(item.optional_vars, rendered)
                if isinstance(item.optional_vars, ast.Name):
                    head = rendered.rstrip("()").rsplit(".", 1)[-1]
                    if head in _WAITING_CONTEXTS:
                        self.frame.waited.add(item.optional_vars.id)
                        self.frame.wait_sites.setdefault(item.optional_vars.id, []).append(-1)
        self.visit_body(node.body)

    visit_AsyncWith = visit_With

    def visit_Import(self, node: ast.Import) -> None:
        if self.frame.scope is not None:
            self.names.bind_imports(node, self.frame.scope.locals)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if self.frame.scope is not None:
            self.names.bind_imports(node, self.frame.scope.locals)

    def note_assigned(self, target: ast.expr, value: ast.expr) -> None:
        """``old[k] = v`` fills ``old``; binding ``old`` to an empty literal is no fill,
        binding it to anything else is one outside every FIELDS block."""
        if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
            self.note_fill(target.value.id)
        elif isinstance(target, ast.Name) and not empty_container(value):
            self.frame.field_fills[target.id] = None

    def note_fill(self, name: str) -> None:
        """Record where a local container is filled (``old[k] = v``, ``old.append(v)``):
        under which FIELDS block, or anywhere else (its condition is then None)."""
        fills, cond = self.frame.field_fills, self.fields_cond()
        if name in fills and fills[name] != cond:
            fills[name] = None
        else:
            fills.setdefault(name, cond)

    def fields_cond(self) -> list[Any] | None:
        """The condition of the innermost FIELDS block the current statement is in."""
        frame, index = self.frame, self.frame.block
        while index >= 0:
            block = frame.blocks[index]
            if block.kind == FIELDS:
                return block.cond if isinstance(block.cond, list) else None
            index = block.parent
        return None

    def push_block(
        self, kind: str, try_id: int, text: str, line: int, cond: list[Any] | None = None
    ) -> int:
        frame = self.frame
        frame.blocks.append(Block(kind, try_id, text, frame.block, line, cond))
        return len(frame.blocks) - 1

    def visit_Try(self, node: ast.Try | ast.TryStar) -> None:
        frame = self.frame
        if frame.facts is None:
            self.generic_visit(node)
            return
        frame.tries += 1
        try_id = frame.tries
        outer = frame.block
        start = len(frame.history)
        frame.block = self.push_block(TRY, try_id, "", node.lineno)
        self.visit_body(node.body)
        frame.block = outer
        if node.handlers:
            frame.block = self.push_block(EXCEPT, try_id, "", node.handlers[0].lineno)
            for handler in node.handlers:
                self.visit_body(handler.body)
            frame.block = outer
        self.visit_body(node.orelse)
        self.mark_uncertain(start)
        self.visit_body(node.finalbody)  # runs whatever happened: its bindings hold

    visit_TryStar = visit_Try

    def visit_If(self, node: ast.If) -> None:
        self.visit(node.test)
        frame = self.frame
        text = self.setting_test(node.test) if frame.facts is not None else ""
        cond = self.argument_test(node.test)
        if cond is not None:
            frame.conds[id(node)] = cond
        outer = frame.block
        if text:
            frame.block = self.push_block(GUARD, 0, text, node.lineno)
        if cond is not None:
            frame.block = self.push_block(WHEN, 0, "", node.lineno, cond)
        kinds = type_test(node.test, frame.field_vars) if frame.field_vars else None
        if kinds is not None:  # if isinstance(f, models.FileField): only for such fields
            frame.block = self.push_block(FIELDS, 0, "", node.lineno, self.field_types(kinds))
        start = len(frame.history)
        self.visit_body(node.body)
        mid = len(frame.history)
        frame.block = outer
        if node.orelse:
            if text:
                frame.block = self.push_block(UNGUARD, 0, text, node.lineno)
            if cond is not None:
                frame.block = self.push_block(UNLESS, 0, "", node.lineno, cond)
            self.visit_body(node.orelse)
        frame.block = outer
        if frame.facts is not None and len(frame.history) > start:
            self.join_bound_dispatch(node, start, mid)
        self.mark_uncertain(start)
        if frame.main_returns and len(frame.history) > start:
            # a local bound in the arms: each arm that goes on past the if gives a value
            frame.history.extend(
                joined(frame.history, start, mid, leaves(node.body), leaves(node.orelse))
            )

    def join_bound_dispatch(self, node: ast.If, start: int, mid: int) -> None:
        """``if settings.Q: fn = task.delay`` / ``else: fn = run_now``: after the ``if``,
        ``fn`` is either, as if bound to ``task.delay if settings.Q else run_now``
        (``bound_arms``). Only for a local one arm binds to a dispatch method not called,
        or one the function only ever calls (``send = wrap_job(...)`` / ``send =
        send_now``, then ``send(x)``: PATTERNS.md item 213), and only when neither arm
        leaves: any other local keeps its last binding."""
        frame, scope = self.frame, self.frame.scope
        if scope is None or leaves(node.body) or leaves(node.orelse):
            return
        history = frame.history
        for name in dict.fromkeys(name for name, _ in history[start:]):
            body = _binding(history, name, start, mid) or _binding(history, name, 0, start)
            orelse = _binding(history, name, mid, len(history)) or _binding(history, name, 0, start)
            if body is None or orelse is None or body is orelse:
                continue
            if name not in scope.callables() and not any(
                isinstance(v, ast.Attribute) and v.attr in _BOUND_DISPATCH for v in (body, orelse)
            ):
                continue
            either = ast.IfExp(test=node.test, body=body, orelse=orelse)
            ast.copy_location(either, node)
            frame.assigned[name] = either
            scope.locals[name] = ""

    def visit_body(self, body: list[ast.stmt]) -> None:
        """Statements in order; after ``if <test>: return`` the rest runs only when the test
        is false, which is what a guard on a setting or on the arguments means."""
        frame = self.frame
        outer = frame.block
        for stmt in body:
            self.visit(stmt)
            if (
                type(stmt) is ast.If
                and frame.facts is not None
                and not stmt.orelse
                and leaves(stmt.body, loops=False, errors=False)
            ):
                text = self.setting_test(stmt.test)
                if text:
                    frame.block = self.push_block(UNGUARD, 0, text, stmt.lineno)
                cond = frame.conds.get(id(stmt))
                if cond is not None:
                    frame.block = self.push_block(UNLESS, 0, "", stmt.lineno, cond)
            if frame.field_vars and type(stmt) is ast.If:
                kinds = negated_type_test(stmt, frame.field_vars)
                if kinds is not None:  # if not isinstance(f, FileField): continue
                    frame.block = self.push_block(
                        FIELDS, 0, "", stmt.lineno, self.field_types(kinds)
                    )
        frame.block = outer

    def field_types(self, kinds: list[ast.expr]) -> list[Any]:
        """A FIELDS block's condition for the classes of an isinstance test (field_loops)."""
        return ["types", [self.render(kind) for kind in kinds]]

    def argument_test(self, test: ast.expr) -> list[Any] | None:
        """The test as a condition on the function's arguments (conditions.py), if it is one."""
        scope = self.frame.scope
        if self.frame.facts is None or scope is None or not scope.params:
            return None
        assigned = self.frame.assigned
        if self.frame.uncertain:
            assigned = {**assigned, **dict.fromkeys(self.frame.uncertain, _OPAQUE)}
        return condition(test, scope.param_names, assigned)

    def setting_test(self, test: ast.expr) -> str:
        """The test as written when it reads a setting or a feature flag, else ""."""
        for node in walk(test):
            kind = type(node)
            if kind is ast.Name:
                word = node.id  # type: ignore[attr-defined]
            elif kind is ast.Attribute:
                word = node.attr  # type: ignore[attr-defined]
                if _class_member(node):  # type: ignore[arg-type]
                    continue  # Event.Kind.DELETED: a class's member, not a setting (item 252)
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
        self.note_returned_handles(node.value)
        facts = self.frame.facts
        frame = self.frame
        chain = frame.main_returns.get(id(node))
        if chain is not None and facts is not None:
            flow = returned_self_calls(node.value, frame.history, self.render)
            if chain and chain == frame.flow_chain:  # a branch of the same terminal chain
                facts.flow = list(dict.fromkeys([*facts.flow, *flow]))
            else:
                facts.flow = flow  # the last wins
            frame.flow_chain = chain

    def note_returned_handles(self, value: ast.expr) -> None:
        """``return task``, ``return ws, loops``, ``return asyncio.create_task(...)``: the
        handles go to the caller (facts.RETURNED)."""
        frame = self.frame
        if frame.facts is None:
            return
        items = value.elts if isinstance(value, ast.Tuple | ast.List) else [value]
        for item in items:
            if isinstance(item, ast.Await):
                item = item.value
            if isinstance(item, ast.Call):
                index = frame.node_index.get(id(item))
                if index is not None:
                    frame.calls[index].flags |= RETURNED
                continue
            root = handle_name(item)
            if root:
                frame.returned.add(root)

    def note_return(self, value: ast.expr) -> None:
        facts = self.frame.facts
        if facts is None:
            return
        if isinstance(value, ast.Tuple) and len(value.elts) > 1:
            # return row, True: each element, for ``x, y = f()`` (PATTERNS.md item 232)
            if not any(isinstance(e, ast.Starred) for e in value.elts):
                elements = [self.kept_return(self.render(e)) for e in value.elts]
                if any(elements) and elements not in facts.tuple_returns:
                    facts.tuple_returns.append(elements)
            return
        rendered = self.kept_return(self.render(value))
        if rendered and rendered not in facts.returns:
            facts.returns.append(rendered)

    def kept_return(self, rendered: str) -> str:
        """A returned value as kept: "" for a local nothing resolves; one built from a
        parameter only while the parameter still holds what the caller passed."""
        if rendered[:1] == "~":
            # only what is built from a parameter: its caller may know what that was
            head = rendered[1:].split(".", 1)[0].split("(", 1)[0].split("[", 1)[0]
            scope = self.frame.scope
            if scope is None or head not in scope.param_names or head in self.frame.rebound:
                return ""
        return rendered

    def annotated_elements(self, annotation: ast.expr) -> list[str]:
        """The instances a ``tuple[A, B]`` (or ``typing.Tuple``) return annotation names,
        rendered ("" for an element that is no project class); [] for any other."""
        if not isinstance(annotation, ast.Subscript) or not isinstance(annotation.slice, ast.Tuple):
            return []
        base = annotation.value
        tail = base.id if isinstance(base, ast.Name) else getattr(base, "attr", "")
        elts = annotation.slice.elts
        if tail not in ("tuple", "Tuple") or len(elts) < 2:
            return []
        if any(isinstance(e, ast.Constant) and e.value is Ellipsis for e in elts):
            return []  # tuple[A, ...]: a sequence, not positions
        elements = []
        for elt in elts:
            rendered = self.render(strip_optional(elt))
            elements.append(rendered + "()" if rendered and rendered[0] != "~" else "")
        return elements if any(elements) else []

    def visit_Yield(self, node: ast.Yield) -> None:
        if node.value is not None:
            self.visit(node.value)
            self.note_return(node.value)

    def visit_Expr(self, node: ast.Expr) -> None:
        """A call as a statement of its own: its value is dropped (``self._check_access()``),
        so it runs for its effects and names no work it returns (entry_hooks.py)."""
        self.visit(node.value)
        value = node.value.value if isinstance(node.value, ast.Await) else node.value
        filled = fill_target(value)
        if filled is not None and self.frame.facts is not None:
            self.note_fill(filled.id)  # old.append(path)
        if isinstance(value, ast.Call) and self.frame.facts is None:
            self.note_top_statement(value)
            self.decorate_by_call(value)
        if isinstance(value, ast.Call) and self.frame.facts is not None:
            index = self.frame.node_index.get(id(value))
            if index is not None:
                self.frame.calls[index].flags |= DISCARDED

    def decorate_by_call(self, call: ast.Call) -> None:
        """``app.get("/g/{slug}")(serve)`` at the top of a module: a decorator applied by
        hand to a function of this module, kept as if written over its ``def``
        (PATTERNS.md item 137)."""
        inner = call.func
        if not (
            isinstance(inner, ast.Call)
            and isinstance(inner.func, ast.Attribute)
            and inner.func.attr in _ROUTE_DECORATORS
            and len(call.args) == 1
            and not call.keywords
            and isinstance(call.args[0], ast.Name)
        ):
            return
        function = self.facts.functions.get(call.args[0].id)
        if function is not None:
            function.decorators.extend(self.decorators([inner]))

    def visit_Await(self, node: ast.Await) -> None:
        awaited = handle_name(node.value)
        if awaited:
            self.frame.waited.add(awaited)  # await t, await self._task
            self.frame.wait_sites.setdefault(awaited, []).append(-1)
        self.frame.await_depth += 1
        self.visit(node.value)
        self.frame.await_depth -= 1

    def visit_Name(self, node: ast.Name) -> None:
        return

    def visit_Attribute(self, node: ast.Attribute) -> None:
        """``loader.model`` read (not called): a property's getter runs there, if it is one
        (``FunctionFacts.attr_reads``; the callee of a call is recorded as the call)."""
        frame = self.frame
        if (
            frame.facts is not None
            and type(node.ctx) is ast.Load
            and id(node) != self.callee
            and not node.attr.startswith("__")
        ):
            rendered = self.render(node)
            if rendered and rendered[0] != "~" and rendered not in frame.attrs_read:
                frame.attrs_read.add(rendered)
                frame.facts.attr_reads.append([node.lineno, rendered])
        self.visit(node.value)

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self.visit(node.body)

    def visit_Constant(self, node: ast.Constant) -> None:
        return

    # ---- calls ---------------------------------------------------------------------------

    def visit_Call(self, node: ast.Call) -> None:
        frame = self.frame
        func = node.func
        name = self.render(func)
        if name == UNKNOWN_ATTR and type(func) is ast.Call and len(func.args) > 1:
            # getattr(requests, method)(url): one of the owner's functions, which one
            # known at run time only (PATTERNS.md item 146)
            owner = self.render(func.args[0])
            if owner and owner[0] != "~" and owner.split(".", 1)[0] not in ("self", "cls"):
                name = f"{owner}.{COMPUTED_ATTR}"
        if (
            type(func) is ast.Name
            and frame.facts is not None
            and frame.scope is not None
            and func.id in frame.scope.annotated
            and func.id not in frame.rebound
        ):
            # send(actor, x) with ``send: Callable[..., None]``: what the caller passed is
            # called; the annotation's instance only when nothing is known (item 189)
            frame.facts.called_params[func.id] = name
            name = "~" + func.id
        method = tail(func)
        index = -1
        arms = self.bound_arms(func) if name[:1] == "~" and frame.facts is not None else []
        if not arms and name[:1] == "~" and frame.unions:
            arms = self.union_arms(func)
        if arms:
            index = self.record_arms(node, arms)
        elif name and frame.facts is not None:
            index = self.record_call(node, name, method)
            if name in PARTIAL_NAMES and node.args:
                self.split_partial(node, index)
        if frame.facts is not None and method in STORE_METHODS:
            self.record_stored(node)
        elif frame.facts is None:
            self.note_top_call(node, name)
        if frame.facts is not None and method == "getattr":
            verbs = verb_dispatch(node)
            if verbs is not None:
                frame.facts.verbs.append(list(verbs))
        if method in ("add_to_class", "setattr"):
            note_addition(self.names, node)  # class_additions.py
        if name:
            note_call(self.names, node, name, method, "".join(self.mounts))
            fill = fill_of_call(self.names, node)
            if fill is not None:  # registries.py
                self.facts.fills.setdefault(fill[0], []).append(fill[1])
        self.callee = id(func)
        self.visit(func)
        if method in _WAIT_METHODS and isinstance(func, ast.Attribute) and frame.facts is not None:
            inner = frame.node_index.get(id(func.value))
            if inner is not None:
                frame.calls[inner].flags |= WAITED  # Popen(cmd).wait(): waited where made
        mount = ""
        if method == "Mount" and name.startswith(("starlette.", "fastapi.")) and node.args:
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

    def note_top_statement(self, node: ast.Call) -> None:
        """``SearchModel(model=Tag)`` as a module-level statement: what it passes, for the
        registries built at import time (``registry_items.py``)."""
        name = self.render(node.func) if node.args or node.keywords else ""
        if name and name[0] != "~":
            args = [self.lit(a) for a in node.args]
            kwargs = {kw.arg: self.lit(kw.value) for kw in node.keywords if kw.arg}
            self.facts.top_calls.append([name, args, kwargs])

    def bound_arms(self, func: ast.expr) -> list[tuple[str, int]]:
        """``fn = task.delay if settings.USE_QUEUE else run_now`` then ``fn(x)``: what the
        local may be, each arm rendered with the block it is chosen under (a guard on the
        setting, a when/unless on the arguments); [] when ``func`` is no such local."""
        frame, scope = self.frame, self.frame.scope
        if type(func) is not ast.Name or scope is None or scope.locals.get(func.id) != "":
            return []
        value = frame.assigned.get(func.id)
        if type(value) is not ast.IfExp:
            return []
        out: list[tuple[str, int]] = []
        outer = frame.block
        self.collect_arms(value, out, 0)
        frame.block = outer
        return out

    def union_arms(self, func: ast.expr) -> list[tuple[str, int]]:
        """``obj.delete()`` for a loop variable over a literal list of different values
        (``loop_unions``): the callee rendered once per value, all under the current block."""
        root = func
        while isinstance(root, ast.Attribute):
            root = root.value
        scope = self.frame.scope
        if scope is None or not isinstance(root, ast.Name) or root.id not in self.frame.unions:
            return []
        values = self.frame.unions[root.id]
        bound = scope.locals.get(root.id)
        out: list[tuple[str, int]] = []
        for value in values:
            scope.locals[root.id] = value
            rendered = self.render(func)
            if rendered and rendered[0] != "~" and all(r != rendered for r, _ in out):
                out.append((rendered, self.frame.block))
        if bound is None:
            del scope.locals[root.id]
        else:
            scope.locals[root.id] = bound
        return out

    def collect_arms(self, node: ast.expr, out: list[tuple[str, int]], depth: int) -> None:
        frame = self.frame
        if type(node) is not ast.IfExp or depth > _MAX_ARM_DEPTH:
            rendered = self.render(node)
            if rendered and rendered[0] != "~" and all(r != rendered for r, _ in out):
                out.append((rendered, frame.block))
            return
        text = self.setting_test(node.test)
        cond = self.argument_test(node.test)
        outer = frame.block
        for arm, guard, when in ((node.body, GUARD, WHEN), (node.orelse, UNGUARD, UNLESS)):
            if text:
                frame.block = self.push_block(guard, 0, text, node.lineno)
            if cond is not None:
                frame.block = self.push_block(when, 0, "", node.lineno, cond)
            self.collect_arms(arm, out, depth + 1)
            frame.block = outer

    def record_arms(self, node: ast.Call, arms: list[tuple[str, int]]) -> int:
        """One call site per arm of the local called (``bound_arms``), all at the call as
        written, so each is judged as if called there; the index of the first."""
        frame = self.frame
        outer = frame.block
        indexes = []
        for rendered, block in arms:
            frame.block = block
            indexes.append(self.record_call(node, rendered, rendered.rpartition(".")[2]))
        frame.block = outer
        frame.node_index[id(node)] = indexes[0]
        return indexes[0]

    def split_partial(self, node: ast.Call, index: int) -> None:
        """``partial(fn, x)`` for ``fn = task.delay if settings.Q else run_now``: one
        partial per arm (``bound_arms``), each wrapping that arm under its block."""
        arms = self.bound_arms(node.args[0])
        if not arms:
            return
        calls = self.frame.calls
        first = calls[index]
        rest = [pair for pair in first.args if pair[0] != 0]
        for number, (rendered, block) in enumerate(arms):
            call = first if number == 0 else replace(first)
            call.args = [[0, rendered], *rest]
            call.block = block
            if number:
                calls.append(call)

    def record_stored(self, node: ast.Call) -> None:
        """``g.pending.append((fn, payload))``: each callable ``fn`` may be, as a call site
        flagged STORED at the store, with the queue's key (partials.py)."""
        frame, facts = self.frame, self.frame.facts
        found = stored_callable(node)
        if found is None or facts is None:
            return
        key, value = found
        arms = self.bound_arms(value)
        if not arms:
            rendered = self.render(value)
            if not rendered or rendered[0] == "~":
                return
            arms = [(rendered, frame.block)]
        line, col = node.lineno, node.col_offset
        end_col = node.end_col_offset if node.end_lineno == line else None
        func_end = node.func.end_col_offset if node.func.end_lineno == line else None
        for rendered, block in arms:
            site = CallSite(
                rendered, line, col, end_col or -1, func_end or -1, STORED, -1, block, []
            )
            frame.calls.append(site)
        facts.stored[f"{line}:{node.col_offset}"] = key

    def note_top_call(self, node: ast.Call, name: str) -> None:
        """A call at module level: what it calls and the names it passes run (or may run)
        whenever the module is imported (``live_connections.py``)."""
        found = [
            self.render(value)
            for value in (*node.args, *(kw.value for kw in node.keywords))
            if type(value) is ast.Name or type(value) is ast.Attribute
        ]
        if name and name.split(".", 1)[0] not in KNOWN_EXTERNAL:
            found.append(name)
        for ref in found:
            if ref and ref[0] != "~" and ref not in self.top_seen:
                self.top_seen.add(ref)
                self.facts.top_refs.append(ref)

    def record_call(self, node: ast.Call, name: str, method: str) -> int:
        frame = self.frame
        func = node.func
        line = node.lineno
        end_col = node.end_col_offset if node.end_lineno == line else None
        func_end = func.end_col_offset if func.end_lineno == line else None
        refs: list[str] = []
        if isinstance(func, ast.Subscript) and isinstance(func.value, ast.Name):
            # handlers[kind](request): a dispatch table of functions
            refs.extend(frame.tables.get(func.value.id, ()))
        elif isinstance(func, ast.Name):
            refs.extend(frame.picked.get(func.id, ()))  # method = handlers[kind]; method(x)
        args: list[list[Any]] = []
        seen = True  # every argument the call passes is in ``args``
        if name.split(".", 1)[0] in KNOWN_EXTERNAL and name not in PARTIAL_NAMES:
            # (a partial's arguments are bound like a call's: PATTERNS.md item 181)
            seen = False
            # a library call binds no project parameter: keep only the functions passed,
            # and the parameters handed on (``on_commit(handler)`` runs ``handler``)
            for position, arg in enumerate((*node.args, *(kw.value for kw in node.keywords))):
                if type(arg) is ast.Name or type(arg) is ast.Attribute:
                    ref = self.render(arg)
                    if ref:
                        args.append([position, ref])
            for kw in node.keywords:  # Blueprint(..., url_prefix="/api") made in a method
                literal = kw.value.value if isinstance(kw.value, ast.Constant) else None
                if kw.arg == "url_prefix" and isinstance(literal, str):
                    args.append([kw.arg, [literal]])
        elif node.args or node.keywords:
            for position, arg in enumerate(node.args):
                if type(arg) is ast.Starred:
                    seen = False
                    break  # positions after *args are unknown
                value = self.arg_value(arg)
                if value is None and position == 0 and name in PARTIAL_NAMES:
                    value = self.param_method(arg)  # partial(instance.refresh, ...): item 214
                if value is not None:
                    args.append([position, value])
                    continue
                seen = False
                kept = self.kept_dict(arg, method) if name.startswith("self.") else None
                if kept is not None:  # under its own key: no parameter is bound to it
                    args.append([KEPT_DICT, kept])
            for kw in node.keywords:
                value = self.arg_value(kw.value)
                if value is None or not kw.arg:
                    seen = False
                if value is None:
                    continue
                if kw.arg:
                    args.append([kw.arg, value])
                elif value[:1] == "~":
                    args.append(["**", value])  # f(**kwargs): the caller's keywords go on
        if node.args and frame.loop_sources and frame.facts is not None:
            source = frame.loop_sources.get(handle_name(node.args[0]).split(".", 1)[0])
            if source:  # queue.enqueue(func.handle_event, ...) for func in handlers...
                frame.facts.loop_args[f"{line}:{node.col_offset}"] = source
        call = CallSite(
            name=name,
            line=line,
            col=node.col_offset,
            end_col=end_col if end_col is not None else -1,
            func_end=func_end if func_end is not None else -1,
            flags=(AWAITED if frame.await_depth else 0)
            | instance_flag(node)
            | (ARGS_SEEN if seen else 0),
            parent=frame.arg_stack[-1] if frame.arg_stack else -1,
            block=frame.block,
            refs=refs,
            args=args,
        )
        index = len(frame.calls)
        frame.calls.append(call)
        frame.node_index[id(node)] = index
        appended_to = self.appends.pop(id(node), None)
        if appended_to is not None:  # tasks.append(create_task(...)): the list is the handle
            frame.handles.setdefault(index, []).append(appended_to)
        if isinstance(func, ast.Attribute):
            root = handle_name(func.value)
            if root:
                frame.receivers[index] = root
                if method in _WAIT_METHODS:
                    frame.waited.add(root)
                    frame.wait_sites.setdefault(root, []).append(index)
                elif method in ("append", "add", "extend", "put", "put_nowait") and node.args:
                    inner = node.args[0]
                    if isinstance(inner, ast.Await):
                        inner = inner.value
                    if isinstance(inner, ast.Call):
                        # visited after this call: bind it when it is recorded
                        self.appends[id(inner)] = root
                    put = [inner]
                    if isinstance(inner, ast.List | ast.Tuple) and method == "extend":
                        put = list(inner.elts)
                    for item in put:  # task = create_task(...); tasks.append(task)
                        held = handle_name(item)
                        if held:
                            frame.contents.setdefault(root, set()).add(held)
        given: list[list[Any]] = []
        for position, arg in enumerate(node.args):
            if isinstance(arg, ast.Starred):
                break  # positions after *args are unknown
            local = handle_name(arg)
            if local:
                given.append([position, local])
        given += [[kw.arg, handle_name(kw.value)] for kw in node.keywords if kw.arg]
        given = [pair for pair in given if pair[1]]
        if given:  # collect(p): a helper may wait for the handle (PATTERNS.md item 148)
            frame.passed[index] = given
        if method in _WAIT_FUNCS:
            for arg in node.args:
                if isinstance(arg, ast.Starred):
                    arg = arg.value
                elts = arg.elts if isinstance(arg, ast.List | ast.Tuple) else [arg]
                for elt in elts:
                    waited = handle_name(elt.value if isinstance(elt, ast.Starred) else elt)
                    if waited:
                        frame.waited.add(waited)
                        frame.wait_sites.setdefault(waited, []).append(index)
        return index

    def param_method(self, node: ast.expr) -> str | None:
        """``instance.refresh`` where ``instance`` is a parameter: rendered ``~instance.refresh``,
        what the parameter holds in the caller's context decides the function."""
        if type(node) is not ast.Attribute:
            return None
        rendered = self.render(node)
        return rendered if rendered[:1] == "~" and "." in rendered else None

    def arg_value(self, node: ast.expr) -> Any:
        """What an argument is, for binding it to the callee's parameter (CallSite.args)."""
        kind = type(node)
        if kind is ast.Name:
            scope = self.frame.scope
            name = node.id  # type: ignore[attr-defined]
            if scope is not None and name in scope.param_names and name not in self.frame.rebound:
                # passed on from a dependency FastAPI injects: what its provider returns
                return scope.locals[name] if name in scope.injected else "~" + name
        elif kind is ast.Constant:
            value = node.value  # type: ignore[attr-defined]
            if value is None or type(value) in (str, bool, int):
                return [value]
            return None
        elif kind is ast.List or kind is ast.Tuple:
            elts = node.elts  # type: ignore[attr-defined]
            if elts and all(type(e) is ast.Constant and type(e.value) is str for e in elts):
                return [[e.value for e in elts]]
            return None
        elif kind is ast.Call:
            # only an instance being made (``OrderForm(request.POST)``): the common case,
            # and the one a callee can use as a type
            callee = node.func  # type: ignore[attr-defined]
            head = (
                callee.attr
                if type(callee) is ast.Attribute
                else (callee.id if type(callee) is ast.Name else "")
            )
            # or an object loaded by a literal path: import_string("core.jobs.sync")
            if not head[:1].isupper() and self.render(callee) not in LOADS_BY_PATH:
                return None
        elif kind is not ast.Attribute:
            return None
        rendered = self.render(node)
        return rendered if rendered and rendered[0] != "~" else None

    def kept_dict(self, node: ast.expr, method: str) -> dict[str, Any] | None:
        """``self._proxies.append({"app_label": a, "model_name": name.lower()})``: the
        keys and what each parameter-made value is (registry_items.py reads them back)."""
        if method not in _KEEPERS or type(node) is not ast.Dict:
            return None
        out: dict[str, Any] = {}
        for key, value in zip(node.keys, node.values, strict=True):
            if type(key) is not ast.Constant or type(key.value) is not str:
                return None
            if type(value) is ast.Constant and type(value.value) is str:
                out[key.value] = [value.value]
                continue
            rendered = self.render(value)
            if rendered and rendered[0] == "~":
                out[key.value] = rendered
        return out or None

    def visit_Dict(self, node: ast.Dict) -> None:
        self.note_named(node)
        for key, value in zip(node.keys, node.values, strict=True):
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                note_eager(self.names, key.value, value, value.lineno)
            if key is not None:
                self.visit(key)
            self.visit(value)

    def note_named(self, node: ast.Dict) -> None:
        """A table of functions by name: two or more string keys mapped to names."""
        pairs: list[tuple[str, str]] = []
        for key, value in zip(node.keys, node.values, strict=True):
            if not (isinstance(key, ast.Constant) and type(key.value) is str):
                continue
            if isinstance(value, ast.Name | ast.Attribute):
                rendered = self.render(value)
                if rendered and rendered[0] != "~":
                    pairs.append((key.value, rendered))
        if len(pairs) >= 2:
            named = self.facts.named
            for name, rendered in pairs:
                if rendered not in named.setdefault(name, []):
                    named[name].append(rendered)


def _noise(name: str) -> bool:
    receiver, _, method = name.rpartition(".")
    if name[0] == "~" and method in _CONTAINER_METHODS:
        # ``~doc.tags.add(t)`` may be a many-to-many manager's (m2m_relations.py): kept
        return not (method in _M2M_METHODS and receiver.count(".") == 1)
    return method in _LOG_METHODS and (
        "log" in receiver.rsplit(".", 1)[-1].lower() or receiver == "logging"
    )


def _binding(
    history: list[tuple[str, ast.expr]], name: str, low: int, high: int
) -> ast.expr | None:
    """The last value ``name`` was bound to in ``history[low:high]``, or None."""
    for index in range(high - 1, low - 1, -1):
        if history[index][0] == name:
            return history[index][1]
    return None


def _handles_and_starts(frame: _Frame) -> list[tuple[int, list[str]]]:
    """(call index, local names) of the handles a function makes (``p = Popen(...)``) and
    of the ``.start()`` calls on locals (``t.start()``): what a wait may be for."""
    started = [
        (index, [root])
        for index, root in frame.receivers.items()
        if frame.calls[index].name.endswith(".start")
    ]
    return [*frame.handles.items(), *started]


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


def _used_blocks(blocks: list[Block], calls: list[CallSite]) -> list[Block]:
    """The blocks some call sits in (and their parents), renumbered: a guard around no
    call, like ``if item_id < 0: return {...}``, tells the analysis nothing."""
    if not blocks:
        return blocks
    used = [False] * len(blocks)
    for call in calls:
        index = call.block
        while index >= 0 and not used[index]:
            used[index] = True
            index = blocks[index].parent
    if all(used):
        return blocks
    new_index: list[int] = []
    kept: list[Block] = []
    for block, keep in zip(blocks, used, strict=True):
        new_index.append(len(kept) if keep else -1)
        if keep:
            kept.append(block)
    for block in kept:
        block.parent = new_index[block.parent] if block.parent >= 0 else -1
    for call in calls:
        if call.block >= 0:
            call.block = new_index[call.block]
    return kept


def _bare_call(node: ast.expr) -> bool:
    """``Registry.all()``: a method called on a name, with no arguments."""
    return (
        isinstance(node, ast.Call)
        and not node.args
        and not node.keywords
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
    )


def _item_attr(scope: Scope | None, node: ast.expr) -> str:
    """``m.proxies`` for a loop variable ``m`` over ``Registry.all()``: "<call>:proxies"."""
    if scope is None or not isinstance(node, ast.Attribute):
        return ""
    if not isinstance(node.value, ast.Name) or node.value.id not in scope.call_each:
        return ""
    return f"{scope.call_each[node.value.id]}:{node.attr}"


def extract(source: str | bytes, relpath: str) -> ModuleFacts:
    """Facts for one file. Raises SyntaxError (or ValueError) when it does not parse."""
    tree = parse_source(source, relpath)
    lines = (source.count(b"\n") if isinstance(source, bytes) else source.count("\n")) + 1
    return _Extractor(relpath, lines).run(tree)


def _iterated_attr(node: ast.expr) -> str:
    """``self.models`` for ``self.models``, ``self.models.values()`` or ``list(cls.models)``:
    a loop over what an instance or its class keeps ("" for anything else)."""
    if isinstance(node, ast.Call) and not node.keywords:
        if isinstance(node.func, ast.Attribute) and node.func.attr in ("values", "keys"):
            node = node.func.value
        elif isinstance(node.func, ast.Name) and node.func.id in ("list", "tuple", "set"):
            node = node.args[0] if len(node.args) == 1 else node
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id in ("self", "cls")
    ):
        return node.attr
    return ""


def instance_flag(node: ast.Call) -> int:
    """WITH_INSTANCE when the call is given a first positional argument or ``instance=``,
    WITHOUT_INSTANCE when it is given neither and nothing is splatted; SPLATTED when
    ``*args``/``**kwargs`` hide part of what it passes."""
    first = node.args[0] if node.args else None
    splatted = any(type(a) is ast.Starred for a in node.args) or any(
        kw.arg is None for kw in node.keywords
    )
    if (first is not None and type(first) is not ast.Starred) or any(
        kw.arg == "instance" for kw in node.keywords
    ):
        return WITH_INSTANCE | (SPLATTED if splatted else 0)
    return SPLATTED if splatted else WITHOUT_INSTANCE


def from_queryset(node: ast.expr) -> tuple[ast.expr, ast.expr] | None:
    """``Manager.from_queryset(QuerySet)()``: (the manager class, the QuerySet class)."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Call)):
        return None
    made = node.func
    if (
        isinstance(made.func, ast.Attribute)
        and made.func.attr == "from_queryset"
        and len(made.args) == 1
    ):
        return made.func.value, made.args[0]
    return None
