"""URL patterns returned by a project function called in a URLconf, for the views it is
given (issue 14, brief items 3 and 4)::

    urlpatterns = [
        *TalkView.get_urls("talks"),        # a classmethod: path(..., cls.as_view(...))
        *crud_urls("rooms", RoomView),      # a function: path(..., view.as_view(...))
    ]

A builder is a project function that calls Django's ``path``/``re_path``. The views it
routes are the class it is called on when it builds views with ``cls.as_view``, and the
project view classes passed to it. The routes the builder composes are not read: each view
is routed under the URLconf prefix joined with the call's first literal string, and its
endpoints are ``likely``. A builder call whose views answer no HTTP method the audit can
see is reported as not understood, as is any other call in a URL list the audit cannot
expand (``django_urls.unexpanded_call``): patterns it cannot read are never dropped silently.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from .facts import FunctionFacts, UrlEntry
from .mounts import join_route, ref_of
from .project import Project, Target
from .verb_tables import action_tables, routed_pairs

if TYPE_CHECKING:
    from .routes import RouteFinder

NOTE = "routed by {builder}, which composes the URL at run time"
_URL_FUNCS = ("django.urls.path", "django.urls.re_path", "django.conf.urls.url")


def route_built(
    finder: RouteFinder,
    module: str,
    entry: UrlEntry,
    route: str,
    framework_of: Callable[[str, str], str],
) -> bool:
    """Endpoints for the views a builder call routes; False if it is no builder call."""
    project = finder.project
    name = entry.include[4:]
    if not name.endswith("()"):
        return False
    target = project.resolve(name[:-2], module)
    function = project.function(target) if target is not None and target.kind == "F" else None
    if target is None or function is None:
        return False
    if not any(c.name in _URL_FUNCS for c in function.calls):
        return False
    args, kwargs = entry.call if entry.call else [[], {}]
    views = _views(project, module, name[:-2], target, [*args, *kwargs.values()])
    if not views:
        return False
    own = next((a for a in [*args, *kwargs.values()] if isinstance(a, str)), "")
    note = NOTE.format(builder=target.name)
    made = 0
    why = "which answer no HTTP method the audit can see"
    for view in views:
        framework = framework_of(view.module, view.name)
        table = action_tables(project, view.module, view.name)
        if table == {}:
            why = "whose as_view binds HTTP verbs from a table the audit cannot read"
            continue
        if table:  # as_view(action=...) binds each verb to a method the table names
            chosen = routed_pairs(project, view, table, _actions(function, table))
            for pairs in chosen.values():
                made += finder.class_endpoints(
                    view.module, view.name, join_route(route, own), framework, pairs, note
                )
            continue
        made += finder.class_endpoints(
            view.module, view.name, join_route(route, own), framework, note=note
        )
    if not made:
        finder.not_understood(
            module,
            entry.line,
            f"{name[:-2]}(...)",
            f"{target.name} routes {', '.join(v.name for v in views)}, {why}",
        )
    return True


def _actions(builder: FunctionFacts, table: dict[str, dict[str, str]]) -> list[str]:
    """The table's actions a builder routes: the one its ``as_view(action="x")`` names, else
    every one (``for action in ACTIONS``: a loop over the table, or over some of it; which
    is not read, so each is routed)."""
    for call in builder.calls:
        if call.name.endswith(".as_view"):
            for _, value in call.args:
                if isinstance(value, list) and value and value[0] in table:
                    return [value[0]]
    return list(table)


def _views(
    project: Project, module: str, called: str, builder: Target, given: list[object]
) -> list[Target]:
    """The class a classmethod builder is called on (when it calls ``cls.as_view``), and
    the project classes passed to the builder, but for models (PATTERNS.md item 202)."""
    out: list[Target] = []
    function = project.function(builder)
    if (
        function is not None
        and project.class_of(builder.module, builder.name)
        and any(c.name in ("cls.as_view", "self.as_view") for c in function.calls)
    ):
        owner = project.resolve(called.rpartition(".")[0], module)
        if owner is not None and owner.kind == "C":
            out.append(owner)
    for call in function.calls if function is not None else ():
        # path("more", views.Other.as_view()) in the builder's own body (item 244)
        if call.name.endswith(".as_view") and not call.name.startswith(("cls.", "self.", "~")):
            named = project.resolve(call.name.removesuffix(".as_view"), builder.module)
            if named is not None and named.kind == "C" and named not in out:
                out.append(named)
    for value in given:
        ref = ref_of(value)
        found = project.resolve(ref, module) if ref else None
        if found is None or found.kind != "C" or found in out:
            continue
        if project.is_model(Target("I", found.module, found.name)):
            continue  # meta_path(Part): a model the helper names a route for, no view
        out.append(found)
    return out
