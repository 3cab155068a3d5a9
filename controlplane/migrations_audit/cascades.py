"""Deletes that cascade (PATTERNS.md item 109).

``Member.account = ForeignKey(Account, on_delete=CASCADE)``: deleting an ``Account`` (an
instance or a queryset) deletes its members too, and Django sends ``pre_delete`` and
``post_delete`` for each of them (it fast-deletes only rows that no receiver listens to).
Extraction (``note_cascade``) keeps ``[class, model it points to]`` per cascading key, the
model as an instance name (``app.models.Account()``) or ``"user"`` for
``settings.AUTH_USER_MODEL`` and ``get_user_model()``; ``Cascades`` answers which models a
delete of one reaches, through chains of keys. A cascade runs no ``delete()`` override.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from .syntax import tail

if TYPE_CHECKING:
    from .names import Names
    from .project import Project

_RELATIONS = frozenset({"ForeignKey", "OneToOneField", "ParentalKey"})
USER = "user"
MAX_CHAIN = 4  # Account -> Member -> Badge -> ...: deeper chains are rare and costly
Model = tuple[str, str]  # (module, class)


def _is_user_model(node: ast.expr | None) -> bool:
    if isinstance(node, ast.Attribute):
        return node.attr == "AUTH_USER_MODEL"
    if isinstance(node, ast.Call):
        return tail(node.func) == "get_user_model"
    return isinstance(node, ast.Constant) and node.value == "auth.User"


def note_cascade(names: Names, cls: str, value: ast.expr) -> None:
    """A key declared in class ``cls`` that deletes its row when the row it points to goes."""
    if not (isinstance(value, ast.Call) and tail(value.func) in _RELATIONS):
        return
    on_delete = next((kw.value for kw in value.keywords if kw.arg == "on_delete"), None)
    if on_delete is None and len(value.args) > 1:
        on_delete = value.args[1]
    if on_delete is None or tail(on_delete) != "CASCADE":
        return
    target = (
        value.args[0]
        if value.args
        else next((kw.value for kw in value.keywords if kw.arg == "to"), None)
    )
    to = USER if _is_user_model(target) else names.related_model(value)
    if to:
        names.facts.cascades.append([cls, to])


class Cascades:
    """Every cascading key of the project, by the model it points to."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self.children: dict[Model | str, list[Model]] = {}
        self._deleted: dict[Model, list[Model]] = {}
        for module, facts in project.modules.items():
            for cls, to in facts.cascades:
                if to == USER:
                    parent: Model | str = USER
                else:
                    found = project.resolve(to[:-2], module) if to.endswith("()") else None
                    if found is None or found.kind != "C":
                        continue
                    parent = (found.module, found.name)
                self.children.setdefault(parent, []).append((module, cls))

    def deleted_with(self, module: str, cls: str) -> list[Model]:
        """The models whose rows a delete of a ``cls`` row deletes too, nearest first: keys
        to it or to a base (a child row of multi-table inheritance goes with its parent),
        to the user model when it is that, and so on down the chain."""
        if not self.children:
            return []
        key = (module, cls)
        if key not in self._deleted:
            self._deleted[key] = self._deleted_with(module, cls)
        return self._deleted[key]

    def _deleted_with(self, module: str, cls: str) -> list[Model]:
        user = self.project.user_model()
        out: list[Model] = []
        seen = {(module, cls)}
        level = [(module, cls)]
        for _ in range(MAX_CHAIN):
            found: list[Model] = []
            for mod, qual in level:
                parents: list[Model | str] = list(self.project.mro(mod, qual))
                if user is not None and (user.module, user.name) == (mod, qual):
                    parents.append(USER)
                for parent in parents:
                    for child in self.children.get(parent, []):
                        if child not in seen:
                            seen.add(child)
                            found.append(child)
            out.extend(found)
            level = found
            if not level:
                break
        return out

    def user_deletes(self) -> list[Model]:
        """What deleting a row of Django's own ``User`` deletes (the project keeps no model
        of its own for ``AUTH_USER_MODEL``), and on down the chain."""
        out: list[Model] = []
        for child in self.children.get(USER, []):
            if child not in out:
                out.append(child)
                out.extend(c for c in self.deleted_with(*child) if c not in out)
        return out
