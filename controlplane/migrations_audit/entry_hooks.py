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

    def find(name: str) -> _Found | None:
        for position, (mod, qual) in enumerate(mro):
            function = project.modules[mod].functions.get(f"{qual}.{name}")
            if function is not None:
                return _Found(position, Target("F", mod, f"{qual}.{name}"), function)
        return None

    start = find(entry)
    if start is None:
        return {}
    base = start.position

    def hook(name: str, found: _Found, by_verb: bool = False) -> Hook:
        own = found.position < base or found.position == 0
        return Hook(name, found.target, found.function.line, own, by_verb)

    fallback = hook(entry, start)
    found = _walk(start, methods, find, {entry}, 0)
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


def _walk(
    at: _Found,
    methods: list[str],
    find: Callable[[str], _Found | None],
    seen: set[str],
    depth: int,
) -> dict[str, tuple[str, _Found, bool] | None]:
    """Per HTTP method, (name, definition, found by the verb's name) of what the template
    ``at`` hands the request to: a method defined below the template's class, or the
    per-verb method it looks up (its default when the class has none; None when that
    default is ``None``, a refusal); {} when it reaches none."""
    function = at.function
    for raw in function.verbs:
        verbs = VerbDispatch(*raw)
        picked: dict[str, tuple[str, _Found, bool] | None] = {}
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
        found = find(name)
        if found is None or name in seen:
            continue
        if found.position < at.position:
            return dict.fromkeys(methods, (name, found, False))
        deeper = _walk(found, methods, find, seen | {name}, depth + 1)
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
