"""What one source file says, reduced to records that survive a JSON round trip.

Extraction (``extract.py``) turns a parsed module into a ``ModuleFacts``; everything after
that (resolution, routes, classification) works on facts only. Facts depend on nothing but
the file's text and its path, so they are what the content-hash cache stores.

Names are *rendered*: a dotted string in which imports are already replaced by their
targets and local variables by what was assigned to them, e.g. ``pandas.read_csv`` or
``app.tasks.process.s().delay``. A segment may end in ``()`` (result of a call) or ``[]``
(subscript). ``self`` and ``cls`` stay literal; ``~name`` is a local of unknown origin.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Bump when extraction changes what it records: cached facts of older versions are ignored.
ANALYSER_VERSION = "153"
# x, y = helper(): ``x`` is "helper().#0", element 0 of what the helper returns (item 232)
TUPLE_ELEMENT = "#"
# marks a FunctionFacts.deps entry that is a parameter's annotation, a dependency only when
# it names an ``Annotated[T, Depends(f)]`` alias (ModuleFacts.dep_aliases)
DEP_ALIAS = "~"
# ClassFacts.attrs key suffix: the QuerySet class a manager made by
# ``Manager.from_queryset(QS)()`` also answers for (``objects:queryset``)
QUERYSET_OF = ":queryset"

# A literal value as written in the source: str, int, float, bool, None, or a list of those.
# Anything else becomes {"ref": rendered-name} (or {"dep": name} for FastAPI Depends).
Lit = Any

# CallSite.flags
AWAITED = 1  # inside an ``await`` expression
WAITED = 2  # its handle (task, thread, future, executor) is awaited, joined or read later
# Whether the call is given a first positional argument or ``instance=``: a DRF serializer
# made so saves through ``update()``, one made without through ``create()`` (neither flag
# when ``*args``/``**kwargs`` hide it)
WITH_INSTANCE = 4
WITHOUT_INSTANCE = 8
SPLATTED = 16  # given ``*args`` or ``**kwargs``: what it passes is not all seen
ARGS_SEEN = 32  # every argument it passes is in CallSite.args: the others take defaults
# the key of a dict literal a call adds to a container of self, {key: "~param" or [literal]}
# (``self._proxies.append({"model_name": name})``, registry_items.py); binds no parameter
KEPT_DICT = "{}"
# ``Order = apps.get_model("shop", "Order")`` in a function: the local renders as
# ``@model.Order``, the project's model class of that name (Project.model_named)
MODEL_BY_NAME = "@model"
# a decorated function whose name a later ``def`` rebinds keeps its facts under
# ``<qualname>@<line>`` (its decorators ran: a route, a receiver); shown without the suffix
REDEFINED = "@"
DISCARDED = 64  # a statement of its own (``self._check_access()``): its value is dropped
# a callable stored in a queue of callables (``g.pending.append((fn, x))``), not called
# there: it runs when a loop calls that queue's elements (partials.py)
STORED = 128
# a task/thread handle the function returns (``return asyncio.create_task(...)``, or the list
# holding it): whoever called the function owns it (callgraph: background only where the
# caller drops the value)
RETURNED = 256
# its value kept in a plain local that is neither waited for, returned, nor put in a
# container (``job = schedule(...)`` then ``job.id``): a handle it returns is left running
KEPT_UNWAITED = 512

# Block.kind
TRY = "try"  # body of a try statement
EXCEPT = "except"  # an except handler of that try
GUARD = "guard"  # body of an ``if`` whose test reads a setting
UNGUARD = "unguard"  # the else branch of such an ``if``, or what follows ``if X: return``
WHEN = "when"  # body of an ``if`` whose test reads the function's arguments (Block.cond)
UNLESS = "unless"  # its else branch, or the statements after ``if <cond>: return``
# statements that run once per field of the instance's model of some types (Block.cond:
# ["types", [rendered classes]] or ["via", name of a method of self], field_loops.py)
FIELDS = "fields"


@dataclass(slots=True)
class CallSite:
    """One call inside a function body."""

    name: str
    line: int
    col: int
    end_col: int  # end of the whole call on ``line``, -1 when it spans lines
    func_end: int  # end of the callee expression on ``line``, -1 when it spans lines
    flags: int
    parent: int  # index of the call whose arguments contain this one, -1 if none
    block: int  # innermost try/guard block, index into FunctionFacts.blocks, -1 if none
    refs: list[str]  # functions of a dispatch table the call indexes (``handlers[kind](x)``)
    # What the call passes, for binding to the callee's parameters: [position or keyword,
    # value], value a rendered name, [literal] (one-element list), or "~name" for a
    # parameter of the calling function passed on as it came; key "**" for ``**name``.
    args: list[list[Any]] = field(default_factory=list)

    def passed(self) -> list[str]:
        """Rendered names the call passes or indexes: callbacks, thread targets, tables."""
        out = [value for _, value in self.args if type(value) is str and value[0] != "~"]
        return out + self.refs if self.refs else out

    def to_json(self) -> list[Any]:
        out = [
            self.name,
            self.line,
            self.col,
            self.end_col,
            self.func_end,
            self.flags,
            self.parent,
            self.block,
            self.refs,
        ]
        if self.args:
            out.append(self.args)
        return out

    @classmethod
    def from_json(cls, raw: list[Any]) -> CallSite:
        return cls(*raw)


@dataclass(slots=True)
class Block:
    """A try body, an except handler, or a branch of an ``if`` on a setting."""

    kind: str
    try_id: int
    text: str  # for guards: the test as written
    parent: int
    line: int
    cond: Any = None  # for when/unless: the test as a condition (conditions.py)

    def to_json(self) -> list[Any]:
        if self.cond is not None:
            return [self.kind, self.try_id, self.text, self.parent, self.line, self.cond]
        return [self.kind, self.try_id, self.text, self.parent, self.line]

    @classmethod
    def from_json(cls, raw: list[Any]) -> Block:
        return cls(*raw)


def block_chain(blocks: list[Block], index: int) -> list[int]:
    """The block at ``index`` and every block around it, innermost first."""
    out = []
    while index >= 0:
        out.append(index)
        index = blocks[index].parent
    return out


@dataclass(slots=True)
class Decorator:
    """A decorator with its literal arguments, e.g. ``router.post("/x", status_code=201)``."""

    name: str  # rendered; ends in "()" when the decorator is called
    line: int
    args: list[Lit]
    kwargs: dict[str, Lit]

    @property
    def base(self) -> str:
        """The decorator without its trailing call, e.g. ``app.api.router.post``."""
        return self.name[:-2] if self.name.endswith("()") else self.name

    @property
    def tail(self) -> str:
        return self.base.rsplit(".", 1)[-1]

    def to_json(self) -> list[Any]:
        return [self.name, self.line, self.args, self.kwargs]

    @classmethod
    def from_json(cls, raw: list[Any]) -> Decorator:
        return cls(*raw)


@dataclass(slots=True)
class FunctionFacts:
    """A function or method: where it is, how it is decorated, what it calls."""

    qualname: str  # "f", "Cls.method", "outer.inner"
    line: int
    end_line: int
    is_async: bool
    is_stub: bool  # body is only pass / ... / raise NotImplementedError
    decorators: list[Decorator]
    returns: list[str]  # rendered return values, used to resolve factories
    deps: list[str]  # FastAPI Depends(...) targets among the parameters
    blocks: list[Block]
    raw_calls: list[Any] = field(default_factory=list)
    params: list[str] = field(default_factory=list)  # in order; "*a" and "**kw" catch-alls
    # "line:col" of a call -> the container its first argument is an element of
    # (``for func in handlers.values(): queue.enqueue(func.handle, data)``)
    loop_args: dict[str, str] = field(default_factory=dict)
    # get_serializer_class()/get_form_class(): {action or "*": rendered class it returns}
    choices: dict[str, str] = field(default_factory=dict)
    # attributes of ``self`` a method reads (``self._pending``), for job buffers (buffers.py)
    reads: list[str] = field(default_factory=list)
    # parameters whose default is a literal (``asynchronous=False``): {name: [value]}
    defaults: dict[str, list[Any]] = field(default_factory=dict)
    # getattr(self, f"_process_{request.method}", self._process): verb_dispatch.VerbDispatch
    # fields in order (line, prefix, suffix, case, default), read by entry_hooks.py
    verbs: list[list[Any]] = field(default_factory=list)
    # methods of self the value of its final ``return`` comes from (return_flow.py)
    flow: list[str] = field(default_factory=list)
    # tables a ``for verb, method in T.items(): setattr(self, verb, getattr(self, method))``
    # loop reads, rendered (verb_tables.py)
    verb_tables: list[str] = field(default_factory=list)
    # "line:col" of a STORED call site -> the key of the queue it is stored in (partials.py)
    stored: dict[str, str] = field(default_factory=dict)
    # [line, col, attr, rendered] where a method gives ``self.<attr>`` a call's value ("" when
    # it forgets one), at the end of the assignment (self_attrs.py)
    attr_sets: list[list[Any]] = field(default_factory=list)
    # a method returning ``[f.name for f in self._meta.fields if isinstance(f, T)]``: the
    # classes T, rendered (field_loops.py)
    field_types: list[str] = field(default_factory=list)
    # get_serializer_class()/get_form_class() looking a class up by another's name
    # (``registry[base.__name__]``): what that name is read from, rendered (action_choices.py)
    named_by: list[str] = field(default_factory=list)
    # decorated with property or a cached_property: reading the attribute calls it
    is_property: bool = False
    # ``request.method = "GET"`` (a parameter's method set to a literal): the method a view
    # it then calls with that request answers (implicit.view_handlers)
    request_method: str = ""
    # [line, base rendered, attr] where the function assigns an attribute of a value that is
    # not ``self`` (``run.status = "PAUSED"``): SQLAlchemy attribute and update events
    # (orm_assignments.py)
    obj_sets: list[list[Any]] = field(default_factory=list)
    # [line, rendered] of each attribute read (not called) once, first line: a project
    # property read there runs its getter (callgraph.property_reads)
    attr_reads: list[list[Any]] = field(default_factory=list)
    # "line:col" of a task/thread started and kept on ``self.<attr>`` unwaited here -> attr;
    # and the ``self.<attr>`` handles this function waits for (callgraph: a task a sibling
    # method the same request runs waits for is not in the background)
    self_tasks: dict[str, str] = field(default_factory=dict)
    self_waits: list[str] = field(default_factory=list)
    # "line:col" of an unwaited handle (a Popen, a thread) -> [[call name, position or
    # keyword]] where it is given to a call; the parameters this function waits for
    # (callgraph: a handle a helper waits for is waited; PATTERNS.md item 148)
    handed: dict[str, list[list[Any]]] = field(default_factory=dict)
    param_waits: list[str] = field(default_factory=list)
    # "line:col" of a handle waited for only in branches on the function's arguments ->
    # "line:col" of each call waiting for it (callgraph: PATTERNS.md item 150)
    cond_waits: dict[str, list[str]] = field(default_factory=dict)
    # a parameter typed by annotation and called directly -> the annotation's instance,
    # rendered: what the call resolves to when no caller says what was passed (item 189)
    called_params: dict[str, str] = field(default_factory=dict)
    # the elements of each ``return a, b`` (and of a ``-> tuple[A, B]`` annotation, first),
    # rendered as single returns are ("" where one is not kept): what ``x, y = f()`` binds
    # (Project.follow, PATTERNS.md item 232)
    tuple_returns: list[list[str]] = field(default_factory=list)
    # the parameters a call must give, in order (no default, not ``*a``/``**kw``): a method
    # guessed by its name that a call cannot bind is not the one it calls (item 241)
    required: list[str] = field(default_factory=list)
    _calls: list[CallSite] | None = None

    @property
    def calls(self) -> list[CallSite]:
        """Decoded lazily: most functions are never reached from an endpoint."""
        if self._calls is None:
            self._calls = [
                c if isinstance(c, CallSite) else CallSite.from_json(c) for c in self.raw_calls
            ]
        return self._calls

    @property
    def name(self) -> str:
        return self.qualname.rsplit(".", 1)[-1]

    def to_json(self) -> list[Any]:
        calls = [c.to_json() if isinstance(c, CallSite) else c for c in self.raw_calls]
        return [
            self.qualname,
            self.line,
            self.end_line,
            self.is_async,
            self.is_stub,
            [d.to_json() for d in self.decorators],
            self.returns,
            self.deps,
            [b.to_json() for b in self.blocks],
            calls,
            self.params,
            self.loop_args,
            # optional tail, positional: choices, reads, defaults, verbs, flow, verb_tables,
            # stored, attr_sets, field_types, named_by, is_property, request_method,
            # obj_sets, attr_reads, self_tasks, self_waits, handed, param_waits, cond_waits,
            # called_params, tuple_returns, required (trailing empties dropped)
            *self._tail(),
        ]

    def _tail(self) -> list[Any]:
        tail: list[Any] = [
            self.choices,
            self.reads,
            self.defaults,
            self.verbs,
            self.flow,
            self.verb_tables,
            self.stored,
            self.attr_sets,
            self.field_types,
            self.named_by,
            self.is_property,
            self.request_method,
            self.obj_sets,
            self.attr_reads,
            self.self_tasks,
            self.self_waits,
            self.handed,
            self.param_waits,
            self.cond_waits,
            self.called_params,
            self.tuple_returns,
            self.required,
        ]
        while tail and not tail[-1]:
            tail.pop()
        return tail

    @classmethod
    def from_json(cls, raw: list[Any]) -> FunctionFacts:
        q, line, end, is_async, stub, decs, returns, deps, blocks, calls, params, loops = raw[:12]
        return cls(
            q,
            line,
            end,
            is_async,
            stub,
            [Decorator.from_json(d) for d in decs],
            returns,
            deps,
            [Block.from_json(b) for b in blocks],
            calls,
            params,
            loops,
            raw[12] if len(raw) > 12 else {},
            raw[13] if len(raw) > 13 else [],
            raw[14] if len(raw) > 14 else {},
            raw[15] if len(raw) > 15 else [],
            raw[16] if len(raw) > 16 else [],
            raw[17] if len(raw) > 17 else [],
            raw[18] if len(raw) > 18 else {},
            raw[19] if len(raw) > 19 else [],
            raw[20] if len(raw) > 20 else [],
            raw[21] if len(raw) > 21 else [],
            bool(raw[22]) if len(raw) > 22 else False,
            raw[23] if len(raw) > 23 else "",
            raw[24] if len(raw) > 24 else [],
            raw[25] if len(raw) > 25 else [],
            raw[26] if len(raw) > 26 else {},
            raw[27] if len(raw) > 27 else [],
            raw[28] if len(raw) > 28 else {},
            raw[29] if len(raw) > 29 else [],
            raw[30] if len(raw) > 30 else {},
            raw[31] if len(raw) > 31 else {},
            raw[32] if len(raw) > 32 else [],
            raw[33] if len(raw) > 33 else [],
        )


@dataclass(slots=True)
class ClassFacts:
    """A class: its bases, methods and the attributes it assigns."""

    qualname: str
    line: int
    bases: list[str]
    decorators: list[Decorator]
    methods: list[str]
    attrs: dict[str, str]  # class-level and ``self.x = ...`` assignments, rendered
    lits: dict[str, Lit]  # class-level literal assignments (route_base, lookup_field, ...)
    meta: dict[str, str]  # the inner ``class Meta`` (model = Order), rendered
    # bases written that render to nothing (builtins: ``dict``, ``Exception``), ``object``
    # aside: they supply methods the audit cannot list
    unseen_bases: int = 0

    def to_json(self) -> list[Any]:
        return [
            self.qualname,
            self.line,
            self.bases,
            [d.to_json() for d in self.decorators],
            self.methods,
            self.attrs,
            self.lits,
            self.meta,
            self.unseen_bases,
        ]

    @classmethod
    def from_json(cls, raw: list[Any]) -> ClassFacts:
        q, line, bases, decs, methods, attrs, lits, meta, unseen = raw
        return cls(
            q,
            line,
            bases,
            [Decorator.from_json(d) for d in decs],
            methods,
            attrs,
            lits,
            meta,
            unseen,
        )


@dataclass(slots=True)
class RouteCall:
    """A call that registers routes or mounts a router: add_url_rule, include_router, ..."""

    kind: str  # the method name: add_url_rule, include_router, register, Route, ...
    line: int
    receiver: str  # rendered object the method is called on ("" for Route(...))
    args: list[Lit]
    kwargs: dict[str, Lit]
    prefix: str = ""  # for Starlette Route inside Mount(...): the mount path
    # A registration inside a function that forwards the function's own parameters
    # (``def register_view(bp, routes, view_func): bp.add_url_rule(...)``) is a template:
    # ``owner`` is that function's qualname and ``params`` its parameters in order ("*a",
    # "**kw" for the catch-alls). Arguments taken from a parameter are {"param": name}, a
    # loop variable over one is {"each": name}; ``receiver_param`` names the parameter the
    # method is called on. Kind ``call`` is a call of a project function that may be such
    # a helper (``receiver`` is then the function called); kind ``as_view`` is a class-based
    # view built with keyword arguments, which its instances receive (``receiver`` is the
    # class).
    owner: str = ""
    params: list[str] = field(default_factory=list)
    receiver_param: str = ""
    assigned: str = ""  # the variable its result is assigned to (a nested router)

    def to_json(self) -> list[Any]:
        if not self.owner and not self.receiver_param and not self.assigned:
            return [self.kind, self.line, self.receiver, self.args, self.kwargs, self.prefix]
        return [
            self.kind,
            self.line,
            self.receiver,
            self.args,
            self.kwargs,
            self.prefix,
            self.owner,
            self.params,
            self.receiver_param,
            self.assigned,
        ]

    @classmethod
    def from_json(cls, raw: list[Any]) -> RouteCall:
        return cls(*raw)


@dataclass(slots=True)
class UrlEntry:
    """One Django ``path()`` / ``re_path()`` / ``url()`` entry."""

    line: int
    route: str
    regex: bool
    view: str  # rendered view, "" when this entry includes other patterns
    actions: dict[str, str] | None  # ViewSet.as_view({"get": "list"})
    include: str  # "module:<dotted>", "ref:<rendered>", "nested" or ""
    nested: list[UrlEntry]
    # for "ref:<f>()": the literal arguments of that call of a function building patterns
    # (``include(get_model_urls("core", "job", detail=False))``): [args, kwargs]
    call: list[Any] | None = None

    def to_json(self) -> list[Any]:
        out = [
            self.line,
            self.route,
            self.regex,
            self.view,
            self.actions,
            self.include,
            [n.to_json() for n in self.nested],
        ]
        return out if self.call is None else [*out, self.call]

    @classmethod
    def from_json(cls, raw: list[Any]) -> UrlEntry:
        line, route, regex, view, actions, include, nested, *call = raw
        return cls(
            line,
            route,
            regex,
            view,
            actions,
            include,
            [UrlEntry.from_json(n) for n in nested],
            call[0] if call else None,
        )


@dataclass(slots=True)
class SignalHook:
    """A receiver connected to a signal (``@receiver(post_save, sender=Order)``)."""

    signal: str
    sender: str
    handler: str
    line: int
    # the function making the connection ("" at module level): the connection is made only
    # when that function runs (``live_connections.py``)
    scope: str = ""

    def to_json(self) -> list[Any]:
        out: list[Any] = [self.signal, self.sender, self.handler, self.line]
        return [*out, self.scope] if self.scope else out

    @classmethod
    def from_json(cls, raw: list[Any]) -> SignalHook:
        return cls(*raw)


@dataclass(slots=True)
class EagerSetting:
    """A setting that makes Celery run tasks inline (task_always_eager and its spellings)."""

    name: str
    line: int
    value: bool | None  # True when set to a truthy literal (or a truthy default)

    def to_json(self) -> list[Any]:
        return [self.name, self.line, self.value]

    @classmethod
    def from_json(cls, raw: list[Any]) -> EagerSetting:
        return cls(*raw)


@dataclass(slots=True)
class ModuleFacts:
    """Everything the analyser keeps from one Python file."""

    relpath: str
    module: str  # dotted name from the audited root, e.g. "app.features.upload.routes"
    is_package: bool
    lines: int
    imports: dict[str, str]  # module-level name -> import target
    star_imports: list[str]
    assigns: dict[str, str]  # module-level name -> rendered value
    ctors: dict[str, list[Any]]  # module-level name = Call(...): [args, kwargs] literals
    lits: dict[str, Lit]  # module-level literal assignments (ROOT_URLCONF = "proj.urls")
    functions: dict[str, FunctionFacts]
    classes: dict[str, ClassFacts]
    route_calls: list[RouteCall]
    urllists: dict[str, list[UrlEntry]]
    signals: list[SignalHook]
    eager: list[EagerSetting]
    # module-level lists of names or of rows, as written: (prefix, ViewSet) tables that a
    # router is filled from, INSTALLED_APPS-style lists of modules (``route_rows.py``)
    tables: dict[str, list[Any]] = field(default_factory=dict)
    # string key -> functions a dict literal maps it to ({"datastore_create": create}),
    # for lookups by a literal name (``get_action("datastore_create")(...)``)
    named: dict[str, list[str]] = field(default_factory=dict)
    # a container (rendered, ``app.events.handlers``) -> what this module puts into it
    # (``handlers[event][name] = handler``): a rendered value, or a run-time parameter ref
    fills: dict[str, list[str]] = field(default_factory=dict)
    # methods added to a class at run time (``Model.add_to_class("name", function)``):
    # [class as rendered or "str:<Name>" for a model looked up by name, name, function, line]
    additions: list[list[Any]] = field(default_factory=list)
    # many-to-many fields: [class, field, related model as an instance name, related_name]
    m2m: list[list[str]] = field(default_factory=list)
    # foreign keys: [class, field, related model as an instance name, related_name]
    fks: list[list[str]] = field(default_factory=list)
    # keys that delete their row with the row they point to (``on_delete=CASCADE``):
    # [class, related model as an instance name or "user"] (cascades.py)
    cascades: list[list[str]] = field(default_factory=list)
    # names called, and names passed to calls, at module level (``setup_signals()``,
    # ``path("x/", views.start)``): functions that importing the module runs or hands on
    top_refs: list[str] = field(default_factory=list)
    # module-level dicts of dicts of names (``{"create": {"get": "form_view"}}``): tables
    # a view's ``as_view`` may bind HTTP verbs to methods from (verb_tables.py)
    verb_maps: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)
    # calls made as statements of their own at module level, with what they pass:
    # [name, args, kwargs] literals (``SearchModel(model=Tag)``, ``s.add_proxy(model_name="A")``)
    top_calls: list[list[Any]] = field(default_factory=list)
    # keys of the queues of callables a loop here calls the elements of
    # (``for fn, *args in g.pending: fn(*args)``: "pending"), partials.py
    called_queues: list[str] = field(default_factory=list)
    # ``CurrentUser = Annotated[User, Depends(get_current_user)]``: name -> the dependency
    # rendered; a FastAPI parameter annotated with the name depends on it (item 212)
    dep_aliases: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "relpath": self.relpath,
            "module": self.module,
            "is_package": self.is_package,
            "lines": self.lines,
            "imports": self.imports,
            "star_imports": self.star_imports,
            "assigns": self.assigns,
            "ctors": self.ctors,
            "lits": self.lits,
            "functions": [f.to_json() for f in self.functions.values()],
            "classes": [c.to_json() for c in self.classes.values()],
            "route_calls": [r.to_json() for r in self.route_calls],
            "urllists": {k: [e.to_json() for e in v] for k, v in self.urllists.items()},
            "signals": [s.to_json() for s in self.signals],
            "eager": [e.to_json() for e in self.eager],
            "tables": self.tables,
            "named": self.named,
            "fills": self.fills,
            "additions": self.additions,
            "m2m": self.m2m,
            "fks": self.fks,
            "cascades": self.cascades,
            "top_refs": self.top_refs,
            "verb_maps": self.verb_maps,
            "top_calls": self.top_calls,
            "called_queues": self.called_queues,
            "dep_aliases": self.dep_aliases,
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> ModuleFacts:
        functions = [FunctionFacts.from_json(f) for f in raw["functions"]]
        classes = [ClassFacts.from_json(c) for c in raw["classes"]]
        return cls(
            relpath=raw["relpath"],
            module=raw["module"],
            is_package=raw["is_package"],
            lines=raw["lines"],
            imports=raw["imports"],
            star_imports=raw["star_imports"],
            assigns=raw["assigns"],
            ctors=raw["ctors"],
            lits=raw["lits"],
            functions={f.qualname: f for f in functions},
            classes={c.qualname: c for c in classes},
            route_calls=[RouteCall.from_json(r) for r in raw["route_calls"]],
            urllists={k: [UrlEntry.from_json(e) for e in v] for k, v in raw["urllists"].items()},
            signals=[SignalHook.from_json(s) for s in raw["signals"]],
            eager=[EagerSetting.from_json(e) for e in raw["eager"]],
            tables=raw.get("tables", {}),
            named=raw.get("named", {}),
            fills=raw.get("fills", {}),
            additions=raw.get("additions", []),
            m2m=raw.get("m2m", []),
            fks=raw.get("fks", []),
            cascades=raw.get("cascades", []),
            top_refs=raw.get("top_refs", []),
            verb_maps=raw.get("verb_maps", {}),
            top_calls=raw.get("top_calls", []),
            called_queues=raw.get("called_queues", []),
            dep_aliases=raw.get("dep_aliases", {}),
        )


def module_name(relpath: str) -> tuple[str, bool]:
    """Dotted module name for a path relative to the audited root, and whether it is a package."""
    parts = relpath[:-3].split("/") if relpath.endswith(".py") else relpath.split("/")
    is_package = parts[-1] == "__init__"
    if is_package:
        parts = parts[:-1]
    return ".".join(p for p in parts if p), is_package
