"""Many-to-many relations seen from either side: which ``m2m_changed`` senders a related
manager's ``.add()`` / ``.remove()`` / ``.clear()`` / ``.set()`` fires for.

``tag.documents.add(d)`` changes the relation ``Tag.documents`` declares;
``document.tags.add(t)`` changes the same one when that field says ``related_name="tags"``
(``tag_set`` when it says nothing). Django sends ``m2m_changed`` with that relation's
through model as sender, which a receiver may spell from either side
(``sender=Tag.documents.through`` or ``sender=Document.tags.through``). Extraction
(``note_m2m``, per class) keeps ``[class, field, to, related_name]``; ``M2MRelations``
answers, for the object a manager is read from (a project instance, or a value of unknown
type) and the manager's name, the (class, name) spellings of the relations it may change:
for a value of unknown type only when one relation in the project has that name.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .project import Target
from .syntax import tail

if TYPE_CHECKING:
    from .names import Names
    from .project import Project

# Django's own models (``django.contrib.auth.models.User().groups``)
_DJANGO_MODELS = ("django.contrib.", "django.db.")
# django-taggit's manager is a many-to-many relation too: ``question.tags.add("x")`` sends
# ``m2m_changed`` with ``Question.tags.through`` as sender (PATTERNS.md item 216)
_M2M_FIELDS = frozenset({"ManyToManyField", "TaggableManager"})
_NO_REVERSE = "+"
_AUTH = "django.contrib.auth.models."
# django.contrib.auth's relations seen from their other end: (class, manager) -> forward
_AUTH_REVERSE = {
    ("Group", "user_set"): ("User", "groups"),
    ("Permission", "user_set"): ("User", "user_permissions"),
    ("Permission", "group_set"): ("Group", "permissions"),
}  # related_name="+" (or ending in it): no manager on the other side


def note_m2m(names: Names, cls: str, field: str, value: ast.expr) -> None:
    """``tags = models.ManyToManyField(Tag, related_name="documents")`` in class ``cls``."""
    if not (isinstance(value, ast.Call) and tail(value.func) in _M2M_FIELDS):
        return
    related = next((kw.value for kw in value.keywords if kw.arg == "related_name"), None)
    name = related.value if isinstance(related, ast.Constant) else ""
    to = names.related_model(value)
    names.facts.m2m.append([cls, field, to, name if isinstance(name, str) else ""])


@dataclass(frozen=True, slots=True)
class Relation:
    declared: Target  # the class with the ManyToManyField
    field: str
    other: Target | None  # the class at the other end, when known
    accessor: str  # the manager's name on the other end ("" for none)

    def spellings(self, owner: Target | None = None) -> list[tuple[Target, str]]:
        """(class, name) a receiver's ``sender=<class>.<name>.through`` may say; the
        forward one as the owner's class (a field a base declares is its subclass's)."""
        out = [(owner or self.declared, self.field)]
        if self.other is not None and self.accessor:
            out.append((self.other, self.accessor))
        return out


class M2MRelations:
    """Every many-to-many field of the project, by the names of its two managers."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.forward: dict[str, list[Relation]] = {}
        self.reverse: dict[str, list[Relation]] = {}
        for module, facts in project.modules.items():
            for cls, field, to, related in facts.m2m:
                other = project.resolve(to[:-2], module) if to.endswith("()") else None
                accessor = related or cls.rsplit(".", 1)[-1].lower() + "_set"
                relation = Relation(
                    Target("C", module, cls),
                    field,
                    other if other is not None and other.kind == "C" else None,
                    "" if accessor.endswith(_NO_REVERSE) else accessor,
                )
                self.forward.setdefault(field, []).append(relation)
                if relation.accessor:
                    self.reverse.setdefault(relation.accessor, []).append(relation)

    def senders(self, owner: Target | None, manager: str) -> list[tuple[Target, str]]:
        """The (class, name) spellings of the relations ``owner.<manager>`` may change."""
        if owner is None or owner.kind in ("V", "X"):
            # of unknown type (read from a request, a library's object): one relation by
            # that name
            if owner is not None and owner.name.startswith(_DJANGO_MODELS):
                # user.groups on Django's own User: that relation, spelled by the class
                # (``sender=User.groups.through``; PATTERNS.md item 216)
                model = library_model(owner.name)
                spelled = [(Target("X", "", model), manager)]
                other = _AUTH_REVERSE.get((model.rsplit(".", 1)[-1], manager))
                if other is not None:  # group.user_set is User.groups seen from Group
                    spelled.append((Target("X", "", _AUTH + other[0]), other[1]))
                return spelled
            found = self.forward.get(manager, []) + self.reverse.get(manager, [])
            return found[0].spellings() if len(found) == 1 else []
        if owner.kind != "I":
            return []
        project = self.project
        lineage = project.mro(owner.module, owner.name)
        for relation in self.forward.get(manager, []):
            if (relation.declared.module, relation.declared.name) in lineage:
                return relation.spellings(Target("C", owner.module, owner.name))
        return [
            spelling
            for relation in self.reverse.get(manager, [])
            if relation.other is not None
            and (relation.other.module, relation.other.name) in lineage
            for spelling in relation.spellings()
        ]


def library_model(name: str) -> str:
    """The model class a value of a library's model is rendered from:
    ``django.contrib.auth.models.User`` for ``...User.objects.get()`` or ``...User()``."""
    parts = name.split(".")
    for index, part in enumerate(parts):
        if part[:1].isupper():
            return ".".join([*parts[:index], part.removesuffix("()")])
    return name.removesuffix("()")
