"""Task decorators a project re-exports under its own name (issue 14): ``project_task =
shared_task`` in one module, ``@project_task(bind=True)`` on the tasks of another. The
decorator's own name says nothing; the module-level assignment it resolves to does, so a
function so decorated is a task of whatever system the original decorator belongs to."""

from __future__ import annotations

from dataclasses import replace

from .decorator_wrappers import returned_inner
from .facts import Decorator
from .project import Project, Target


def unaliased(project: Project, decorators: list[Decorator], module: str) -> list[Decorator]:
    """``decorators``, each alias of an external decorator followed by that decorator
    (``app.celery.project_task()``, then ``celery.shared_task()``): the name as written
    still counts first (``job = partial(rq_job, ...)`` is told by its own name)."""
    out: list[Decorator] = []
    for dec in decorators:
        applied = factory_made(project, dec, module)
        if applied is not None:
            out.append(applied)  # what the project decorator really is comes first
        out.append(dec)
        found = project.resolve(dec.base, module)
        if found is None or found.kind != "X" or found.name == dec.base:
            continue  # a project function or class, or a name that is already external
        if "." not in found.name:
            continue  # an unresolved bare name says nothing
        owner = project.resolve(dec.base.rpartition(".")[0], module)
        if owner is None or owner.kind != "M":
            continue  # only a module-level name of a project module is an alias
        called = "()" if dec.name.endswith("()") else ""
        out.append(replace(dec, name=found.name + called))
    return out


def applied_decorator(project: Project, dec: Decorator, module: str) -> Decorator | None:
    """The external decorator a project decorator applies to what it decorates:
    ``def task(retries=5): def deco(fn): ...; return huey.task(retries=retries)(inner);
    return deco`` makes ``@task()`` a Huey task decorator (``huey.task()``), whatever
    wrapper it puts around the function first. None when it applies none."""
    found = project.resolve(dec.base, module)
    if found is not None and found.kind == "C" and dec.name.endswith("()"):
        # @retryable_task(name=...): an instance decorates, through its class's __call__
        # (``return shared_task(*self.args)(f)``): PATTERNS.md item 76
        call = project.class_attr(found, "__call__", 0)
        return _applied(project, call) if call is not None and call.kind == "F" else None
    if found is None or found.kind != "F":
        return None
    if dec.name.endswith("()"):  # a factory: the decorator is the function it returns
        inner = returned_inner(project, found)
        if inner is None:
            return None
        found = inner
    return _applied(project, found)


def _applied(project: Project, decorator: Target) -> Decorator | None:
    facts = project.function(decorator)
    if facts is None:
        return None
    for value in facts.returns:
        if not value.endswith("()()") or value.startswith("~"):
            continue  # huey.task(...)(inner): a decorator made by a call, then applied
        made = value[:-2]
        target = project.resolve(made[:-2], decorator.module)
        if target is not None and target.kind == "X":
            return Decorator(name=target.name + "()", line=facts.line, args=[], kwargs={})
    return None


def factory_made(project: Project, dec: Decorator, module: str) -> Decorator | None:
    """The external decorator a project factory returns ready-made (``def list_action(**kw):
    return action(detail=True, **kw)``, used as ``@list_action(...)``), or the one the
    decorator a factory returns applies (``applied_decorator``). None when neither."""
    applied = applied_decorator(project, dec, module)
    if applied is not None or not dec.name.endswith("()"):
        return applied
    found = project.resolve(dec.base, module)
    facts = project.function(found) if found is not None and found.kind == "F" else None
    if facts is None or found is None:
        return None
    for value in facts.returns:
        if not value.endswith("()") or value.endswith("()()") or value.startswith("~"):
            continue
        target = project.resolve(value[:-2], found.module)
        if target is not None and target.kind == "X":
            return Decorator(name=target.name + "()", line=facts.line, args=[], kwargs={})
    return None
