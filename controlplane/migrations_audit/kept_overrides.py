"""A view's ``get_form_class()`` override that hands back the class the framework's would.

Project mixins override ``get_form_class`` to adapt the form, not to replace it:
``form_class = super().get_form_class()``, then return it, or a class made in the method
whose bases include it (``class Derived(Mixin, form_class): ...; return Derived``). The form
``form_valid(form)`` receives is then still an instance of the view's ``form_class``, so its
``Meta.model`` says what ``form.save()`` returns. An override is "kept" only when every value
it returns is one of these; one returning another class still chooses that class.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .project import Project, Target


def is_super_value(value: str, method: str) -> bool:
    """``super().get_form_class()`` (or ``super(Cls, self)....``) as the extractor renders it."""
    return value.startswith("super(") and value.endswith(f").{method}()")


def keeps_super(project: Project, getter: Target) -> bool:
    """Whether every value ``getter`` returns is what ``super()``'s would, or a class
    defined in ``getter`` with that value among its bases."""
    facts = project.function(getter)
    if facts is None or not facts.returns:
        return False
    method = getter.name.rpartition(".")[2]
    local = f"{getter.module}.{getter.name}."
    classes = project.modules[getter.module].classes
    for value in facts.returns:
        if is_super_value(value, method):
            continue
        made = classes.get(value[len(getter.module) + 1 :]) if value.startswith(local) else None
        if made is None or not any(is_super_value(b, method) for b in made.bases):
            return False
    return True


def next_override(project: Project, owner: Target, getter: Target) -> tuple[str, str] | None:
    """(module, qualname) of the same method defined further along ``owner``'s MRO than
    ``getter``'s class (what ``super()`` in ``getter`` reaches in the project), or None."""
    cls, _, method = getter.name.rpartition(".")
    passed = False
    for module, qualname in project.mro(owner.module, owner.name):
        if (module, qualname) == (getter.module, cls):
            passed = True
        elif passed and f"{qualname}.{method}" in project.modules[module].functions:
            return (module, f"{qualname}.{method}")
    return None
