"""What calling a decorated project function runs (issue 14, PATTERNS.md round 7 item 22).

``@email_sender def notify(x): ...`` binds ``notify`` to the ``wrapper`` that
``email_sender`` returns: a call of ``notify(x)`` runs the wrapper, which calls the original
and may do more (``send_email(mail)`` for each mail the original returned). The decorated body
is followed as the call's own target already; this module names the wrappers to follow beside
it: the nested function a project decorator returns, or, for a decorator factory
(``@sends_with("sms")``), the nested function that the decorator it returns returns. A
decorator that returns the function itself (a registry's ``register``) adds nothing.
"""

from __future__ import annotations

from typing import NamedTuple

from .facts import Decorator, Lit
from .project import Project, Target


def returned_inner(project: Project, function: Target) -> Target | None:
    """The nested function ``function`` returns by name (``return wrapper``), if any."""
    facts = project.function(function)
    if facts is None:
        return None
    functions = project.modules[function.module].functions
    qualified = f"{function.module}.{function.name}." if function.module else ""
    for value in facts.returns:  # rendered qualified: "pkg.mod.outer.wrapper"
        name = value[len(qualified) :] if qualified and value.startswith(qualified) else value
        inner = f"{function.name}.{name}"
        if name.isidentifier() and inner in functions:
            return Target("F", function.module, inner)
    return None


class Wrapper(NamedTuple):
    """A wrapper a decorator puts around a function, and what its free names hold."""

    function: Target
    wrapped: str  # the decorator's parameter holding the wrapped function ("" if none)
    passed: dict[str, Lit]  # a factory's parameters -> what ``@factory(...)`` passed


def wrappers(project: Project, target: Target) -> list[Wrapper]:
    """The wrapper functions the project's decorators put around ``target``, outermost
    first (they all run when it is called), each with the decorator's parameter that holds
    the function it wraps: in the wrapper, ``func.delay(*args)`` is a call of ``target``'s
    own ``delay`` (a decorator that enqueues the task it wraps); for a factory
    (``@validate(Serializer)``), also what it was given for each of its parameters."""
    facts = project.function(target)
    if facts is None:
        return []
    cls = project.class_of(target.module, target.name) or ""
    out: list[Wrapper] = []
    for decorator in facts.decorators:
        found = project.resolve(decorator.base, target.module, cls)
        if found is not None and found.kind == "C":
            made = _class_wrapper(project, found, decorator, target)
            if made is not None:
                out.append(made)
            continue
        if found is None or found.kind != "F":
            continue  # a framework's decorator, or a name the audit cannot read
        passed: dict[str, Lit] = {}
        if decorator.name.endswith("()"):  # a factory: the decorator is what it returns
            passed = _factory_arguments(project, found, decorator)
            found = returned_inner(project, found)
            if found is None:
                continue
        wrapper = returned_inner(project, found)
        if wrapper is not None and wrapper != target:
            out.append(Wrapper(wrapper, _wrapped_param(project, found), passed))
    return out


def _factory_arguments(project: Project, factory: Target, decorator: Decorator) -> dict[str, Lit]:
    """The factory's parameters the decorator call gives, by position or keyword."""
    facts = project.function(factory)
    if facts is None:
        return {}
    return _bound([p for p in facts.params if p.isidentifier()], decorator)


def _bound(params: list[str], decorator: Decorator) -> dict[str, Lit]:
    """``params`` -> what the decoration passes for each, by position or keyword."""
    out: dict[str, Lit] = dict(zip(params, decorator.args, strict=False))
    out.update((k, v) for k, v in decorator.kwargs.items() if k in params)
    return out


def _init_params(project: Project, cls: Target) -> list[str]:
    """The named parameters of the class's own ``__init__``, ``self`` aside."""
    init = project.function(Target("F", cls.module, f"{cls.name}.__init__"))
    return [p for p in init.params[1:] if p.isidentifier()] if init is not None else []


def _wrapped_param(project: Project, decorator: Target) -> str:
    """The decorator's one positional parameter: the function it is applied to."""
    facts = project.function(decorator)
    params = [p for p in facts.params if p not in ("self", "cls")] if facts else []
    return params[0] if len(params) == 1 and params[0].isidentifier() else ""


def _class_wrapper(
    project: Project, cls: Target, decorator: Decorator, target: Target
) -> Wrapper | None:
    """A project class as the decorator (PATTERNS.md item 221). Called
    (``@postpolicy(check, request)``): the instance's ``__call__(self, wrapped)`` returns the
    wrapper, whose ``self.<attr>`` hold what ``__init__`` kept of the arguments. Not called
    (``@logged``): ``__init__(self, func)`` keeps the function and ``__call__`` is the
    wrapper itself."""
    call = Target("F", cls.module, f"{cls.name}.__call__")
    if project.function(call) is None:
        return None
    if decorator.name.endswith("()"):
        wrapper = returned_inner(project, call)
        if wrapper is None or wrapper == target:
            return None
        return Wrapper(wrapper, _wrapped_param(project, call), _kept(project, cls, decorator))
    params = _init_params(project, cls)
    if len(params) != 1:
        return None
    kept = _kept_as(project, cls, params[0])
    return Wrapper(call, f"self.{kept}" if kept else "", {})


def _kept(project: Project, cls: Target, decorator: Decorator) -> dict[str, Lit]:
    """``self.<attr>`` -> what the decoration passed for the ``__init__`` parameter the
    attribute keeps (``self.function = function``)."""
    out: dict[str, Lit] = {}
    for param, value in _bound(_init_params(project, cls), decorator).items():
        kept = _kept_as(project, cls, param)
        if kept:
            out[f"self.{kept}"] = value
    return out


def _kept_as(project: Project, cls: Target, param: str) -> str:
    """The attribute ``__init__`` keeps ``param`` in (``self.func = func``), or ""."""
    klass = project.klass(cls.module, cls.name)
    if klass is None:
        return ""
    return next((attr for attr, value in klass.attrs.items() if value == "~" + param), "")
