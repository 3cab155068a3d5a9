"""A framework base earlier in the MRO shadows a later project base's method (issue 14,
PATTERNS.md round 7b item 24).

``class S(ProjectModelSerializer, ProjectPassiveMixin)``: the project's ModelSerializer
derives from DRF's, and the passive mixin defines a stub ``create``. Python's MRO puts DRF's
``ModelSerializer`` (which defines ``create``) before the mixin, so DRF's ``create`` runs.
The project-only MRO cannot see that; this module linearises project classes together with
their framework bases (each a leaf: its own bases are not read) and says when a framework
class that defines the method comes first. Only methods a framework class is known to define
count: an unknown external base shadows nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .linearisation import c3

if TYPE_CHECKING:
    from .project import Project

# Framework classes and the methods they define that a project base may also define.
FRAMEWORK_METHODS: dict[str, frozenset[str]] = {
    # Django REST framework
    "ModelSerializer": frozenset({"create", "update"}),
    "HyperlinkedModelSerializer": frozenset({"create", "update"}),
    "CreateModelMixin": frozenset({"create", "perform_create"}),
    "UpdateModelMixin": frozenset({"update", "partial_update", "perform_update"}),
    "DestroyModelMixin": frozenset({"destroy", "perform_destroy"}),
    "ListModelMixin": frozenset({"list"}),
    "RetrieveModelMixin": frozenset({"retrieve"}),
    # Django
    "ModelForm": frozenset({"save"}),
}

Entry = tuple[str, str]  # (module, qualname) of a project class; ("", dotted) of a framework one


class FrameworkShadows:
    """Linearisations of project classes with their framework bases, memoised."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self._full: dict[Entry, list[Entry]] = {}
        self._defined: dict[Entry, frozenset[str]] = {}

    def full_mro(self, module: str, qualname: str) -> list[Entry]:
        key = (module, qualname)
        cached = self._full.get(key)
        if cached is not None:
            return cached
        self._full[key] = [key]  # cycle guard
        project = self.project
        facts = project.klass(module, qualname)
        parents: list[list[Entry]] = []
        for base in facts.bases if facts is not None else []:
            found = project.resolve(base, module, "")
            if found is not None and found.kind == "C":
                parents.append(self.full_mro(found.module, found.name))
            else:
                name = found.name if found is not None and found.kind == "X" else base
                parents.append([("", name)])
        merged = c3([*parents, [p[0] for p in parents]]) if parents else []
        order = [key, *merged] if merged is not None else [key]
        self._full[key] = order
        return order

    def shadowed(self, module: str, qualname: str, owner: Entry, method: str) -> bool:
        """Whether a framework class defining ``method`` precedes ``owner`` (a project class
        that defines it) in the MRO of ``module.qualname``."""
        if method not in self.framework_methods(module, qualname):
            return False  # most lookups: no framework base defines it, nothing to order
        for entry in self.full_mro(module, qualname):
            if entry == owner:
                return False
            if not entry[0]:
                tail = entry[1].rstrip("[]").rsplit(".", 1)[-1]
                if method in FRAMEWORK_METHODS.get(tail, ()):
                    return True
        return False

    def framework_methods(self, module: str, qualname: str) -> frozenset[str]:
        """The methods the class's framework bases (any depth) are known to define."""
        key = (module, qualname)
        found = self._defined.get(key)
        if found is None:
            tails = {
                base.rstrip("()[]").rsplit(".", 1)[-1]
                for base in self.project.external_bases(module, qualname)
            }
            found = frozenset().union(*(FRAMEWORK_METHODS.get(tail, ()) for tail in tails))
            self._defined[key] = found
        return found
