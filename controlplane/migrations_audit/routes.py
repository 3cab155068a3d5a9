"""Find the HTTP endpoints of a project: Flask, FastAPI, Starlette, Flask-RESTful/RESTX,
Flask-AppBuilder; Django and DRF live in ``django_urls.py`` and use the class helpers here.

An endpoint is declared by a decorator, a registration call or a URL pattern; its path is
composed from the prefixes of the blueprints, routers and namespaces it hangs from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from .decorator_aliases import factory_made
from .entry_hooks import answered_verbs, entry_hooks
from .facts import DEP_ALIAS, REDEFINED, Decorator, FunctionFacts, Lit, ModuleFacts, RouteCall
from .forwarding import HelperRoutes
from .handler_classes import entry_method
from .implicit import DJANGO_GENERIC_VERBS, SIMPLEJWT_VIEWS, WIZARDS
from .loop_rules import LOOP_NOTE, template_rule
from .mounts import Mounts, dependencies_given, join_route, ref_module, ref_of, regex_shown
from .openapi_docs import fingerprint, is_document_name, locate, read
from .project import Project, Target
from .report import Unresolved
from .route_rows import expand as expand_rows
from .route_rows import has_rows
from .wiring import LITESTAR_ROUTER, ROUTER_MAPPING

HTTP_VERBS = ("get", "post", "put", "patch", "delete", "head", "options")
MAX_DEPENDENCIES = 32  # a route's FastAPI dependencies, its own and theirs, traced with it
_STD_ACTIONS = {
    "list": ("GET", False),
    "create": ("POST", False),
    "retrieve": ("GET", True),
    "update": ("PUT", True),
    "partial_update": ("PATCH", True),
    "destroy": ("DELETE", True),
}
# djangorestframework-bulk: the actions its viewset adds, and the methods its BulkRouter
# maps them to on the list route (PATTERNS.md item 151)
BULK_ACTIONS = ("bulk_update", "partial_bulk_update", "bulk_destroy")
BULK_ROUTER_LIST = {"put": "bulk_update", "patch": "partial_bulk_update", "delete": "bulk_destroy"}
# HTTP methods (or ViewSet actions) a framework base class provides without the project
# writing them, by the base's class name.
_PROVIDED = {
    "CreateAPIView": ("post",),
    "ListAPIView": ("get",),
    "RetrieveAPIView": ("get",),
    "DestroyAPIView": ("delete",),
    "UpdateAPIView": ("put", "patch"),
    "ListCreateAPIView": ("get", "post"),
    "RetrieveUpdateAPIView": ("get", "put", "patch"),
    "RetrieveDestroyAPIView": ("get", "delete"),
    "RetrieveUpdateDestroyAPIView": ("get", "put", "patch", "delete"),
    **DJANGO_GENERIC_VERBS,
    # django-formtools' wizards (the last step's post runs done(): implicit.py)
    **dict.fromkeys(WIZARDS, ("get", "post")),
    # djangorestframework-simplejwt's token views (post validates the serializer)
    **dict.fromkeys(SIMPLEJWT_VIEWS, ("post",)),
    # django.contrib.auth.views (and django-allauth's, alike; not dj-rest-auth's, below)
    "LoginView": ("get", "post"),
    "LogoutView": ("post",),
    "PasswordChangeView": ("get", "post"),
    "PasswordResetView": ("get", "post"),
    "PasswordResetConfirmView": ("get", "post"),
    "PasswordChangeDoneView": ("get",),
    "PasswordResetDoneView": ("get",),
    "PasswordResetCompleteView": ("get",),
    # django-allauth's form views (item 155)
    "SignupView": ("get", "post"),
    "EmailView": ("get", "post"),
    "ModelViewSet": tuple(_STD_ACTIONS),
    # djangorestframework-bulk: a ModelViewSet with bulk update and delete (item 151)
    "BulkModelViewSet": (*_STD_ACTIONS, *BULK_ACTIONS),
    "BulkUpdateModelMixin": ("bulk_update", "partial_bulk_update"),
    "BulkDestroyModelMixin": ("bulk_destroy",),
    "BulkCreateModelMixin": ("create",),
    "ReadOnlyModelViewSet": ("list", "retrieve"),
    # dynamic-rest's viewsets: DRF's ModelViewSet with its query parameters (item 225)
    "DynamicModelViewSet": tuple(_STD_ACTIONS),
    "CreateModelMixin": ("create",),
    "ListModelMixin": ("list",),
    "RetrieveModelMixin": ("retrieve",),
    "UpdateModelMixin": ("update", "partial_update"),
    "DestroyModelMixin": ("destroy",),
}


# dj-rest-auth (and django-rest-auth before it) names its DRF views like Django's auth
# views, but each answers POST only (its LogoutView's GET is 405 unless a setting says so)
_REST_AUTH_VIEWS = frozenset({"dj_rest_auth.views", "rest_auth.views"})
_REST_AUTH_PROVIDED = dict.fromkeys(
    (
        "LoginView",
        "LogoutView",
        "PasswordChangeView",
        "PasswordResetView",
        "PasswordResetConfirmView",
    ),
    ("post",),
)
# packages whose viewsets serve DRF's actions, listed in _PROVIDED
_KNOWN_VIEWSET_PACKAGES = (
    "rest_framework.",
    "rest_framework_nested.",
    "rest_framework_bulk.",
    "dynamic_rest.",
)
_DRF_ACTIONS = ("action", "detail_route", "list_route")
_ACTION_KEYS = ("detail", "methods", "url_path")
FACTORY_ACTION_NOTE = (
    "routed by DRF's @action applied inside {factory}, whose arguments to it the audit does "
    "not read: the route and methods are a guess"
)


def action_path(url_path: str) -> str:
    """An ``@action``'s ``url_path`` as the route shows it: DRF puts it inside its own
    ``^...$`` pattern, so anchors and a trailing optional slash (``r"data/?$"``) written in
    it are regex left-overs (PATTERNS.md item 106)."""
    return regex_shown(url_path).removesuffix("/?").strip("/") or url_path


# Methods a class-based view runs around the one for the HTTP method, when overridden
# (Django's dispatch and setup, DRF's initial and finalize_response, Flask's
# View/MethodView dispatch_request).
_REQUEST_HOOKS = ("dispatch", "setup", "initial", "finalize_response", "dispatch_request")
_METHOD_DECORATORS = {
    "require_POST": ("POST",),
    "require_GET": ("GET",),
    "require_safe": ("GET", "HEAD"),
}


@dataclass(slots=True)
class EndpointDecl:
    """A declared endpoint, before its calls are traced."""

    module: str
    file: str
    line: int
    handler: str
    framework: str
    methods: list[str]
    route: str
    entries: list[Target] = field(default_factory=list)
    # the routed class, when a base class defines the handler: ``self.x()`` in the base's
    # code runs the routed class's ``x`` (template methods such as ``post`` -> ``form_valid``)
    selftype: Target | None = None
    # why the route itself is not certain (its module was found by a naming convention):
    # the endpoint is then ``likely`` at best
    route_note: str = ""
    # the library view that serves the route (``django.views.generic.TemplateView``): its
    # code is not in the project, so nothing is traced and the status is ``likely`` inline
    library: str = ""
    # reached only by a guess at how the URLconfs fit (a URLconf nothing includes, walked
    # as a root of its own; modules found by a naming convention): dropped when the same
    # handler has a route found without one (``RouteFinder.declared``)
    fallback: bool = False


def _strs(value: Lit) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


class RouteFinder:
    """Collects EndpointDecls from every module of a project."""

    def __init__(self, project: Project, root: Path | None = None) -> None:
        self.project = project
        self.root = root  # where documents routes are declared in are read (connexion)
        # the documents read, relative to root, with their content keys: the run cache
        # checks them as it does the Python files (None: looked for and not there)
        self.documents: dict[str, str | None] = {}
        # one endpoint per (handler, route): a view under two paths serves two endpoints
        self.found: dict[tuple[str, str, int, str], EndpointDecl] = {}
        self.mounts = Mounts(project)
        self.unrecognized: dict[tuple[str, int, str], Unresolved] = {}
        # DRF router registrations made through helpers (``add_item_urls(router)``), for
        # the Django pass: (module the router is named in, the registration)
        self.forwarded: list[tuple[str, RouteCall]] = []
        self.litestar_prefixes: dict[Target, str] = {}
        self.guessing = False  # set while routes are read from a guessed URLconf

    def not_understood(self, module: str, line: int, call: str, reason: str) -> None:
        """A route registration seen but not interpreted: reported, never silently dropped."""
        relpath = self.project.modules[module].relpath
        self.unrecognized.setdefault((relpath, line, call), Unresolved(relpath, line, call, reason))

    def add(self, decl: EndpointDecl) -> EndpointDecl:
        """Keep ``decl``, or merge its methods into the endpoint already kept for the same
        handler and route (PATTERNS.md item 71); the kept one comes back."""
        decl.fallback = decl.fallback or self.guessing
        key = (decl.module, decl.handler, decl.line, decl.route)
        known = self.found.get(key)
        if known is None:
            self.found[key] = decl
            return decl
        known.methods.extend(m for m in decl.methods if m not in known.methods)
        known.fallback = known.fallback and decl.fallback
        return known

    def declared(self) -> list[EndpointDecl]:
        """Every endpoint, in file order. A guess at how the URLconfs fit is how the audit
        reached a handler, not another path the application serves: a handler with a route
        found without one loses its guessed routes, and one reached only by guesses keeps
        the first, with the methods of all."""
        kept: dict[tuple[str, str, int], list[EndpointDecl]] = {}
        for decl in self.found.values():
            same = kept.setdefault((decl.module, decl.handler, decl.line), [])
            if not decl.fallback:
                same[:] = [d for d in same if not d.fallback] + [decl]
            elif not same:
                same.append(decl)
            elif same[0].fallback:
                same[0].methods.extend(m for m in decl.methods if m not in same[0].methods)
        return sorted(
            (d for same in kept.values() for d in same),
            key=lambda d: (d.file, d.line, d.handler, d.route),
        )

    # ---- declarations ------------------------------------------------------------------

    def run(self) -> None:
        self.mounts.collect()
        for module, line, written, what in self.mounts.external:
            reason = f"a {what} of a package outside the project: its routes are not read"
            self.not_understood(module, line, written, reason)
        self.litestar_prefixes = self.litestar_routers()
        helpers = HelperRoutes(self)  # a local: a reference back from self would be a cycle
        for module, facts in self.project.modules.items():
            for function in facts.functions.values():
                if function.decorators:
                    self.decorated(module, facts, function)
            for cls in facts.classes.values():
                for dec in cls.decorators:
                    if dec.tail == "route" and dec.args and isinstance(dec.args[0], str):
                        receiver = dec.base.rpartition(".")[0]
                        kind = self.mounts.object_kind(receiver, module) if receiver else ""
                        if kind in ("flask-restx", "flask-restful"):
                            for prefix in self.mounts.prefixes_of(receiver, module):
                                route = join_route(prefix, dec.args[0])
                                self.class_endpoints(module, cls.qualname, route, kind)
            for call in facts.route_calls:
                if call.owner or call.kind in (LITESTAR_ROUTER, ROUTER_MAPPING):
                    continue  # a helper's template: registered where the helper is called
                if call.kind == "call":
                    helpers.expand(module, call)
                elif has_rows(call):  # for pair in table: router.register(*pair)
                    # modules found by convention only: DRF routers, whose endpoints then
                    # say so (``likely``); other registrations need the project to say
                    guess = call.kind == "register"
                    for args, kwargs in expand_rows(self.project, module, call, guess):
                        self.registration(
                            module, call.kind, call.receiver, args, kwargs, call.prefix, call.line
                        )
                else:
                    self.registration(
                        module,
                        call.kind,
                        call.receiver,
                        call.args,
                        call.kwargs,
                        call.prefix,
                        call.line,
                    )
        # calls of helpers that pass some of their own function's parameters
        # (``def init_app(app): register_view(app, ["/x"], View.as_view("x"))``): after the
        # others, so a route composed with known values is the one kept
        for module, facts in self.project.modules.items():
            for call in facts.route_calls:
                if call.owner and call.kind == "call":
                    helpers.expand(module, call)

    def decorated(self, module: str, facts: ModuleFacts, function: FunctionFacts) -> None:
        for dec in function.decorators:
            tail = dec.tail
            if tail == "expose":
                self.exposed(module, facts, function, dec.args, dec.kwargs)
                continue
            if tail == "action" and dec.base.startswith("flask_appbuilder."):
                # a list action of a ModelView: POST <route_base>/action_post, and
                # GET <route_base>/action/<name>/<pk> for a single record
                name = dec.args[0] if dec.args and isinstance(dec.args[0], str) else ""
                self.exposed(
                    module,
                    facts,
                    function,
                    ["/action_post"],
                    {"methods": ["POST", "GET"]},
                    note=name,
                )
                continue
            if tail not in HTTP_VERBS and tail not in (
                "route",
                "api_route",
                "api_operation",
                "websocket",
                "websocket_route",
            ):
                continue
            if dec.base.startswith("litestar."):
                self.litestar(module, facts, function, tail, dec.args, dec.kwargs)
                continue
            receiver = dec.base.rpartition(".")[0]
            if not receiver:
                continue
            kind = self.mounts.object_kind(receiver, module)
            if not kind or kind in ("flask-restx", "flask-restful", "drf-router"):
                continue
            path = dec.args[0] if dec.args else dec.kwargs.get("rule", dec.kwargs.get("path"))
            looped = template_rule(path)  # @bp.route(prefix + "/x") in a module-level loop
            path = looped or path
            if not isinstance(path, str):
                if kind not in ("flask", "fastapi", "quart", "sanic", "starlette", "ninja"):
                    continue
                path = ""
            if tail == "api_operation":  # ninja: @router.api_operation(["GET", "POST"], "/x")
                methods = [m.upper() for m in _strs(dec.args[0] if dec.args else None)]
                path = dec.args[1] if len(dec.args) > 1 and isinstance(dec.args[1], str) else ""
                methods = methods or ["GET"]
            elif tail in HTTP_VERBS:
                methods = [tail.upper()]
            elif tail.startswith("websocket"):
                if kind not in ("fastapi", "starlette", "quart"):
                    continue
                methods = ["WEBSOCKET"]
            else:
                methods = [
                    m.upper() for m in _strs(self.constant(dec.kwargs.get("methods"), module))
                ] or ["GET"]
            entries = [Target("F", module, function.qualname)]
            entries += self.dependencies(module, function.deps)
            given = self.mounts.dependencies_of(receiver, module, function.qualname)
            given = given + dependencies_given(dec.kwargs, module)
            for dep, where in given:
                entries += self.dependencies(where, [dep])
            entries = list(dict.fromkeys(entries))
            for prefix in self.mounts.prefixes_of(receiver, module, function.qualname):
                route = join_route(prefix, path)
                decl = self.add_defined(module, facts, function, kind, methods, route, entries)
                if looped:
                    decl.route_note = decl.route_note or LOOP_NOTE

    def add_defined(
        self,
        module: str,
        facts: ModuleFacts,
        function: FunctionFacts,
        framework: str,
        methods: list[str],
        route: str,
        entries: list[Target] | None = None,
    ) -> EndpointDecl:
        """An endpoint handled by a function defined where it is declared (a decorator)."""
        return self.add(
            EndpointDecl(
                module,
                facts.relpath,
                function.line,
                self.display(module, function.qualname),
                framework,
                methods,
                route,
                entries or [Target("F", module, function.qualname)],
            )
        )

    def litestar(
        self,
        module: str,
        facts: ModuleFacts,
        function: FunctionFacts,
        verb: str,
        args: list[Lit],
        kwargs: dict[str, Lit],
    ) -> None:
        """Litestar ``@get("/x")`` handlers, alone or in a ``Controller`` with its ``path``."""
        given = args[0] if args else kwargs.get("path")
        paths = _strs(given) or ["/"]
        if verb in HTTP_VERBS:
            methods = [verb.upper()]
        else:
            methods = [m.upper() for m in _strs(kwargs.get("http_method"))] or ["GET"]
        cls = self.project.class_of(module, function.qualname)
        listed = Target("C", module, cls) if cls else Target("F", module, function.qualname)
        prefix = self.litestar_prefixes.get(listed, "")
        if cls:
            base = facts.classes[cls].lits.get("path")
            prefix = join_route(prefix, base) if isinstance(base, str) else prefix
        self.add_defined(module, facts, function, "litestar", methods, join_route(prefix, paths[0]))

    def litestar_routers(self) -> dict[Target, str]:
        """Handlers and controllers listed in a Litestar ``Router(path=...,
        route_handlers=[...])``, with that path as their prefix (one level of routers)."""
        prefixes: dict[Target, str] = {}
        for module, facts in self.project.modules.items():
            for call in facts.route_calls:
                path = call.kwargs.get("path")
                handlers = call.kwargs.get("route_handlers")
                if call.kind != LITESTAR_ROUTER or not isinstance(path, str):
                    continue
                for ref in handlers if isinstance(handlers, list) else []:
                    target = self.project.resolve(ref_of(ref), module) if ref_of(ref) else None
                    if target is not None and target.kind in ("F", "C"):
                        prefixes.setdefault(target, path)
        return prefixes

    def constant(self, value: Lit, module: str) -> Lit:
        """``methods=PROXY_METHODS``: the literal a module-level name holds (in this module
        or imported), else ``value`` itself (PATTERNS.md item 223)."""
        ref = value.get("ref") if isinstance(value, dict) else None
        if not isinstance(ref, str):
            return value
        owner, _, name = ref.rpartition(".")
        facts = self.project.module_for(owner, module) if owner else None
        if facts is None:
            return value
        return facts.lits.get(name, facts.tables.get(name, value))

    def dependencies(self, module: str, names: list[str]) -> list[Target]:
        """FastAPI dependencies run on every request: trace them with the handler, and
        theirs with them (FastAPI resolves a dependency's own ``Depends`` parameters first);
        a parameter annotated with an ``Annotated[T, Depends(f)]`` alias depends on ``f``
        (PATTERNS.md item 212)."""
        out: list[Target] = []
        pending = [(name, module) for name in names]
        while pending and len(out) < MAX_DEPENDENCIES:
            name, where = pending.pop(0)
            if name.startswith(DEP_ALIAS):
                found = self.project.dep_alias(name[len(DEP_ALIAS) :], where)
                if found is None:
                    continue
                name, where = found
            target = self.project.resolve(name, where)
            if target is None or target.kind != "F" or target in out:
                continue
            out.append(target)
            function = self.project.function(target)
            if function is not None:
                pending += [(dep, target.module) for dep in function.deps]
        return out

    def exposed(
        self,
        module: str,
        facts: ModuleFacts,
        function: FunctionFacts,
        args: list[Lit],
        kwargs: dict[str, Lit],
        note: str = "",
    ) -> None:
        """Flask-AppBuilder ``@expose`` on a BaseApi/BaseView method (``note``: the name of
        an ``@action``, shown in the route)."""
        cls = self.project.class_of(module, function.qualname)
        if not cls:
            return
        klass = facts.classes[cls]
        tails = self.project.base_tails(module, cls)
        short = cls.rsplit(".", 1)[-1]
        base = klass.lits.get("route_base")
        if not isinstance(base, str):
            name = klass.lits.get("resource_name")
            name = name if isinstance(name, str) else short.lower()
            base = f"/api/v1/{name}" if any(t.endswith("Api") for t in tails) else f"/{name}"
        path = args[0] if args and isinstance(args[0], str) else "/"
        methods = [m.upper() for m in _strs(self.constant(kwargs.get("methods"), module))] or [
            "GET"
        ]
        route = join_route(base, path) + (f" (action {note!r})" if note else "")
        self.add_defined(module, facts, function, "flask-appbuilder", methods, route)

    def registration(
        self,
        module: str,
        kind: str,
        receiver: str,
        args: list[Lit],
        kwargs: dict[str, Lit],
        mount: str,
        line: int = 0,
    ) -> None:
        call = f"{receiver}.{kind}(...)" if receiver else f"{kind}(...)"

        def unknown(reason: str) -> None:
            # only on an object known to serve routes: Package().add_resource() is no route
            if line and self.mounts.object_kind(receiver, module):
                self.not_understood(module, line, call, reason)

        if kind == "register":
            self.forwarded.append((module, RouteCall(kind, line, receiver, args, kwargs)))
        elif kind == "add_url_rule":
            rule = args[0] if args else kwargs.get("rule")
            template = template_rule(rule)
            if template:  # for prefix in prefixes: bp.add_url_rule(prefix + "/note/", ...)
                before = set(self.found)
                if args:
                    args = [template, *args[1:]]
                else:
                    kwargs = {**kwargs, "rule": template}
                self.registration(module, kind, receiver, args, kwargs, mount, line)
                for key in set(self.found) - before:
                    self.found[key].route_note = self.found[key].route_note or LOOP_NOTE
                return
            given = kwargs.get("view_func") or (args[2] if len(args) > 2 else None)
            view = ref_of(given)
            methods = [m.upper() for m in _strs(self.constant(kwargs.get("methods"), module))]
            if isinstance(rule, str) and view:
                routes = [join_route(p, rule) for p in self.mounts.prefixes_of(receiver, module)]
                if not all(
                    self.view(ref_module(given, module), view, each, "flask", methods or ["GET"])
                    for each in routes
                ):
                    unknown(f"view {view} not found in the project")
                elif self.handles_nothing(ref_module(given, module), view) and not all(
                    self.wrapped_handler(
                        receiver, module, ref_module(given, module), view, route, methods
                    )
                    for route in routes
                ):
                    # a request-handler class a blueprint subclass wraps itself, and the
                    # wrapper does not show which of its methods handles the request
                    unknown(f"view {view} is a class with no HTTP method handlers")
            elif given is not None:
                unknown("the rule or the view is computed, not written")
        elif kind == "add_api" and is_document_name(args[0] if args else None):
            self.openapi_document(module, str(args[0]), kwargs.get("base_path"), call, line)
        elif kind == "add_api" and self.connexion_app(receiver, module):
            self.not_understood(module, line, call, "the OpenAPI document's path is computed")
        elif kind in ("add_api_route", "add_route"):
            path = args[0] if args else kwargs.get("path")
            given = args[1] if len(args) > 1 else kwargs.get("endpoint")
            view = ref_of(given)
            methods = [m.upper() for m in _strs(self.constant(kwargs.get("methods"), module))]
            framework = self.mounts.object_kind(receiver, module) or "starlette"
            if isinstance(path, str) and view and framework in ("fastapi", "starlette"):
                if not all(
                    self.view(
                        ref_module(given, module),
                        view,
                        join_route(prefix, path),
                        framework,
                        methods or ["GET"],
                    )
                    for prefix in self.mounts.prefixes_of(receiver, module)
                ):
                    unknown(f"endpoint {view} not found in the project")
            elif framework in ("fastapi", "starlette"):
                unknown("the path or the endpoint is computed, not written")
        elif kind == "Route":
            path = args[0] if args else kwargs.get("path")
            given = args[1] if len(args) > 1 else kwargs.get("endpoint")
            view = ref_of(given)
            methods = [m.upper() for m in _strs(self.constant(kwargs.get("methods"), module))]
            if isinstance(path, str) and view:
                self.view(
                    ref_module(given, module),
                    view,
                    join_route(mount, path),
                    "starlette",
                    methods or ["GET"],
                )
        elif kind == "add_resource":
            given = args[0] if args else kwargs.get("resource")
            resource = ref_of(given)
            paths = [a for a in args[1:] if isinstance(a, str)] or _strs(kwargs.get("urls"))
            framework = self.mounts.object_kind(receiver, module)
            if framework not in ("flask-restful", "flask-restx"):
                framework = "flask-restful"
            target = self.project.resolve(resource, ref_module(given, module)) if resource else None
            if target is not None and target.kind == "C" and paths:
                for prefix in self.mounts.prefixes_of(receiver, module):
                    for path in paths:  # add_resource(Tag, "/tag", "/tag/<uuid>"): each a route
                        self.class_endpoints(
                            target.module, target.name, join_route(prefix, path), framework
                        )
            elif not resource:
                unknown("the resource class is computed, not written")
            elif target is None or target.kind != "C":
                unknown(f"resource {resource} is not a class of the project")
            else:
                unknown("the URL is computed, not written")

    def openapi_document(
        self, module: str, name: str, base_path: Lit, call: str, line: int
    ) -> None:
        """Every operation of a document connexion's ``add_api`` serves, each an endpoint of
        the function its ``operationId`` names (openapi_docs.py, PATTERNS.md item 200)."""
        facts = self.project.modules[module]
        where = f'{call.removesuffix("(...)")}("{name}")'
        relpath = locate(self.root, facts.relpath, name) if self.root is not None else None
        if self.root is None or relpath is None:
            reason = f"the OpenAPI document {name} was not found in the tree"
            self.not_understood(module, line, where, reason)
            # where connexion looks first: a warm run must see the document appear there
            self.documents[str(PurePosixPath(facts.relpath).parent / name)] = None
            return
        self.documents[relpath] = fingerprint(self.root / relpath)
        document = read(self.root, relpath)
        if isinstance(document, str):
            self.not_understood(module, line, where, document)
            return
        note = ""
        prefix = base_path if isinstance(base_path, str) else None
        if prefix is None:
            prefix = document.base_path
            if base_path is not None:
                own = prefix or "/"
                note = f"add_api's base_path is computed; the document's own ({own}) is shown"
        for operation in document.operations:
            target = self.operation_function(operation.function)
            shown = f"{where}: {operation.method} {operation.path}"
            if target is None:
                why = (
                    f"operationId {operation.function} not found in the project"
                    if operation.function
                    else "no operationId: a resolver chooses the function at run time"
                )
                self.not_understood(module, line, shown, why)
                continue
            route = join_route(prefix, operation.path)
            self.add_function(target, route, "connexion", [operation.method], note)

    def connexion_app(self, receiver: str, module: str) -> bool:
        """Whether ``receiver`` is a connexion application (``connexion.FlaskApp(...)``)."""
        target = self.project.resolve(receiver, module) if receiver else None
        return target is not None and target.kind == "X" and target.name.startswith("connexion.")

    def operation_function(self, dotted: str) -> Target | None:
        """The project function an ``operationId`` names: the longest leading part that is a
        module of the project, the rest a function or a class's method in it."""
        parts = dotted.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            facts = self.project.module_for(".".join(parts[:cut]))
            qualname = ".".join(parts[cut:])
            if facts is not None and qualname in facts.functions:
                return Target("F", facts.module, qualname)
        return None

    def view(self, module: str, view: str, route: str, framework: str, methods: list[str]) -> bool:
        """A view given by reference: a function, or a class (``X.as_view(...)``).

        False when the reference is not a view of the project (outside views are fine to
        skip, unresolved ones are not: the caller reports those)."""
        project = self.project
        name = view[: -len(".as_view()")] if view.endswith(".as_view()") else view
        target = project.resolve(name, module)
        if target is None:
            # _edit_view = EditView.as_view("edit"); bp.add_url_rule("/edit", view_func=_edit_view)
            key = project.var_key(name, module)
            made = project.modules[key[0]].assigns.get(key[1], "") if key else ""
            if key and made.endswith(".as_view()"):
                target = project.resolve(made[: -len(".as_view()")], key[0])
        if target is None:
            return False
        if target.kind == "C":
            self.class_endpoints(target.module, target.name, route, framework)
        elif target.kind == "F":
            self.add_function(target, route, framework, methods)
        return target.kind in ("C", "F", "X")

    def handles_nothing(self, module: str, view: str) -> bool:
        """A project class passed as a view that defines no HTTP method handler (nor
        ``dispatch_request``), anywhere in its project bases."""
        name = view[: -len(".as_view()")] if view.endswith(".as_view()") else view
        target = self.project.resolve(name, module)
        if target is None or target.kind != "C":
            return False
        available = self.defined(target.module, target.name)
        return "dispatch_request" not in available and not available.intersection(HTTP_VERBS)

    def wrapped_handler(
        self,
        receiver: str,
        module: str,
        view_module: str,
        view: str,
        route: str,
        methods: list[str],
    ) -> bool:
        """A plain request-handler class given to a blueprint subclass's own
        ``add_url_rule``: one endpoint per listed method, handled by the method the
        wrapper calls on an instance (``handler_classes.py``). False if it cannot be read."""
        blueprint = self.project.resolve(receiver, module)
        entry = entry_method(self.project, blueprint) if blueprint is not None else ""
        target = self.project.resolve(view, view_module)
        if not entry or target is None or target.kind != "C":
            return False
        return self.hooked_endpoints(
            target.module, target.name, entry, methods or ["GET"], route, "flask"
        )

    def hooked_endpoints(
        self,
        module: str,
        cls: str,
        entry: str,
        methods: list[str],
        route: str,
        framework: str,
        note: str = "",
        alias: str = "",
    ) -> bool:
        """One endpoint per HTTP method of a class whose ``entry`` (often a base's) hands
        the request to a hook (``entry_hooks.py``); False if the class lacks ``entry``."""
        hooks = entry_hooks(self.project, module, cls, entry, methods)
        if not hooks:
            return False  # the wrapper calls a method the class does not have
        start, start_line = self.handler(module, cls, entry)
        short = alias or cls.rsplit(".", 1)[-1]
        extra = self.request_hooks(module, cls)
        for http, hook in hooks.items():
            # the routed class is the endpoint, named by the hook it overrides (the entry
            # when it overrides none); the entry still runs first, its self-calls on the
            # routed class's MRO, and a hook picked by the HTTP method is an entry too
            name, shown, line = (hook.name, hook.target, hook.line)
            if not hook.own:
                name, shown, line = entry, start, start_line
            owner, relpath, line = self.where(module, shown, line)
            runs = [start] if hook.target == start else [start, hook.target]
            self.add(
                EndpointDecl(
                    owner,
                    relpath,
                    line,
                    f"{short}.{name}",
                    framework,
                    [http],
                    route,
                    [*runs, *(h for h in extra if h != start)],
                    Target("C", module, cls),
                    note,
                )
            )
        return True

    def add_function(
        self, target: Target, route: str, framework: str, methods: list[str], note: str = ""
    ) -> None:
        facts = self.project.modules[target.module]
        function = facts.functions[target.name]
        entries = [target, *self.dependencies(target.module, function.deps)]
        self.add(
            EndpointDecl(
                target.module,
                facts.relpath,
                function.line,
                self.display(target.module, target.name),
                framework,
                methods,
                route,
                entries,
                route_note=note,
            )
        )

    def add_library_view(
        self, module: str, line: int, dotted: str, route: str, handler: str = ""
    ) -> None:
        """A route a library's view serves (``path("about/", TemplateView.as_view())``):
        an endpoint of the URLconf's line, PATTERNS.md item 91; or of the line of a project
        class (``handler``) that only subclasses such a view."""
        facts = self.project.modules[module]
        hooks = self.own_methods(module, handler) if handler else []
        note = f"served by {dotted}, a library's view: its code is not read"
        if hooks:  # PATTERNS.md item 188
            names = ", ".join(sorted({t.name.rsplit(".", 1)[-1] for t in hooks}))
            note += f"; the class's own methods it may call were traced ({names})"
        self.add(
            EndpointDecl(
                module,
                facts.relpath,
                line,
                handler.rsplit(".", 1)[-1] or dotted.rsplit(".", 1)[-1],
                "django",
                self.method_names(module, handler) if handler else ["ANY"],  # item 208
                route,
                entries=hooks,
                selftype=Target("C", module, handler) if hooks else None,
                route_note=note,
                library=dotted,
            )
        )

    def own_methods(self, module: str, qualname: str) -> list[Target]:
        """The methods a project class and its project bases define (dunders left out):
        the hooks a library's view it derives from calls, which are project code."""
        project = self.project
        seen: set[str] = set()
        out: list[Target] = []
        for mod, qual in project.mro(module, qualname):
            for method in project.modules[mod].classes[qual].methods:
                if method.startswith("__") or method in seen:
                    continue
                seen.add(method)
                out.append(Target("F", mod, f"{qual}.{method}"))
        return out

    # ---- classes -----------------------------------------------------------------------

    def display(self, module: str, qualname: str) -> str:
        """ "func" or "Class.method", without the functions a definition is nested in."""
        project = self.project
        cls = project.class_of(module, qualname)
        method = qualname.rsplit(".", 1)[-1].partition(REDEFINED)[0]
        return f"{cls.rsplit('.', 1)[-1]}.{method}" if cls else method

    def handler(self, module: str, cls: str, name: str) -> tuple[Target, int]:
        """The function that handles ``name`` for a class, or the inherited framework method,
        and the line of its ``def`` (0 for a framework method)."""
        project = self.project
        for mod, qual in project.mro(module, cls):
            method = f"{qual}.{name}"
            function = project.modules[mod].functions.get(method)
            if function is not None:
                return Target("F", mod, method), function.line
        return Target("V", module, f"{cls}:{name}"), 0

    def where(self, module: str, target: Target, line: int) -> tuple[str, str, int]:
        """(module, file, line) an endpoint is reported at: the ``def`` that runs, also when
        a base class defines it (the handler still names the routed class); the routed
        class itself for a method the framework provides."""
        owner = target.module if target.kind == "F" and line else module
        return owner, self.project.modules[owner].relpath, line

    def defined(self, module: str, cls: str) -> set[str]:
        project = self.project
        names: set[str] = set()
        for mod, qual in project.mro(module, cls):
            names.update(project.modules[mod].classes[qual].methods)
        for base in project.external_bases(module, cls):
            dotted = base.rstrip("()")
            package, _, tail = dotted.rpartition(".")
            if package in _REST_AUTH_VIEWS and tail in _REST_AUTH_PROVIDED:
                # dj-rest-auth's LoginView is an API view, not Django's (PATTERNS.md item 104)
                names.update(_REST_AUTH_PROVIDED[tail])
            else:
                names.update(_PROVIDED.get(tail, ()))
        return names

    def is_viewset(self, module: str, cls: str) -> bool:
        return any("ViewSet" in t for t in self.project.base_tails(module, cls))

    def class_endpoints(
        self,
        module: str,
        cls: str,
        route: str,
        framework: str,
        actions: dict[str, str] | None = None,
        note: str = "",
        alias: str = "",
    ) -> int:
        """One endpoint per HTTP method a class-based view answers (``note``: why its
        route is not certain; ``alias``: as in ``viewset_endpoints``); how many."""
        project = self.project
        facts = project.modules[module]
        klass = facts.classes[cls]
        short = alias or cls.rsplit(".", 1)[-1]
        allowed = self.allowed_verbs(module, cls)
        if actions:
            pairs = [(http.upper(), action) for http, action in actions.items()]
        else:
            available = self.defined(module, cls)
            pairs = [(verb.upper(), verb) for verb in HTTP_VERBS if verb in available]
            if not pairs and "dispatch_request" in available:
                methods = [m.upper() for m in _strs(self.class_lit(module, cls, "methods"))]
                methods = methods or ["GET"]
                if self.handler(module, cls, "dispatch_request")[0].kind == "F":
                    # the project's dispatch_request: it may pick a method per verb
                    entry = "dispatch_request"
                    self.hooked_endpoints(
                        module, cls, entry, methods, route, framework, note, alias
                    )
                    return len(methods)
                pairs = [(m, "dispatch_request") for m in methods]
            dispatch = self.handler(module, cls, "dispatch")[0]
            if not pairs and dispatch.kind == "F":
                # no get/post: the project's dispatch may look up handle_<verb> itself
                verbs = answered_verbs(project, module, cls, "dispatch")
                if verbs:
                    self.hooked_endpoints(
                        module, cls, "dispatch", verbs, route, framework, note, alias
                    )
                    return len(verbs)
                if self.handles_itself(dispatch):
                    # nor a lookup: the dispatch answers every method itself (a wizard)
                    pairs = [(m, "dispatch") for m in self.method_names(module, cls)]
        hooks = self.request_hooks(module, cls)
        for http, name in pairs:
            target, line = self.handler(module, cls, name)
            owner, relpath, line = self.where(module, target, line)
            self.add_permitted(
                allowed,
                EndpointDecl(
                    owner,
                    relpath,
                    line or klass.line,
                    f"{short}.{name}",
                    framework,
                    [http],
                    route,
                    [target, *hooks],
                    Target("C", module, cls),
                    note,
                ),
            )
        return len(pairs)

    def handles_itself(self, dispatch: Target) -> bool:
        """Whether a project ``dispatch`` answers the request without handing it to the
        framework's (which would look for the ``get``/``post`` the class lacks)."""
        facts = self.project.function(dispatch)
        if facts is None:
            return False
        return not any(
            c.name.startswith("super") and c.name.endswith(".dispatch") for c in facts.calls
        )

    def method_names(self, module: str, cls: str) -> list[str]:
        """The class's ``http_method_names`` when it lists them, else any method."""
        named = [m.upper() for m in _strs(self.class_lit(module, cls, "http_method_names"))]
        return [m for m in named if m not in ("HEAD", "OPTIONS")] or ["ANY"]

    def allowed_verbs(self, module: str, cls: str) -> frozenset[str] | None:
        """The verbs ``http_method_names = ["get", "patch"]`` lets a class view answer
        (Django's and DRF's dispatch refuse the others with 405), or None when it is not
        written as a literal list (PATTERNS.md item 101)."""
        names = self.class_lit(module, cls, "http_method_names")
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            return None
        return frozenset(str(n).upper() for n in names)

    def add_permitted(self, allowed: frozenset[str] | None, decl: EndpointDecl) -> None:
        """``add``, less the methods ``http_method_names`` refuses; nothing when none is
        left."""
        if allowed is not None:
            decl.methods = [m for m in decl.methods if m in allowed or m == "ANY"]
            if not decl.methods:
                return
        self.add(decl)

    def class_lit(self, module: str, cls: str, name: str) -> Lit:
        """A class-level literal (``methods = ["GET", "POST"]``), inherited as Python does."""
        for mod, qual in self.project.mro(module, cls):
            value = self.project.modules[mod].classes[qual].lits.get(name)
            if value is not None:
                return value
        return None

    def request_hooks(self, module: str, cls: str) -> list[Target]:
        """Overrides that run around every method of a view: dispatch, setup, initial,
        finalize_response (PATTERNS.md item 247)."""
        hooks = []
        for name in _REQUEST_HOOKS:
            target, _ = self.handler(module, cls, name)
            if target.kind == "F":
                hooks.append(target)
        return hooks

    def library_viewset(self, module: str, cls: str) -> str:
        """The viewset of a library other than DRF a routed class derives from, whose
        actions (and so routes) the audit cannot list; "" when none."""
        for base in self.project.external_bases(module, cls):
            name = base.rstrip("()")
            if name.rsplit(".", 1)[-1].endswith("ViewSet") and not name.startswith(
                _KNOWN_VIEWSET_PACKAGES
            ):
                return name
        return ""

    def viewset_endpoints(
        self,
        module: str,
        cls: str,
        base: str,
        framework: str,
        note: str = "",
        extra: dict[str, dict[str, str]] | None = None,
        alias: str = "",
        slash: str = "/",
    ) -> None:
        """A DRF ViewSet registered on a router under ``base`` (``note``: why that
        registration is not certain; ``extra``: the router's own additions to its list and
        detail routes, {"list": {"put": "bulk_update"}}; ``alias``: the name the class was
        registered under when it stands in for this one, ``proxies.py``; ``slash``: what
        ends each route, "" for a router made with ``trailing_slash=False``)."""
        project = self.project
        facts = project.modules[module]
        klass = facts.classes[cls]
        short = alias or cls.rsplit(".", 1)[-1]
        lookup = klass.lits.get("lookup_url_kwarg") or klass.lits.get("lookup_field") or "pk"
        detail_route = join_route(base, "{" + str(lookup) + "}") + slash
        available = self.defined(module, cls)
        hooks = self.request_hooks(module, cls)
        allowed = self.allowed_verbs(module, cls)
        library = self.library_viewset(module, cls)
        if library:  # django_elasticsearch_dsl_drf's DocumentViewSet: item 128
            self.not_understood(
                module,
                klass.line,
                f"{short} registered at {join_route(base)}",
                f"derives from {library}, a library's viewset: the routes it adds are not known",
            )
        for action, (http, detail) in _STD_ACTIONS.items():
            if action in available:
                target, line = self.handler(module, cls, action)
                owner, relpath, line = self.where(module, target, line)
                route = detail_route if detail else join_route(base) + slash
                self.add_permitted(
                    allowed,
                    EndpointDecl(
                        owner,
                        relpath,
                        line or klass.line,
                        f"{short}.{action}",
                        framework,
                        [http],
                        route.replace("//", "/"),
                        [target, *hooks],
                        Target("C", module, cls),
                        note,
                    ),
                )
        for slot, mapping in (extra or {}).items():
            for http, action in mapping.items():
                if action not in available or not isinstance(action, str):
                    continue
                target, line = self.handler(module, cls, action)
                owner, relpath, line = self.where(module, target, line)
                route = detail_route if slot == "detail" else join_route(base) + slash
                self.add_permitted(
                    allowed,
                    EndpointDecl(
                        owner,
                        relpath,
                        line or klass.line,
                        f"{short}.{action}",
                        framework,
                        [http.upper()],
                        route.replace("//", "/"),
                        [target, *hooks],
                        Target("C", module, cls),
                        note,
                    ),
                )
        for mod, qual in project.mro(module, cls):
            for name in project.modules[mod].classes[qual].methods:
                function = project.modules[mod].functions.get(f"{qual}.{name}")
                if function is None:
                    continue
                for dec in function.decorators:
                    action_note = ""
                    if dec.tail not in _DRF_ACTIONS:
                        made = factory_made(project, dec, mod)
                        if made is None or made.tail not in _DRF_ACTIONS:
                            continue
                        if not made.base.startswith("rest_framework."):
                            continue
                        # the factory's own arguments to @action are not read: the ones
                        # written where it is used, when named alike, are the best guess
                        action_note = FACTORY_ACTION_NOTE.format(factory=dec.base)
                        kept = {k: v for k, v in dec.kwargs.items() if k in _ACTION_KEYS}
                        dec = Decorator(made.name, dec.line, [], kept)
                    # action(methods=None, detail=None, ...): DRF's order, when positional
                    given = dec.kwargs.get("methods", dec.args[0] if dec.args else None)
                    on_detail = dec.kwargs.get(
                        "detail", dec.args[1] if len(dec.args) > 1 else dec.tail == "detail_route"
                    )
                    url_path = dec.kwargs.get("url_path")
                    url_path = action_path(url_path) if isinstance(url_path, str) else name
                    methods = self.written_methods(given, mod) or ["GET"]
                    route = (
                        join_route(detail_route if on_detail is True else base, url_path) + slash
                    )
                    self.add_permitted(
                        allowed,
                        EndpointDecl(
                            mod,
                            project.modules[mod].relpath,
                            function.line,
                            f"{short}.{name}",
                            framework,
                            methods,
                            route,
                            [Target("F", mod, f"{qual}.{name}"), *hooks],
                            Target("C", module, cls),
                            note or action_note,
                        ),
                    )

    def written_methods(self, given: Lit, module: str) -> list[str]:
        """HTTP methods as written: strings, or constants of the project (``methods=[POST]``
        with ``POST`` imported: PATTERNS.md item 142), upper-cased."""
        items = given if isinstance(given, list) else [given]
        names = [
            item if isinstance(item, str) else self.mounts.text_of(item, module)
            for item in items
            if item is not None
        ]
        return [n.upper() for n in names if n]

    def function_methods(self, function: FunctionFacts) -> tuple[list[str], bool]:
        """HTTP methods a Django/DRF function view accepts, and whether it is a DRF view."""
        for dec in function.decorators:
            if dec.tail == "api_view":
                methods = (
                    _strs(dec.args[0]) if dec.args else _strs(dec.kwargs.get("http_method_names"))
                )
                return [m.upper() for m in methods] or ["GET"], True
            if dec.tail == "require_http_methods" and dec.args:
                return [m.upper() for m in _strs(dec.args[0])], False
            if dec.tail in _METHOD_DECORATORS:
                return list(_METHOD_DECORATORS[dec.tail]), False
        return ["ANY"], False
