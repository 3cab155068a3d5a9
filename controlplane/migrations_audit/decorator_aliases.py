"""Task decorators a project re-exports under its own name (issue 14): ``project_task =
shared_task`` in one module, ``@project_task(bind=True)`` on the tasks of another. The
decorator's own name says nothing; the module-level assignment it resolves to does, so a
function so decorated is a task of whatever system the original decorator belongs to."""

from __future__ import annotations

from dataclasses import replace

from .facts import Decorator
from .project import Project


def unaliased(project: Project, decorators: list[Decorator], module: str) -> list[Decorator]:
    """``decorators``, each alias of an external decorator followed by that decorator
    (``app.celery.project_task()``, then ``celery.shared_task()``): the name as written
    still counts first (``job = partial(rq_job, ...)`` is told by its own name)."""
    out: list[Decorator] = []
    for dec in decorators:
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
