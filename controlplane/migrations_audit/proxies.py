"""Routed classes that stand for another class chosen when they are instantiated.

``class ProjectsViewSet(SettingsOverrideObject): _default_class = ProjectsViewSetBase``,
where the base's ``__new__`` returns an instance built from ``cls._default_class`` (or a
class named in settings instead): the router serves ``ProjectsViewSetBase``'s handlers
under ``ProjectsViewSet``'s name. The stand-in is read from the code (a ``__new__`` that
passes or calls ``cls.<attribute>``, and the attribute set to a project class), never from
names.
"""

from __future__ import annotations

from .project import Project, Target

MAX_HOPS = 3  # a proxy of a proxy of ...


def real_class(project: Project, target: Target) -> Target:
    """The class a routed class is replaced by when instantiated, else the class itself."""
    for _ in range(MAX_HOPS):
        replaced = _replacement(project, target)
        if replaced is None or replaced == target:
            return target
        target = replaced
    return target


def _replacement(project: Project, target: Target) -> Target | None:
    attrs = _new_reads(project, target)
    if not attrs:
        return None
    for module, qual in project.mro(target.module, target.name):
        klass = project.modules[module].classes[qual]
        for attr in attrs:
            value = klass.attrs.get(attr)
            if value:
                found = project.resolve(value, module)
                return found if found is not None and found.kind == "C" else None
    return None


def _new_reads(project: Project, target: Target) -> list[str]:
    """Class attributes the ``__new__`` a class inherits builds its instance from."""
    for module, qual in project.mro(target.module, target.name):
        function = project.modules[module].functions.get(f"{qual}.__new__")
        if function is None:
            continue
        names = [value for call in function.calls for _, value in call.args]
        names += [call.name.removesuffix("()") for call in function.calls]
        return [
            n.split(".", 1)[1]
            for n in names
            if isinstance(n, str) and n.startswith(("self.", "cls.")) and n.count(".") == 1
        ]
    return []
