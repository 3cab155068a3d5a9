"""Views registered through a project decorator and turned into URL patterns by a project
function (issue 14, brief item 3)::

    @register_model_view(Site, "edit")          # records the class in a global registry
    class SiteEditView(generic.ObjectEditView): ...

    path("sites/<int:pk>/", include(get_model_urls("dcim", "site")))   # builds path()s

A *registering decorator* is a project function returning an inner function that takes one
argument, stores something in a module-level object (``registry[...].append(...)``) and
returns the argument unchanged. A *builder* is a project function that calls Django's
``path``/``re_path`` and whose module imports that object (or defines it). Every class or
function decorated with such a decorator is an endpoint. Its route is best effort: the
prefix of the builder's call in a URLconf whose literal arguments name the decorated model
(``"site"`` for ``Site``, Django's model_name) and agree on the parameters both functions
have, joined with the decorator's ``path`` (else its first string argument). Which record
goes to which builder call is decided at run time, so these endpoints are ``likely``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from .facts import Lit, UrlEntry
from .mounts import join_route
from .project import Project, Target

if TYPE_CHECKING:
    from .routes import RouteFinder

NOTE = "registered through {decorator}; the URL is built at run time by {builder}"
_STORES = ("append", "add", "__setitem__", "setdefault", "update", "extend", "insert")
_URL_FUNCS = ("django.urls.path", "django.urls.re_path", "django.conf.urls.url")
_DEFAULT = object()


@dataclass(slots=True)
class BuilderCall:
    """A builder called in a URLconf: under which prefix, with which literal arguments."""

    builder: Target
    route: str
    args: list[Lit]
    kwargs: dict[str, Lit]
    guessed: bool = False  # met in a URLconf the audit placed by a guess (routes.py)


class ViewRegistries:
    """Registering decorators, builders, and the builder calls the URLconf walk meets."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.decorators: dict[Target, str] = {}  # decorator -> registry it stores into
        for module, facts in project.modules.items():
            for function in facts.functions.values():
                registry = self.registry_of(module, function.qualname)
                if registry:
                    self.decorators[Target("F", module, function.qualname)] = registry
        self.builders: dict[Target, set[str]] = {}  # builder -> registries its module sees
        if self.decorators:
            registries = set(self.decorators.values())
            for module, facts in project.modules.items():
                seen = {r for r in registries if _sees(facts.imports, module, r)}
                if not seen:
                    continue
                for function in facts.functions.values():
                    if any(c.name in _URL_FUNCS for c in function.calls):
                        self.builders[Target("F", module, function.qualname)] = seen
        self.calls: list[BuilderCall] = []
        self._by_name: dict[str, list[BuilderCall]] | None = None

    def registry_of(self, module: str, qualname: str) -> str:
        """The module-level object a registering decorator stores into, else ""."""
        facts = self.project.modules[module]
        for returned in facts.functions[qualname].returns:
            inner = facts.functions.get(returned.removeprefix(module + "."))
            if (
                inner is None
                or not returned.startswith(f"{module}.{qualname}.")
                or len(inner.params) != 1
                or f"~{inner.params[0]}" not in inner.returns
            ):
                continue
            for call in inner.calls:
                holder, _, method = call.name.rpartition(".")
                root = holder.split("[", 1)[0]
                if method in _STORES and root and root[0] != "~" and not root.startswith("self"):
                    return root
        return ""

    def take(self, module: str, entry: UrlEntry, route: str, guessed: bool = False) -> bool:
        """A URLconf entry that calls a builder: remember it; False for anything else."""
        name = entry.include[4:]
        if not self.builders or not name.endswith("()"):
            return False
        target = self.project.resolve(name[:-2], module)
        if target is None or target not in self.builders:
            return False
        args, kwargs = entry.call if entry.call else [[], {}]
        self.calls.append(BuilderCall(target, route, list(args), dict(kwargs), guessed))
        self._by_name = None
        return True

    def emit(self, finder: RouteFinder, framework_of: Any) -> None:
        """One endpoint set per decorated class or function."""
        project = self.project
        for module, facts in project.modules.items():
            decorated = [(c.qualname, c.decorators, "C") for c in facts.classes.values()]
            decorated += [(f.qualname, f.decorators, "F") for f in facts.functions.values()]
            for qualname, decorators, kind in decorated:
                for dec in decorators:
                    if not dec.name.endswith("()"):
                        continue
                    target = project.resolve(dec.base, module)
                    if target is None or not self.built(target):
                        continue
                    routes, builder = self.routes(module, target, dec.args, dec.kwargs)
                    note = NOTE.format(
                        decorator=target.name, builder=builder.name if builder else "a builder"
                    )
                    for route, guessed in routes:
                        finder.guessing = guessed
                        if kind == "C":
                            finder.class_endpoints(
                                module, qualname, route, framework_of(module, qualname), note=note
                            )
                        else:
                            view = Target("F", module, qualname)
                            function = facts.functions[qualname]
                            methods, is_drf = finder.function_methods(function)
                            framework = "drf" if is_drf else "django"
                            finder.add_function(view, route, framework, methods, note)
        finder.guessing = False

    def built(self, decorator: Target) -> bool:
        """A registering decorator whose registry some builder turns into patterns."""
        registry = self.decorators.get(decorator)
        return registry is not None and any(registry in s for s in self.builders.values())

    def _calls_naming(self) -> dict[str, list[BuilderCall]]:
        """Builder calls by each lower-cased string literal they pass, in call order.

        Built once per run: every decorated view looks up its model's name here instead of
        scanning every builder call's arguments (netbox: about 700 views x 1,000 calls).
        """
        if self._by_name is None:
            self._by_name = {}
            for call in self.calls:
                given = {
                    v.lower() for v in [*call.args, *call.kwargs.values()] if isinstance(v, str)
                }
                for name in given:
                    self._by_name.setdefault(name, []).append(call)
        return self._by_name

    def routes(
        self, module: str, decorator: Target, args: list[Lit], kwargs: dict[str, Lit]
    ) -> tuple[list[tuple[str, bool]], Target | None]:
        """Routes of one decorated view (each with whether its URLconf was placed by a
        guess), and the builder they come from."""
        project = self.project
        params = _params(project, decorator)
        bound = _bound(params, args, kwargs)
        own = kwargs.get("path")
        if not isinstance(own, str):
            # else its first string argument, given by position or by keyword, in the
            # order of its parameters (``name="delete"``; PATTERNS.md item 167)
            given = [*args, *(bound[p] for p in params[len(args) :] if p in bound)]
            own = next((a for a in given if isinstance(a, str)), "")
        model = args[0] if args else (bound.get(params[0]) if params else None)
        ref = model.get("ref", "") if isinstance(model, dict) else ""
        found = project.resolve(ref, module) if ref else None
        model_name = found.name.rsplit(".", 1)[-1].lower() if found and found.kind == "C" else ""
        registry = self.decorators[decorator]
        scored: list[tuple[int, BuilderCall]] = []
        for call in self._calls_naming().get(model_name, []) if model_name else []:
            if registry not in self.builders.get(call.builder, set()):
                continue
            theirs = _params(project, call.builder)
            score = _agreement(
                bound,
                _bound(theirs, call.args, call.kwargs),
                set(params) & set(theirs),
            )
            if score is not None:
                scored.append((score, call))
        if not scored:
            return [(join_route(own) if own else "/", False)], None
        best = min(score for score, _ in scored)
        chosen = [call for score, call in scored if score == best]
        routes = [(join_route(c.route, own) + ("/" if own else ""), c.guessed) for c in chosen]
        return routes, chosen[0].builder


def _sees(imports: dict[str, str], module: str, registry: str) -> bool:
    """Whether a module imports the registry object (or is where it is defined)."""
    return registry.rpartition(".")[0] == module or any(
        registry == t or registry.startswith(t + ".") for t in imports.values()
    )


def _params(project: Project, function: Target) -> list[str]:
    facts = project.function(function)
    return [p for p in facts.params if not p.startswith("*")] if facts else []


def _bound(params: list[str], args: list[Lit], kwargs: dict[str, Lit]) -> dict[str, Any]:
    bound: dict[str, Any] = dict(zip(params, args, strict=False))
    bound.update((k, v) for k, v in kwargs.items() if k in params)
    return bound


def _agreement(decorated: dict[str, Any], built: dict[str, Any], shared: set[str]) -> int | None:
    """None when a parameter both functions have is given different literals; else how
    many such parameters only one side gives (its default on the other is not known)."""
    unknown = 0
    for name in shared:
        mine, theirs = decorated.get(name, _DEFAULT), built.get(name, _DEFAULT)
        if mine is _DEFAULT and theirs is _DEFAULT:
            continue  # both defaults
        if mine is _DEFAULT or theirs is _DEFAULT:
            unknown += 1
        elif mine != theirs:
            return None
    return unknown
