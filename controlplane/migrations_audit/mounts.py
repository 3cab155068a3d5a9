"""Apps, blueprints, routers and namespaces: what kind of object a route hangs from, and the
path prefix it ends up under once every ``register_blueprint``/``include_router``/
``add_namespace`` is applied."""

from __future__ import annotations

import re

from .facts import Lit, RouteCall
from .project import Project, Target
from .wiring import MOUNT_KINDS

Key = tuple[str, str]  # (module, variable)
MAX_MOUNTS = 8  # prefixes per router: a guard against a product of many mounts


def join_route(*parts: str) -> str:
    """Join path pieces with single slashes: ("/api/", "/items") -> "/api/items"."""
    pieces = [p for p in parts if p]
    if not pieces:
        return "/"
    out = pieces[0]
    for piece in pieces[1:]:
        out = out.rstrip("/") + "/" + piece.lstrip("/")
    return out if out.startswith("/") else "/" + out


# an escaped plain character in a regex route (``robots\\.txt``): shown as the character
_ESCAPED_PLAIN = re.compile(r"\\([^A-Za-z0-9])")


def regex_shown(route: str) -> str:
    """A regex route as people read it: without its anchors, ``robots\\.txt`` as
    ``robots.txt``; a class like ``\\d`` or ``\\w`` stays (PATTERNS.md item 106)."""
    return _ESCAPED_PLAIN.sub(r"\1", route.removeprefix("^").removesuffix("$"))


def ref_of(value: Lit) -> str:
    """The rendered name of a non-literal argument ({"ref": ...}), else ""."""
    return value.get("ref", "") if isinstance(value, dict) else ""


def ref_module(value: Lit, default: str) -> str:
    """The module a reference was written in, when a helper call carried it elsewhere."""
    written = value.get("in") if isinstance(value, dict) else None
    return written if isinstance(written, str) else default


def _framework_of(name: str) -> str:
    """Framework of an app/router/blueprint object from the class it instantiates."""
    base = name.rstrip("()")
    root, last = base.split(".", 1)[0], base.rsplit(".", 1)[-1]
    if root in ("flask_restx", "flask_restplus"):
        return "flask-restx"
    if root == "flask_restful":
        return "flask-restful"
    if root in ("flask", "flask_smorest", "apiflask", "flask_openapi3") or last in (
        "Flask",
        "Blueprint",
    ):
        return "flask"
    if root == "quart":
        return "quart"
    if root == "fastapi" or last in ("FastAPI", "APIRouter"):
        return "fastapi"
    if root == "starlette":
        return "starlette"
    if root == "sanic":
        return "sanic"
    if root == "ninja":
        return "ninja"  # django-ninja: NinjaAPI and Router, FastAPI-style decorators
    if root in ("rest_framework", "rest_framework_nested") and last.endswith("Router"):
        return "drf-router"
    return ""


# Framework classes whose constructor keywords give a prefix (``_var_prefixes``).
_PREFIXED = ("Blueprint", "APIBlueprint", "APIRouter", "Api", "FastAPI", "Namespace")


def _package_routes(name: str) -> bool:
    """Whether a mounted object outside the project is a package's set of routes
    (``rq_dashboard.blueprint``, ``FastAPIUsers().get_auth_router()``), not one the
    project builds from a framework class (``APIRouter()`` made in a function) or a value
    only the running program knows (``import_module(name).blueprint``)."""
    root = name.split(".", 1)[0]
    made = name.rstrip("()").rsplit(".", 1)[-1] in _PREFIXED + ("Router",)
    return not made and "[]" not in name and root not in ("importlib", "inspect", "builtins")


# mounts of another package's routes the report lists (a sub-application such as static
# files mounted with ``mount`` is not a set of views the audit would read)
_MOUNTS_LISTED = frozenset({"register_blueprint", "register_api", "include_router"})
_FIELD = re.compile(r"\{([A-Za-z_][\w.]*)\}")  # {NAME} left in a prefix by an f-string


class Mounts:
    """Object kinds and composed prefixes, memoised per object."""

    def __init__(self, project: Project) -> None:
        self.project = project
        # every place a router is mounted: one included twice serves its routes under
        # both prefixes (PATTERNS.md item 139)
        self.mounts: dict[Key, list[tuple[Key | None, str | None, str]]] = {}
        self._prefix: dict[Key, tuple[str, ...]] = {}
        # FastAPI dependencies given where a router is included (``include_router(r,
        # dependencies=[Depends(f)])``): (child, parent) -> [(rendered f, module)]
        self.mount_deps: dict[tuple[Key, Key | None], list[tuple[str, str]]] = {}
        self._deps: dict[Key, list[tuple[str, str]]] = {}
        self._assigned: dict[str, list[Key]] | None = None  # assigned_from's index
        self._kind: dict[tuple[str, str], str] = {}
        # (module, line, call, what) of blueprints and routers of installed packages
        # mounted here: their routes are not read, and the report says so (item 176)
        self.external: list[tuple[str, int, str, str]] = []
        majority = {"flask": 0, "fastapi": 0}
        for facts in project.modules.values():
            for target in facts.imports.values():
                root = target.split(".", 1)[0]
                if root in ("flask", "quart"):
                    majority["flask"] += 1
                elif root in ("fastapi", "starlette"):
                    majority["fastapi"] += 1
        self.default_framework = max(majority, key=lambda k: majority[k])

    def object_kind(self, receiver: str, module: str) -> str:
        key = (receiver, module)
        if key not in self._kind:
            self._kind[key] = self._object_kind(receiver, module)
        return self._kind[key]

    def _object_kind(self, receiver: str, module: str) -> str:
        project = self.project
        target = project.resolve(receiver, module)
        if target is not None and target.kind == "X":
            kind = _framework_of(target.name)
            if kind:
                return kind
            if target.name.endswith(".namespace()"):
                return "flask-restx"
        if target is not None and target.kind in ("I", "C"):
            for base in project.external_bases(target.module, target.name):
                kind = _framework_of(base)
                if kind:
                    return kind
        last = receiver.rsplit(".", 1)[-1].lstrip("~").lower()
        roots = {t.split(".", 1)[0] for t in project.modules[module].imports.values()}
        if last.endswith("router"):
            return "fastapi" if "flask" not in roots else ""
        if last in ("bp", "blueprint") or last.endswith(("_bp", "_blueprint")):
            return "flask"
        if last in ("app", "application", "api") or last.endswith(("_app", "_api")):
            if "fastapi" in roots and "flask" not in roots:
                return "fastapi"
            if roots & {"flask", "quart"}:
                return "flask"
            return self.default_framework if target is None else ""
        if last == "ns" or last.endswith("_ns"):
            return "flask-restx"
        return ""

    def collect(self) -> None:
        """Where each blueprint, router and namespace is registered, and with what prefix."""
        project = self.project
        for module, facts in project.modules.items():
            for call in facts.route_calls:
                if call.kind not in MOUNT_KINDS:  # register_api: flask-openapi3's
                    continue
                if call.kind == "add_router":  # ninja: api.add_router("/items/", router)
                    child_name = ref_of(call.args[1]) if len(call.args) > 1 else ""
                    child_name = child_name or ref_of(call.kwargs.get("router"))
                elif call.kind == "mount":  # app.mount("/api/v1", app=api): a sub-app
                    child_name = ref_of(call.args[1]) if len(call.args) > 1 else ""
                    child_name = child_name or ref_of(call.kwargs.get("app"))
                else:
                    child_name = (
                        ref_of(call.args[0])
                        if call.args
                        else ref_of(
                            call.kwargs.get("router")
                            or call.kwargs.get("blueprint")
                            or call.kwargs.get("api")
                        )
                    )
                child = project.var_key(child_name, module) if child_name else None
                if child is None and child_name.endswith("()"):
                    child = self.factory_key(child_name[:-2], module)
                if child is None:
                    self.note_external(module, call.line, call.kind, child_name)
                    continue
                parents = (
                    self.given_parents(module, call)
                    if call.receiver_param and call.owner
                    else [
                        project.var_key(call.receiver, module) or self.made_by_factory(module, call)
                    ]
                )
                prefix = None
                for kw in ("url_prefix", "prefix", "path"):
                    value = self.text_of(call.kwargs.get(kw), module)
                    if value is not None:
                        prefix = value
                if (
                    call.kind == "add_namespace"
                    and len(call.args) > 1
                    and isinstance(call.args[1], str)
                ):
                    prefix = call.args[1]
                if (
                    call.kind in ("add_router", "mount")
                    and call.args
                    and isinstance(call.args[0], str)
                ):
                    prefix = call.args[0]
                places = self.mounts.setdefault(child, [])
                given = dependencies_given(call.kwargs, module)
                for parent in parents:
                    if given:
                        self.mount_deps.setdefault((child, parent), []).extend(given)
                    if (parent, prefix, call.kind) not in places and len(places) < MAX_MOUNTS:
                        places.append((parent, prefix, call.kind))

    def given_parents(self, module: str, call: RouteCall) -> list[Key | None]:
        """The routers a helper's callers pass for the parameter its mount is made on
        (``def include_x(parent): parent.include_router(x)``, ``include_x(router_v1)``;
        PATTERNS.md item 205); [None] (the root) when no call of the helper is found."""
        project = self.project
        helper = Target("F", module, call.owner)
        plain = [p for p in call.params if not p.startswith("*")]
        if project.class_of(module, call.owner) and plain and plain[0] in ("self", "cls"):
            plain = plain[1:]
        found: list[Key | None] = []
        for caller, facts in project.modules.items():
            for made in facts.route_calls:
                if made.kind != "call" or project.resolve(made.receiver, caller) != helper:
                    continue
                given: Lit = made.kwargs.get(call.receiver_param)
                if given is None and call.receiver_param in plain:
                    index = plain.index(call.receiver_param)
                    given = made.args[index] if index < len(made.args) else None
                ref = ref_of(given)
                key = project.var_key(ref, ref_module(given, caller)) if ref else None
                if key is not None and key not in found:
                    found.append(key)
        return found or [None]

    def note_external(self, module: str, line: int, kind: str, child: str) -> None:
        """``app.register_blueprint(rq_dashboard.blueprint, url_prefix="/rq")``,
        ``app.include_router(fastapi_users.get_auth_router(backend))``: a blueprint or
        router of an installed package, kept to be listed as not read."""
        if kind not in _MOUNTS_LISTED or not child:
            return
        found = self.project.resolve(child, module)
        if found is not None and found.kind == "X" and _package_routes(found.name):
            what = "blueprint" if kind != "include_router" else "router"
            self.external.append((module, line, f"{kind}({found.name})", what))

    def wrapped_prefix(self, owner: Target) -> str:
        """The ``url_prefix`` of the one blueprint a project class makes in its
        ``__init__`` (``self.blueprint = Blueprint("api", __name__, url_prefix="/api")``):
        routes added through the object's own methods land under it (PATTERNS.md item
        127); "" when it makes none, or several."""
        project = self.project
        found: list[str] = []
        for mod, qual in project.mro(owner.module, owner.name):
            init = project.modules[mod].functions.get(f"{qual}.__init__")
            for call in init.calls if init is not None else []:
                if call.name.rsplit(".", 1)[-1] != "Blueprint":
                    continue
                prefix = next((v for k, v in call.args if k == "url_prefix"), None)
                found.append(prefix[0] if type(prefix) is list and type(prefix[0]) is str else "")
        return found[0] if len(found) == 1 else ""

    def text_of(self, value: Lit, module: str) -> str | None:
        """A prefix as written in ``module``: a string, with ``{NAME}`` / ``{settings.X}``
        replaced by the constant they name; a bare constant (``prefix=API_ROOT``,
        ``prefix=settings.API_V1_STR``) by its value; None when it is neither (PATTERNS.md
        item 132)."""
        if isinstance(value, str):
            return _FIELD.sub(lambda m: self.constant(m.group(1), module) or m.group(0), value)
        if isinstance(value, dict) and isinstance(value.get("ref"), str):
            return self.constant(value["ref"], module)
        return None

    def constant(self, name: str, module: str) -> str | None:
        """The string a module-level constant of the project holds (``API_ROOT``, imported
        or not), or a class-level one read through a module-level instance
        (``settings.API_V1_STR`` with ``settings = Settings()``), or Django's
        ``settings.AVATAR_PATH`` when the settings modules agree on it; None when unknown."""
        project = self.project
        facts = project.modules.get(module)
        if facts is None or not name:
            return None
        head, _, rest = name.partition(".")
        dotted = f"{facts.imports[head]}.{rest}".rstrip(".") if head in facts.imports else name
        holder, _, attr = dotted.rpartition(".")
        if not holder:
            value = facts.lits.get(attr)
            return value if isinstance(value, str) else None
        home = project.module_for(holder, module)
        if home is not None:
            value = home.lits.get(attr)
            return value if isinstance(value, str) else None
        if holder == "django.conf.settings":  # the settings module(s) naming ROOT_URLCONF
            values = {
                f.lits.get(attr)
                for f in project.modules.values()
                if "ROOT_URLCONF" in f.lits and attr in f.lits
            }
            value = values.pop() if len(values) == 1 else None
            return value if isinstance(value, str) else None
        made = project.resolve(holder, module)
        if made is None or made.kind != "I" or made.module not in project.modules:
            return None
        for mod, qual in project.mro(made.module, made.name):
            value = project.modules[mod].classes[qual].lits.get(attr)
            if value is not None:
                return value if isinstance(value, str) else None
        return None

    def prefixes_of(self, receiver: str, module: str, within: str = "") -> tuple[str, ...]:
        """Every prefix the routes of ``receiver`` end up under, one per place it is mounted
        (``("",)`` when it is mounted nowhere). ``within``: the qualified name of the routed
        function, when the receiver may be a local of a factory around it."""
        key = self.project.var_key(receiver, module) or self.returned_by(receiver, module, within)
        return self.var_prefixes(key) if key is not None else ("",)

    def dependencies_of(
        self, receiver: str, module: str, within: str = ""
    ) -> list[tuple[str, str]]:
        """The FastAPI dependencies every route of ``receiver`` runs besides its own: those
        given to the router (``APIRouter(dependencies=[...])``), to each place it is
        included, and to what it is included in (PATTERNS.md item 212); (rendered, module)."""
        key = self.project.var_key(receiver, module) or self.returned_by(receiver, module, within)
        return self.var_dependencies(key) if key is not None else []

    def var_dependencies(self, key: Key) -> list[tuple[str, str]]:
        if key in self._deps:
            return self._deps[key]
        self._deps[key] = []  # cycle guard
        module, var = key
        found: list[tuple[str, str]] = []
        facts = self.project.modules.get(module)
        if facts is not None:
            found += dependencies_given(facts.ctors.get(var, [[], {}])[1], module)
        for parent, _prefix, _how in self.mounts.get(key, []):
            found += self.mount_deps.get((key, parent), [])
            if parent is not None:
                found += self.var_dependencies(parent)
        unique = list(dict.fromkeys(found))
        self._deps[key] = unique
        return unique

    def made_by_factory(self, module: str, call: RouteCall) -> Key | None:
        """``def create_api(): api = FastAPI(); api.include_router(r); return api``: the
        router mounted on a local its function returns hangs under that function's result,
        keyed like ``factory_key`` (PATTERNS.md item 222); None elsewhere."""
        if not call.receiver.endswith("()"):
            return None
        inner: tuple[int, str] | None = None
        for qualname, function in self.project.modules[module].functions.items():
            if function.line <= call.line <= function.end_line and (
                inner is None or function.line > inner[0]
            ):
                inner = (function.line, qualname)
        if inner is None:
            return None
        function = self.project.modules[module].functions[inner[1]]
        return (module, f"{inner[1]}()") if call.receiver in function.returns else None

    def assigned_from(self, module: str, made: str) -> list[Key]:
        """The module-level variables assigned ``<module>.<made>`` (a factory's call)."""
        written = f"{module}.{made}" if module else made
        if self._assigned is None:
            self._assigned = {}
            for name, facts in self.project.modules.items():
                for var, value in facts.assigns.items():
                    if value.endswith("()"):
                        self._assigned.setdefault(value, []).append((name, var))
        return self._assigned.get(written, [])

    def factory_key(self, name: str, module: str) -> Key | None:
        """``register_blueprint(main.make_blueprint(config), ...)``: the object a project
        function makes and returns, keyed by the function (PATTERNS.md item 143)."""
        target = self.project.resolve(name, module)
        if target is None or target.kind != "F":
            return None
        return (target.module, f"{target.name}()")

    def returned_by(self, receiver: str, module: str, within: str) -> Key | None:
        """The factory a route's receiver is a local of: a function around the routed one
        that returns what the receiver is (``view = Blueprint(...)`` ... ``return view``)."""
        functions = self.project.modules[module].functions
        outer = within.rpartition(".")[0]
        while outer:
            factory = functions.get(outer)
            if factory is not None and receiver in factory.returns:
                return (module, f"{outer}()")
            outer = outer.rpartition(".")[0]
        return None

    def var_prefixes(self, key: tuple[str, str]) -> tuple[str, ...]:
        if key in self._prefix:
            return self._prefix[key]
        self._prefix[key] = ("",)  # cycle guard
        value = self._var_prefixes(key)
        self._prefix[key] = value
        return value

    def _var_prefixes(self, key: tuple[str, str]) -> tuple[str, ...]:
        project = self.project
        module, var = key
        facts = project.modules[module]
        args, kwargs = facts.ctors.get(var, [[], {}])
        created = project.resolve(facts.assigns.get(var, ""), module)
        made = (
            created.name
            if created is not None and created.kind == "X"
            else facts.assigns.get(var, "")
        )
        last = made.rstrip("()").rsplit(".", 1)[-1]
        if created is not None and created.kind in ("I", "C"):
            # a project subclass (class AppBlueprint(Blueprint)) takes its base's keywords
            tails = project.base_tails(created.module, created.name)
            last = next((t for t in _PREFIXED if t in tails), last)
        own, parent_prefix = "", ""
        if created is not None and created.kind in ("I", "C") and last not in _PREFIXED:
            own = self.wrapped_prefix(created)
        if last in ("Blueprint", "APIBlueprint"):  # flask-openapi3's too (item 172)
            own = self.text_of(kwargs.get("url_prefix"), module) or ""
        elif last in ("APIRouter", "Api", "FastAPI"):
            own = self.text_of(kwargs.get("prefix"), module) or ""
            if last == "Api" and args:
                app_name = ref_of(args[0])
                app = project.var_key(app_name, module) if app_name else None
                parent_prefix = self.var_prefixes(app)[0] if app else ""
        elif last in ("Namespace", "namespace"):
            path = kwargs.get("path")
            own = (
                path
                if isinstance(path, str)
                else ("/" + args[0] if args and isinstance(args[0], str) else "")
            )
            if last == "namespace":
                api = project.var_key(facts.assigns.get(var, "")[: -len(".namespace()")], module)
                parent_prefix = self.var_prefixes(api)[0] if api else ""
        places = self.mounts.get(key)
        if not places and var.endswith("()"):
            # what a factory makes is mounted where the variables assigned its call are
            # (``api_v1 = create_api_v1()`` ... ``app.mount("/api/v1", api_v1)``: item 222)
            built = [p for v in self.assigned_from(module, var) for p in self.var_prefixes(v)]
            if built:
                return tuple(dict.fromkeys(built))[:MAX_MOUNTS]
        if not places:
            return (join_route(parent_prefix, own) if parent_prefix or own else "",)
        found: list[str] = []
        for parent, prefix, how in places:
            for base in self.var_prefixes(parent) if parent else ("",):
                if how in ("include_router", "mount"):
                    route = join_route(base, prefix or "", own)
                else:
                    route = join_route(base, prefix if prefix is not None else own)
                if route not in found:
                    found.append(route)
        return tuple(found[:MAX_MOUNTS])


def dependencies_given(kwargs: dict[str, Lit], module: str) -> list[tuple[str, str]]:
    """``dependencies=[Depends(f), ...]`` among a call's keywords: [(rendered f, module)]."""
    given = kwargs.get("dependencies") if isinstance(kwargs, dict) else None
    if not isinstance(given, list):
        return []
    return [(d["dep"], module) for d in given if isinstance(d, dict) and d.get("dep")]
