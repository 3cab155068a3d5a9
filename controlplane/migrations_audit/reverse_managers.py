"""Reverse managers of foreign keys (PATTERNS.md item 62).

``Comment.order = ForeignKey(Order, related_name="comments")`` gives every ``Order`` a
manager of comments: ``order.comments.create()`` saves a ``Comment`` (its receivers fire),
and ``order.comments.first()`` is a ``Comment`` row. Without ``related_name`` the manager is
``order.comment_set``; ``related_name="+"`` gives none. Extraction (``note_fk``) keeps
``[class, field, to, related_name]`` per foreign key; ``ReverseManagers`` answers, for the
project instance an attribute is read on and the attribute's name, the model the manager
holds, when the key points to the instance's class or a base. A value of unknown type gets
nothing: a name alone (``items``, ``messages``) is too often something else.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .syntax import tail

if TYPE_CHECKING:
    from .names import Names
    from .project import Project, Target

_FOREIGN_KEYS = frozenset({"ForeignKey", "ParentalKey"})
_NO_REVERSE = "+"


def note_fk(names: Names, cls: str, field: str, value: ast.expr) -> None:
    """``order = models.ForeignKey(Order, related_name="comments")`` in class ``cls``."""
    if not (isinstance(value, ast.Call) and tail(value.func) in _FOREIGN_KEYS):
        return
    related = next((kw.value for kw in value.keywords if kw.arg == "related_name"), None)
    name = ""
    if related is not None:
        if not (isinstance(related, ast.Constant) and isinstance(related.value, str)):
            return  # a name computed at run time: the accessor is not known
        name = related.value
    to = names.related_model(value)
    if to:
        names.facts.fks.append([cls, field, to, name])


@dataclass(frozen=True, slots=True)
class Reverse:
    rows: Target  # the manager: a "Q" target of the class with the ForeignKey
    owner: tuple[str, str]  # (module, class) the key points to: the manager's owner


class ReverseManagers:
    """Every foreign key's reverse manager in the project, by accessor name."""

    def __init__(self, project: Project | None) -> None:
        from .project import Target

        self.project = project
        self.by_accessor: dict[str, list[Reverse]] = {}
        if project is None:
            return
        for module, facts in project.modules.items():
            for cls, _field, to, related in facts.fks:
                if related.endswith(_NO_REVERSE) or "%" in related:
                    continue  # no manager, or one named per subclass
                other = project.resolve(to[:-2], module) if to.endswith("()") else None
                if other is None or other.kind != "C":
                    continue
                accessor = related or cls.rsplit(".", 1)[-1].lower() + "_set"
                reverse = Reverse(Target("Q", module, cls), (other.module, other.name))
                self.by_accessor.setdefault(accessor, []).append(reverse)

    @classmethod
    def empty(cls) -> ReverseManagers:
        return cls(None)

    def manager(self, owner: Target, attr: str) -> Target | None:
        """The model whose rows ``owner.<attr>`` manages (as a ``Q`` target), or None."""
        found = self.by_accessor.get(attr)
        if not found or self.project is None or owner.kind != "I":
            return None
        lineage = self.project.mro(owner.module, owner.name)
        return next((r.rows for r in found if r.owner in lineage), None)
