"""Plain request-handler classes given to a blueprint subclass's own ``add_url_rule``.

``bp.add_url_rule("/export", "export", RHExport, methods=("GET", "POST"))`` on a project
``Blueprint`` subclass whose ``add_url_rule`` wraps the view (``view_func =
make_view(view_func)``, and ``make_view`` returns a closure doing ``cls().process()``):
the class is no Flask view, the method the wrapper calls on an instance is what handles
each listed HTTP method. That method is found by reading the wrapper and the helpers it
hands the view to, never guessed from a name; when it cannot be read the registration stays
"not understood".
"""

from __future__ import annotations

from .facts import FunctionFacts
from .project import Project, Target

MAX_DEPTH = 3  # helpers the view may be handed through before the instance call


def entry_method(project: Project, blueprint: Target) -> str:
    """The method the ``add_url_rule`` of ``blueprint``'s class (a project class, through
    its project bases) calls on an instance of the view it is given; "" if none is seen."""
    if blueprint.kind not in ("I", "C"):
        return ""
    for module, qual in project.mro(blueprint.module, blueprint.name):
        function = project.modules[module].functions.get(f"{qual}.add_url_rule")
        if function is None:
            continue
        param = _view_param(function.params)
        return _instance_call(project, module, function, param, 0) if param else ""
    return ""


def _view_param(params: list[str]) -> str:
    """``view_func`` by name, else the third argument after ``self`` (Flask's order)."""
    if "view_func" in params:
        return "view_func"
    plain = [p for p in params if not p.startswith("*")]
    return plain[3] if len(plain) > 3 else ""


def _instance_call(
    project: Project, module: str, function: FunctionFacts, param: str, depth: int
) -> str:
    """A call ``param().m(...)`` in ``function`` or the functions nested in it (a closure
    the wrapper returns), else in a project function ``param`` is passed on to."""
    facts = project.modules[module]
    scope = [function] + [
        f for q, f in facts.functions.items() if q.startswith(function.qualname + ".")
    ]
    prefix = f"~{param}()."
    for inner in scope:
        for call in inner.calls:
            method = call.name[len(prefix) :] if call.name.startswith(prefix) else ""
            if method and "." not in method and "(" not in method:
                return method
    if depth >= MAX_DEPTH:
        return ""
    cls = project.class_of(module, function.qualname)
    for inner in scope:
        for call in inner.calls:
            for key, value in call.args:
                if value != f"~{param}":
                    continue
                target = project.resolve(call.name, module, cls)
                if target is None or target.kind != "F":
                    continue
                callee = project.function(target)
                if callee is None:
                    continue
                given = _param_at(project, target, callee, key)
                found = given and _instance_call(project, target.module, callee, given, depth + 1)
                if found:
                    return found
    return ""


def _param_at(project: Project, target: Target, callee: FunctionFacts, key: int | str) -> str:
    """The parameter of ``callee`` that a positional index or keyword binds to."""
    plain = [p for p in callee.params if not p.startswith("*")]
    static = any(d.tail == "staticmethod" for d in callee.decorators)
    if project.class_of(target.module, target.name) and plain and not static:
        plain = plain[1:]  # self (cls for a classmethod); a staticmethod has neither
    if isinstance(key, int):
        return plain[key] if key < len(plain) else ""
    return key if key in plain else ""
