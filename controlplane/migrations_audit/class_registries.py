"""Class registries looked up by a key the audit cannot read: ``Base.get(name=key).execute()``.

``get`` is a method of the project class ``Base`` that returns what a class-level container
holds (``return cls._registry[name]``, ``cls._registry.get(name)()``), and that container is
filled with classes: each subclass as it is defined (``__init_subclass__``, a metaclass's
``__new__``), or what ``@Base.register`` / ``Base.register(C)`` is given when that is a
project class. Whichever key is passed, what comes back is one of Base's registered
subclasses (or an instance of one): the call runs the method of each project subclass of
Base that defines or inherits it. A container filled with plain functions, or a classmethod
returning a model row (``cls.objects.get(...)``), is no such registry: the call stays as
``class_lookups.unfollowed_lookup`` says.
"""

from __future__ import annotations

from typing import NamedTuple

from .arguments import Env
from .class_lookups import lookup_of
from .facts import CallSite
from .metaclass_fills import metaclass_products, metaclass_registering
from .project import Project, Target
from .runtime_senders import RuntimeSenders
from .wiring import RUNTIME_PARAM

_NEW = ("__new__()", "type()")  # what a metaclass builds: a new class


class Registered(NamedTuple):
    """The class whose registry was read, and (class held, its method) for each class."""

    base: Target
    methods: list[tuple[Target, Target]]


class ClassRegistries:
    """The classes each class-level container of the project holds (cached)."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self._fills: dict[tuple[str, str, str], list[tuple[str, str]]] | None = None
        self._memo: dict[tuple[str, str, str], list[Target]] = {}
        self._senders: RuntimeSenders | None = None

    def registered(self, call: CallSite, env: Env) -> Registered | None:
        """``Base.get(key).m()``: the ``m`` of each class ``get``'s class-level registry
        holds (Base's subclasses, or the classes registered); None when it holds none."""
        method = call.name.rpartition(".")[2]
        lookup = lookup_of(call, env.calls) if method.isidentifier() else None
        holder = env.resolve(lookup.name) if lookup is not None else None
        if lookup is None or holder is None or holder.kind != "F":
            return None
        project = self.project
        home = project.class_of(holder.module, holder.name)
        if not home:
            return None
        owner = env.resolve(lookup.name.rpartition(".")[0]) if "." in lookup.name else None
        base = (
            owner if owner is not None and owner.kind == "C" else Target("C", holder.module, home)
        )
        out: list[tuple[Target, Target]] = []
        seen: set[Target] = set()
        for attr in registry_attrs(project, holder):
            for cls in self.held(base, attr):
                found = project.class_attr(Target("I", cls.module, cls.name), method, 0)
                if found is not None and found.kind == "F" and found not in seen:
                    seen.add(found)
                    out.append((cls, found))
        return Registered(base, out) if out else None

    def held(self, base: Target, attr: str) -> list[Target]:
        """The project classes ``<base or a base of it, or their metaclass>.<attr>`` is
        filled with: every subclass of ``base`` when each puts itself in
        (``__init_subclass__``, a metaclass), else the classes registered."""
        key = (base.module, base.name, attr)
        if key not in self._memo:
            out: list[Target] = []
            for owner in self._owners(base):
                for module, value in self.fills().get((*owner, attr), []):
                    out.extend(c for c in self._classes(value, module, base) if c not in out)
            self._memo[key] = out
        return self._memo[key]

    def _owners(self, base: Target) -> list[tuple[str, str]]:
        """The class's MRO, then its metaclasses' (``__metaclass__``, as extraction keeps a
        ``metaclass=`` keyword)."""
        project = self.project
        chain = project.mro(base.module, base.name)
        out = list(chain)
        for module, qualname in chain:
            meta = project.modules[module].classes[qualname].attrs.get("__metaclass__", "")
            found = project.resolve(meta, module) if meta else None
            if found is not None and found.kind == "C":
                out.extend(m for m in project.mro(found.module, found.name) if m not in out)
        return out

    def _classes(self, value: str, module: str, base: Target) -> list[Target]:
        """What one fill puts in: ``cls`` in ``__init_subclass__`` or what a metaclass built
        (each subclass of ``base``), a project class named outright, or the project classes
        the project's calls (or decorators) pass for a parameter."""
        project = self.project
        subclasses = [Target("C", m, q) for m, q in project.subclasses(base.module, base.name)]
        if value.endswith(_NEW):
            return subclasses
        if value.startswith(RUNTIME_PARAM):
            mod, function, param = value[len(RUNTIME_PARAM) :].rsplit(":", 2)
            facts = project.function(Target("F", mod, function))
            if facts is None:
                return []
            if project.class_of(mod, function) and facts.params[:1] == [param]:
                return subclasses  # cls / self: the class (or instance) the method runs for
            if self._senders is None:
                self._senders = RuntimeSenders(project)
            passed = self._senders.classes(value)
            target = Target("F", mod, function)
            built = self._metaclass_built(target, param, base)
            return passed + self._factory_decorated(target) + built
        found = project.resolve(value, module) if value[:1] not in ("~", "") else None
        return [found] if found is not None and found.kind == "C" else []

    def _metaclass_built(self, function: Target, param: str, base: Target) -> list[Target]:
        """Every class a metaclass builds, when its ``__new__`` hands what it built to
        ``function`` (``<a base>.register(klass=new_class)``): of them, ``base``'s
        subclasses when ``base`` is one."""
        if self._senders is None:
            self._senders = RuntimeSenders(self.project)
        built: list[Target] = []
        for meta in metaclass_registering(self.project, self._senders, function, param):
            built.extend(c for c in metaclass_products(self.project, meta) if c not in built)
        project = self.project
        subclasses = [Target("C", m, q) for m, q in project.subclasses(base.module, base.name)]
        own = [c for c in subclasses if c in built]
        return own if own or base in built else built

    def _factory_decorated(self, function: Target) -> list[Target]:
        """Classes decorated with a call of the function that returns ``function``
        (``@Base.register("flip")``, whose inner ``deco(klass)`` fills the registry)."""
        project = self.project
        parent = Target("F", function.module, function.name.rpartition(".")[0])
        facts = project.function(parent)
        if facts is None or f"{function.module}.{function.name}" not in facts.returns:
            return []
        out = []
        for module, module_facts in project.modules.items():
            for qualname, klass in module_facts.classes.items():
                if any(
                    d.name.endswith("()") and project.resolve(d.base, module) == parent
                    for d in klass.decorators
                ):
                    out.append(Target("C", module, qualname))
        return out

    def fills(self) -> dict[tuple[str, str, str], list[tuple[str, str]]]:
        """(module, class, attribute) -> (module of the fill, what goes in)."""
        if self._fills is None:
            index: dict[tuple[str, str, str], list[tuple[str, str]]] = {}
            project = self.project
            for module, facts in project.modules.items():
                for container, values in facts.fills.items():
                    holder, _, attr = container.rpartition(".")
                    found = project.resolve(holder, module) if holder else None
                    if found is None or found.kind != "C":
                        continue
                    key = (found.module, found.name, attr)
                    index.setdefault(key, []).extend((module, v) for v in values)
            self._fills = index
        return self._fills


def registry_attrs(project: Project, target: Target) -> list[str]:
    """The class-level containers a method returns an element of: ``_registry`` for
    ``cls._registry[]``, ``cls._registry.get()`` or either called (an instance), also one
    level down (``cls._registry.get(cls, {})[name]``: a registry per class)."""
    facts = project.function(target)
    if facts is None:
        return []
    out: list[str] = []
    for value in facts.returns:
        held = value
        if held.endswith("[]()") or held.endswith(".get()()"):
            held = held[:-2]  # an instance of the class looked up
        if held.endswith(".get()"):
            held = held[: -len(".get()")] + "[]"
        head, _, rest = held.partition(".")
        if head not in ("cls", "self") or not rest.endswith("[]"):
            continue
        attr = rest[:-2].removesuffix(".values()")
        attr = attr.removesuffix("[]").removesuffix(".get()")  # keyed by class, then name
        if attr.isidentifier() and attr not in out:
            out.append(attr)
    return out
