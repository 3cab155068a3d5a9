"""Registries a metaclass fills by calling a ``register`` function with what it builds.

``class BackendMeta(type): def __new__(mcs, ...): new_class = super().__new__(...);
if ...: find_base(new_class).register(klass=new_class)``: the receiver of ``register`` is
often computed (a base found by a helper), so the call does not resolve, but its name and
its argument say it all: each class the metaclass builds (every subclass of a class whose
``metaclass=`` it is) is handed to ``register``, and so ends up in the registry
``register`` fills (class_registries.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .project import Project, Target

if TYPE_CHECKING:
    from .runtime_senders import RuntimeSenders

_BUILT = ("__new__()", "type()")  # what a metaclass's __new__ makes: the new class


def metaclass_registering(
    project: Project, senders: RuntimeSenders, function: Target, param: str
) -> list[Target]:
    """Metaclasses whose ``__new__`` passes the class it built to ``function`` as
    ``param`` (by keyword or position), the call naming ``function`` or something the
    audit cannot resolve that ends with its name."""
    facts = project.function(function)
    if facts is None:
        return []
    short = function.name.rpartition(".")[2]
    positional = [p.lstrip("*") for p in facts.params if not p.startswith("**")]
    method = bool(project.class_of(function.module, function.name))
    if method and not any(d.tail == "staticmethod" for d in facts.decorators):
        positional = positional[1:]  # cls / self is not passed at the call
    index = positional.index(param) if param in positional else -1
    out: list[Target] = []
    for module, qualname in senders.callers(short):
        if not qualname.endswith(".__new__"):
            continue
        meta = Target("C", module, qualname.rpartition(".")[0])
        if meta.name not in project.modules[module].classes or meta in out:
            continue
        for call in project.modules[module].functions[qualname].calls:
            if call.name.rpartition(".")[2] != short:
                continue
            resolved = project.resolve(call.name, module, meta.name)
            if resolved is not None and resolved != function:
                continue  # another project function of that name
            if any(
                key in (param, index) and type(value) is str and value.endswith(_BUILT)
                for key, value in call.args
            ):
                out.append(meta)
                break
    return out


def metaclass_products(project: Project, meta: Target) -> list[Target]:
    """The project classes ``meta`` builds: those naming it (``metaclass=``) and their
    subclasses."""
    out: list[Target] = []
    for module, facts in project.modules.items():
        for qualname, klass in facts.classes.items():
            named = klass.attrs.get("__metaclass__", "")
            if not named or project.resolve(named, module) != meta:
                continue
            for found in [(module, qualname), *project.subclasses(module, qualname)]:
                target = Target("C", *found)
                if target not in out:
                    out.append(target)
    return out
