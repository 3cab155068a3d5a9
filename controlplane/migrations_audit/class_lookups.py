"""Lookups keyed by a class: ``registry.get_by_type(CreateThing).do(user)``.

A registry of instances of project classes is read with the class itself or with one of its
class attributes (``registry.get(CreateThing.type)``); what comes back is the instance of
that class the registry holds, so a method called on it, at once or through a local, runs
the class's own method (or its bases'). The same holds for a library function given the
class (``cast(Model, x)``; ``get_object_or_404(Model, ...)`` is already read as
``Model.objects.get()`` when names are rendered). Only where the analyser cannot tell what the
lookup returns: when the lookup is a project function whose return is known, that answer
stands.

A method called on what a project function takes out of one of its containers
(``return self.registry[type_name]``) with a key that is not a class is a call the audit
cannot follow: it is said, not dropped.
"""

from __future__ import annotations

import builtins
from typing import NamedTuple

from .arguments import Env
from .facts import CallSite
from .project import Project, Target

# super(C, self), isinstance(x, C), type(C), getattr(C, "x"): never an instance of C
_BUILTINS = frozenset(dir(builtins))
# data.copy(), text.strip(): on an object of unknown type these are most likely the
# builtins', so a project method of that name does not make the call "not resolved"
BUILTIN_METHODS = frozenset(
    name for kind in (dict, list, str, set, bytes, tuple) for name in dir(kind)
)
_MAX_HOPS = 3  # ``get_by_type`` returning ``self.get()`` returning ``self.registry[...]``


class Keyed(NamedTuple):
    """A method call on a lookup's result: the class looked up, and its method reached."""

    cls: Target
    method: Target


def lookup_of(call: CallSite, calls: list[CallSite]) -> CallSite | None:
    """The call whose result ``call`` is made on (``lookup`` for ``lookup().do``): on the
    same line, else the latest one before it, whose result a local kept."""
    base = call.name.rpartition(".")[0]
    if not base.endswith("()"):
        return None
    name, here = base[:-2], (call.line, call.col)
    before = [c for c in calls if c.name == name and (c.line, c.col) <= here and c is not call]
    return max(before, key=lambda c: (c.line, c.col), default=None)


def key_class(lookup: CallSite, method: str, env: Env) -> Target | None:
    """The project class the lookup is keyed by, when its result is that class's instance.

    Its first argument is the class: a project function must return what it looked up by
    it (an element of its registry, ``model.get(pk)``), not something it built with it (a
    SQL column of the model); a library's function (``typing.cast``) is taken at its word,
    but not for a builtin container's method (``get_type_hints(C).items()``), nor a method
    of an object of unknown type.

    Or its first argument is a class attribute of it set to a literal
    (``CreateThing.type``): only a project registry is trusted with that
    (``cache.get(C.key)`` is no registry)."""
    if lookup.name in _BUILTINS:
        return None
    first = next((v for k, v in lookup.args if k == 0), None)
    if type(first) is not str or first[:1] == "~":
        return None
    holder = env.resolve(lookup.name)
    project = env.project
    found = env.resolve(first)
    if found is not None and found.kind == "C":
        if holder is not None and holder.kind == "F":
            return found if returns_looked_up(project, holder) else None
        library = holder is not None and holder.kind == "X" and "(" not in holder.name
        return found if library and method not in BUILTIN_METHODS else None
    owner, _, attr = first.rpartition(".")
    cls = env.resolve(owner) if owner else None
    if cls is None or cls.kind != "C" or not _literal_attr(project, cls, attr):
        return None
    if holder is None or holder.kind != "F" or not reads_container(project, holder):
        return None
    return cls


def _literal_attr(project: Project, cls: Target, attr: str) -> bool:
    chain = project.mro(cls.module, cls.name)
    return any(attr in project.modules[m].classes[q].lits for m, q in chain)


def keyed_method(call: CallSite, env: Env) -> Keyed | None:
    """``registry.get_by_type(C).do(...)``: C's ``do`` (or a base's), when C is a project
    class that has one; None otherwise."""
    method = call.name.rpartition(".")[2]
    lookup = lookup_of(call, env.calls) if method.isidentifier() else None
    cls = key_class(lookup, method, env) if lookup is not None else None
    if cls is None:
        return None
    found = env.project.class_attr(Target("I", cls.module, cls.name), method, 0)
    return Keyed(cls, found) if found is not None and found.kind == "F" else None


def reads_container(project: Project, target: Target, hops: int = 0) -> bool:
    """Whether a project function returns an element of a container it or its module holds
    (``self.registry[k]``), itself or through a method of its own it returns."""
    facts = project.function(target)
    if facts is None or hops > _MAX_HOPS:
        return False
    cls = project.class_of(target.module, target.name)
    for value in facts.returns:
        if _element(project, value, target.module):
            return True
        inner = _own_method(project, value, target.module, cls)
        if inner is not None and reads_container(project, inner, hops + 1):
            return True
    return False


def _own_method(project: Project, value: str, module: str, cls: str) -> Target | None:
    """The method of its own class a method returns the result of (``return self.get(k)``)."""
    if not cls or not value.startswith("self.") or not value.endswith("()"):
        return None
    found = project.resolve(value[:-2], module, cls)
    return found if found is not None and found.kind == "F" else None


def returns_looked_up(project: Project, target: Target) -> bool:
    """Whether a project function given a class returns what it looked up by it: an
    element of one of its containers, or what the class itself gives (``model.get(pk)``,
    ``model.objects.get(pk=pk)``, ``model()``), read off its first parameter."""
    facts = project.function(target)
    if facts is None:
        return False
    if reads_container(project, target):
        return True
    params = [p for p in facts.params if not p.startswith("*")]
    if params and params[0] in ("self", "cls") and project.class_of(target.module, target.name):
        params = params[1:]
    if not params:
        return False
    head = "~" + params[0]
    return any(
        value.split(".", 1)[0].rstrip("()[]") == head and value.endswith(("()", "[]"))
        for value in facts.returns
    )


def _element(project: Project, value: str, module: str) -> bool:
    """``self.registry[]``, ``self.registry.values()[]`` (a loop's item), ``REGISTRY[]``: an
    element of a container the class or a module holds (not of what a call returned,
    ``json.loads(text)["k"]``, nor of another object's attribute, ``Event.metadata["k"]``)."""
    if not value.endswith("[]"):
        return False
    held = value[:-2].removesuffix(".values()")
    if "(" in held or "[" in held:
        return False
    if held.count(".") == 1 and held.startswith(("self.", "cls.")):
        return True
    owner = held.rpartition(".")[0]
    found = project.resolve(owner, module) if owner else None
    return found is not None and found.kind == "M"


def unfollowed_lookup(call: CallSite, env: Env) -> bool:
    """A method the project defines, called on what a project function took out of one of
    its containers with a key the audit cannot read: a call it cannot follow."""
    method = call.name.rpartition(".")[2]
    lookup = lookup_of(call, env.calls) if method.isidentifier() else None
    if lookup is None or not env.project.defines_method(method):
        return False
    holder = env.resolve(lookup.name)
    return holder is not None and holder.kind == "F" and reads_container(env.project, holder)
