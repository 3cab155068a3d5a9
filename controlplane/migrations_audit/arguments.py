"""What a call passes to the project function it reaches, when that changes what runs there.

A function is normally summarised once. When a call site passes something the callee looks
at (a literal its guards test, ``broadcast=False``, ``update_fields=[...]``; a project class
or instance its parameter is then used as; keywords it forwards with ``**kwargs``), the
callee is summarised again for that *context*: its guards are decided where they can be
(``conditions.py``), its parameters resolve to what was passed, and the context follows
the calls it forwards. Contexts keep only what the callee uses, so most calls share the
plain summary.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, NamedTuple

from .conditions import UNKNOWN, evaluate, names_in
from .facts import ARGS_SEEN, UNLESS, WHEN, Block, CallSite, FunctionFacts
from .project import Project, Target, split_segment
from .queues import CELERY_APPLY, DRAMATIQ_SEND, HUEY_SCHEDULE, TASKIQ_KICK
from .self_attrs import carried_attr

# A context: sorted (parameter, value) pairs; a value is ("lit", literal) with lists as
# tuples, or ("t", kind, module, name) for a project class (C), instance (I) or queryset (Q).
Value = tuple[Any, ...]
Ctx = tuple[tuple[str, Value], ...]
_TYPE_KINDS = frozenset({"C", "I", "Q"})
_MAX_CTX = 6


class Node(NamedTuple):
    """A function to trace, with what its caller passed (empty: nothing known)."""

    target: Target
    ctx: Ctx = ()


def literal(raw: Any) -> Value:
    return ("lit", tuple(raw) if isinstance(raw, list) else raw)


def typed(target: Target) -> Value:
    return ("t", target.kind, target.module, target.name)


@dataclass(slots=True)
class Uses:
    """How a function uses its parameters, for trimming contexts."""

    named: frozenset[str]  # its named parameters (without self)
    heads: frozenset[str]  # parameters its calls start from: ``form.save()``
    forwarded: frozenset[str]  # parameters it passes on as they came
    conditions: frozenset[str]  # parameters its guards read
    extras: bool  # it passes on ``**kwargs``
    blocks: list[Block] = field(default_factory=list)  # its when/unless blocks
    # parameters it only enqueues (``func.delay(...)``): a function passed there is sent
    # to a worker, not run in this request (PATTERNS.md item 159)
    enqueued: frozenset[str] = frozenset()
    extras_run: bool = True  # ``**kwargs`` passed on to a call that is not an enqueue


_EMPTY: dict[str, Any] = {}
# a task's methods that send it to a worker: a parameter used only so is not run here
ENQUEUE_TAILS = CELERY_APPLY | DRAMATIQ_SEND | HUEY_SCHEDULE | TASKIQ_KICK


SELF_TYPE = "@self"  # context key: the class ``self`` has (never a parameter's name)
# context key: the class ``self`` has, known exactly (a routed class, the serializer a view
# uses), not only "this class or a subclass"; its self-calls follow its MRO and nothing else
SELF_EXACT = "@self="


def self_context(
    project: Project, target: Target, selftype: Target | None, exact: bool = False
) -> Ctx:
    """The context that makes ``self.x()`` in a base class's method run the override of
    the class it was reached for; empty when the method is the class's own, unless the
    class is known exactly (``exact``), which the context then says."""
    if selftype is None or target.kind != "F":
        return ()
    # a function nested in a method has the method's ``self`` (PATTERNS.md item 210)
    owner = project.class_of(target.module, target.name) or project.closure_owner(target)
    if not owner:
        return ()
    value = ("t", "C", selftype.module, selftype.name)
    if (target.module, owner) == (selftype.module, selftype.name):
        return ((SELF_EXACT, value),) if exact else ()
    if (target.module, owner) not in project.mro(selftype.module, selftype.name):
        return ()  # ``self.factory()`` reaching a method of another class: not inherited
    return ((SELF_EXACT if exact else SELF_TYPE, value),)


def base_call_on_self(
    project: Project, call: CallSite, target: Target, module: str, cls: str
) -> CallSite | None:
    """``Base.m(self, x)`` in a method of ``cls``: a base's method called by class name
    with an explicit ``self`` runs like ``super().m(x)``, for the class ``self`` has. The
    call with ``self`` taken out of its arguments (``x`` binds to the parameter after
    ``self``), when ``target`` is a method of a project class in ``cls``'s MRO; else None."""
    head = call.name.split(".", 1)[0]
    if not cls or head in ("self", "super()") or [0, "~self"] not in call.args:
        return None
    owner = project.class_of(target.module, target.name)
    if target.kind != "F" or not owner or (target.module, owner) == (module, cls):
        return None
    if (target.module, owner) not in project.mro(module, cls):
        return None
    args = [[k - 1 if type(k) is int else k, v] for k, v in call.args if k != 0]
    return replace(call, args=args)


class Env:
    """Resolution inside one function for one context."""

    __slots__ = (
        "project",
        "module",
        "cls",
        "ctx",
        "lits",
        "types",
        "results",
        "function",
        "params",
        "calls",
        "selftype",
        "exact",
        "attr_sets",
        "request_method",
        "guessed_results",
        "called_params",
    )

    def __init__(
        self, project: Project, module: str, cls: str, ctx: Ctx, params: list[str] | None = None
    ) -> None:
        self.project = project
        self.module = module
        self.cls = cls
        self.ctx: dict[str, Value] = dict(ctx) if ctx else _EMPTY
        self.lits: dict[str, Any] = {k: v[1] for k, v in ctx if v[0] == "lit"} if ctx else _EMPTY
        self.types: dict[str, Target] = (
            {k: Target(v[1], v[2], v[3]) for k, v in ctx if v[0] == "t"} if ctx else _EMPTY
        )
        self.results: dict[str, Target] = {}  # "helper()" -> what this call of it returned
        self.function = ""  # the method's name, when it is one
        self.params = params or []  # the function's own parameters
        self.calls: list[CallSite] = []  # the function's calls (constructors of receivers)
        # the routed subclass, and whether that is exactly the class of ``self``
        self.selftype: Target | None = self.types.get(SELF_TYPE) or self.types.get(SELF_EXACT)
        self.exact = SELF_EXACT in self.types
        self.attr_sets: list[list[Any]] = []  # FunctionFacts.attr_sets of the function
        self.request_method = ""  # FunctionFacts.request_method of the function
        # keys of ``results`` that a guessed call returned ("~spec.update_or_create()"), with
        # the method's name: what is reached through them is a guess too
        self.guessed_results: tuple[tuple[str, str], ...] = ()
        # FunctionFacts.called_params: an annotated parameter called, when nothing bound it
        self.called_params: dict[str, str] = _EMPTY

    def resolve(self, name: str) -> Target | None:
        for key, target in self.results.items():  # what a call returned here comes first
            if name.startswith(key):
                rest = name[len(key) :]
                if not rest:
                    return target
                if rest[0] == ".":
                    return self.project.follow(target, "", rest[1:].split("."))
        if self.types and name[:5] == "self.":
            carried = carried_attr(self.project, self.types, name)  # self_attrs.py
            if carried is not None:
                return carried
        if self.selftype is not None and name.split(".", 1)[0] in ("self", "cls", "super()"):
            return self.project.resolve(name, self.module, self.cls, selftype=self.selftype)
        if self.types:
            segments = name.split(".")
            base, ops = split_segment(segments[0])
            if base[:1] == "~" and base[1:] in self.types:
                return self.project.follow(self.types[base[1:]], ops, segments[1:])
        if name[:1] == "~" and name[1:] in self.called_params:
            # send(x) with ``send: Sender`` and no caller's value: through the annotation
            return self.project.resolve(self.called_params[name[1:]], self.module, self.cls)
        return self.project.resolve(name, self.module, self.cls)

    def tracked(self, holder: str, tracker: str) -> tuple[str, ...] | None:
        instance = self.types.get(holder)
        if instance is None or instance.kind != "I":
            return None
        return self.project.tracked_fields(instance.module, instance.name, tracker)

    def rules_out(self, blocks: list[Block], chain: list[int]) -> bool:
        """Whether the context rules out one of the when/unless blocks in ``chain``."""
        return any(
            blocks[b].kind in (WHEN, UNLESS)
            and blocks[b].cond is not None
            and self.decided(blocks[b])
            for b in chain
        )

    def decided(self, block: Block) -> bool:
        """Whether the context rules out the statements of a when/unless block."""
        value = evaluate(block.cond, self.lits, self.tracked)
        if value is UNKNOWN:
            return False
        return not value if block.kind == WHEN else bool(value)


class Arguments:
    """Binds call sites to callees' parameters and trims the result to what matters."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self._uses: dict[Target, Uses | None] = {}

    def uses(self, target: Target) -> Uses | None:
        if target in self._uses:
            return self._uses[target]
        facts = self.project.function(target)
        result = self._collect(target, facts) if facts is not None else None
        self._uses[target] = result
        return result

    def _collect(self, target: Target, facts: FunctionFacts) -> Uses:
        named = [p for p in facts.params if not p.startswith("*")]
        if (
            named
            and named[0] in ("self", "cls")
            and self.project.class_of(target.module, target.name)
        ):
            named = named[1:]
        heads = {split_segment(v.split(".", 1)[0])[0][1:] for v in facts.returns if v[:1] == "~"}
        ran = set(heads)
        sent: set[str] = set()
        forwarded: set[str] = set()
        extras = extras_run = False
        for call in facts.calls:
            enqueues = False
            if call.name[:1] == "~":
                head, _, rest = call.name.partition(".")
                name = split_segment(head)[0][1:]
                heads.add(name)
                enqueues = rest in ENQUEUE_TAILS and head[1:] == name
                (sent if enqueues else ran).add(name)
            for key, value in call.args:
                if type(value) is str and value[0] == "~":
                    if key == "**":
                        extras = True
                        extras_run = extras_run or not enqueues
                    elif "." in value:  # partial(instance.refresh): a method of it will run
                        head = split_segment(value[1:].split(".", 1)[0])[0]
                        heads.add(head)
                        ran.add(head)
                    else:
                        forwarded.add(value[1:])
        conditions: set[str] = set()
        blocks = [b for b in facts.blocks if b.cond is not None and b.kind in (WHEN, UNLESS)]
        for block in blocks:
            names_in(block.cond, conditions)
        return Uses(
            frozenset(named),
            frozenset(heads),
            frozenset(forwarded),
            frozenset(conditions),
            extras,
            blocks,
            frozenset(sent - ran),
            extras_run,
        )

    def bind(
        self, call: CallSite, target: Target, caller: Env, known: dict[str, Value] | None = None
    ) -> Ctx:
        """The context a call gives a project function it reaches (``known``: what the
        caller knows besides the arguments)."""
        facts = self.project.function(target)
        # a call whose every argument is seen leaves the other parameters at their defaults
        defaults = facts.defaults if facts is not None and call.flags & ARGS_SEEN else {}
        if not call.args and not caller.ctx and not known and not defaults:
            return ()
        uses = self.uses(target)
        if uses is None or not (uses.heads or uses.forwarded or uses.conditions or uses.extras):
            return ()  # it looks at none of what it is given
        assert facts is not None
        positional = [p for p in facts.params if not p.startswith("*")]
        if (
            positional
            and positional[0] in ("self", "cls")
            and (
                self.project.class_of(target.module, target.name)
                or target in self.project.additions().functions  # add_to_class
            )
        ):
            positional = positional[1:]
        raw: dict[str, Value] = dict(known) if known else {}
        forward = False
        passed: set[str] = set()
        for key, value in call.args:
            if key == "**":
                forward = True
                continue
            name = positional[key] if type(key) is int and key < len(positional) else key
            if type(name) is str:
                passed.add(name)
            if type(name) is not str or not self.wanted(uses, name):
                continue
            bound = self.value(value, caller)
            if bound is not None:
                raw[name] = bound
        if forward and caller.ctx:  # the caller's own extra keywords go on
            for name, value in caller.ctx.items():
                if name in caller.params or name in raw or name in (SELF_TYPE, SELF_EXACT):
                    continue
                if self.wanted(uses, name):
                    raw[name] = value
        for name, default in defaults.items():
            if (
                name not in passed
                and name not in raw
                and (name in uses.conditions or name in uses.forwarded)
            ):
                raw[name] = literal(default[0])
        return self.specialize(target, raw)

    @staticmethod
    def wanted(uses: Uses, name: str) -> bool:
        return (
            name in uses.heads
            or name in uses.forwarded
            or name in uses.conditions
            or (uses.extras and name not in uses.named)
        )

    def value(self, value: Any, caller: Env) -> Value | None:
        if type(value) is list:
            return literal(value[0])
        if type(value) is not str:
            return None  # a dict kept in a container (facts.KEPT_DICT)
        if value[0] == "~":
            return caller.ctx.get(value[1:])
        found = caller.resolve(value)
        if found is not None and found.kind in _TYPE_KINDS:
            return typed(found)
        if found is not None and found.kind == "F":
            return typed(found)  # a function passed in: a task its callee will .delay()
        if passed_callable(value, found):
            return ("n", value)  # call_with_retry(task.delay, 1): what fn(...) calls
        return None

    def specialize(self, target: Target, raw: dict[str, Value]) -> Ctx:
        """Keep what the callee uses; literals its guards read only if they decide one."""
        if not raw:
            return ()
        uses = self.uses(target)
        if uses is None:
            return ()
        kept: dict[str, Value] = {}
        guards_only: list[str] = []
        for name, value in raw.items():
            if (
                (value[0] in ("t", "n") and name in uses.heads)
                or name in uses.forwarded
                or (uses.extras and name not in uses.named)
            ):
                kept[name] = value
            elif name in uses.conditions:
                kept[name] = value
                guards_only.append(name)
        if guards_only and uses.blocks:
            env = Env(self.project, target.module, "", tuple(kept.items()))
            if not any(env.decided(block) for block in uses.blocks):
                for name in guards_only:
                    if name not in uses.forwarded:
                        del kept[name]
        elif guards_only:
            for name in guards_only:
                kept.pop(name, None)
        if len(kept) > _MAX_CTX:
            return ()
        return tuple(sorted(kept.items()))

    def returned(self, target: Target, ctx: Ctx) -> Target | None:
        """What a call returns when its result is built from a parameter it was given a class
        for: ``def get_or_404(klass, id): return _get_queryset(klass).get(pk=id)``."""
        types = {k: Target(v[1], v[2], v[3]) for k, v in ctx if v[0] == "t"}
        facts = self.project.function(target)
        if not types or facts is None:
            return None
        for value in facts.returns:
            segments = value.split(".")
            base, ops = split_segment(segments[0])
            if base[:1] == "~" and base[1:] in types:
                found = self.project.follow(types[base[1:]], ops, segments[1:])
                if found is not None and found.kind != "X":
                    return found
        return None


def passed_callable(value: str, found: Target | None) -> bool:
    """A bound dispatch method (``task.delay``) or a library callable (``requests.get``)
    given as an argument, written from a module down: a call of the parameter it binds
    calls it, judged in the callee as if written there (PATTERNS.md item 249)."""
    head = value.split(".", 1)[0]
    if head in ("self", "cls", "super()") or "(" in value or "." not in value:
        return False
    if found is not None:
        return found.kind == "X"
    return value.rpartition(".")[2] in ENQUEUE_TAILS


def passed_name(name: str, ctx: dict[str, Value]) -> str:
    """``fn(...)`` for a parameter ``fn`` bound to a passed callable: the call as written
    with the callable's name in place of the parameter; "" when it is bound to none."""
    head, dot, rest = name[1:].partition(".")
    base, ops = split_segment(head)
    bound = ctx.get(base)
    if bound is None or bound[0] != "n":
        return ""
    return bound[1] + ops + dot + rest
