"""Values read out of a framework's run-time containers (PATTERNS.md item 66).

A Flask extension keeps its object in ``current_app.extensions["jobs"]``; an app hands one
out through ``werkzeug.local.LocalProxy(lambda: ...)``, ``flask.g.jobs`` or an attribute it
set on itself; a Starlette/FastAPI app keeps services in ``app.state.jobs``. The audit
reads such a value as part of the framework, so a call on it looked like a call into Flask
that the project cannot reach. It is a value of unknown type instead: a method called on
it is guessed among the project's methods, and listed unresolved when no guess is made.
Only the value read out of the container counts, not attributes further down it.
"""

from __future__ import annotations

from .project import Target

# What Flask's application object defines itself (its class and the attributes its
# ``__init__`` sets): ``current_app.config`` or ``current_app.logger`` are Flask's own
FLASK_APP_ATTRIBUTES = frozenset(
    {
        "aborter",
        "aborter_class",
        "after_request_funcs",
        "app_ctx_globals_class",
        "before_request_funcs",
        "blueprints",
        "cli",
        "config",
        "config_class",
        "debug",
        "default_config",
        "env",
        "error_handler_spec",
        "extensions",
        "host_matching",
        "import_name",
        "instance_path",
        "jinja_env",
        "jinja_environment",
        "jinja_loader",
        "jinja_options",
        "json",
        "json_provider_class",
        "logger",
        "name",
        "permanent_session_lifetime",
        "request_class",
        "response_class",
        "root_path",
        "secret_key",
        "session_interface",
        "shell_context_processors",
        "static_folder",
        "static_url_path",
        "subdomain_matching",
        "teardown_appcontext_funcs",
        "teardown_request_funcs",
        "template_context_processors",
        "template_folder",
        "test_cli_runner_class",
        "test_client_class",
        "testing",
        "url_build_error_handlers",
        "url_default_functions",
        "url_map",
        "url_map_class",
        "url_rule_class",
        "url_value_preprocessors",
        "view_functions",
    }
)
_EXTENSIONS = "flask.current_app.extensions"
_APP = "flask.current_app."
_GLOBALS = "flask.g."
_PROXIES = ("werkzeug.local.LocalProxy()", "werkzeug.LocalProxy()")
_STATE_ROOTS = ("fastapi", "starlette")
# What Starlette's and FastAPI's application objects define: ``request.app.state`` or
# ``request.app.url_path_for`` are theirs; any other attribute the project set on the app
# (``app.ctx = ctx`` in its factory, PATTERNS.md item 193)
STARLETTE_APP_ATTRIBUTES = frozenset(
    {
        "add_api_route",
        "add_api_websocket_route",
        "add_event_handler",
        "add_exception_handler",
        "add_middleware",
        "add_route",
        "add_websocket_route",
        "build_middleware_stack",
        "debug",
        "dependency_overrides",
        "description",
        "docs_url",
        "exception_handler",
        "exception_handlers",
        "extra",
        "host",
        "include_router",
        "middleware",
        "middleware_stack",
        "mount",
        "on_event",
        "openapi",
        "openapi_schema",
        "openapi_tags",
        "openapi_url",
        "openapi_version",
        "redoc_url",
        "root_path",
        "root_path_in_servers",
        "route",
        "router",
        "routes",
        "servers",
        "setup",
        "state",
        "summary",
        "swagger_ui_init_oauth",
        "swagger_ui_oauth2_redirect_url",
        "swagger_ui_parameters",
        "terms_of_service",
        "title",
        "url_path_for",
        "user_middleware",
        "version",
        "webhooks",
        "websocket_route",
    }
)


def held_at_run_time(resolved: Target | None) -> bool:
    """Whether ``resolved`` is a method of a value read out of a run-time container
    (``current_app.extensions["jobs"].submit``, ``g.jobs.submit``, ``app.state.jobs.submit``,
    ``LocalProxy(...).submit``)."""
    if resolved is None or resolved.kind != "X":
        return False
    value = resolved.name.rpartition(".")[0]
    return held_value(value)


def held_value(value: str) -> bool:
    """Whether the rendered ``value`` is read out of a run-time container (an annotation
    on the local it is assigned to then says more than the value does, item 193)."""
    if value.startswith(_EXTENSIONS):
        rest = value[len(_EXTENSIONS) :]
        return rest in ("[]", ".get()")
    if value in _PROXIES:
        return True
    if value.startswith(_GLOBALS):
        attribute = value[len(_GLOBALS) :]
        return attribute == "get()" or _plain_attribute(attribute)
    if value.startswith(_APP):
        attribute = value[len(_APP) :]
        return _plain_attribute(attribute) and attribute not in FLASK_APP_ATTRIBUTES
    root, _, rest = value.partition(".")
    if root not in _STATE_ROOTS:
        return False
    head, found, attribute = rest.rpartition(".state.")
    if found:
        return bool(head) and _plain_attribute(attribute)
    head, found, attribute = rest.rpartition(".app.")  # request.app.ctx (item 193)
    return (
        bool(found and head)
        and _plain_attribute(attribute)
        and attribute not in STARLETTE_APP_ATTRIBUTES
    )


def _plain_attribute(text: str) -> bool:
    """One attribute name: not a call's result, an element, or a path further down."""
    return text.isidentifier()
