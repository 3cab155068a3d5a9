"""Follow an endpoint's calls through the project and collect what they do.

Each function is summarised once (its dispatches, background hand-offs, heavy calls, flags
and the project functions it calls), or once per context when its callers pass values it
looks at (``arguments.py``); a trace is a bounded breadth-first walk over those summaries
from the handler, so a dispatch two helpers away is found with the chain that reached it.
"""

from __future__ import annotations

import builtins
import fnmatch
import sys
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from .arguments import (
    SELF_EXACT,
    Arguments,
    Ctx,
    Env,
    Node,
    Value,
    base_call_on_self,
    literal,
    passed_name,
    self_context,
    typed,
)
from .budget import SEARCH_CUT, Cut
from .buffers import IN_PROCESS, JobBuffers
from .class_lookups import BUILTIN_METHODS, keyed_method, unfollowed_lookup
from .class_registries import ClassRegistries, Registered
from .conditions import ADDING, HAS_PK
from .decorator_aliases import unaliased
from .decorator_wrappers import wrappers
from .facts import (
    ARGS_SEEN,
    AWAITED,
    DISCARDED,
    EXCEPT,
    FIELDS,
    GUARD,
    KEPT_UNWAITED,
    RETURNED,
    STORED,
    TRY,
    UNGUARD,
    WAITED,
    CallSite,
    Decorator,
    FunctionFacts,
    block_chain,
)
from .field_loops import FieldTypes
from .implicit import CREATE_TAILS, M2M_TAILS, SAVE_TAILS, Implicit, Write, signal_context
from .markers import (
    BACKGROUND,
    BY_CONFIG,
    BY_NAME,
    DISPATCH,
    INLINE_FALLBACK,
    SETTING_GUARD,
    TASK_DECORATORS,
    UNRESOLVED_CALL,
    UNRESOLVED_DISPATCH,
    Markers,
    dispatch_shape,
    plausible_task_name,
)
from .names import COMPUTED_ATTR, UNKNOWN_ATTR
from .orm_assignments import assignment_listeners, constructor_listeners
from .partials import idle_partials, idle_stored
from .project import Project, Target
from .proxies import real_class
from .queue_annotations import typed_dispatch
from .queues import (
    CELERY,
    DRAMATIQ,
    DRAMATIQ_SEND,
    HUEY,
    HUEY_SCHEDULE,
    RQ,
    TASKIQ,
    TASKIQ_KICK,
    external_system,
    system_of_decorators,
)
from .registries import UNFILLED, Registries
from .runtime_containers import held_at_run_time
from .self_attrs import attr_context
from .serializer_saves import FRAMEWORK_BOUND, made_with_instance

# SQLAlchemy session calls and the mapper events they fire at flush
ORM_WRITES = {
    "add": ("before_insert", "after_insert"),
    "add_all": ("before_insert", "after_insert"),
    "delete": ("before_delete", "after_delete"),
}
MAX_CTX = 8  # context entries for one call, constructor-stored attributes included
MAX_NODES = 600  # per endpoint: enough for deep service layers, bounded for huge trees
MAX_OVERRIDES = 8
MAX_DUCK_CANDIDATES = 2
_REACH_DEPTH, _REACH_NODES = 3, 64  # how far reaches_dispatch looks below a method
# what the evidence says of a step taken because the receiver's class was not known
GUESSED_OVERRIDE = "an override of {name}: the receiver's class is not known"
GUESSED_REGISTERED = "{cls}, one of the classes {base}'s registry holds: the key is not known"
GUESSED_DUCK = "one of the project's methods named {name}: the receiver's type is not known"
GUESSED_RESULT = "a method of what a guessed {name}() returns"
GUESSED_NAMED = "one of the methods named like {pattern}: the name is computed at run time"
GUESSED_SENDER = "a receiver connected for senders computed at run time"
# Python's own names (staticmethod): decorators that give a function no .delay (item 140)
_BUILTIN_NAMES = frozenset(dir(builtins))
# a library's functions named by verb, one kind of work when all are (item 146)
_HTTP_FUNCTIONS = ("get", "post", "put", "patch", "delete", "request")
# create() variants that may save a row that exists: self._state.adding is not known there
_MAYBE_EXISTING = ("get_or_", "update_or_", "aget_or_", "aupdate_or_")
_PROJECT_KINDS = frozenset({"F", "C", "I", "V", "Q", "QM", "S", "M"})
_DISPATCH_KINDS = frozenset({DISPATCH, SETTING_GUARD, INLINE_FALLBACK})
_PARTIAL = frozenset({"functools.partial", "partial"})
_HANDED = "handed"  # a kind: a task started and returned to the caller (facts.RETURNED)
# DRF's framework methods that use the view's serializer, and the action each serves
_GET_SERIALIZER = "self.get_serializer()"
_CHOSEN = "serializer"  # the context name the chosen serializer instance is bound to
_ACTION_OF = {"perform_create": "create", "perform_update": "update"}
_SERIALIZER_ACTIONS = frozenset({"create", "update", "partial_update"})

# What a framework method passes to the hook it calls: DRF's create() hands the view's
# serializer to perform_create(serializer), destroy() the object to perform_destroy,
# Django's ProcessFormView.post() the form it built to form_valid(form)
_FRAMEWORK_ARGS = {
    "self.perform_create": "self.get_serializer()",
    "self.perform_update": "self.get_serializer()",
    "self.perform_destroy": "self.get_object()",
    "self.form_valid": "self.get_form()",
}
# a call of a callable an object was given when it was made, not found (item 117): the
# kind classify() gives it, and the note of its UNRESOLVED_CALL site
GIVEN_CALLABLE = "given"
# a signal of an installed package sent by the project, no receiver of the project's
# connected (item 125): the kind classify() gives it, and the note of its site
LIBRARY_SIGNAL = "library_signal"
# a call on a module imported by a name computed at run time (item 149): the kind
# classify() gives it, and the note of its UNRESOLVED_CALL site
MODULE_BY_NAME = "module_by_name"
# getattr(obj, name)(...) on a project object with the name computed at run time (item
# 230): the kind classify() gives it, and the note of its UNRESOLVED_CALL site
METHOD_BY_NAME = "method_by_name"
# a call into a file of the project that could not be parsed (item 246): the kind
# classify() gives it, and the note of its UNRESOLVED_CALL site
UNREADABLE = "unreadable"
# a view's own serializer getter returns a class not read (item 199): the note of the
# UNRESOLVED_CALL site standing for the inherited ``serializer.save()``
CHOSEN_SERIALIZER = "chosen_serializer"
_SERIALIZER_SAVE = "self.get_serializer().save"
_MODULE_BY_NAME = ("importlib.import_module().", "__import__().")
# where the framework views whose inherited bodies implicit.py knows are defined
_FRAMEWORK_VIEW_PACKAGES = ("rest_framework.", "django.views.", "django.contrib.auth.views.")
# What a framework passes to project code it runs on a write: nothing the project chose
_FRAMEWORK_CALL = CallSite("", 0, 0, -1, -1, ARGS_SEEN, -1, -1, [], [])
# Calls whose edges may be signal receivers: writes, related-manager changes, sends
_SIGNAL_FIRING = (
    SAVE_TAILS
    | CREATE_TAILS
    | M2M_TAILS
    | frozenset({"delete", "adelete", "send", "send_robust", "asend", *ORM_WRITES})
)


def instance_class(env: Env, receiver: str) -> Target | None:
    """The project class of the instance ``receiver`` names (``answer`` after ``answer =
    Answer.objects.get(...)``), or None when it is not an instance of a known class."""
    if receiver.split(".", 1)[0] in ("self", "cls", "super()"):
        return None
    found = env.resolve(receiver)
    if found is None or found.kind != "I":
        return None
    return Target("C", found.module, found.name)


def _nowhere_defined(project: Project, resolved: Target, called: str) -> bool:
    """Whether ``called`` is a method no class could supply (PATTERNS.md item 68): its
    receiver's class and every base are the project's own, and none defines it, or one
    defines ``__getattr__`` (a proxy forwarding to an object of its own: item 226). The
    type the audit gave the value (one return of several, say) is then not the whole
    story, and the call is one on an unknown receiver."""
    if resolved.kind != "V":
        return False
    cls, _, attr = resolved.name.partition(":")
    if attr != called.rpartition(".")[2] or project.external_bases(resolved.module, cls) - {
        "object"
    }:
        return False
    for mod, qual in project.mro(resolved.module, cls):
        facts = project.modules[mod]
        if f"{qual}.__getattr__" in facts.functions:
            return True  # a proxy: what its __getattr__ hands back has it (item 226)
        if facts.classes[qual].unseen_bases:
            return False
    return True


def framework_body_on_self(
    implicit: Implicit, call: CallSite, resolved: Target, env: Env
) -> Target | None:
    """``mixins.UpdateModelMixin.update(self, request)``: a framework view's method called by
    class name with an explicit ``self`` runs the framework's body for the class ``self`` has
    (PATTERNS.md item 102), as the inherited method would; None for any other call."""
    if not env.cls or not ([0, "self"] in call.args or [0, "~self"] in call.args):
        return None
    path, _, method = resolved.name.rpartition(".")
    if not path.startswith(_FRAMEWORK_VIEW_PACKAGES):
        return None
    owner = env.selftype or Target("C", env.module, env.cls)
    body = Target("V", owner.module, f"{owner.name}:{method}")
    return body if implicit.expansions(body) else None


_SHORTCUT_RESULTS = ("get_object_or_404()", "aget_object_or_404()")
# decorators that leave a function's parameters as written (callgraph.accepts)
_SIGNATURE_KEEPING = frozenset(
    {"staticmethod", "classmethod", "property", "cached_property", "abstractmethod", "override"}
)
# a class or module loaded by its dotted path at run time: of no type the audit can know
_DYNAMIC_LOADS = (
    "import_string()",  # Django's, werkzeug's, Invenio's obj_or_import_string (item 240)
    "importlib.import_module()",
    "pydoc.locate()",
)


@dataclass(slots=True)
class Site:
    """A classified call: kind, where, and the call as written."""

    kind: str
    file: str
    line: int
    call: str
    note: str = ""  # for a dispatch: BY_CONFIG or BY_NAME when that is what it rests on
    system: str = ""  # for a dispatch: celery, rq, dramatiq, huey, arq, taskiq
    # for a background site whose handle is kept on self: (module, class, attribute)
    held: tuple[str, str, str] | None = None


@dataclass(slots=True)
class FunctionSummary:
    label: str  # "file:qualname", as shown in evidence chains
    sites: list[Site] = field(default_factory=list)
    edges: list[Node] = field(default_factory=list)
    error_edges: list[Node] = field(default_factory=list)  # called from except handlers
    # the call that first made each edge, named where a budget stops the walk before it
    edge_calls: dict[Node, tuple[int, CallSite]] = field(default_factory=dict)
    relpath: str = ""
    # returns a task or thread it started (facts.RETURNED): in the background only where a
    # caller drops what it returns
    hands_task: bool = False
    handed_kind: str = ""  # the heavy kind of what it hands over (a Popen: subprocess)
    # the self.<attr> task handles the function waits for: (module, class, attribute)
    waits: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def dispatches(self) -> bool:
        return any(site.kind == DISPATCH for site in self.sites)


@dataclass(slots=True)
class Found:
    """A site reached from an endpoint, with the chain of functions that reached it."""

    site: Site
    via: tuple[str, ...]
    # reached through a step that assumed a class the receiver may not have (an override
    # of a stub, a method picked by its name alone): the site is possible, not certain
    guessed: bool = False


LineText = Callable[[str, int], str]


def _unknown_row(resolved: Target) -> bool:
    """A method of what ``get_object_or_404(...)`` returned when its model is not known (a
    row of some model), or of a class loaded by its dotted path at run time
    (``import_string(self.backend_path)(...)``): a project method by that name is a guess
    like any unknown type."""
    if resolved.kind != "X":
        return False
    base = resolved.name.rpartition(".")[0]
    return base.endswith(_SHORTCUT_RESULTS) or any(load in base for load in _DYNAMIC_LOADS)


def _library_signal(resolved: Target) -> bool:
    """``UPDATE_COURSE_SKILLS.send(...)`` with the signal imported from an installed
    package's ``signals`` module (not Django's own): receivers that package connects run,
    and the audit does not read them (PATTERNS.md item 125)."""
    if resolved.kind != "X":
        return False
    parts = resolved.name.split(".")
    return parts[0] != "django" and "signals" in parts[1:-2]


def _pattern_parts(name: str) -> tuple[str, str, str]:
    """``("tasks", "*_task", ".delay")`` for ``tasks.*_task.delay``: what is before the
    segment holding the name pattern, the pattern, and what follows it."""
    segments = name.split(".")
    at = next(i for i, segment in enumerate(segments) if "*" in segment)
    pattern = segments[at].rstrip("()")
    tail = segments[at][len(pattern) :] + "".join(f".{s}" for s in segments[at + 1 :])
    return ".".join(segments[:at]), pattern, tail


class CallGraph:
    """Summaries of project functions, and traces from endpoint handlers."""

    def __init__(self, project: Project, markers: Markers, line_text: LineText) -> None:
        self.project = project
        self.markers = markers
        self.line_text = line_text
        self._summaries: dict[Node, FunctionSummary | None] = {}
        # (caller, receiver) -> how a write or send in the caller fired the receiver
        self.via_notes: dict[tuple[Node, Node], str] = {}
        self._named: dict[str, list[Target]] = {}  # literal name -> functions tables map
        self._called_queues: set[str] | None = None
        # (caller, callee) edges taken on a guess of the receiver's class
        self.guessed: set[tuple[Node, Node]] = set()
        self._guesses: dict[Node, str] = {}  # set by classify(): edges of the call it saw
        self.implicit = Implicit(project)
        self.registries = Registries(project)
        self.class_registries = ClassRegistries(project)
        self.arguments = Arguments(project)
        self.buffers = JobBuffers(project, markers.background)
        self._wrappers: dict[Target, list[Node]] = {}
        self.field_types = FieldTypes(project)

    # ---- tracing -----------------------------------------------------------------------

    def trace(
        self, entries: list[Target], max_depth: int, selftype: Target | None = None
    ) -> list[Found]:
        """Sites reachable from the entries, breadth first, within ``max_depth`` calls.

        Functions reached only from except handlers are an error path: what they do still
        counts as work in the request, but a dispatch there does not make the endpoint
        offloaded.
        """
        parents: dict[Node, Node | None] = {}
        depth: dict[Node, int] = {}
        self._guessed_path: dict[Node, bool] = {}
        found: list[Found] = []
        errors: list[tuple[Node, Node]] = []
        queue: deque[Node] = deque()
        for target in entries:
            # a routed class is the class of ``self`` exactly: the handler's own class
            # when no base class defines it
            known = selftype or self.owner(target)
            entry = Node(target, self_context(self.project, target, known, exact=True))
            if entry not in parents:
                parents[entry], depth[entry] = None, 0
                queue.append(entry)
                # a handler's own project decorators wrap it: their wrappers run too
                for wrapper in self.wrappers_of(target):
                    if wrapper not in parents:
                        parents[wrapper], depth[wrapper] = entry, 1
                        queue.append(wrapper)
        self._walk(queue, parents, depth, found, errors, max_depth, error_path=False)
        queue.clear()  # what the node budget left unvisited stays unvisited
        for node, parent in errors:
            if node not in parents and depth[parent] < max_depth:
                parents[node], depth[node] = parent, depth[parent] + 1
                queue.append(node)
        self._walk(queue, parents, depth, found, [], max_depth, error_path=True)
        return self.without_waited_tasks(found, parents)

    def without_waited_tasks(
        self, found: list[Found], parents: dict[Node, Node | None]
    ) -> list[Found]:
        """Drop background sites whose task, kept on ``self.<attr>``, a method the request
        also reached waits for (``connect()`` starts it, ``close()`` awaits it): of the same
        class or one in its MRO (PATTERNS.md item 86)."""
        held = [f for f in found if f.site.held is not None]
        if not held:
            return found
        waits: set[tuple[str, str, str]] = set()
        for node in parents:
            summary = self._summaries.get(node)
            if summary is not None:
                waits.update(summary.waits)
        if not waits:
            return found
        project = self.project
        dropped: set[int] = set()
        for item in held:
            module, cls, attr = item.site.held  # type: ignore[misc]
            lineage = project.mro(module, cls)
            if any(a == attr and (m, c) in lineage for m, c, a in waits):
                dropped.add(id(item))
        return [f for f in found if id(f) not in dropped]

    def _walk(
        self,
        queue: deque[Node],
        parents: dict[Node, Node | None],
        depth: dict[Node, int],
        found: list[Found],
        errors: list[tuple[Node, Node]],
        max_depth: int,
        error_path: bool,
    ) -> None:
        visited = 0
        while queue and visited < MAX_NODES:
            node = queue.popleft()
            visited += 1
            summary = self.summary(node)
            if summary is None:
                continue
            if summary.sites:
                via = self.chain(node, parents)
                guessed = self.on_guess(node, parents)
                found.extend(
                    Found(site, via, guessed)
                    for site in summary.sites
                    if not (error_path and site.kind in _DISPATCH_KINDS)
                )
            if depth[node] >= max_depth:
                if not error_path:
                    self.note_cut(node, summary, parents, found, Cut("depth", max_depth))
                continue
            for nxt in summary.edges:
                if nxt not in parents:
                    parents[nxt], depth[nxt] = node, depth[node] + 1
                    queue.append(nxt)
            if error_path:
                for nxt in summary.error_edges:
                    if nxt not in parents:
                        parents[nxt], depth[nxt] = node, depth[node] + 1
                        queue.append(nxt)
            else:
                errors.extend((nxt, node) for nxt in summary.error_edges)
        if queue and not error_path:
            # the node budget ran out: the next function in line is where the search stopped
            nxt = queue[0]
            parent = parents.get(nxt)
            above = self.summary(parent) if parent is not None else None
            if parent is not None and above is not None:
                self.note_cut(parent, above, parents, found, Cut("nodes", MAX_NODES), nxt)

    def note_cut(
        self,
        node: Node,
        summary: FunctionSummary,
        parents: dict[Node, Node | None],
        found: list[Found],
        cut: Cut,
        only: Node | None = None,
    ) -> None:
        """Record the first call ``node`` makes that a budget kept the walk from reading.

        A callee already reached another way was read, and one that does nothing (no
        sites, no calls) hides nothing: neither makes the search incomplete.
        """
        for nxt in [only] if only is not None else summary.edges:
            if only is None and nxt in parents:
                continue
            below = self.summary(nxt)
            if below is None or not (below.sites or below.edges):
                continue
            line, call = summary.edge_calls.get(nxt, (0, _FRAMEWORK_CALL))
            text = self.call_text(summary.relpath, call) if line else nxt.target.name
            site = Site(SEARCH_CUT, summary.relpath, line, text, cut.describe())
            found.append(Found(site, self.chain(node, parents), self.on_guess(node, parents)))
            return

    def owner(self, target: Target) -> Target | None:
        """The class a method belongs to (None for a plain function)."""
        if target.kind != "F":
            return None
        cls = self.project.class_of(target.module, target.name)
        return Target("C", target.module, cls) if cls else None

    def on_guess(self, node: Node, parents: dict[Node, Node | None]) -> bool:
        """Whether the chain that reached ``node`` took an edge on a guessed class."""
        known = self._guessed_path
        path: list[Node] = []
        current: Node | None = node
        while current is not None and current not in known:
            path.append(current)
            current = parents.get(current)
        result = known[current] if current is not None else False
        for step in reversed(path):
            parent = parents.get(step)
            result = result or (parent is not None and (parent, step) in self.guessed)
            known[step] = result
        return result

    def chain(self, node: Node, parents: dict[Node, Node | None]) -> tuple[str, ...]:
        labels = []
        current: Node | None = node
        while current is not None:
            summary = self.summary(current)
            label = summary.label if summary else current.target.name
            parent = parents.get(current)
            note = self.via_notes.get((parent, current)) if parent is not None else None
            labels.append(f"{label} ({note})" if note else label)
            current = parent
        return tuple(reversed(labels))

    # ---- summaries ---------------------------------------------------------------------

    def summary(self, node: Node) -> FunctionSummary | None:
        if node in self._summaries:
            return self._summaries[node]
        self._summaries[node] = None  # cycle guard: a recursive call sees "nothing yet"
        target = node.target
        if target.kind == "F":
            facts = self.project.function(target)
            result = self.summarise(node, facts) if facts is not None else None
        elif target.kind == "V":
            result = self.summarise_virtual(target, node.ctx)
        else:
            result = None
        self._summaries[node] = result
        return result

    def summarise(self, node: Node, facts: FunctionFacts) -> FunctionSummary:
        project = self.project
        module = node.target.module
        relpath = project.modules[module].relpath
        method_of = project.class_of(module, facts.qualname)
        # a function nested in a method reads the method's ``self`` (PATTERNS.md item 210)
        cls = method_of or project.closure_class(module, facts.qualname, facts.params)
        summary = FunctionSummary(label=f"{relpath}:{facts.qualname}", relpath=relpath)
        if cls:
            summary.waits = [(module, cls, attr) for attr in facts.self_waits]
        calls = facts.calls
        blocks = facts.blocks
        env = Env(project, module, cls, node.ctx, facts.params)
        if facts.handed or facts.cond_waits:  # waits in a helper, or only on some branches
            calls = [self.waited_here(call, facts, env) for call in calls]
        env.calls = calls
        env.called_params = facts.called_params
        env.attr_sets = facts.attr_sets
        env.request_method = facts.request_method
        env.function = facts.name if method_of else ""
        if cls and env.function in _SERIALIZER_ACTIONS:
            # a view's own create/update/partial_update: DRF set self.action to its name,
            # so self.get_serializer() is the class get_serializer_class() picks for it
            view = env.selftype or Target("C", module, cls)
            chosen = self.action_serializer(Target("C", view.module, view.name), env.function)
            if chosen is not None:
                env.results[_GET_SERIALIZER] = chosen

        chains = [block_chain(blocks, call.block) for call in calls]
        kinds: list[str] = [""] * len(calls)
        notes: list[str] = [""] * len(calls)
        systems: list[str] = [CELERY] * len(calls)
        targets: list[list[Node]] = [[] for _ in calls]
        guesses: list[dict[Node, str]] = [{} for _ in calls]
        # calls on a call's result after that call (``helper(Model).save()``): what a
        # helper returned for this function's arguments is known when its result is used
        depth = [call.name.count("()") for call in calls]
        idle = idle_partials(calls, facts.returns)  # built and never called: never runs
        if facts.stored:  # stored in a queue of callables no loop calls: never runs
            idle |= idle_stored(calls, facts.stored, self.called_queues())
        for index in sorted(range(len(calls)), key=depth.__getitem__):
            chain = chains[index]
            if index in idle:
                continue
            if node.ctx and env.rules_out(blocks, chain):
                continue  # the caller's arguments rule this branch out
            if any(
                blocks[b].kind == FIELDS
                and self.field_types.never_runs(blocks[b], module, cls, env.selftype, env.exact)
                for b in chain
            ):
                continue  # a loop over self's fields of a type its model does not declare
            self._guesses = {}
            kinds[index], targets[index] = self.classify(calls[index], env)
            guesses[index], self._guesses = self._guesses, {}
            if kinds[index] in ("", "edge"):
                shown = self.representations(calls[index], env)
                if shown:  # Response(serializer.data): the serializer's representation runs
                    kinds[index], targets[index] = "edge", [*targets[index], *shown]
            if env.guessed_results and kinds[index] == "edge":
                # a method of a value a guessed call returned: a guess as well
                name = calls[index].name
                for key, tail in env.guessed_results:
                    if name.startswith(key) and name != key[:-2]:
                        note = GUESSED_RESULT.format(name=tail)
                        guesses[index] = {n: guesses[index].get(n, note) for n in targets[index]}
            if calls[index].flags & STORED and not kinds[index].startswith(DISPATCH + ":"):
                kinds[index], targets[index] = "", []  # a stored callable counts as a dispatch
            if kinds[index].startswith(DISPATCH + ":"):
                _, notes[index], systems[index] = kinds[index].split(":")
                kinds[index] = DISPATCH
                source = facts.loop_args.get(f"{calls[index].line}:{calls[index].col}")
                empty = self.registries.unfilled(source, module) if source else ""
                if empty:  # for func in handlers.values(): queue.enqueue(func.run)
                    kinds[index], notes[index] = UNFILLED, empty
        dispatching_tries: set[int] = set()
        for kind, found, chain in zip(kinds, targets, chains, strict=True):
            tries = [blocks[b].try_id for b in chain if blocks[b].kind == TRY]
            if not tries:
                continue
            if kind == DISPATCH or (
                kind == "edge"
                and any((s := self.summary(n)) is not None and s.dispatches for n in found)
            ):
                dispatching_tries.update(tries)

        fallback_noted: set[int] = set()
        for index, call in enumerate(calls):
            kind = kinds[index]
            if not kind or self.inside_background(index, calls, kinds):
                continue
            chain = chains[index]
            excepts = [blocks[b].try_id for b in chain if blocks[b].kind == EXCEPT]
            if excepts and kind != DISPATCH:
                fallback = next((t for t in excepts if t in dispatching_tries), None)
                if fallback is not None:
                    if fallback not in fallback_noted:
                        fallback_noted.add(fallback)
                        summary.sites.append(self.site(INLINE_FALLBACK, relpath, call))
                    continue
            if kind == DISPATCH:
                if excepts and not any(blocks[b].kind == TRY for b in chain):
                    continue  # enqueued only when something failed: not a normal path
                summary.sites.append(
                    self.site(DISPATCH, relpath, call, notes[index], systems[index])
                )
                guard = next((blocks[b] for b in chain if blocks[b].kind in (GUARD, UNGUARD)), None)
                if guard is not None:
                    summary.sites.append(Site(SETTING_GUARD, relpath, guard.line, guard.text))
            elif kind == BACKGROUND:
                site = self.site(BACKGROUND, relpath, call)
                kept = facts.self_tasks.get(f"{call.line}:{call.col}")
                if kept and cls and any(c.name == f"self.{kept}.is_alive" for c in calls):
                    # if self.cleaner.is_alive(): return ... self.cleaner.start(): a thread
                    # started once per object, whatever the request (PATTERNS.md item 141)
                    continue
                if kept and cls:
                    site.held = (module, cls, kept)
                summary.sites.append(site)
            elif kind == _HANDED:
                summary.hands_task = True
                summary.handed_kind = summary.handed_kind or self.markers.heavy(call.name) or ""
            elif kind == "edge" and (
                handing := [
                    s for n in targets[index] if (s := self.summary(n)) is not None and s.hands_task
                ]
            ):
                if call.flags & WAITED:
                    # p = opener(); p.wait(): the subprocess runs in the request
                    heavy = next((s.handed_kind for s in handing if s.handed_kind), "")
                    if heavy:
                        summary.sites.append(self.site(heavy, relpath, call))
                elif call.flags & (DISCARDED | KEPT_UNWAITED):
                    # start_job() as a statement, or job = start_job(); job.id: left running
                    summary.sites.append(self.site(BACKGROUND, relpath, call))
            elif kind.startswith("heavy:"):
                summary.sites.append(self.site(kind[6:], relpath, call))
            elif kind in (UNRESOLVED_CALL, UNRESOLVED_DISPATCH):
                summary.sites.append(self.site(kind, relpath, call))
            elif kind in (
                GIVEN_CALLABLE,
                LIBRARY_SIGNAL,
                MODULE_BY_NAME,
                METHOD_BY_NAME,
                UNREADABLE,
            ):
                summary.sites.append(self.site(UNRESOLVED_CALL, relpath, call, kind))
            elif kind == UNFILLED:
                summary.sites.append(self.site(kind, relpath, call, notes[index]))
            bucket = summary.error_edges if excepts else summary.edges
            fires = call.name.rpartition(".")[2] in _SIGNAL_FIRING
            for edge in targets[index]:
                if edge in guesses[index]:
                    self.guessed.add((node, edge))
                    self.via_notes.setdefault((node, edge), guesses[index][edge])
                if edge not in bucket and edge != node:
                    bucket.append(edge)
                    summary.edge_calls.setdefault(edge, (call.line, call))
                    origin = self.implicit.origins.get(edge.target) if fires else None
                    if origin:
                        fired = f"{self.call_text(relpath, call)} at {relpath}:{call.line}"
                        self.via_notes[(node, edge)] = f"{origin}, fired by {fired}"
        if self.implicit.has_orm_listeners():
            self.orm_assignment_edges(node, summary, env, facts, kinds)
        self.property_read_edges(node, summary, env, facts)
        return summary

    def property_read_edges(
        self, node: Node, summary: FunctionSummary, env: Env, facts: FunctionFacts
    ) -> None:
        """``Job(x).queued``, ``loader.model`` read without a call: when the attribute is a
        property of the value's project class, its getter runs there (PATTERNS.md item 78).
        ``self.<property>`` is not followed: on netbox it was 906 of 911 property reads and
        30% more trace time, for no change on either labelled set."""
        if not facts.attr_reads:
            return
        properties = self.project.property_names()
        for line, rendered in facts.attr_reads:
            attr = rendered.rpartition(".")[2]
            if rendered.startswith("self."):
                # self.get_serializer().data: which class depends on the action, which an
                # argument's read (representations) is judged with; not guessed here
                continue
            if attr == "data":  # out.append(S(obj).data): its representation (item 187)
                read = self.serializer_data(rendered, env)
            elif attr not in properties:
                continue
            else:
                read = self.property_read(rendered, env)
            if read is None or read == node or read in summary.edges:
                continue
            summary.edges.append(read)
            what = "serializer data" if attr == "data" else "property"
            self.via_notes.setdefault((node, read), f"{what} read at {summary.relpath}:{line}")

    def orm_assignment_edges(
        self,
        node: Node,
        summary: FunctionSummary,
        env: Env,
        facts: FunctionFacts,
        kinds: list[str],
    ) -> None:
        """SQLAlchemy listeners the function's attribute assignments, and the keywords of
        the models it constructs, run (orm_assignments.py)."""
        relpath = summary.relpath
        fired = assignment_listeners(self.implicit, env.resolve, facts.obj_sets, relpath)
        for index, call in enumerate(facts.calls):
            if kinds[index] == "edge" and any(isinstance(k, str) for k, _ in call.args):
                resolved = env.resolve(call.name)
                for listener, note in constructor_listeners(self.implicit, call, resolved, relpath):
                    fired.append((call.line, listener, note))
        for _line, listener, note in fired:
            edge = Node(listener)
            if edge != node and edge not in summary.edges:
                summary.edges.append(edge)
                self.via_notes.setdefault((node, edge), note)

    @staticmethod
    def inside_background(index: int, calls: list[CallSite], kinds: list[str]) -> bool:
        """Whether a call is an argument of a background hand-off (its work is deferred)."""
        parent = calls[index].parent
        while parent >= 0:
            if kinds[parent] in (BACKGROUND, _HANDED):
                return True
            parent = calls[parent].parent
        return False

    def site(
        self, kind: str, relpath: str, call: CallSite, note: str = "", system: str = ""
    ) -> Site:
        return Site(kind, relpath, call.line, self.call_text(relpath, call), note, system)

    def call_text(self, relpath: str, call: CallSite) -> str:
        """The call as written on its line; long calls keep the callee only."""
        raw = self.line_text(relpath, call.line).encode("utf-8", "replace")
        try:
            if call.end_col > 0 and call.end_col - call.col <= 100:
                text = raw[call.col : call.end_col].decode("utf-8")
            elif call.func_end > 0:
                text = raw[call.col : call.func_end].decode("utf-8") + "(...)"
            else:
                text = ""
        except UnicodeDecodeError:
            text = ""
        return text.strip() or call.name + "(...)"

    # ---- one call ----------------------------------------------------------------------

    def classify(self, call: CallSite, env: Env) -> tuple[str, list[Node]]:
        """("dispatch" | "background" | "heavy:<kind>" | "edge" | "", functions it runs).

        A dispatch is ``dispatch:<note>:<system>``: the note is "", ``config`` or ``name``
        (what it rests on), the system ``celery``, ``rq``, ``dramatiq``...; a call not
        understood is ``unresolved_call`` (a method the project
        defines, on an object of unknown type) or ``unresolved_dispatch`` (``.delay()`` or
        ``.apply_async()`` on something that could not be shown to be a task or not).
        """
        markers = self.markers
        module, cls = env.module, env.cls
        if call.name[:1] == "~" and env.ctx:
            substituted = passed_name(call.name, env.ctx)
            if substituted:  # fn(*a) for fn=task.delay given by the caller (item 249)
                return self.classify(replace(call, name=substituted), env)
        if "*" in call.name:  # getattr(self, f"{mode}_sync")(): names.name_pattern
            return self.named_like(call, env)
        if call.name.endswith(COMPUTED_ATTR):
            return self.computed_attr(call, env)
        resolved = env.resolve(call.name)
        if (
            resolved is not None
            and resolved.kind == "X"
            and self.project.in_unreadable(resolved.name)
        ):
            return UNREADABLE, []  # a function of a project file that could not be parsed
        if (
            resolved is not None
            and resolved.kind != "F"
            and any(call.name.startswith(key) for key, _ in env.guessed_results)
        ):
            # the class a guessed call's annotation names does not define the method (an
            # annotation that says less than the value): as an unknown receiver
            resolved = None
        if resolved is not None and _nowhere_defined(self.project, resolved, call.name):
            resolved = None  # the value is not (only) of the class the audit typed it with
        keyed = keyed_method(call, env) if resolved is None or resolved.kind == "X" else None
        if keyed is not None:  # registry.get_by_type(C).do(): C's do, C known exactly
            resolved = keyed.method
        known = keyed.cls if keyed is not None else None
        if resolved is not None and resolved.kind == "X":
            resolved = framework_body_on_self(self.implicit, call, resolved, env) or resolved
        if call.name.endswith(".apply") and (resolved is None or resolved.kind == "X"):
            body = env.resolve(call.name[: -len(".apply")])
            if body is not None and body.kind == "F" and self.function_verdict(body) is True:
                return "edge", [Node(body)]  # task.apply(): Celery runs its body here
        if resolved is not None and resolved.kind == "V" and resolved.name.endswith(":start"):
            started = self.thread_started(call, resolved, env)
            if started is not None:
                return started
        names = [call.name]
        if resolved is not None and resolved.kind == "X" and resolved.name != call.name:
            names.append(resolved.name)
        qualified = ""
        if resolved is not None and resolved.kind == "F":
            qualified = f"{resolved.module}.{resolved.name}"
            names.append(qualified)

        if any(markers.wrapper(n) for n in names):
            return f"{DISPATCH}:{BY_CONFIG}:{CELERY}", []
        typed = next((s for s in map(typed_dispatch, names[:2]) if s), "")
        if typed:  # actor: dramatiq.Actor = ...; actor.send(): the annotation says what it is
            return f"{DISPATCH}::{typed}", []
        other = self.other_queue(call.name, names, resolved, env, call.passed()[:1])
        if other:
            return other, []
        buffered = self.buffers.system(resolved) if resolved is not None else ""
        if buffered == IN_PROCESS:  # appended to a list its object's own thread drains
            return BACKGROUND, []
        if buffered:  # jobs.add("name", ...) into a buffer its class sends later
            return f"{DISPATCH}::{buffered}", []
        picked = self.table_methods(call.name, module)
        if picked:  # SERVICES[kind].revoke(...): the method of whichever entry is picked
            return "edge", [Node(t) for t in picked]
        undecided = False
        shaped = names[:2]
        partial = call.name in _PARTIAL or (resolved is not None and resolved.name in _PARTIAL)
        if partial:
            # on_commit(partial(crunch.delay, pk)): the partial exists to be called, and
            # calling it enqueues; judged like the bound call (PATTERNS.md, round 3)
            shaped = [v for k, v in call.args if k == 0 and type(v) is str and v[:1] != "~"]
        elif any(markers.runner(n) for n in names):
            # await asyncio.to_thread(crunch.delay, pk): the runner calls what it is given
            # (round 9, item 43)
            shaped = [v for k, v in call.args if k in (0, 1) and type(v) is str and v[:1] != "~"]
        for name in shaped:
            shape = dispatch_shape(name)
            if shape is None:
                continue
            if shape[0] == "send_task":
                if resolved is not None and resolved.kind == "F":
                    continue  # the project's own send_task(): its body says (item 180)
                return f"{DISPATCH}::{self.sender_system(shape[1], env)}", []
            if shape[0] != "task":
                return f"{DISPATCH}::{CELERY}", []
            receiver = shape[1]
            passed = env.types.get(receiver[1:] if receiver[:1] == "~" else receiver)
            if passed is not None and passed.kind == "F":
                # execute(crunch, 1) -> def execute(strategy, x): strategy.delay(x)
                verdict = self.function_verdict(passed)
                if verdict is True:
                    return f"{DISPATCH}::{self.job_system_of(passed)}", []
                if verdict is False:
                    continue  # a plain function was passed: not a dispatch
            table = self.table_of(shape[1], module)
            if table:
                # TASKS[action].delay(...): every entry of the table is a task
                verdicts = [self.function_verdict(t) for t in table]
                if all(v is True for v in verdicts):
                    return f"{DISPATCH}::{self.job_system_of(table[0])}", []
                if all(v is False for v in verdicts):
                    continue
            verdict = self.task_verdict(shape[1], module, cls, env.selftype)
            if verdict is True:
                system = self.job_system(shape[1], module, cls, env.selftype)
                return f"{DISPATCH}::{system}", []
            if verdict in (BY_CONFIG, BY_NAME):
                system = self.job_system(shape[1], module, cls, env.selftype)
                return f"{DISPATCH}:{verdict}:{system}", []
            undecided = undecided or verdict is None
        if partial and not undecided:
            first = call.args[0][1] if call.args and call.args[0][0] == 0 else None
            if type(first) is str and first[:1] == "~" and "." in first:
                # partial(instance.refresh, ...) in a receiver: the method of what the
                # parameter holds here, as a call of it would be (PATTERNS.md item 214)
                judged, nodes = self.classify(replace(call, name=first, args=[], refs=[]), env)
                if judged == "edge" or judged.startswith((DISPATCH, BACKGROUND, "heavy:")):
                    return judged, nodes
            wrapped = [self.project.resolve(name, module, cls) for name in shaped]
            return "edge", [
                Node(t, self.partial_context(call, t, env) if t.kind == "F" else ())
                for t in wrapped
                if t is not None and t.kind in ("F", "V")
            ]
        method = call.name.rpartition(".")[2]
        if resolved is not None and resolved.kind == "X" and self.implicit.is_write(method):
            users = self.implicit.user_write(resolved.name, method)
            if users:
                return "edge", [Node(t) for t in users]  # Django's User saved or deleted
        if method in M2M_TAILS:
            changed = self.m2m_targets(call, env)
            if changed:
                return "edge", changed
        project_call = resolved is not None and resolved.kind in _PROJECT_KINDS
        if not project_call and any(markers.background(n) for n in names):
            if call.flags & (AWAITED | WAITED):
                heavy = next(filter(None, map(markers.heavy, names)), None)
                if heavy:  # proc = Popen(cmd); proc.wait(): a subprocess in the request
                    return "heavy:" + heavy, []
                given = self.given_heavy(call)  # await loop.run_in_executor(None, sp.run, c)
                return (f"heavy:{given}" if given else "edge"), self.ref_targets(call, module, cls)
            if call.flags & RETURNED:  # return asyncio.create_task(...): the caller's (its
                return _HANDED, []  # work is not counted in the request: the caller may drop it
            if self.hosts_event_loop(call, module, cls):
                return "", []  # the loop's coroutines are handed over, and counted, one by one
            return BACKGROUND, []
        for name in names:
            configured = markers.configured_heavy(name)
            if configured:
                return "heavy:" + configured, self.edge_targets(
                    call, resolved, env, receiver_class=known
                )
        if resolved is not None and resolved.kind == "V":
            inherited = self.inherited_heavy(resolved)
            if inherited:  # PatchedSMTP(smtplib.SMTP)(...).sendmail(): the library's own
                return "heavy:" + inherited, []
        if project_call:
            return "edge", self.edge_targets(call, resolved, env, receiver_class=known)
        if any(markers.runner(n) for n in names) and not any(markers.heavy(n) for n in names):
            # a runner calls what it is given; a model's run_sync is the work itself; a
            # library function given is the work its call is (PATTERNS.md item 190)
            kind = self.given_heavy(call)
            return (f"heavy:{kind}" if kind else "edge"), self.ref_targets(call, module, cls)
        for name in names:
            heavy = markers.heavy(name)
            if heavy:
                return "heavy:" + heavy, []
        base, _, tail = call.name.rpartition(".")
        if base.endswith("hook") and base.rpartition(".")[2] == "hook":
            implementations = self.implicit.hook_implementations(tail)
            if implementations:
                return "edge", [Node(t) for t in implementations]
        if tail in ORM_WRITES and call.args:
            model = self.orm_model(call, env)
            if model is not None:
                listeners = self.implicit.orm_event_targets(model, ORM_WRITES[tail])
                if listeners:
                    return "edge", [Node(t) for t in listeners]
        if tail == "save" and call.name.count(".") >= 2:
            stored = self.file_field_save(call, env)
            if stored is not None:
                return stored
        if tail in ("send", "send_robust", "asend"):
            signal = call.name.rsplit(".", 1)[0]
            receivers = self.implicit.signal_targets(signal, module, self.sender_of(call, env))
            if receivers:
                return "edge", [Node(t) for t in receivers]
            if resolved is not None and _library_signal(resolved):
                return LIBRARY_SIGNAL, []
        if resolved is None and call.name.endswith(".as_view()"):
            view = env.resolve(call.name[: -len(".as_view()")])
            if view is not None and view.kind == "C":
                handlers = self.implicit.view_handlers(view, env.request_method)
                return "edge", [Node(t) for t in handlers]
        if (resolved is None or resolved.kind == "X") and call.name.endswith("()"):
            named = self.looked_up(call, env)
            if named:
                return "edge", [Node(t) for t in named]  # get_action("create")(ctx)
        if resolved is None and (call.refs or (call.name.endswith("[]") and call.passed())):
            # handlers[kind](...), and through a variable: method = handlers.get(kind)
            return "edge", self.ref_targets(call, module, cls)
        if resolved is None or resolved.kind == "X":
            picked = self.picked_from_table(call.name, module)
            if picked:  # VIEWS[name](request), VIEWS.get(name)(request): any entry may run
                return "edge", [Node(t) for t in picked]
            registered = self.class_registries.registered(call, env)
            if registered is not None:  # Base.get(name=key).execute(): any subclass's
                return "edge", self.registered_nodes(call, registered, env)
        unknown_value = resolved is None or _unknown_row(resolved) or held_at_run_time(resolved)
        if unknown_value and "." in call.name:
            candidates = self.duck_candidates(
                tail, lambda: self.written_receiver(call, env), env.module
            )
            # one the call cannot bind to is not what it calls (PATTERNS.md item 241)
            candidates = [t for t in candidates if self.accepts(t, call)]
            if candidates:
                note = GUESSED_DUCK.format(name=tail)
                # a guessed method still gets what the call passes (``asynchronous=False``
                # rules out its ``if asynchronous:`` branch)
                nodes = [Node(t, self.arguments.bind(call, t, env)) for t in candidates]
                self._guesses = {n: note for n in nodes}
                returned = self.common_result(candidates)
                if returned is not None:  # spec.update_or_create() -> "Schedule": typed
                    env.results[call.name + "()"] = returned
                    env.guessed_results = (*env.guessed_results, (call.name + "()", tail))
                return "edge", nodes
        if undecided:
            return UNRESOLVED_DISPATCH, []
        if (
            (resolved is None or held_at_run_time(resolved))
            and "." in call.name
            and tail not in BUILTIN_METHODS
            # a project method of that name the call could bind to (none: not the
            # project's, a library's method of the same name; PATTERNS.md item 241)
            and any(self.accepts(t, call) for t in self.project.methods_named(tail, module))
        ):
            return UNRESOLVED_CALL, []
        if (
            (resolved is None or resolved.kind == "X")
            and tail not in BUILTIN_METHODS
            and unfollowed_lookup(call, env)
        ):
            return UNRESOLVED_CALL, []  # registry.get(name).do(): what name holds is not seen
        if resolved is None and base and self.given_callable(base, tail, env):
            return GIVEN_CALLABLE, []  # mount_point.view(request): what its maker was passed
        if call.name.startswith(_MODULE_BY_NAME) and tail not in BUILTIN_METHODS:
            # import_module(f"sdk.sms.{backend}").client(): a module chosen at run time
            return MODULE_BY_NAME, []  # (PATTERNS.md item 149)
        return "", []

    def file_field_save(self, call: CallSite, env: Env) -> tuple[str, list[Node]] | None:
        """``course.card.save(name, content)`` on a model's file field: the file is written
        to storage, then the row saved (``save=True``, Django's default), its ``save()``
        and receivers run (PATTERNS.md item 130); None when not such a field."""
        holder, field = call.name.rsplit(".", 2)[:2]
        owner = env.resolve(holder)
        if owner is None or owner.kind != "I" or owner.module not in self.project.modules:
            return None
        for mod, qual in self.project.mro(owner.module, owner.name):
            value = self.project.modules[mod].classes[qual].attrs.get(field)
            if value is not None:
                if not value.endswith(("FileField()", "ImageField()")):
                    return None
                if any(k == "save" and v == [False] for k, v in call.args):
                    return "heavy:file_io", []  # card.save(name, content, save=False)
                kind, saved = self.classify(replace(call, name=f"{holder}.save"), env)
                return "heavy:file_io", saved if kind == "edge" else []
        return None

    def given_callable(self, receiver: str, attr: str, env: Env) -> bool:
        """Whether ``receiver.attr`` is what a project object was given when it was made
        (``self.view = view`` in its ``__init__``), a value the audit could not find
        (PATTERNS.md item 117)."""
        owner = env.resolve(receiver)
        if owner is None or owner.kind != "I":
            return False
        for mod, qual in self.project.mro(owner.module, owner.name):
            value = self.project.modules[mod].classes[qual].attrs.get(attr)
            if value is not None:
                return value.startswith("~")
        return False

    def other_queue(
        self,
        name: str,
        names: list[str],
        resolved: Target | None,
        env: Env,
        call_refs: list[str],
    ) -> str:
        """``dispatch:<note>:<system>`` for RQ, Dramatiq, Huey, arq and Taskiq calls, or ""."""
        project = self.project
        if resolved is not None and resolved.kind == "F":
            facts = project.function(resolved)
            if facts is not None and system_of_decorators(self.decorators(resolved)) == HUEY:
                return f"{DISPATCH}::{HUEY}"  # calling a Huey task enqueues it
            return ""
        if name.startswith("django_q.") and (system := external_system(name)):
            # django_q.tasks.schedule(...): django-q's, not a Huey task's .schedule (item 171)
            return f"{DISPATCH}::{system}"
        base, _, tail = name.rpartition(".")
        if tail in TASKIQ_KICK and ".kicker()" in base:
            base = base.partition(".kicker()")[0]  # task.kicker().with_labels(...).kiq()
        if base and tail in DRAMATIQ_SEND | HUEY_SCHEDULE | TASKIQ_KICK:
            wanted = {DRAMATIQ: DRAMATIQ_SEND, HUEY: HUEY_SCHEDULE, TASKIQ: TASKIQ_KICK}
            passed = env.resolve(base) if base[:1] == "~" else None
            if passed is not None and passed.kind == "F":
                # def send(actor, *a): actor.send(*a), given an actor (PATTERNS.md item 181)
                system = self.system_of(passed)
            else:
                system = self.job_system(base, env.module, env.cls, env.selftype)
            if tail in wanted.get(system, ()):
                return f"{DISPATCH}::{system}"
            return ""
        if resolved is not None and resolved.kind in _PROJECT_KINDS:
            return ""
        if tail == "partial" and name in ("functools.partial", "partial"):
            # partial(queue.enqueue, f, ...) handed to on_commit or a caller: the enqueue
            names = call_refs
        for candidate in names:
            system = external_system(candidate)
            if system:
                sure = candidate.startswith(("rq.", "django_rq.", "arq.", "dramatiq.", "django_q."))
                return f"{DISPATCH}:{'' if sure else BY_NAME}:{system}"
        return ""

    def looked_up(self, call: CallSite, env: Env) -> list[Target]:
        """``get_action("datastore_create")(...)``: a project function called with one
        literal name returns something the audit cannot follow; the project functions that
        its tables map that name to (``{"datastore_create": create, ...}``) are what runs."""
        lookup = call.name[:-2]
        inner = next((c for c in env.calls if c.name == lookup and c.line == call.line), None)
        if inner is None or len(inner.args) != 1:
            return []
        key, value = inner.args[0]
        if key != 0 or type(value) is not list or type(value[0]) is not str:
            return []
        found = env.resolve(lookup)
        if found is None or found.kind != "F":
            return []
        return self.named_functions(value[0])

    def called_queues(self) -> set[str]:
        """Keys of the queues of callables some loop in the project calls (partials.py)."""
        if self._called_queues is None:
            self._called_queues = {
                key for facts in self.project.modules.values() for key in facts.called_queues
            }
        return self._called_queues

    def named_functions(self, name: str) -> list[Target]:
        if name not in self._named:
            out: list[Target] = []
            for module, facts in self.project.modules.items():
                for ref in facts.named.get(name, ()):
                    target = self.project.resolve(ref, module)
                    if target is not None and target.kind == "F" and target not in out:
                        out.append(target)
            self._named[name] = out
        return self._named[name]

    def table_of(self, receiver: str, module: str) -> list[Target]:
        """The project functions of a module-level table ``receiver`` picks from
        (``app.jobs.TASKS[]``), when every entry is one; else []."""
        table = self._table(receiver, module)
        if table is None:
            return []
        owner, entries = table
        out = []
        for entry in entries:
            ref = entry.get("ref") if isinstance(entry, dict) else None
            target = self.project.resolve(ref, owner) if isinstance(ref, str) else None
            if target is None or target.kind != "F":
                return []
            out.append(target)
        return out

    def thread_started(
        self, call: CallSite, start: Target, env: Env
    ) -> tuple[str, list[Node]] | None:
        """``EmailThread(message).start()`` on a project subclass of ``threading.Thread``
        (or ``multiprocessing.Process``): its ``run()`` goes on after the response unless
        the function joins it (PATTERNS.md item 133); None for another class's ``start``."""
        cls = start.name.partition(":")[0]
        bases = self.project.external_bases(start.module, cls)
        if not any(self.markers.background(b.removesuffix("()")) for b in bases):
            return None
        receiver = call.name.rpartition(".")[0]
        if any(c.name == f"{receiver}.join" for c in env.calls):
            run = self.project.class_attr(Target("C", start.module, cls), "run", 0)
            return "edge", [Node(run)] if run is not None and run.kind == "F" else []
        if call.flags & RETURNED:
            return _HANDED, []
        return BACKGROUND, []

    def inherited_heavy(self, method: Target) -> str:
        """The heavy kind of a library method a project class inherits and does not
        override (``class PatchedSMTP(smtplib.SMTP)``: ``sendmail``, and ``__init__``, the
        library constructor, through ``super().__init__``), by the patterns for that library
        class (PATTERNS.md item 110); "" when none."""
        cls, _, name = method.name.partition(":")
        if not name or self.markers.heavy(f"_.{name}") or self.markers.heavy(f"_().{name}"):
            return ""  # a pattern for any receiver (``*.get_object``): not this library's
        for base in sorted(self.project.external_bases(method.module, cls)):
            dotted = base.removesuffix("()")
            spellings = [f"{dotted}().{name}", f"{dotted}.{name}"]
            if name == "__init__":
                spellings.append(dotted)
            for spelled in spellings:
                kind = self.markers.heavy(spelled)
                if kind:
                    return kind
        return ""

    def picked_from_table(self, called: str, module: str) -> list[Target]:
        """The entries of a module-level table of project functions that a call of one of
        its items runs: ``TABLE[key](...)`` or ``TABLE.get(key)(...)`` (PATTERNS.md item
        108); [] for any other call."""
        if called.endswith(".get()"):
            called = called[: -len(".get()")] + "[]"
        return self.table_of(called, module) if called.endswith("[]") else []

    def _table(self, receiver: str, module: str) -> tuple[str, list[Any]] | None:
        """(module holding it, its entries) of the module-level list or dict ``receiver``
        indexes (``TASKS[]``), when it is a non-empty literal table; else None."""
        if not receiver.endswith("[]"):
            return None
        key = self.project.var_key(receiver[:-2], module)
        if key is None:
            return None
        owner, var = key
        entries = self.project.modules[owner].lits.get(var)
        if not isinstance(entries, list) or not entries:
            return None
        return owner, entries

    def table_methods(self, name: str, module: str) -> list[Target]:
        """``SERVICES[kind].revoke(...)`` on a module-level table whose entries are all
        project objects (instances, classes, modules): the ``revoke`` of every entry that
        has one, since any of them may be picked; [] when an entry is not understood."""
        receiver, _, method = name.rpartition(".")
        # REGISTRY[kind](extras).run(), cls = REGISTRY.get(kind); cls(extras).run(): an
        # instance of whichever class is picked (PATTERNS.md item 154)
        made = receiver.endswith(("[]()", ".get()()"))
        if made:
            receiver = receiver[:-2].removesuffix(".get()")
            receiver = receiver if receiver.endswith("[]") else receiver + "[]"
        table = self._table(receiver, module) if method.isidentifier() else None
        if table is None:
            return []
        owner, entries = table
        out: list[Target] = []
        for entry in entries:
            ref = entry.get("ref") if isinstance(entry, dict) else None
            holder = self.project.resolve(ref, owner) if isinstance(ref, str) else None
            if holder is None or holder.kind not in (("C",) if made else ("I", "C", "M")):
                return []
            target = self.project.resolve(f"{ref}.{method}", owner)
            if target is not None and target.kind == "F" and target not in out:
                out.append(target)
        return out

    def function_verdict(self, target: Target) -> bool | str | None:
        """Is this project function a task (True / BY_CONFIG / False / None)?"""
        facts = self.project.function(target)
        if facts is None:
            return None
        decorators = self.decorators(target)
        if any(d.tail in TASK_DECORATORS for d in decorators):
            return True
        if system_of_decorators(decorators) == RQ:
            return True  # rq's @job gives the function .delay() too
        if self.markers.task_named(f"{target.module}.{target.name}"):
            return BY_CONFIG
        # a decorator no known queue makes may have given it .delay(): another library's
        # task registration (named like one: a guess), another library's decorator, or one
        # of the project's that sets ``func.delay`` ("run later" debouncers): undecided
        # (PATTERNS.md item 140); a plain function has none
        if self.registering_library(target):
            return BY_NAME
        return None if any(self.may_give_delay(d, target.module) for d in decorators) else False

    def waited_here(self, call: CallSite, facts: FunctionFacts, env: Env) -> CallSite:
        """``call`` with its handle's wait as this context sees it: waited when a helper
        it is given waits for it (item 148); not waited when it is waited for only in
        branches the caller's arguments rule out (``if join: task.result()``, item 150)."""
        key = f"{call.line}:{call.col}"
        flags = call.flags
        if not flags & WAITED and key in facts.handed and self.helper_waits(call, facts, env):
            flags = (flags | WAITED) & ~KEPT_UNWAITED
        elif (
            flags & WAITED
            and key in facts.cond_waits
            and self.waits_ruled_out(facts.cond_waits[key], facts, env)
        ):
            flags &= ~WAITED
            if not flags & RETURNED:
                flags |= KEPT_UNWAITED
        return call if flags == call.flags else replace(call, flags=flags)

    @staticmethod
    def waits_ruled_out(waits: list[str], facts: FunctionFacts, env: Env) -> bool:
        """Whether every call at ``waits`` ("line:col") sits in a branch the context's
        arguments rule out; a wait not found (pruned) counts as run."""
        at = {f"{c.line}:{c.col}": c for c in facts.calls}
        return all(
            key in at and env.rules_out(facts.blocks, block_chain(facts.blocks, at[key].block))
            for key in waits
        )

    def helper_waits(self, call: CallSite, facts: FunctionFacts, env: Env) -> bool:
        """Whether the handle ``call`` makes (a Popen, a thread started) is given to a
        function that waits for that parameter (``collect(p)`` doing ``p.wait()``:
        PATTERNS.md item 148)."""
        for name, key in facts.handed.get(f"{call.line}:{call.col}", ()):
            target = env.resolve(name) if isinstance(name, str) else None
            callee = self.project.function(target) if target is not None else None
            if target is None or target.kind != "F" or callee is None or not callee.param_waits:
                continue
            if isinstance(key, str):
                param = key
            else:
                positional = self.passed_positions(target, callee)
                param = positional[key] if isinstance(key, int) and key < len(positional) else ""
            if param in callee.param_waits:
                return True
        return False

    def may_give_delay(self, decorator: Decorator, module: str) -> bool:
        """Whether ``decorator`` may give what it wraps a ``.delay``: one the audit cannot
        read, or a project function that (or whose inner functions) sets one."""
        made = self.project.resolve(decorator.base, module)
        if made is not None and made.kind == "X":
            root = made.name.split(".", 1)[0]
            # functools.lru_cache, staticmethod: Python's own add no .delay
            return root not in sys.stdlib_module_names and root not in _BUILTIN_NAMES
        if made is None or made.kind != "F":
            return decorator.base not in _BUILTIN_NAMES
        functions = self.project.modules[made.module].functions
        inner = f"{made.name}."
        return any(
            attr in ("delay", "apply_async")
            for qualname, facts in functions.items()
            if qualname == made.name or qualname.startswith(inner)
            for _, _, attr in facts.obj_sets
        )

    def registering_library(self, target: Target) -> str:
        """The library whose decorator, named like a task or job registration
        (``task_processor``'s ``@register_task_handler()``), a project function wears; ""."""
        for dec in self.decorators(target):
            tail = dec.tail.lower()
            if not ("task" in tail or "job" in tail or tail == "actor"):
                continue
            made = self.project.resolve(dec.base, target.module)
            if made is not None and made.kind == "X":
                return made.name.split(".", 1)[0]
        return ""

    def decorators(self, target: Target) -> list[Decorator]:
        """A project function's decorators, aliases (``project_task = shared_task``)
        written as what they stand for."""
        facts = self.project.function(target)
        if facts is None:
            return []
        return unaliased(self.project, facts.decorators, target.module)

    def given_heavy(self, call: CallSite) -> str | None:
        """The heavy kind of a library function a runner or an awaited executor call is
        given (``to_thread(requests.get, url)``: http), if any (PATTERNS.md item 190)."""
        given = [v for k, v in call.args if k in (0, 1) and type(v) is str and v[:1] != "~"]
        return next(filter(None, map(self.markers.heavy, given)), None)

    def job_system_of(self, target: Target) -> str:
        return system_of_decorators(self.decorators(target)) or CELERY

    def sender_system(self, receiver: str, env: Env) -> str:
        """The queue system ``receiver.send_task(...)`` sends to: Celery's app, unless the
        receiver is an object of another library's class (karton's ``Producer``), a
        project class deriving from one included: that library (PATTERNS.md item 124)."""
        target = env.resolve(receiver)
        if target is None:
            return CELERY
        if target.kind == "X":
            names: Iterable[str] = [target.name]
        elif target.kind in ("C", "I"):
            names = self.project.external_bases(target.module, target.name)
        else:
            return CELERY
        libraries = {n.split(".", 1)[0] for n in names if n}
        if not libraries or libraries & {"celery", "kombu"}:
            return CELERY
        return min(libraries)

    def job_system(
        self, receiver: str, module: str, cls: str, selftype: Target | None = None
    ) -> str:
        """The queue system a project function is a job of, by its decorators (Celery when
        it is not a project function, or has no telling decorator). ``selftype``: the
        routed class, whose attributes ``self.sync_task`` reads in an inherited method."""
        target = self.project.resolve(receiver, module, cls, selftype=selftype)
        if target is None or target.kind != "F":
            return CELERY
        return self.system_of(target)

    def system_of(self, target: Target) -> str:
        """The queue system a project function is a job of: its decorators', Celery's when
        none tells."""
        return (
            system_of_decorators(self.decorators(target))
            or self.registering_library(target)
            or CELERY
        )

    def partial_context(self, call: CallSite, target: Target, env: Env) -> Ctx:
        """What ``partial(fire, send=send_task)`` binds: the arguments after the function,
        given to it as a call would, so its call of ``send(...)`` is followed (item 181)."""
        shifted = [
            [key - 1 if type(key) is int else key, value]
            for key, value in call.args
            if not (type(key) is int and key == 0)
        ]
        later = replace(call, args=shifted, flags=call.flags & ~ARGS_SEEN)  # more come later
        return self.arguments.bind(later, target, env)

    def with_constructed(self, call: CallSite, ctx: Ctx, env: Env) -> Ctx:
        """``Runner(crunch).run(1)``: the method runs on an object whose ``__init__`` stored
        what the constructor was given (``self.job = job``); add ``self.job`` -> ``crunch``
        to the method's context, for a strategy object that calls ``.delay()`` on it."""
        base = call.name.rpartition(".")[0]
        if not base.endswith("()"):
            return ctx
        made = next((c for c in env.calls if c.name == base[:-2] and c.line == call.line), None)
        owner = env.resolve(base[:-2]) if made is not None else None
        if made is None or owner is None or owner.kind != "C":
            return ctx
        init = self.project.class_attr(owner, "__init__", 0)
        if init is None or init.kind != "F":
            return ctx
        facts = self.project.function(init)
        if facts is None:
            return ctx
        params = [p for p in facts.params if not p.startswith("*")][1:]  # without self
        given: dict[str, Value] = {}
        for key, value in made.args:
            name = params[key] if type(key) is int and key < len(params) else key
            if type(name) is str and type(value) is str and value[:1] != "~":
                bound = self.arguments.value(value, env)
                if bound is not None and bound[0] == "t" and bound[1] == "F":
                    given[name] = bound
        if not given:
            return ctx
        extra: dict[str, Value] = dict(ctx)
        init_module, init_owner = init.module, self.project.class_of(init.module, init.name)
        attrs = self.project.modules[init_module].classes[init_owner].attrs if init_owner else {}
        for attr, value in attrs.items():
            if value[:1] == "~" and value[1:] in given:
                extra["self." + attr] = given[value[1:]]
        return tuple(sorted(extra.items())) if len(extra) <= MAX_CTX else ctx

    def carried_attrs(self, call: CallSite, callee: Target, env: Env) -> Ctx:
        """``self.object = form.save(); self.finish()``: ``finish`` reading ``self.object``
        gets what it holds, typed (self_attrs.py)."""
        if not env.attr_sets or call.name.count(".") != 1:
            return ()
        facts = self.project.function(callee)
        if facts is None or not facts.reads:
            return ()
        out: list[tuple[str, Value]] = []
        own = {entry[2] for entry in facts.attr_sets}  # what the callee assigns is its own
        reads = [attr for attr in facts.reads if attr not in own]
        for key, value in attr_context(env.attr_sets, call.line, call.col, reads).items():
            found = env.resolve(value)
            if found is not None and found.kind in ("C", "I", "Q"):
                out.append((key, typed(found)))
        return tuple(out)

    def orm_model(self, call: CallSite, env: Env) -> Target | None:
        """The project model class of the object ``session.add(...)`` is given: made in the
        call, or a parameter the caller passed one to (``def save(obj):
        session.add(obj)``, PATTERNS.md item 81)."""
        first = next((value for key, value in call.args if key == 0), None)
        if type(first) is str and first[:1] == "~":
            passed = env.resolve(first)
            if passed is not None and passed.kind == "I":
                return Target("C", passed.module, passed.name)
            return None
        if type(first) is not str or not first.endswith("()"):
            return None
        found = env.resolve(first[:-2])
        return found if found is not None and found.kind == "C" else None

    def registered_nodes(self, call: CallSite, registered: Registered, env: Env) -> list[Node]:
        """The method of each class a registry may return, run for that class; a guess
        (the endpoint is ``likely``) unless every one of them dispatches."""
        nodes = []
        for cls, method in registered.methods:
            ctx = self.arguments.bind(call, method, env)
            nodes.append(Node(method, (*ctx, *self_context(self.project, method, cls, exact=True))))
        if all(self.reaches_dispatch(node) for node in nodes):  # (resets self._guesses)
            return nodes
        base = registered.base.name
        for (cls, _), node in zip(registered.methods, nodes, strict=True):
            self._guesses[node] = GUESSED_REGISTERED.format(cls=cls.name, base=base)
        return nodes

    def reaches_dispatch(self, node: Node) -> bool:
        """Whether a function dispatches, itself or a few calls down (a bounded look)."""
        seen, frontier = {node}, [node]
        for _ in range(_REACH_DEPTH + 1):
            following: list[Node] = []
            for current in frontier:
                summary = self.summary(current)
                if summary is None:
                    continue
                if summary.dispatches:
                    return True
                for edge in summary.edges:
                    if edge not in seen and len(seen) < _REACH_NODES:
                        seen.add(edge)
                        following.append(edge)
            frontier = following
        return False

    def common_result(self, candidates: list[Target]) -> Target | None:
        """The project class every candidate method returns an instance of (by its return
        value or its return annotation), or None when they do not agree or say nothing. A
        base class's instance is followed as any receiver of that class: with the overrides
        of its subclasses."""
        results = {self.project.call(candidate, 0) for candidate in candidates}
        if len(results) != 1:
            return None
        [result] = results
        return result if result is not None and result.kind in ("I", "Q") else None

    def written_receiver(self, call: CallSite, env: Env) -> str:
        """The name a method is called on, as written (``source`` in ``source.get_backend()``,
        even where the audit bound ``source`` to what it iterates); "" for anything else."""
        facts = self.project.modules.get(env.module)
        if facts is None or call.func_end <= call.col:
            return ""
        raw = self.line_text(facts.relpath, call.line).encode("utf-8", "replace")
        callee = raw[call.col : call.func_end].decode("utf-8", "replace")
        receiver = callee.rpartition(".")[0].rpartition(".")[2].strip()
        return receiver if receiver.isidentifier() else ""

    def duck_candidates(
        self, method: str, receiver_name: Callable[[], str] = lambda: "", caller: str = ""
    ) -> list[Target]:
        """Project methods a call on an object of unknown type may reach.

        One or two classes defining the name: almost always one of them. More: only when
        they all implement one project base class that declares it (a plugin interface),
        as the call is then a call through that interface; or the one the class the receiver
        is named after has (``cabinet.document_add()``: ``Cabinet``'s, its own or inherited);
        or, no class named so, those of the family the name ends (``step.done()``: the
        ``...Step`` classes) when they implement one base that declares it.
        """
        project = self.project
        candidates = project.methods_named(method, caller)
        if len(candidates) <= MAX_DUCK_CANDIDATES:
            return candidates
        if self.one_interface(candidates):
            return candidates
        written = receiver_name()
        if written in ("", "self", "cls"):
            return []
        named = project.class_named_like(written)
        if named is not None:
            # the class's method and its subclasses' overrides: a ``tool`` may be any Tool
            # (PATTERNS.md item 69)
            found = project.class_attr(named, method, 0)
            own = [found] if found is not None and found in candidates else []
            below = [
                c
                for c in candidates
                if c not in own and (named.module, named.name) in project.mro(*self.owner_of(c))
            ]
            return own + below
        # for step in steps: step.done(): the ...Step classes, when they share the method's
        # declaring base (the interface case, among that family only)
        family_name = "".join(part.capitalize() for part in written.split("_"))
        if len(family_name) < 3:
            return []
        family = [
            c for c in candidates if self.owner_of(c)[1].rpartition(".")[2].endswith(family_name)
        ]
        return family if len(family) > 1 and self.one_interface(family) else []

    def accepts(self, method: Target, call: CallSite) -> bool:
        """Whether ``call`` could bind to the method's parameters: False only when every
        argument it passes is known and one the method requires is missing, or it passes
        more positional arguments or a keyword the method does not take. A decorator other
        than Python's own may change the signature: such a method accepts anything."""
        facts = self.project.function(method)
        if facts is None or not call.flags & ARGS_SEEN:
            return True
        tails = {d.tail for d in facts.decorators}
        if tails - _SIGNATURE_KEEPING:
            return True
        params = list(facts.params)
        if params and "staticmethod" not in tails and not params[0].startswith("*"):
            params = params[1:]  # a method called on an object: the first binds to it
        keys = [key for key, _ in call.args]
        if "**" in keys:
            return True
        given = sum(1 for key in keys if type(key) is int)
        words = {key for key in keys if type(key) is str and key.isidentifier()}
        named = [p for p in params if not p.startswith("*")]
        splat = any(p.startswith("*") and not p.startswith("**") for p in params)
        if not splat and given > len(named):
            return False
        if not any(p.startswith("**") for p in params) and words - set(named):
            return False
        return all(
            name in words or named.index(name) < given for name in facts.required if name in named
        )

    def owner_of(self, method: Target) -> tuple[str, str]:
        """(module, class) a method belongs to (``Model.add_to_class`` counted)."""
        added = self.project.additions().owners.get(method)
        return added or (method.module, self.project.class_of(method.module, method.name))

    def one_interface(self, candidates: list[Target]) -> bool:
        """Whether the methods' classes all implement one of them (a plugin interface)."""
        if len(candidates) > MAX_OVERRIDES * 2:
            return False
        owners = [self.owner_of(c) for c in candidates]
        mros = [self.project.mro(m, q) for m, q in owners]
        return any(all(o in mro for mro in mros) for o in owners)

    def is_task(self, receiver: str, module: str, cls: str) -> bool:
        """Whether the object ``.delay()`` is called on is plausibly a Celery task."""
        return self.task_verdict(receiver, module, cls) not in (False, None)

    def task_verdict(
        self, receiver: str, module: str, cls: str, selftype: Target | None = None
    ) -> bool | str | None:
        """Is ``receiver`` a Celery task? True (seen), BY_CONFIG / BY_NAME (what the answer
        rests on), False (shown not to be one), None (could not tell)."""
        markers, project = self.markers, self.project
        if markers.task_named(receiver):
            return BY_CONFIG
        target = project.resolve(receiver, module, cls, selftype=selftype)
        if target is None or target.kind == "V":
            return BY_NAME if plausible_task_name(receiver) else None
        if target.kind == "F":
            return self.function_verdict(target)
        if target.kind in ("C", "I"):
            return any(
                base.startswith("celery") and base.rstrip("()").endswith("Task")
                for base in project.external_bases(target.module, target.name)
            )
        if target.kind == "X":
            if plausible_task_name(target.name):
                return BY_NAME
            return BY_CONFIG if markers.task_named(target.name) else None
        return False

    def computed_attr(self, call: CallSite, env: Env) -> tuple[str, list[Node]]:
        """``getattr(requests, method)(url)``: a function of a library picked at run time,
        by an HTTP verb most often, is that library's kind of work when each of its verb
        functions is of one kind (``requests``, ``httpx``: PATTERNS.md item 146); anything
        else as any value ``getattr`` computes."""
        owner = call.name[: -len(COMPUTED_ATTR)].rstrip(".")
        target = env.resolve(owner)
        if target is None or target.kind == "X":
            library = target.name if target is not None else owner
            kinds = {self.markers.heavy(f"{library}.{verb}") for verb in _HTTP_FUNCTIONS}
            kind = kinds.pop() if len(kinds) == 1 else None
            if kind:
                return "heavy:" + kind, []
        if target is not None and target.kind in ("I", "C"):
            # getattr(component, method)(request): one of the project class's methods,
            # which one known at run time only; said, not dropped (PATTERNS.md item 230)
            return METHOD_BY_NAME, []
        return self.classify(replace(call, name=UNKNOWN_ATTR), env)

    def named_like(self, call: CallSite, env: Env) -> tuple[str, list[Node]]:
        """``getattr(self, f"{mode}_sync")()``: each method of the class (or its bases)
        whose name fits, a possible step (``likely``); none fitting, or no class to look
        in, is a call the audit could not resolve, said so (PATTERNS.md item 92). The
        same for a class or module the receiver names (``getattr(Alert, f"bulk_{x}")()``,
        ``getattr(tasks, f"{kind}_task").delay()``: item 118)."""
        owner_name, pattern, tail = _pattern_parts(call.name.removesuffix("()"))
        names = self._members_like(owner_name, pattern, env) if owner_name else []
        nodes: list[Node] = []
        results = [
            self.classify(replace(call, name=f"{owner_name}.{name}{tail}"), env) for name in names
        ]
        for kind, found in results:
            if kind == "edge":
                nodes.extend(n for n in found if n not in nodes)
        if tail.startswith("."):  # a method of the member: getattr(tasks, ...).delay()
            kinds = {kind for kind, _ in results}
            if len(kinds) == 1 and kinds.pop().startswith("dispatch"):
                return results[0]  # whichever name it is, a task is sent
            # on a value the audit cannot know, as any getattr computed at run time
            return self.classify(replace(call, name=f"{UNKNOWN_ATTR}{tail}"), env)
        if not nodes:
            return UNRESOLVED_CALL, []
        note = GUESSED_NAMED.format(pattern=pattern)
        self._guesses = {n: note for n in nodes}
        return "edge", nodes

    def _members_like(self, owner_name: str, pattern: str, env: Env) -> list[str]:
        """The names fitting ``pattern`` that ``owner_name`` has: the methods of the class
        it is (or of its instance's class, or of ``self``'s), or a module's functions."""
        if owner_name in ("self", "cls"):
            owner = env.selftype or (Target("C", env.module, env.cls) if env.cls else None)
        else:
            owner = env.resolve(owner_name)
        project = self.project
        if owner is None or owner.module not in project.modules:
            return []
        names: dict[str, None] = {}
        if owner.kind == "M":
            for name in project.modules[owner.module].functions:
                if "." not in name and fnmatch.fnmatchcase(name, pattern):
                    names.setdefault(name, None)
            return list(names)
        if owner.kind not in ("C", "I"):
            return []
        for mod, qual in project.mro(owner.module, owner.name):
            for name in project.modules[mod].functions:
                head, _, method = name.rpartition(".")
                if head == qual and fnmatch.fnmatchcase(method, pattern):
                    names.setdefault(method, None)
        return list(names)

    def hosts_event_loop(self, call: CallSite, module: str, cls: str) -> bool:
        """Whether a thread (or process) is started to run an event loop forever:
        ``Thread(target=loop.run_forever)``, or a project function that ends in
        ``loop.run_forever()`` (PATTERNS.md item 90). Such a thread does no work of its own;
        what the request hands it (``run_coroutine_threadsafe``) is background, or inline
        where the request waits for the result."""
        for ref in call.passed():
            if ref.rpartition(".")[2] == "run_forever":
                return True
            target = self.project.resolve(ref, module, cls)
            facts = self.project.function(target) if target is not None else None
            if facts is not None and any(c.name.endswith(".run_forever") for c in facts.calls):
                return True
        return False

    def ref_targets(self, call: CallSite, module: str, cls: str) -> list[Node]:
        """Functions passed as arguments (thread targets, callbacks) that will run."""
        out = []
        for ref in call.passed():
            target = self.project.resolve(ref, module, cls)
            if target is not None and target.kind in ("F", "V"):
                out.append(Node(target))
        return out

    def wrappers_of(self, target: Target) -> list[Node]:
        """The wrappers a call of ``target`` runs besides its body (decorator_wrappers.py),
        with the decorator's parameter bound to ``target``."""
        found = self._wrappers.get(target)
        if found is None:
            found = self._wrappers[target] = []
            cls = self.project.class_of(target.module, target.name)
            for wrapper in wrappers(self.project, target):
                ctx = dict(self.passed_to_factory(wrapper.passed, target.module, cls))
                if wrapper.wrapped:
                    ctx[wrapper.wrapped] = typed(target)
                found.append(Node(wrapper.function, tuple(sorted(ctx.items()))))
        return found

    def passed_to_factory(
        self, passed: dict[str, Any], module: str, cls: str = ""
    ) -> dict[str, Value]:
        """``@validate(Serializer)``: the factory's parameters given a class or function.
        A decorator on a method sees the names of the class body above it: ``@after(hook)``
        passes the class's own ``hook`` (PATTERNS.md item 96)."""
        out: dict[str, Value] = {}
        for name, value in passed.items():
            ref = value.get("ref", "") if isinstance(value, dict) else ""
            found = None
            bare = ref.removeprefix(module + ".")  # rendered as a name of the module
            if ref and cls and "." not in bare:
                own = Target("F", module, f"{cls}.{bare}")
                found = own if self.project.function(own) is not None else None
            found = found or (self.project.resolve(ref, module) if ref else None)
            if found is not None and found.kind in ("C", "F"):
                out[name] = typed(found)
        return out

    def passed_positions(self, callee: Target, facts: FunctionFacts) -> list[str]:
        """The parameters a call's positional arguments bind, in order (``*args`` last):
        without ``self`` / ``cls``, which a call of a method does not pass."""
        positional = [p for p in facts.params if not p.startswith("**")]
        static = any(d.tail == "staticmethod" for d in facts.decorators)
        if positional and self.project.class_of(callee.module, callee.name) and not static:
            positional = positional[1:]
        return positional

    def callbacks_run(self, call: CallSite, callee: Target, env: Env) -> list[Node]:
        """Functions passed to a project function that it calls, passes on or returns; one
        it only stores (``register("n", handler)``) does not run in this request."""
        facts = self.project.function(callee)
        uses = self.arguments.uses(callee)
        if facts is None or uses is None or uses.extras_run:
            return self.ref_targets(call, env.module, env.cls)
        positional = self.passed_positions(callee, facts)
        used = (uses.heads - uses.enqueued) | uses.forwarded
        kept = list(call.refs)
        for key, value in call.args:
            if type(value) is not str or value[:1] == "~":
                continue
            name = positional[key] if type(key) is int and key < len(positional) else key
            if type(name) is not str or name[:1] == "*" or name in used:
                kept.append(value)
        out = []
        for ref in kept:
            target = self.project.resolve(ref, env.module, env.cls)
            if target is not None and target.kind in ("F", "V"):
                out.append(Node(target))
        return out

    def edge_targets(
        self,
        call: CallSite,
        resolved: Target | None,
        env: Env,
        bound: bool | None = None,
        receiver_class: Target | None = None,
    ) -> list[Node]:
        """What a call of a project function (or a write) runs. ``receiver_class``: the class of
        the object the method is called on, known exactly (a registry lookup keyed by it),
        so the method is that class's and not one of its subclasses' overrides."""
        project, arguments = self.project, self.arguments
        base, _, tail = call.name.rpartition(".")
        # save(update_fields=[...]) only updates: in the save code, self.pk is set
        updates = tail in SAVE_TAILS and ("created", literal(False)) in signal_context(
            call, tail, Write(), env.lits
        )
        known = {HAS_PK: literal(True), ADDING: literal(False)} if updates else None
        out: list[Node] = []
        if resolved is not None:
            if resolved.kind == "F":
                on_base = base_call_on_self(project, call, resolved, env.module, env.cls)
                ctx = arguments.bind(on_base or call, resolved, env, known)
                ctx = self.with_constructed(call, ctx, env)
                on_self = on_base is not None or call.name.split(".", 1)[0] in ("self", "super()")
                # a closure of this method's class, called here: it runs with this ``self``
                closure = (
                    not on_self
                    and resolved.module == env.module
                    and resolved.name.startswith(f"{env.cls}.")
                    and project.closure_owner(resolved) == env.cls
                )
                if on_self or closure:
                    # an inherited method (or super()'s) runs for the class this one ran
                    # for: the routed class, or this method's own class (a mixin reading
                    # ``self.sync_task``, a base ``put`` calling ``self.post_update``)
                    own = Target("C", env.module, env.cls) if env.cls else None
                    ran_for = env.selftype or own
                    ctx = (*ctx, *self_context(project, resolved, ran_for, exact=env.exact))
                    ctx = (*ctx, *self.carried_attrs(call, resolved, env))
                if receiver_class is not None:
                    ctx = (*ctx, *self_context(project, resolved, receiver_class, exact=True))
                elif not on_self and base:
                    # ``answer.delete()`` on an instance of a known class: an inherited method
                    # runs for that class, so its super() follows that class's MRO
                    ctx = (*ctx, *self_context(project, resolved, instance_class(env, base)))
                out.append(Node(resolved, ctx))
                out.extend(self.wrappers_of(resolved))
                out.extend(self.callbacks_run(call, resolved, env))
                # ``Base.m(self)`` names the method it runs: no subclass overrides it there
                exact = (
                    receiver_class is not None
                    or on_base is not None
                    or (on_self and env.exact and call.name.count(".") == 1)
                )
                if not exact:
                    # ``self.hook()`` for a class known exactly runs the hook of its MRO
                    # (resolved above), as does a method of a class looked up by name;
                    # another receiver may be any subclass
                    note = GUESSED_OVERRIDE.format(name=resolved.name)
                    for override in self.overrides(resolved):
                        self._guesses[Node(override)] = note
                        out.append(Node(override))
                if ctx:
                    returned = arguments.returned(resolved, ctx)
                    if returned is not None:
                        env.results[call.name + "()"] = returned
            elif resolved.kind in ("C", "I"):
                method = "__init__" if resolved.kind == "C" else "__call__"
                found = project.class_attr(resolved, method, 0)
                if found is not None and found.kind == "F":
                    out.append(Node(found, arguments.bind(call, found, env)))
            elif resolved.kind == "V" and self.implicit.expansions(resolved):
                out.append(Node(resolved, self.virtual_context(call, resolved, env)))
        writes = self.implicit.is_write(tail) or tail == "update"
        if writes and ["commit", [False]] not in call.args:
            receiver = env.resolve(base) if base else None
            if receiver_class is not None:
                receiver = Target("I", receiver_class.module, receiver_class.name)
            if base.startswith("super") and env.selftype is not None:
                # super() in a base serializer's method run for a subclass: its Meta.model
                receiver = project.resolve(base, env.module, env.cls, selftype=env.selftype)
            serializer = receiver is not None and self.implicit.is_serializer_super(receiver)
            if tail == "update" and not serializer:
                receiver = None  # queryset.update(): no save, no signals
            same = receiver is not None and receiver.kind == "S" and env.function == tail
            if same and not serializer:
                receiver = None  # save() calling super().save(): its caller's write fires
            if receiver is not None:
                if bound is None and tail in SAVE_TAILS:
                    bound = made_with_instance(call, env.calls)
                write = self.implicit.write_targets(receiver, tail, bound)
                for target in write.code:
                    direct = write.direct and tail not in CREATE_TAILS
                    # code the framework runs (a save() under create(), a serializer's
                    # hooks) gets none of the call's arguments: its parameters keep their
                    # defaults
                    ctx = (
                        arguments.bind(call, target, env, known)
                        if direct
                        else arguments.bind(
                            _FRAMEWORK_CALL, target, env, self.framework_known(target, write, tail)
                        )
                    )
                    # the instance saved was built for its class (a serializer the view
                    # made): its own hooks run, not those of its subclasses
                    ctx = (*ctx, *self_context(project, target, write.selftype, exact=True))
                    out.append(Node(target, ctx))
                signal = dict(signal_context(call, tail, write, env.lits))
                for target in write.receivers:
                    out.append(self.receiver_node(target, arguments.specialize(target, signal)))
        return out

    def receiver_node(self, target: Target, ctx: Ctx) -> Node:
        """A receiver a write fires; one connected for run-time senders is a guess."""
        node = Node(target, ctx)
        if target in self.implicit.guessed_receivers:
            self._guesses[node] = GUESSED_SENDER
        return node

    def framework_known(self, hook: Target, write: Write, tail: str) -> dict[str, Value] | None:
        """What framework code run by a write knows: the instance a serializer hook gets,
        and ``self._state.adding`` in the ``save()`` that ``create()`` runs (a new row)."""
        known = self.framework_instance(hook, write)
        if tail in CREATE_TAILS and not tail.startswith(_MAYBE_EXISTING):
            known = {**(known or {}), ADDING: literal(True)}
        return known

    def framework_instance(self, hook: Target, write: Write) -> dict[str, Value] | None:
        """DRF's ``save()`` calls a serializer's ``update(instance, validated_data)`` with the
        view's object, an instance of the serializer's ``Meta.model``: the hook's first
        parameter gets that type, so ``instance.save()`` there fires the model's receivers
        (PATTERNS.md item 19)."""
        owner = write.selftype
        if owner is None or hook.kind != "F" or not hook.name.endswith(".update"):
            return None
        facts = self.project.function(hook)
        model = self.project.model_of(owner.module, owner.name)
        if facts is None or model is None:
            return None
        params = [p for p in facts.params if not p.startswith("*")][1:]  # after self
        if not params:
            return None
        return {params[0]: typed(Target("I", model.module, model.name))}

    def m2m_targets(self, call: CallSite, env: Env) -> list[Node]:
        """``order.tags.add(tag)``: the ``m2m_changed`` receivers of that field."""
        base, _, tail = call.name.rpartition(".")
        owner, _, field = base.rpartition(".")
        if tail not in M2M_TAILS or not owner:
            return []
        write = self.implicit.m2m_write(env.resolve(owner), field)
        signal = dict(signal_context(call, tail, write, env.lits))
        return [
            self.receiver_node(t, self.arguments.specialize(t, signal)) for t in write.receivers
        ]

    def overrides(self, target: Target) -> list[Target]:
        """An abstract method stands for its overrides (services behind an interface)."""
        facts = self.project.function(target)
        if facts is None or not facts.is_stub:
            return []
        owner = self.project.class_of(target.module, target.name)
        if not owner:
            return []
        method = target.name.rsplit(".", 1)[-1]
        out = []
        for mod, qual in self.project.subclasses(target.module, owner):
            if f"{qual}.{method}" in self.project.modules[mod].functions:
                out.append(Target("F", mod, f"{qual}.{method}"))
                if len(out) >= MAX_OVERRIDES:
                    break
        if not out and self.is_protocol(target.module, owner):
            out = self.implementations(target, method)
        return out

    def is_protocol(self, module: str, cls: str) -> bool:
        """Whether a project class is a ``typing.Protocol`` (its methods are stubs that
        classes match by shape, deriving from it or not)."""
        return any(
            b.rstrip("()").rsplit(".", 1)[-1] == "Protocol"
            for b in self.project.external_bases(module, cls)
        )

    def implementations(self, stub: Target, method: str) -> list[Target]:
        """The project's methods named like a Protocol's stub, outside Protocols: a value
        typed by the Protocol is an object of one of their classes (PATTERNS.md item 131)."""
        out = []
        for found in self.project.methods_named(method, stub.module):
            if found == stub:
                continue
            module, cls = self.owner_of(found)
            if cls and not self.is_protocol(module, cls):
                facts = self.project.function(found)
                if facts is not None and not facts.is_stub:
                    out.append(found)
        return out[:MAX_OVERRIDES]

    @staticmethod
    def virtual_context(call: CallSite, resolved: Target, env: Env) -> Ctx:
        """``self.list()`` inherited from the framework, on a class known exactly (the
        routed class): the framework's body runs for that class, so the hooks it calls back
        are that class's, not any subclass's override (PATTERNS.md item 160)."""
        cls = resolved.name.partition(":")[0]
        selftype = env.selftype
        if (
            not env.exact
            or selftype is None
            or call.name.split(".", 1)[0] != "self"
            or (selftype.module, selftype.name) != (resolved.module, cls)
        ):
            return ()
        return ((SELF_EXACT, typed(selftype)),)

    def summarise_virtual(self, node: Target, ctx: Ctx = ()) -> FunctionSummary | None:
        project = self.project
        cls, _, method = node.name.partition(":")
        facts = project.modules.get(node.module)
        if facts is None:
            return None
        summary = FunctionSummary(label=f"{facts.relpath}:{cls}.{method}", relpath=facts.relpath)
        heavy = self.inherited_heavy(node)
        klass = facts.classes.get(cls)
        if heavy and klass is not None:  # class Reset(PasswordResetView): its post() mails
            summary.sites.append(
                Site(heavy, facts.relpath, klass.line, f"{cls}.{method} (inherited)", "", "")
            )
        view = Target("C", node.module, cls)
        chosen = self.action_serializer(view, method)  # get_serializer_class() by self.action
        serializers = [chosen] if chosen is not None else self.returned_serializers(view)
        envs: list[tuple[Target | None, Env]] = [
            (s, Env(project, node.module, cls, (*ctx, (_CHOSEN, typed(s))))) for s in serializers
        ] or [(None, Env(project, node.module, cls, ctx))]
        for written in self.implicit.expansions(node):
            for serializer, env in envs:
                name, passed = written, _FRAMEWORK_ARGS.get(written)
                if serializer is not None:
                    if serializer != serializers[0] and _GET_SERIALIZER not in f"{name}{passed}":
                        continue  # the same call for every serializer: made once
                    name = name.replace(_GET_SERIALIZER, "~" + _CHOSEN)
                    passed = passed and passed.replace(_GET_SERIALIZER, "~" + _CHOSEN)
                args = [[0, passed]] if passed else []
                call = CallSite(name, 0, 0, -1, -1, 0, -1, -1, [], args)
                resolved = (
                    env.resolve(name)
                    if serializer is not None
                    else project.resolve(name, node.module, cls)
                )
                if resolved is None and name == _SERIALIZER_SAVE:
                    unread = self.unread_serializer(view)
                    if unread is not None:
                        summary.sites.append(unread)
                for edge in self.edge_targets(call, resolved, env, FRAMEWORK_BOUND.get(method)):
                    if edge not in summary.edges and edge.target != node:
                        summary.edges.append(edge)
        return summary

    def returned_serializers(self, view: Target) -> list[Target]:
        """The serializers a view's own ``get_serializer()`` or ``get_serializer_class()``
        override may hand back, when it returns more than one (``ExportSerializer(...)`` on
        one branch, ``super().get_serializer(...)`` on the other; PATTERNS.md item 204):
        each one's save may run. [] for one or none (the usual resolution applies)."""
        project = self.project
        for attr, made in (("get_serializer", "I"), ("get_serializer_class", "C")):
            getter = project.class_attr(view, attr, 0)
            if getter is None or getter.kind != "F":
                continue
            found = [t for t in project.returned(getter, view, 0) if t.kind == made]
            classes = list(dict.fromkeys(Target("I", t.module, t.name) for t in found))
            if len(classes) > 1:
                return classes
        return []

    def representations(self, call: CallSite, env: Env) -> list[Node]:
        """What reading a call's arguments runs: ``Response(serializer.data)`` a DRF
        serializer's ``to_representation`` (and so its method fields' getters, implicit.py),
        ``asdict(connection.state)`` the property ``state`` of the connection's class."""
        out: list[Node] = []
        properties = self.project.property_names()
        for _key, value in call.args:
            if type(value) is not str or value.endswith(")"):
                continue
            attr = value.rpartition(".")[2]
            read = self.property_read(value, env) if attr in properties else None
            if read is not None:  # asdict(connection.state): the property's body runs
                out.append(read)
                continue
            shown = self.serializer_data(value, env) if attr == "data" else None
            if shown is not None:
                out.append(shown)
        return out

    def serializer_data(self, value: str, env: Env) -> Node | None:
        """``serializer.data`` (rendered): the representation of a project serializer's
        instance, which its ``SerializerMethodField`` getters are part of."""
        if "." not in value:
            return None
        instance = env.resolve(value[: -len(".data")])
        if instance is None or instance.kind != "I":
            return None
        tails = self.project.base_tails(instance.module, instance.name)
        if not any("Serializer" in t for t in tails):
            return None
        shown = self.project.class_attr(instance, "to_representation", 0)
        if shown is None or shown.kind not in ("F", "V"):
            return None
        ctx = self_context(self.project, shown, Target("C", instance.module, instance.name))
        return Node(shown, ctx if shown.kind == "F" else ())

    def property_read(self, value: str, env: Env) -> Node | None:
        """The project property ``value`` (``connection.state``, rendered) reads, if it is
        one: an instance of a project class, and a method of it marked as a property."""
        base, _, attr = value.rpartition(".")
        instance = env.resolve(base) if base and attr.isidentifier() else None
        if instance is None or instance.kind != "I":
            return None
        found = self.project.class_attr(instance, attr, 0)
        if found is None or found.kind != "F":
            return None
        facts = self.project.function(found)
        if facts is None or not facts.is_property:
            return None
        cls = Target("C", instance.module, instance.name)
        return Node(found, self_context(self.project, found, cls))

    @staticmethod
    def sender_of(call: CallSite, env: Env) -> Target | None:
        """The sender a ``signal.send(...)`` names (``sender=`` or its first argument), when
        it resolves; None otherwise."""
        for key, value in call.args:
            if key in ("sender", 0):
                return env.resolve(value) if type(value) is str else None
        return None

    def unread_serializer(self, view: Target) -> Site | None:
        """The inherited ``serializer.save()`` as an unresolved call at the view's own
        serializer getter, when that getter returns a class the analysis cannot read (a
        table looked up by ``self.action``, PATTERNS.md item 199); None without one."""
        project = self.project
        getter = project.own_getter(view, "serializer_class", 0)
        if getter is None:  # one that hands back super()'s class on some path only
            found = project.class_attr(view, "get_serializer_class", 0)
            getter = found if found is not None and found.kind == "F" else None
        facts = project.function(getter) if getter is not None else None
        if getter is None or facts is None:
            return None
        relpath = project.modules[getter.module].relpath
        return Site(
            UNRESOLVED_CALL, relpath, facts.line, _SERIALIZER_SAVE + "()", CHOSEN_SERIALIZER
        )

    def action_serializer(self, view: Target, method: str) -> Target | None:
        """The instance of the serializer class a DRF view's ``get_serializer_class()``
        returns for the action this framework method serves, when it chooses by
        ``self.action``; None when it does not (the usual resolution then applies)."""
        action = _ACTION_OF.get(method, method)
        if action not in _SERIALIZER_ACTIONS:
            return None
        getter = self.project.class_attr(view, "get_serializer_class", 0)
        facts = self.project.function(getter) if getter and getter.kind == "F" else None
        if facts is None or not facts.choices:
            return None
        found = self.project.chosen_class(view, "serializer_class", 0, action)
        if found is None:
            return None
        found = real_class(self.project, found)  # a class replaced when instantiated
        return Target("I", found.module, found.name)
