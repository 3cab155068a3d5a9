"""How an application is wired, as seen in one module: route registrations, signal
receivers, and settings that make Celery run tasks inline."""

from __future__ import annotations

import ast
import re

from .facts import Decorator, EagerSetting, Lit, RouteCall, SignalHook
from .loop_rules import loop_template
from .names import Names
from .sender_filters import local_imports, positive_guard_classes, render_class, sender_compared
from .syntax import percent_format, tail, truthy

ROUTE_CALL_KINDS = frozenset(
    {
        "add_url_rule",
        "add_api_route",
        "add_route",
        "include_router",
        "register_blueprint",
        "register_api",  # flask-openapi3: app.register_api(api_blueprint), PATTERNS.md item 172
        "add_resource",
        "add_namespace",
        "register",
        "add_api",
        "add_view",
        "add_view_no_menu",
        "add_router",
        "mount",  # Starlette/FastAPI: app.mount("/api/v1", app=api), a sub-application
    }
)
# registrations that hang one router, blueprint or namespace under another (mounts.py)
MOUNT_KINDS = frozenset(
    {"register_blueprint", "register_api", "include_router", "add_namespace", "add_router", "mount"}
)
LITESTAR_ROUTER = "litestar.Router"  # a route-call kind: a Router's path and handlers
_EAGER_NAME = re.compile(r"(?i)^(celery_)?(tasks?_)?always_eager$")


def note_call(names: Names, node: ast.Call, name: str, method: str, mount: str) -> None:
    """Route registrations, Starlette routes, ``signal.connect``, eager keyword settings."""
    facts = names.facts
    if method in ROUTE_CALL_KINDS and isinstance(node.func, ast.Attribute):
        note_registration(names, node, method, name.rsplit(".", 1)[0], node.func.value)
    elif method in ("Route", "APIRoute") and name.startswith(("starlette.", "fastapi.")):
        facts.route_calls.append(
            RouteCall(
                "Route",
                node.lineno,
                "",
                [names.lit(a) for a in node.args],
                {kw.arg: names.lit(kw.value) for kw in node.keywords if kw.arg},
                mount,
            )
        )
    elif method == "Router" and name.startswith("litestar."):
        # Router(path="/v1", route_handlers=[...]): a prefix for the handlers it lists
        kwargs = {kw.arg: names.lit(kw.value) for kw in node.keywords if kw.arg}
        facts.route_calls.append(RouteCall(LITESTAR_ROUTER, node.lineno, "", [], kwargs, mount))
    elif method == "connect" and isinstance(node.func, ast.Attribute):
        handler = node.args[0] if node.args else None
        # connect(receiver, sender=None, ...) in Django and blinker: a sender by position too
        sender = node.args[1] if len(node.args) > 1 else None
        for kw in node.keywords:
            if kw.arg == "receiver":
                handler = kw.value
            elif kw.arg == "sender":
                sender = kw.value
        if (
            isinstance(handler, ast.Call)
            and isinstance(handler.func, ast.Call)
            and len(handler.args) == 1
            and not handler.keywords
        ):
            # connect(field_name("file")(callback), ...): the callback a decorator factory
            # wraps is what runs when the signal fires (PATTERNS.md item 168)
            handler = handler.args[0]
        if handler is not None:
            sender_name = ""
            if sender is not None:
                sender_name = (
                    model_by_name(names, sender)
                    or runtime_sender(names, sender)
                    or names.render(sender)
                )
            handler_name = names.render(handler)
            owner = _owner_class(names)
            if owner and handler_name.startswith("self.") and handler_name.count(".") == 1:
                handler_name = owner + handler_name[4:]  # connect(self.handle, ...)
            facts.signals.append(
                SignalHook(
                    name.rsplit(".", 1)[0], sender_name, handler_name, node.lineno, _scope(names)
                )
            )
    elif method == "listen" and name.startswith("sqlalchemy.") and len(node.args) > 2:
        note_orm_event(
            names,
            names.lit(node.args[0]),
            names.lit(node.args[1]),
            names.render(node.args[2]),
            node.lineno,
        )
    elif method == "as_view":
        if node.keywords and isinstance(node.func, ast.Attribute):
            # X.as_view(service_factory=make_service): every X built for a request gets it
            facts.route_calls.append(
                RouteCall(
                    "as_view",
                    node.lineno,
                    name.rsplit(".", 1)[0],
                    [],
                    {kw.arg: names.lit(kw.value) for kw in node.keywords if kw.arg},
                )
            )
    elif _may_register(names, node):
        note_registration(names, node, "call", name, None)
    elif method == "update":
        note_router_mapping(names, node)
    if (
        method in ("extend", "append")
        and node.args
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and (names.rows.modules or names.rows.read)
    ):  # urlpatterns.extend(getattr(urls, "api_urls")) in a loop over apps
        names.rows.url_list_added(names, node.func.value.id, node.args[0], node.lineno)
    for kw in node.keywords:
        if kw.arg:
            note_eager(names, kw.arg, kw.value, kw.value.lineno)
    if method in ("setdefault", "__setitem__") and len(node.args) >= 2:
        key = node.args[0]
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            note_eager(names, key.value, node.args[1], node.lineno)


ROUTER_MAPPING = "router_mapping"  # a route-call kind: a DRF router class's extra mapping
# SimpleRouter.routes: [list, dynamic list, detail, dynamic detail]; which is which
_ROUTE_SLOTS = {0: "list", 2: "detail"}


def note_router_mapping(names: Names, node: ast.Call) -> None:
    """``self.routes[0].mapping.update({"put": "bulk_update"})`` in a router subclass (the
    djangorestframework-bulk idiom): viewsets registered on it answer those methods on the
    list (or detail) route. Kept as a RouteCall whose receiver is the class."""
    func = node.func
    target = func.value if isinstance(func, ast.Attribute) else None
    routes = target.value if isinstance(target, ast.Attribute) else None
    if not (
        isinstance(target, ast.Attribute)
        and target.attr == "mapping"
        and isinstance(routes, ast.Subscript)
        and isinstance(routes.value, ast.Attribute)
        and routes.value.attr == "routes"
        and isinstance(routes.slice, ast.Constant)
        and node.args
    ):
        return
    slot = _ROUTE_SLOTS.get(routes.slice.value) if isinstance(routes.slice.value, int) else None
    mapping = names.lit(node.args[0])
    owner = _owner_class(names)
    if slot and owner and isinstance(mapping, dict):
        names.facts.route_calls.append(
            RouteCall(ROUTER_MAPPING, node.lineno, owner, [slot], mapping)
        )


RUNTIME_PARAM = "param:"  # sender prefixes of receivers connected at run time
RUNTIME_ATTR = "attr:"
RUNTIME_SELF = "self:"
RUNTIME_ITEM = "item:"


def model_by_name(names: Names, node: ast.expr) -> str:
    """``sender="shop.Order"`` or a model looked up by name (``Order =
    apps.get_model("shop", "Order")``): ``str:<name>``, matched by class name like
    ``@receiver(post_save, sender="shop.Order")``."""
    if isinstance(node, ast.Constant) and type(node.value) is str:
        return "str:" + node.value
    looked_up = looked_up_model(node)
    if looked_up:  # sender=apps.get_model("shop", "Order") written in the connect call
        return "str:" + looked_up
    scope = names.scope
    if scope is not None and isinstance(node, ast.Name) and node.id in scope.models:
        return "str:" + scope.models[node.id]
    if (
        scope is not None
        and isinstance(node, ast.Attribute)
        and node.attr == "through"
        and isinstance(node.value, ast.Attribute)
        and isinstance(node.value.value, ast.Name)
        and node.value.value.id in scope.models
    ):  # sender=Tag.documents.through, Tag looked up by name: str:Tag.documents.through
        return f"str:{scope.models[node.value.value.id]}.{node.value.attr}.through"
    return ""


def looked_up_model(value: ast.expr) -> str:
    """``Order`` for ``apps.get_model("shop", "Order")`` / ``get_model("shop.Order")`` /
    ``get_model(model_name="Order")``, or swapper's ``load_model("shop", "Order")`` (a
    swappable model: PATTERNS.md item 70); "" for anything else."""
    if not isinstance(value, ast.Call):
        return ""
    named: ast.expr | None
    if tail(value.func) == "load_model":  # swapper.load_model(app_label, model)
        named = next((k.value for k in value.keywords if k.arg == "model"), None)
        if named is None and len(value.args) == 2:
            named = value.args[1]
    elif tail(value.func) == "get_model":
        named = next((k.value for k in value.keywords if k.arg == "model_name"), None)
        if named is None and value.args:
            named = value.args[-1]
    else:
        return ""
    if not (isinstance(named, ast.Constant) and type(named.value) is str and named.value):
        return ""
    return named.value.rsplit(".", 1)[-1]


def note_model_lookup(names: Names, targets: list[ast.expr], value: ast.expr) -> str:
    """``Order = self.get_model("Order")`` / ``apps.get_model("shop", "Order")`` /
    ``apps.get_model("shop.Order")`` / ``get_model(model_name="Order")`` in a function: the
    model's name ("" when the value is no such lookup)."""
    scope = names.scope
    model = looked_up_model(value)
    if scope is None or not model:
        return ""
    for target in targets:
        if isinstance(target, ast.Name):
            scope.models[target.id] = model
    return model


def runtime_sender(names: Names, node: ast.expr) -> str:
    """A sender chosen at run time, as a reference the project can resolve later:
    ``param:<module>:<function>:<param>`` when it is a parameter of the connecting function
    (or a loop variable over one), ``attr:<module>:<class>:<attr>`` when it is a loop
    variable over ``self.<attr>``/``cls.<attr>`` (a registry), ``self:<module>:<class>:<attr>``
    for ``self.<attr>`` (what the constructor stored there), ``item:<module>:<call>:<attr>``
    for ``item.<attr>`` of a loop variable over ``Registry.all()``; "" otherwise."""
    scope = names.scope
    cls = scope.owner.rpartition(".")[0] if scope is not None else ""
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "self"
        and cls in names.facts.classes
    ):
        return f"{RUNTIME_SELF}{names.module}:{cls}:{node.attr}"  # sender=self.model
    if scope is None:
        return ""
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id in scope.call_each
    ):  # for item in Registry.all(): sender=item.model
        return f"{RUNTIME_ITEM}{names.module}:{scope.call_each[node.value.id]}:{node.attr}"
    if not isinstance(node, ast.Name):
        return ""
    if node.id in scope.item_each:  # for proxy in item.proxies: sender=proxy
        return f"{RUNTIME_ITEM}{names.module}:{scope.item_each[node.id]}[]"
    name = node.id
    param = scope.each.get(name, name if name in scope.param_names else "")
    if param and "#" not in param:
        return f"{RUNTIME_PARAM}{names.module}:{scope.owner}:{param}"
    attr = scope.attr_each.get(name)
    if attr and cls in names.facts.classes:
        return f"{RUNTIME_ATTR}{names.module}:{cls}:{attr}"
    return ""


def _param_of(names: Names, node: ast.expr) -> Lit:
    """{"param": p} / {"each": p} when ``node`` is a parameter of the function being walked
    (or a loop variable over one), else None."""
    scope = names.scope
    if scope is None or not isinstance(node, ast.Name):
        return None
    if node.id in scope.each:
        return {"each": scope.each[node.id]}
    if node.id in scope.param_names:
        return {"param": node.id}
    return None


def _arg_lit(names: Names, node: ast.expr) -> Lit:
    found = _param_of(names, node)
    if found is not None:
        return found
    formatted = _formatted_rule(names, node)
    if formatted is not None:  # "%s/<%s:%s>" % (url, pk_type, pk) in a helper
        return formatted
    row = names.rows.arg(node)  # for prefix, viewset in table: router.register(prefix, ...)
    if row is not None:
        return row
    template = loop_template(names, node)  # for prefix in prefixes: bp.add_url_rule(prefix + "/x")
    if template is not None:
        return template
    table = _route_table(names, node)
    return names.lit(table) if table is not None else names.lit(node)


def _formatted_rule(names: Names, node: ast.expr) -> Lit:
    """``"%s/<%s:%s>" % (url, pk_type, pk)`` or ``f"{url}/<{pk}>"`` naming parameters of the
    helper being walked: {"format": "%s/<%s:%s>", "parts": [...]}, composed where the helper
    is called (forwarding.py; Flask's documented ``register_api``). None for anything else."""
    if names.scope is None:
        return None
    template: str
    pieces: list[ast.expr]
    formatted = percent_format(node)
    if formatted is not None:
        template, pieces = formatted
    elif isinstance(node, ast.JoinedStr):
        texts: list[str] = []
        pieces = []
        for piece in node.values:
            if isinstance(piece, ast.Constant):
                texts.append(str(piece.value).replace("%", "%%"))
            elif isinstance(piece, ast.FormattedValue) and piece.format_spec is None:
                texts.append("%s")
                pieces.append(piece.value)
            else:
                return None
        template = "".join(texts)
    else:
        return None
    parts = [_param_of(names, p) or names.lit(p) for p in pieces]
    if not any(isinstance(p, dict) and "param" in p for p in parts):
        return None
    return {"format": template, "parts": parts}


def _route_table(names: Names, node: ast.expr) -> ast.expr | None:
    """A module-level list of (path, view) pairs named by ``node``: its literal value.

    ``routes = [("/auth/login", LoginResource), ...]`` then ``configure(bp, routes)``: the
    helper's loop over its parameter sees the pairs (``forwarding.py``)."""
    if not isinstance(node, ast.Name):
        return None
    scope = names.scope
    if scope is not None and (node.id in scope.locals or node.id in scope.param_names):
        return None
    value = names.values.get(node.id)
    if not isinstance(value, ast.List | ast.Tuple) or not value.elts:
        return None
    rows = [e for e in value.elts if isinstance(e, ast.Tuple | ast.List)]
    if not rows or len(rows) != len(value.elts):
        return None
    return value if all(any(_routeish(x) for x in row.elts) for row in rows) else None


def _routeish(node: ast.expr) -> bool:
    """A URL rule literal ("/x" or a list of them) or a class-based view (``X.as_view()``)."""
    kind = type(node)
    if kind is ast.Constant:
        value = node.value  # type: ignore[attr-defined]
        return type(value) is str and value[:1] == "/"
    if kind is ast.List or kind is ast.Tuple:
        elts = node.elts  # type: ignore[attr-defined]
        return bool(elts) and all(_routeish(e) for e in elts)
    return kind is ast.Call and tail(node.func) == "as_view"  # type: ignore[attr-defined]


def _may_register(names: Names, node: ast.Call) -> bool:
    """Whether a call may be a call of a project helper that registers routes: it passes a
    rule, a class-based view or a module-level table of (path, view) pairs. (A helper
    calling another with its own parameters is seen from its call sites' arguments,
    ``forwarding.py``.)"""
    values = [*node.args, *(kw.value for kw in node.keywords)]
    return any(
        _routeish(v) or _route_table(names, v) is not None or _mount_object(names, v)
        for v in values
    )


_MOUNT_CLASSES = ("Router", "Blueprint", "Api", "Namespace", "FastAPI", "Flask")


def _mount_object(names: Names, node: ast.expr) -> bool:
    """A router, blueprint, app or API object passed along (``add_item_urls(router)``): the
    function it is passed to may register routes on it."""
    if not isinstance(node, ast.Name):
        return False
    rendered = names.render(node)
    value = names.values.get(node.id)
    if not rendered.endswith("()") and value is not None:
        rendered = names.render(value)  # a module-level object: what it was made from
    return rendered.endswith("()") and rendered[:-2].rsplit(".", 1)[-1].endswith(_MOUNT_CLASSES)


def note_registration(
    names: Names, node: ast.Call, kind: str, receiver: str, receiver_node: ast.expr | None
) -> None:
    """A route registration (or a call that may register routes through a helper)."""
    first = node.args[0] if node.args else None
    if kind in MOUNT_KINDS and isinstance(first, ast.Name) and first.id in names.rows.elements:
        # each router of a literal list mounted in a loop, as if mounted one by one
        for element in names.rows.elements[first.id]:
            each = ast.Call(func=node.func, args=[element, *node.args[1:]], keywords=node.keywords)
            note_registration(names, ast.copy_location(each, node), kind, receiver, receiver_node)
        return
    args: list[Lit] = []
    for arg in node.args:
        if isinstance(arg, ast.Starred):
            star = _param_of(names, arg.value)  # self.add_resource(resource, *urls)
            if isinstance(star, dict) and "param" in star:
                args.append({**star, "star": True})
            else:
                row = names.rows.arg(arg)  # for pair in table: router.register(*pair)
                if row is not None:
                    args.append(row)
            continue
        args.append(_arg_lit(names, arg))
    kwargs: dict[str, Lit] = {}
    for kw in node.keywords:
        if kw.arg:
            kwargs[kw.arg] = _arg_lit(names, kw.value)
        else:
            forwarded = _param_of(names, kw.value)
            if forwarded is not None:
                kwargs["**"] = forwarded  # bp.add_url_rule(rule, **options)
    owner = _owner_class(names)
    if owner:  # self.router.add_api_route("/", self.create): the methods of this class
        args = [_in_class(a, owner) for a in args]
        kwargs = {k: _in_class(v, owner) for k, v in kwargs.items()}
    call = RouteCall(kind, node.lineno, receiver, args, kwargs)
    scope = names.scope
    if scope is not None and scope.params:
        target = _param_of(names, receiver_node) if receiver_node is not None else None
        uses = [*args, *kwargs.values()]
        if any(
            isinstance(v, dict) and ("param" in v or "each" in v or "format" in v) for v in uses
        ):
            call.owner, call.params = scope.owner, list(scope.params)
        if isinstance(target, dict) and "param" in target:
            call.receiver_param = target["param"]
            # def add_item_urls(router): router.register("items", V); def include_x(parent):
            # parent.include_router(x_router) (PATTERNS.md item 205)
            if kind == "register" or kind in MOUNT_KINDS:
                call.owner, call.params = scope.owner, list(scope.params)
    names.facts.route_calls.append(call)


def _owner_class(names: Names) -> str:
    """The qualified class whose method is being walked ("" outside methods)."""
    scope = names.scope
    if scope is None or "." not in scope.owner:
        return ""
    cls = scope.owner.rpartition(".")[0]
    return names.qualified(cls) if cls in names.facts.classes else ""


def _in_class(value: Lit, owner: str) -> Lit:
    """``self.create`` passed as a view, from inside a method: ``<module>.<Class>.create``."""
    if isinstance(value, dict):
        ref = value.get("ref")
        if isinstance(ref, str) and ref.startswith("self.") and ref.count(".") == 1:
            return {**value, "ref": owner + ref[4:]}
    return value


def note_eager(names: Names, name: str, value: ast.expr, line: int) -> None:
    """``CELERY_TASK_ALWAYS_EAGER = True`` and its spellings (as names, keys, keywords)."""
    if "eager" in name.lower() and _EAGER_NAME.match(name):
        names.facts.eager.append(EagerSetting(name, line, truthy(value)))


def note_receivers(
    names: Names, decorators: list[Decorator], qualname: str, body: list[ast.stmt]
) -> None:
    """``@receiver(post_save, sender=Order)`` on a function; blinker's ``@signal.connect``
    and ``@signal.connect_via(sender)``."""
    for dec in decorators:
        if dec.tail in ("connect", "connect_via") and "." in dec.base:
            via = dec.args[0] if dec.tail == "connect_via" and dec.args else None
            sender_ref = via.get("ref", "") if isinstance(via, dict) else ""
            names.facts.signals.append(
                SignalHook(
                    dec.base.rsplit(".", 1)[0],
                    sender_ref,
                    names.qualified(qualname),
                    dec.line,
                    _scope(names),
                )
            )
            continue
        if dec.tail == "listens_for" and dec.base.startswith("sqlalchemy.") and len(dec.args) > 1:
            note_orm_event(names, dec.args[0], dec.args[1], names.qualified(qualname), dec.line)
            continue
        if dec.tail != "receiver" or not dec.args:
            continue
        signals = dec.args[0] if isinstance(dec.args[0], list) else [dec.args[0]]
        sender = dec.kwargs.get("sender")
        if isinstance(sender, str):
            sender_name = "str:" + sender  # sender="shop.Order"
        else:
            sender_name = sender.get("ref", "") if isinstance(sender, dict) else ""
        if not sender_name:
            guards = sender_guard(names, body)
            if guards:
                sender_name = "isa:" + "|".join(guards)
        for signal in signals:
            if isinstance(signal, dict) and signal.get("ref"):
                names.facts.signals.append(
                    SignalHook(
                        signal["ref"],
                        sender_name,
                        names.qualified(qualname),
                        dec.line,
                        _scope(names),
                    )
                )


ORM_EVENT = "sqlalchemy:"  # signal name prefix of SQLAlchemy mapper events


def note_orm_event(names: Names, target: Lit, event: Lit, handler: str, line: int) -> None:
    """``@event.listens_for(Order, "after_insert")`` / ``event.listen(Order, ...)``."""
    if isinstance(target, dict) and target.get("ref") and isinstance(event, str):
        names.facts.signals.append(
            SignalHook(ORM_EVENT + event, target["ref"], handler, line, _scope(names))
        )


def _scope(names: Names) -> str:
    """The function being walked ("" at module level): where a connection is made."""
    return names.scope.owner if names.scope is not None else ""


def sender_guard(names: Names, body: list[ast.stmt]) -> list[str]:
    """Classes a receiver without ``sender=`` filters on in its first statements:
    ``if not issubclass(sender, Status): return`` makes it a receiver for Status only."""
    local = local_imports(names, body)  # the mixin imported in the receiver (sender_filters)
    for stmt in body[:4]:
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            continue
        if (
            isinstance(stmt, ast.If)
            and len(stmt.body) == 1
            and isinstance(stmt.body[0], ast.Return)
        ):
            nodes = _guard_classes(stmt.test)
            if nodes:
                return [r for r in (render_class(names, n, local) for n in nodes) if r]
    nodes = positive_guard_classes(body)  # if isinstance(instance, Order): ...
    return [r for r in (render_class(names, n, local) for n in nodes) if r]


def _guard_classes(test: ast.expr) -> list[ast.expr]:
    """The classes in ``not isinstance(x, C)``, ``sender not in (A, B)``, ``sender != C``,
    alone or as one operand of ``or``."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.Or):
        for value in test.values:
            found = _guard_classes(value)
            if found:
                return found
        return []
    if (
        isinstance(test, ast.UnaryOp)
        and isinstance(test.op, ast.Not)
        and isinstance(test.operand, ast.Call)
    ):
        call = test.operand
        if tail(call.func) in ("isinstance", "issubclass") and len(call.args) == 2:
            kinds = call.args[1]
            return list(kinds.elts) if isinstance(kinds, ast.Tuple) else [kinds]
    return sender_compared(test, ast.NotIn, (ast.NotEq, ast.IsNot))
