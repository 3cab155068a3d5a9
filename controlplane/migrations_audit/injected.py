"""Values a framework hands to a class-based view when it builds one per request.

``Register.as_view("register", service_factory=make_service)`` (Flask passes the keywords to
``__init__``; Django sets them as attributes) means that, inside ``Register``,
``self.service_factory`` is ``make_service`` although the class itself only says
``self.service_factory = service_factory``. The index is per class, over the whole project:
an attribute may hold any of the values injected into that class.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .project import Project

# (module, class qualname) -> keyword -> [(rendered value, module it was written in)]
Injections = dict[tuple[str, str], dict[str, list[tuple[str, str]]]]


def collect(project: Project) -> Injections:
    index: Injections = {}
    for module, facts in project.modules.items():
        for call in facts.route_calls:
            if call.kind != "as_view":
                continue
            target = project.resolve(call.receiver, module)
            if target is None or target.kind != "C":
                continue
            slot = index.setdefault((target.module, target.name), {})
            for name, value in call.kwargs.items():
                ref = value.get("ref") if isinstance(value, dict) else None
                if ref and not ref.startswith("~"):
                    values = slot.setdefault(name, [])
                    if (ref, module) not in values:
                        values.append((ref, module))
    return index
