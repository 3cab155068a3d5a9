"""The method a routed handler class really answers with, when its entry is on a base.

A base's entry method (``RH.process``, the one a blueprint's view wrapper calls) is a
template: ``process`` -> ``self._do_process()`` -> ``getattr(self,
f"_process_{request.method}", self._process)()``. Each routed subclass is then its own
endpoint, named by the hook it overrides (``RHThing._process``, ``RHThingEdit._process_POST``)
at that hook's ``def``; a class that overrides nothing keeps the base's entry. The hook is
found by following, on the routed class's MRO, the self-calls whose value the template
returns (or its last self-call when it returns none directly) and the per-verb ``getattr``
the extractor records (``verb_dispatch.py``). The same reading serves a Flask ``View`` whose
project ``dispatch_request`` is on a base, and a Django ``dispatch`` that looks up
``handle_<verb>`` instead of ``get``/``post`` (the verbs it answers are those it finds).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from .facts import DISCARDED, FunctionFacts
from .project import Project, Target
from .verb_dispatch import VerbDispatch

MAX_DEPTH = 4  # template methods followed from the entry before giving up
HTTP_METHODS = ("get", "post", "put", "patch", "delete", "head", "options")


class Hook(NamedTuple):
    """The method that answers one HTTP method for a routed class."""

    name: str
    target: Target  # kind "F": the function that runs
    line: int
    own: bool  # defined by the routed class (or a class before the entry's in its MRO)
    by_verb: bool = False  # looked up by a name built from the HTTP method


class _Found(NamedTuple):
    position: int  # position of the defining class in the routed class's MRO
    target: Target
    function: FunctionFacts


def entry_hooks(
    project: Project, module: str, cls: str, entry: str, methods: list[str]
) -> dict[str, Hook]:
    """For each HTTP method, the hook ``entry`` leads to for the routed class ``cls``; the
    entry itself when no override of the class is reached; a method the per-verb lookup
    refuses is left out ({} if ``entry`` is missing)."""
    mro = project.mro(module, cls)

    def find(name: str, first: int = 0) -> _Found | None:
        for position, (mod, qual) in enumerate(mro[first:], first):
            function = project.modules[mod].functions.get(f"{qual}.{name}")
            if function is not None:
                return _Found(position, Target("F", mod, f"{qual}.{name}"), function)
        return None

    def named(call: str, at: _Found) -> _Found | None:
        """What ``Base.m(self)`` in ``at`` runs: ``m`` on the routed class's MRO from
        ``Base`` on, when ``Base`` is a project class after ``at``'s in that MRO."""
        owner, _, method = call.rpartition(".")
        cls_at = project.class_of(at.target.module, at.target.name)
        target = project.resolve(owner, at.target.module, cls_at)
        if target is None or target.kind != "C" or (target.module, target.name) not in mro:
            return None
        position = mro.index((target.module, target.name))
        return find(method, position) if position > at.position else None

    start = find(entry)
    if start is None:
        return {}
    base = start.position

    def hook(name: str, found: _Found, by_verb: bool = False) -> Hook:
        own = found.position < base or found.position == 0
        return Hook(name, found.target, found.function.line, own, by_verb)

    fallback = hook(entry, start)
    found = _walk(_Lookups(find, named), start, methods, {entry}, 0)
    out: dict[str, Hook] = {}
    for http in methods:
        if http not in found:
            out[http] = fallback
        elif (picked := found[http]) is not None:
            out[http] = hook(*picked)
    return out


def answered_verbs(project: Project, module: str, cls: str, entry: str) -> list[str]:
    """The HTTP methods for which ``entry`` (a project ``dispatch``) looks up a method of the
    routed class's MRO by a name built from the verb (``handle_post``); a verb left to the
    lookup's default (a refusal) is not answered."""
    verbs = [v.upper() for v in HTTP_METHODS]
    hooks = entry_hooks(project, module, cls, entry, verbs)
    return [v for v, h in hooks.items() if h.by_verb]


class _Lookups(NamedTuple):
    """Method lookups on the routed class's MRO."""

    find: Callable[..., _Found | None]  # (name, first position) -> first definition
    named: Callable[[str, _Found], _Found | None]  # ("Base.m", caller) -> what it runs


Picked = dict[str, tuple[str, _Found, bool] | None]


def _walk(
    lookups: _Lookups,
    at: _Found,
    methods: list[str],
    seen: set[str],
    depth: int,
    only_named: bool = False,
) -> Picked:
    """Per HTTP method, (name, definition, found by the verb's name) of what the template
    ``at`` hands the request to: a method defined below the template's class, or the
    per-verb method it looks up (its default when the class has none; None when that
    default is ``None``, a refusal); {} when it reaches none. An override below the
    template that hands the request back to a base's template by class name
    (``RH._do_process(self)``, like ``super()``) is walked through, so the routed class's
    own hook, which that base's template reaches, names the endpoint. ``only_named``: follow
    only such class-named calls."""
    find = lookups.find
    function = at.function
    for raw in () if only_named else function.verbs:
        verbs = VerbDispatch(*raw)
        picked: Picked = {}
        for http in methods:
            name = verbs.method_name(http)
            found = find(name)
            if found is not None:
                picked[http] = (name, found, True)
            elif verbs.default and (default := find(verbs.default)) is not None:
                picked[http] = (verbs.default, default, False)
        if picked:
            if verbs.refuses:  # getattr(..., None): the other verbs are answered 405
                picked.update({http: None for http in methods if http not in picked})
            return picked
    if depth >= MAX_DEPTH:
        return {}
    for name in _candidates(function):
        if name in seen:
            continue
        if "." in name:  # Base.m(self): the base's method, run for the routed class
            found = lookups.named(name, at)
            deeper = found and _walk(lookups, found, methods, seen | {name}, depth + 1)
            if deeper:
                return deeper
            continue
        found = find(name)
        if found is None or only_named:
            continue
        if found.position < at.position:
            through = _walk(lookups, found, methods, seen | {name}, depth + 1, only_named=True)
            return through or dict.fromkeys(methods, (name, found, False))
        deeper = _walk(lookups, found, methods, seen | {name}, depth + 1)
        if deeper:
            return deeper
    return {}


def _candidates(function: FunctionFacts) -> list[str]:
    """Methods of ``self`` the template may hand the request to, most likely first. When
    the value of its final ``return`` comes from self-calls, through locals and wrapping
    calls (``res = self._do_process()`` ... ``return make_response(res)``, return_flow.py),
    only those: the data flow is decisive, and an override met only in a guard's early
    return (``if rv := self.normalize_url(): return rv``) or a check does not name the
    endpoint. Else those whose value a return gives, then its other self-calls whose value
    is used, last first (checks come before the work); a call made as a statement of its
    own (``self._check_args()``) is a check: it runs, and the call graph follows it, but
    it never names the endpoint. The walk takes the first that reaches an override or a
    per-verb lookup."""
    if function.flow:
        return function.flow
    calls = [
        call
        for call in function.calls
        if call.name.startswith("self.") and "." not in call.name[5:] and "(" not in call.name
    ]
    used = {call.name[5:] for call in calls if not call.flags & DISCARDED}
    names = [call.name[5:] for call in calls if call.name[5:] in used]
    returned = [n for n in names if f"self.{n}()" in function.returns]
    return list(dict.fromkeys([*returned, *reversed(names)]))
