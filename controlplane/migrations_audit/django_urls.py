"""Django URLconfs and DRF routers: walk ``urlpatterns`` from the root URLconf down through
``include()``, composing prefixes, and hand each view to the class/function helpers."""

from __future__ import annotations

import re
from typing import Any

from .facts import FunctionFacts, Lit, ModuleFacts, RouteCall, UrlEntry
from .mounts import join_route, ref_of, regex_shown
from .project import KNOWN_EXTERNAL, Target
from .proxies import real_class
from .route_rows import CONVENTION, convention_modules
from .routes import BULK_ROUTER_LIST, RouteFinder
from .url_builders import route_built
from .urlconf import IN_LOOP, LAMBDA_VIEW, UNREAD
from .verb_tables import action_tables, routed_pairs
from .view_registries import ViewRegistries
from .wiring import ROUTER_MAPPING

MAX_NESTING = 4
MAX_ROUTER_MOUNTS = 8  # prefixes one router is served under (a URLconf included twice)
# drf-nested-routers' classes: NestedSimpleRouter, NestedDefaultRouter
_NESTED_ROUTER = re.compile(r"(^|\.)Nested\w*Router\(\)$")


def _bulk_router(name: str) -> bool:
    """djangorestframework-bulk's ``BulkRouter`` (PATTERNS.md item 151)."""
    dotted = name.rstrip("()")
    return dotted.startswith("rest_framework_bulk.") and dotted.endswith(".BulkRouter")


def unexpanded_call(name: str) -> bool:
    """A call whose patterns the audit could not read, to be reported: any but Django's own
    helpers (``static()``, ``staticfiles_urlpatterns()``), which serve files, not views."""
    return name.endswith("()") and not name.startswith("django.")


def _clean(route: str, regex: bool) -> str:
    return regex_shown(route) if regex else route


# additions to a URL list the URL reader could not read, by the marker it kept them under
_UNREAD_WHY = {
    UNREAD: "added to a URL list, but not as path()s, a URL list or an include",
    IN_LOOP: "added to a URL list in a loop: the routes it adds are not read",
    LAMBDA_VIEW: "a lambda as the view: its body is not read",
}
_ADMIN_SITE_URLS = ".site.urls"  # an admin site's URLs: the admin is not listed (item 156)
_INSTANCE_VIEW = "a view made from an instance of a class: the audit reads as_view() on classes"
_NOT_CALLABLE = "an instance of a class that defines no __call__ the audit can see"
# framework base classes that answer no method themselves: a subclass adding none answers
# nothing (still a registration the audit could not understand)
# a URL entry whose view is a call's result outside the project (PATTERNS.md item 209)
_RETURNED_VIEW = "the view is what a call returns at run time"
_BARE_VIEWS = frozenset(
    {"View", "APIView", "GenericAPIView", "ViewSet", "GenericViewSet", "ViewSetMixin"}
)


class DjangoRoutes:
    """Adds the endpoints declared by URL patterns to a RouteFinder."""

    def __init__(self, finder: RouteFinder) -> None:
        self.finder = finder
        self.project = finder.project
        # router -> (prefix, viewset, module it is written in, why it is not certain)
        self.registrations: dict[tuple[str, str], list[tuple[str, str, str, str]]] = {}
        self.router_mounts: dict[tuple[str, str], list[str]] = {}
        self.routed: set[Target] = set()
        self.registries = ViewRegistries(self.project)

    def run(self) -> None:
        project = self.project
        calls = [
            (module, call)
            for module, facts in project.modules.items()
            for call in facts.route_calls
            if not call.owner  # a helper's template: registered where the helper is called
        ]
        for module, call in [*calls, *self.finder.forwarded]:
            if call.kind != "register" or len(call.args) < 2:
                continue
            prefix, viewset = call.args[0], call.args[1]
            if not isinstance(prefix, str) or not isinstance(viewset, dict):
                self.unread_registration(module, call)
                continue
            receiver, prefix = self.nested_parent(call.receiver, module, prefix, call.kwargs)
            kind = self.finder.mounts.object_kind(receiver, module)
            if kind != "drf-router" and "router" not in receiver.rsplit(".", 1)[-1]:
                continue
            router = project.var_key(receiver, module)
            if router is not None and viewset.get("ref"):
                written = viewset.get("in")  # a helper's reference, resolved where written
                note = viewset.get("note")  # a table's row in a module found by convention
                self.registrations.setdefault(router, []).append(
                    (
                        prefix,
                        viewset["ref"],
                        written if isinstance(written, str) else module,
                        note if isinstance(note, str) else "",
                    )
                )
        self.merge_extended_lists()
        urlconfs = {
            m: f.urllists["urlpatterns"]
            for m, f in project.modules.items()
            if "urlpatterns" in f.urllists
        }
        included: set[str] = set()
        for module, entries in urlconfs.items():
            self.includes(module, entries, included)
        roots: list[str] = []
        for facts in project.modules.values():
            value = facts.lits.get("ROOT_URLCONF")
            if isinstance(value, str):
                found = project.module_for(value, facts.module)
                if found is not None and found.module in urlconfs and found.module not in roots:
                    roots.append(found.module)
        placed = len(roots)  # the ROOT_URLCONFs the settings name
        roots += [m for m in sorted(urlconfs) if m not in included and m not in roots]
        for index, root in enumerate(roots):
            # a URLconf nothing includes, beside a ROOT_URLCONF: where it is mounted is a guess
            self.finder.guessing = 0 < placed <= index
            self.walk(root, urlconfs[root], "", {root})
        self.finder.guessing = bool(placed)  # routers no URL list includes
        for router in self.registrations:
            if router not in self.router_mounts:
                self.emit_router(router, "")
        self.finder.guessing = False
        self.registries.emit(self.finder, self.framework)
        self.unrouted_api_views()

    def unread_registration(self, module: str, call: RouteCall) -> None:
        """A DRF router's ``register`` whose prefix or viewset is a value the audit does
        not follow (``for prefix, viewset, name in other.registry: router.register(...)``):
        reported, never dropped (PATTERNS.md item 253)."""
        kind = self.finder.mounts.object_kind(call.receiver, module)
        if kind == "drf-router" or "router" in call.receiver.rsplit(".", 1)[-1].lower():
            self.finder.not_understood(
                module,
                call.line,
                f"{call.receiver.rsplit('.', 1)[-1]}.register(...)",
                "a router registration whose prefix or viewset the audit cannot read",
            )

    def nested_parent(
        self, receiver: str, module: str, prefix: str, kwargs: dict[str, Lit]
    ) -> tuple[str, str]:
        """Nested routers (drf-extensions): ``projects = router.register("projects", V)``
        then ``projects.register("builds", W, parents_query_lookups=["project__slug"])``
        registers W on ``router`` under ``projects/<parent_lookup_project__slug>/builds``."""
        for _ in range(MAX_NESTING):
            key = self.project.var_key(receiver, module)
            if key is None:
                break
            owner, var = key
            facts = self.project.modules[owner]
            made = facts.assigns.get(var, "")
            if not made.endswith(".register()"):
                break
            call = next(
                (
                    c
                    for c in facts.route_calls
                    if c.kind == "register"
                    and c.assigned == var
                    and c.args
                    and isinstance(c.args[0], str)
                ),
                None,
            )
            if call is None:
                break
            lookups = kwargs.get("parents_query_lookups")
            names = lookups if isinstance(lookups, list) else []
            parts = [f"<parent_lookup_{n}>" for n in names if isinstance(n, str)][-1:]
            prefix = join_route(str(call.args[0]), *parts, prefix).lstrip("/")
            receiver, module, kwargs = call.receiver, owner, call.kwargs
        return receiver, prefix

    def includes(
        self,
        module: str,
        entries: list[UrlEntry],
        into: set[str],
        lists: set[tuple[str, str]] | None = None,
    ) -> None:
        """The URLconf modules ``entries`` include, into ``into``; through another list
        they include too (``include(document_patterns)``: PATTERNS.md item 217)."""
        lists = lists if lists is not None else set()
        for entry in entries:
            if entry.include.startswith("module:"):
                found = self.project.module_for(entry.include[7:], module)
                if found is not None:
                    into.add(found.module)
                    into.add(self.module_patterns(found)[0])
            elif entry.include.startswith("ref:"):
                name = entry.include[4:]
                target = self.project.resolve(name, module)
                if target is not None and target.kind == "M":
                    into.add(target.module)
                    into.add(self.module_patterns(self.project.modules[target.module])[0])
                # another module's urlpatterns, unpacked or added here (``[*patterns]``):
                # walked with this list's prefix, not again as a root of its own
                variable = self.project.var_key(name, module)
                if variable is not None and variable[1] == "urlpatterns" and variable[0] != module:
                    into.add(variable[0])
                elif variable is not None and variable not in lists:
                    listed = self.project.modules[variable[0]].urllists.get(variable[1])
                    if listed is not None:
                        lists.add(variable)
                        self.includes(variable[0], listed, into, lists)
            elif entry.include == "nested":
                self.includes(module, entry.nested, into, lists)

    def walk(
        self, module: str, entries: list[UrlEntry], prefix: str, seen: set[str], note: str = ""
    ) -> None:
        """``note``: why the patterns' routes are not certain (found by convention)."""
        project = self.project
        for entry in entries:
            # rf"^{API_PREFIX}/": a constant of the project, imported or not (item 132)
            written = self.finder.mounts.text_of(entry.route, module) or ""
            route = join_route(prefix, _clean(written, entry.regex)) if (prefix or written) else ""
            if entry.view:
                self.view(module, entry, route, note)
            elif entry.include == "nested":
                self.walk(module, entry.nested, route, seen, note)
            elif entry.include == CONVENTION and entry.call:
                self.convention(module, entry.call[0], route, seen)
            elif entry.include.startswith("module:"):
                found = project.module_for(entry.include[7:], module)
                if found is None:  # include("allauth.urls"): said, never dropped (item 156)
                    name = entry.include[7:]
                    self.finder.not_understood(
                        module,
                        entry.line,
                        f'include("{name}")',
                        f"URLs of {name}, a module outside the project: its views are not read",
                    )
                elif found.module not in seen:
                    owner, patterns = self.module_patterns(found)
                    self.walk(owner, patterns, route, seen | {found.module, owner})
            elif entry.include.startswith("ref:"):
                self.include_call_or_ref(module, entry, route, seen, note)
            else:
                unread = next((k for k in _UNREAD_WHY if entry.include.startswith(k)), None)
                if unread is not None:
                    written = entry.include[len(unread) :]
                    self.finder.not_understood(module, entry.line, written, _UNREAD_WHY[unread])

    def include_call_or_ref(
        self, module: str, entry: UrlEntry, route: str, seen: set[str], note: str = ""
    ) -> None:
        """A call of a function that builds patterns (from a registry, or for the views it
        is given), else a list, a router's urls or a module (``note``: as for ``walk``)."""
        if route_built(self.finder, module, entry, route, self.framework):
            return  # first: a builder that routes the class it is called on, or is given
        if self.registries.take(module, entry, route, self.finder.guessing):
            return  # views emitted after the walk, once every call is known
        name = entry.include[4:]
        if self.include_ref(module, name, route, seen, note):
            return
        if unexpanded_call(name):
            reason = "a call in a URL list the audit cannot expand"
            self.finder.not_understood(module, entry.line, f"{name[:-2]}(...)", reason)
        elif (
            not name.endswith(")")  # static(...): Django's own helpers, not a package's views
            and not name.endswith(_ADMIN_SITE_URLS)
            and self.library_path(name, module)
        ):
            # include(oauth2_urlpatterns), imported from an installed package (item 173)
            self.finder.not_understood(
                module,
                entry.line,
                f"include({name})",
                f"URLs of {name}, from a module outside the project: its views are not read",
            )

    def merge_extended_lists(self) -> None:
        """URL lists a module extends after importing them from another (keyed by the
        list's dotted name, ``route_rows.RowLoops.url_list_added``): added where they are."""
        project = self.project
        for module, facts in project.modules.items():
            for name in [n for n in facts.urllists if "." in n]:
                key = self.list_owner(name, module)
                if key is not None and key[0] != module:
                    owner = project.modules[key[0]].urllists
                    owner.setdefault(key[1], []).extend(facts.urllists[name])

    def list_owner(self, name: str, module: str) -> tuple[str, str] | None:
        """(module, variable) of a URL list named from elsewhere; also a list started
        empty (``api_urls = []``), which has no value ``var_key`` would know it by."""
        project = self.project
        key = project.var_key(name, module)
        if key is not None:
            return key
        head, _, symbol = name.rpartition(".")
        facts = project.module_for(head, module) if head else None
        return (facts.module, symbol) if facts is not None and symbol in facts.assigns else None

    def convention(self, module: str, read: dict[str, Any], route: str, seen: set[str]) -> None:
        """URL lists read from modules found by a naming convention at run time
        (``urlpatterns.extend(getattr(import_module(f"{app}.urls"), "api_urls"))``)."""
        attr = read.get("attr", "")
        found, note = convention_modules(self.project, module, read, lambda f: attr in f.urllists)
        guessing, self.finder.guessing = self.finder.guessing, True
        for facts in found:
            key = f"{facts.module}:{attr}"
            if key not in seen:
                self.walk(facts.module, facts.urllists[attr], route, seen | {key}, note)
        self.finder.guessing = guessing

    def include_ref(
        self, module: str, name: str, route: str, seen: set[str], note: str = ""
    ) -> bool:
        """``include(router.urls)``, ``include(api_patterns)``, ``include(app.urls)``; False
        when ``name`` is none of those (``note``: as for ``walk``)."""
        project = self.project
        if name.endswith(".urls"):
            router = project.var_key(name[: -len(".urls")], module)
            if router is not None and router in self.registrations:
                mounted = self.router_mounts.setdefault(router, [])
                if route not in mounted and len(mounted) < MAX_ROUTER_MOUNTS:
                    # a URLconf included under two prefixes serves its router under both
                    # (PATTERNS.md item 217)
                    mounted.append(route)
                    self.emit_router(router, route)
                return True
        variable = project.var_key(name, module)
        if variable is not None:
            owner, var = variable
            entries = project.modules[owner].urllists.get(var)
            if entries is not None:
                key = f"{owner}:{var}"  # a list that includes itself is walked once
                if key not in seen:
                    self.walk(owner, entries, route, seen | {key}, note)
                return True
        target = project.resolve(name, module)
        if target is not None and target.kind == "M":
            if target.module not in seen:
                owner, patterns = self.module_patterns(project.modules[target.module])
                self.walk(owner, patterns, route, seen | {target.module, owner}, note)
            return True
        return False

    def module_patterns(self, facts: ModuleFacts) -> tuple[str, list[UrlEntry]]:
        """The module whose ``urlpatterns`` an included module serves, and its entries: its
        own, or those it imports (a ``urls/`` package whose ``__init__`` re-exports
        ``from .base import urlpatterns``: PATTERNS.md item 147)."""
        if "urlpatterns" in facts.urllists or "urlpatterns" not in facts.imports:
            return facts.module, facts.urllists.get("urlpatterns", [])
        key = self.project.var_key(f"{facts.module}.urlpatterns", facts.module)
        if key is None or key[1] != "urlpatterns":
            return facts.module, []
        return key[0], self.project.modules[key[0]].urllists.get("urlpatterns", [])

    def emit_router(self, router: tuple[str, str], mount: str) -> None:
        extra = self.router_mappings(router)
        slash = "/" if self.trailing_slash(router, 0) else ""
        nest = self.nested_under(router, 0)
        for prefix, ref, module, note in self.registrations.get(router, []):
            target = self.project.resolve(ref, module)
            if target is not None and target.kind == "C":
                real = real_class(self.project, target)
                alias = target.name.rsplit(".", 1)[-1] if real != target else ""
                base = join_route(mount, nest, prefix)
                self.finder.viewset_endpoints(
                    real.module, real.name, base, "drf", note, extra, alias, slash
                )

    def trailing_slash(self, router: tuple[str, str], depth: int) -> bool:
        """Whether the router's routes end in "/": its ``trailing_slash``, and for a
        drf-nested-routers router not given one, its parent's (PATTERNS.md item 152)."""
        _, kwargs = self.project.modules[router[0]].ctors.get(router[1], [[], {}])
        given = kwargs.get("trailing_slash")
        if given is not None or depth >= MAX_NESTING:
            return given is not False
        parent = self.parent_router(router)
        return self.trailing_slash(parent, depth + 1) if parent is not None else True

    def parent_router(self, router: tuple[str, str]) -> tuple[str, str] | None:
        """drf-nested-routers: the router ``NestedSimpleRouter(parent, ...)`` nests under;
        None for any other router."""
        module, var = router
        facts = self.project.modules[module]
        if not _NESTED_ROUTER.search(facts.assigns.get(var, "")):
            return None
        args, _ = facts.ctors.get(var, [[], {}])
        given = ref_of(args[0]) if args else ""
        return self.project.var_key(given, module) if given else None

    def nested_under(self, router: tuple[str, str], depth: int) -> str:
        """drf-nested-routers: ``NestedSimpleRouter(parent, "projects", lookup="project")``
        routes its viewsets under ``projects/{project_pk}/``, the lookup of the viewset
        registered on ``parent`` as "projects", prefixed (and under the parent's own nest
        when the parent is nested too); "" for any other router."""
        project = self.project
        module, var = router
        args, kwargs = project.modules[module].ctors.get(var, [[], {}])
        parent = self.parent_router(router) if depth < MAX_NESTING else None
        if parent is None or len(args) < 2 or not isinstance(args[1], str):
            return ""
        lookup = kwargs.get("lookup")
        nest = f"{lookup}_" if isinstance(lookup, str) else f"nested_{depth + 1}_"
        field = "pk"
        for prefix, ref, written, _ in self.registrations.get(parent, []):
            viewset = project.resolve(ref, written) if prefix == args[1] else None
            if viewset is not None and viewset.kind == "C":
                field = self.lookup_of(viewset)
                break
        above = self.nested_under(parent, depth + 1)
        return join_route(above, args[1], "{" + nest + field + "}").lstrip("/")

    def lookup_of(self, viewset: Target) -> str:
        """The URL keyword of a viewset's detail routes: ``lookup_url_kwarg``, else
        ``lookup_field``, else "pk", through its project bases."""
        for mod, qual in self.project.mro(viewset.module, viewset.name):
            lits = self.project.modules[mod].classes[qual].lits
            for name in ("lookup_url_kwarg", "lookup_field"):
                if isinstance(lits.get(name), str):
                    return lits[name]
        return "pk"

    def router_mappings(self, router: tuple[str, str]) -> dict[str, dict[str, str]]:
        """What a project router class adds to the list/detail routes' method mapping
        (``wiring.note_router_mapping``), through its project bases."""
        project = self.project
        module, var = router
        made = project.modules[module].assigns.get(var, "")
        cls = project.resolve(made, module) if made.endswith("()") else None
        if cls is None:
            return {}
        if cls.kind == "X":
            return {"list": dict(BULK_ROUTER_LIST)} if _bulk_router(cls.name) else {}
        if cls.kind not in ("I", "C"):
            return {}
        extra: dict[str, dict[str, str]] = {}
        if any(_bulk_router(base) for base in project.external_bases(cls.module, cls.name)):
            extra["list"] = dict(BULK_ROUTER_LIST)
        for mod, qual in reversed(project.mro(cls.module, cls.name)):
            for call in project.modules[mod].route_calls:
                if call.kind == ROUTER_MAPPING and call.receiver == f"{mod}.{qual}".lstrip("."):
                    slot = str(call.args[0]) if call.args else ""
                    extra.setdefault(slot, {}).update(
                        (str(k), str(v)) for k, v in call.kwargs.items() if isinstance(v, str)
                    )
        return extra

    def framework(self, module: str, cls: str) -> str:
        tails = self.project.base_tails(module, cls)
        drf = any(t.endswith(("APIView", "ViewSet", "ModelMixin")) for t in tails)
        return "drf" if drf else "django"

    def view(self, module: str, entry: UrlEntry, route: str, note: str = "") -> None:
        project, finder = self.project, self.finder
        view = entry.view
        name = view[: -len(".as_view()")] if view.endswith(".as_view()") else view
        target = project.resolve(name, module) or self.aliased_view(name, module)
        unread = target is None or target.kind == "X"
        held = self.as_view_variable(name, module) if unread else None
        home = module  # where ``name`` is read; the entry is still reported where it is
        if held is not None:
            # schema_view = SpectacularAPIView.as_view(): a library's view, kept in a
            # variable, read as if written in the entry (PATTERNS.md item 161)
            home = held[0].module
            name = held[0].assigns[held[1]][: -len(".as_view()")]
            target = project.resolve(name, home)
        if target is not None and target.kind == "X" and name:
            library = self.library_path(name, home)
            if library.endswith("()"):  # import_string(settings.X): a class chosen at run time
                finder.not_understood(
                    module, entry.line, f"path({entry.route!r}, {view})", _RETURNED_VIEW
                )
                return
            if library and not library.endswith(".urls"):
                finder.add_library_view(module, entry.line, library, route or "/")
            if library:
                return  # admin.site.urls: a library's URL set, not one view
            target = None  # of the project by its import, and not found in it
        if target is None:
            if name:
                finder.not_understood(
                    module, entry.line, f"path({entry.route!r}, {view})", "view not found"
                )
            return
        if target.kind == "C":
            real = real_class(project, target)
            alias = target.name.rsplit(".", 1)[-1] if real != target else ""
            framework = self.framework(real.module, real.name)
            actions = (
                entry.actions
                or self.aliased_actions(view, module)
                or self.table_actions(real, entry)
            )
            if not finder.class_endpoints(
                real.module, real.name, route or "/", framework, actions, note, alias
            ) and not self.library_based(real, route or "/", view.endswith(".as_view()")):
                finder.not_understood(
                    module,
                    entry.line,
                    f"path({entry.route!r}, {view})",
                    f"class {real.name} answers no HTTP method the audit can see",
                )
        elif target.kind == "F":
            self.function_view(target, route or "/", note)
        elif target.kind == "I" and not view.endswith(".as_view()"):
            self.instance_view(module, entry, route or "/", note, target)
        else:  # SomeView().as_view(): Django's as_view is a class-only method (item 119)
            finder.not_understood(
                module,
                entry.line,
                f"path({entry.route!r}, {view})",
                _INSTANCE_VIEW if target.kind == "I" else "view not found",
            )

    def function_view(self, target: Target, route: str, note: str) -> None:
        """A function (or an instance's ``__call__``) routed: the methods it accepts."""
        function = self.project.modules[target.module].functions[target.name]
        methods, is_drf = self.finder.function_methods(function)
        self.routed.add(target)
        self.finder.add_function(target, route, "drf" if is_drf else "django", methods, note)

    def instance_view(
        self, module: str, entry: UrlEntry, route: str, note: str, made: Target
    ) -> None:
        """``path("rss/", LatestFeed())``: an instance is the view, its class's ``__call__``
        runs for the request; one a library's base provides (syndication's ``Feed``) is a
        library's view at the class (PATTERNS.md item 119)."""
        project, finder = self.project, self.finder
        for mod, qual in project.mro(made.module, made.name):
            if f"{qual}.__call__" in project.modules[mod].functions:
                self.function_view(Target("F", mod, f"{qual}.__call__"), route, note)
                return
        bases = [b.rstrip("()") for b in project.external_bases(made.module, made.name)]
        if bases:
            klass = project.modules[made.module].classes[made.name]
            finder.add_library_view(made.module, klass.line, bases[-1], route, made.name)
            return
        finder.not_understood(
            module, entry.line, f"path({entry.route!r}, {entry.view})", _NOT_CALLABLE
        )

    def library_based(self, view: Target, route: str, as_view: bool = False) -> bool:
        """A project class whose methods all come from a library's view class
        (``class Docs(LoginRequiredMixin, SpectacularRedocView)``): an endpoint like a
        library view routed directly (item 91), at the class; False when no base is one.
        A class the URLconf calls ``as_view()`` on is a view whatever its package base is
        named (``GeoJsonLocationList``; PATTERNS.md item 207), mixins aside."""
        project = self.project
        external = [b.rstrip("()") for b in project.external_bases(view.module, view.name)]
        tails = {b: b.rsplit(".", 1)[-1] for b in external}
        bases = sorted(
            b
            for b in external
            if tails[b].endswith(("View", "ViewSet")) and tails[b] not in _BARE_VIEWS
        )
        if not bases and as_view:
            bases = sorted(
                b
                for b in external
                if not tails[b].endswith("Mixin") and tails[b] not in _BARE_VIEWS
            )
        if not bases:
            return False
        klass = project.modules[view.module].classes[view.name]
        self.finder.add_library_view(view.module, klass.line, bases[-1], route, view.name)
        return True

    def library_path(self, name: str, module: str) -> str:
        """``name`` (as the URLconf renders it: ``django.views.generic.TemplateView``) when
        it is a view the URLconf imports from outside the project, else ""."""
        root = name.split(".", 1)[0]
        imported = {
            target.split(".", 1)[0] for target in self.project.modules[module].imports.values()
        }
        if "." not in name or root not in imported:
            return ""
        if any(m == root or m.startswith(root + ".") for m in self.project.modules):
            return ""  # a package of the project: a view not found in it
        if root not in KNOWN_EXTERNAL and self.project.module_for(root, module) is not None:
            return ""
        return name

    def as_view_variable(self, name: str, module: str) -> tuple[ModuleFacts, str] | None:
        """(the module, the variable) when ``name`` is a module variable holding
        ``SomeView.as_view(...)`` (``template_list = TemplateListView.as_view()``), else
        None."""
        holder, _, var = name.rpartition(".")
        project = self.project
        facts = project.module_for(holder, module) if holder else project.modules.get(module)
        if facts is None or not facts.assigns.get(var, "").endswith(".as_view()"):
            return None
        return facts, var

    def aliased_view(self, name: str, module: str) -> Target | None:
        """The class of an ``as_view()`` a module variable a URL entry names holds
        (PATTERNS.md item 67), or None."""
        held = self.as_view_variable(name, module)
        if held is None:
            return None
        facts, var = held
        found = self.project.resolve(facts.assigns[var][: -len(".as_view()")], facts.module)
        return found if found is not None and found.kind == "C" else None

    def aliased_actions(self, name: str, module: str) -> dict[str, str] | None:
        """The mapping of ``facets = SearchViewSet.as_view({"get": "facets"})``, a module
        variable a URL entry names (PATTERNS.md item 126), or None."""
        held = self.as_view_variable(name, module)
        made = held[0].ctors.get(held[1]) if held is not None else None
        mapping = made[0][0] if made and made[0] else None
        if not isinstance(mapping, dict):
            return None
        return {str(k): str(v) for k, v in mapping.items() if isinstance(v, str)} or None

    def table_actions(self, view: Target, entry: UrlEntry) -> dict[str, str] | None:
        """{verb: method} for ``V.as_view(action="create")`` when V's ``as_view`` binds
        verbs from a table (verb_tables.py); None otherwise."""
        if not entry.call:
            return None
        table = action_tables(self.project, view.module, view.name) or {}
        kwargs = entry.call[1] if table else {}
        named = [v for v in kwargs.values() if isinstance(v, str) and v in table]
        pairs = routed_pairs(self.project, view, table, named[:1]) if named else {}
        return next(iter(pairs.values()), None)

    def unrouted_api_views(self) -> None:
        """DRF ``@api_view`` functions are endpoints even when no URLconf names them, unless
        a routed view calls them: ``gateway`` answering POST with ``login(request)`` serves
        ``login`` under its own route (PATTERNS.md item 169)."""
        unrouted: list[tuple[Target, FunctionFacts]] = []
        for module, facts in self.project.modules.items():
            for function in facts.functions.values():
                if not any(d.tail == "api_view" for d in function.decorators):
                    continue
                target = Target("F", module, function.qualname)
                if target not in self.routed:
                    unrouted.append((target, function))
        if not unrouted:
            return
        served = self.called_by_routed({t.name.rsplit(".", 1)[-1] for t, _ in unrouted})
        for target, function in unrouted:
            if target not in served:
                methods, _ = self.finder.function_methods(function)
                self.finder.add_function(target, "", "drf", methods)

    def called_by_routed(self, names: set[str]) -> set[Target]:
        """Project functions named in ``names`` that a routed function view calls."""
        project, out = self.project, set()
        for view in self.routed:
            function = project.function(view)
            if function is None:
                continue
            cls = project.class_of(view.module, view.name)
            for call in function.calls:
                if call.name.rsplit(".", 1)[-1] in names:
                    found = project.resolve(call.name, view.module, cls)
                    if found is not None and found.kind == "F":
                        out.add(found)
        return out
