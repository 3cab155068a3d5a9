"""Methods added to a class at run time: Django's ``Model.add_to_class("name", function)``
and ``setattr(Model, "name", function)``, typically in an ``AppConfig.ready()``.

``document.submit_for_ocr()`` then runs ``function`` although the class never defines it.
Extraction (``note_addition``, per file) keeps ``[class, name, function, line]``; the class
is as rendered, or ``str:<Name>`` for a model looked up by name in that function
(``Document = self.get_model("Document")``). ``Additions`` indexes them over the project
for ``Project.class_attr`` (a typed receiver) and ``Project.methods_named`` (an untyped
one: an added name counts as a ``def`` of it in the class would, PATTERNS.md round 6).
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from .wiring import model_by_name

if TYPE_CHECKING:
    from .names import Names
    from .project import Project, Target

_BY_NAME = "str:"


# ---- extraction (one file) -------------------------------------------------------------


def note_addition(names: Names, node: ast.Call) -> None:
    """``X.add_to_class("name", f)`` / ``add_to_class(name="name", value=f)`` /
    ``setattr(X, "name", f)`` with ``f`` a function reference (not a field or a call)."""
    func = node.func
    keywords = {kw.arg: kw.value for kw in node.keywords if kw.arg}
    if isinstance(func, ast.Attribute) and func.attr == "add_to_class":
        holder: ast.expr = func.value
        name = node.args[0] if node.args else keywords.get("name")
        value = node.args[1] if len(node.args) > 1 else keywords.get("value")
    elif isinstance(func, ast.Name) and func.id == "setattr" and len(node.args) == 3:
        holder, name, value = node.args
    else:
        return
    if not (isinstance(name, ast.Constant) and isinstance(name.value, str)):
        return
    if not isinstance(value, ast.Name | ast.Attribute):
        return  # models.TextField(), property(f), a lambda: not a method to follow
    cls = model_by_name(names, holder)
    if not cls.startswith(_BY_NAME):
        cls = names.render(holder) if isinstance(holder, ast.Name | ast.Attribute) else ""
    ref = names.render(value)
    if cls and ref and cls[0] != "~" and ref[0] != "~":
        names.facts.additions.append([cls, name.value, ref, node.lineno])


# ---- the project -----------------------------------------------------------------------


class Additions:
    """Where each added method goes: by class, by class name (looked up by name), the
    functions each name is added as, and the class each was added to (when resolved)."""

    def __init__(self, project: Project | None) -> None:
        self.by_class: dict[tuple[str, str], dict[str, Target]] = {}
        self.by_name: dict[str, dict[str, Target]] = {}
        functions: dict[str, list[Target]] = {}
        self.named: dict[str, list[Target]] = functions
        self.owners: dict[Target, tuple[str, str]] = {}
        self.functions: set[Target] = set()
        if project is None:
            return
        for module, facts in project.modules.items():
            for cls, name, ref, _line in facts.additions:
                function = project.resolve(ref, module)
                if function is None or function.kind != "F":
                    continue
                if cls.startswith(_BY_NAME):
                    self.by_name.setdefault(cls[len(_BY_NAME) :], {})[name] = function
                else:
                    found = project.resolve(cls, module)
                    if found is None or found.kind != "C":
                        continue
                    self.by_class.setdefault((found.module, found.name), {})[name] = function
                    self.owners.setdefault(function, (found.module, found.name))
                if function not in functions.setdefault(name, []):
                    functions[name].append(function)
        self.functions = {f for fs in functions.values() for f in fs}

    @classmethod
    def empty(cls) -> Additions:
        return cls(None)

    def method(self, project: Project, target: Target, attr: str) -> Target | None:
        """The function added as ``attr`` to the class of ``target`` or to a base."""
        if not self.by_class and not self.by_name:
            return None
        for mod, qual in project.mro(target.module, target.name):
            found = self.by_class.get((mod, qual), {}).get(attr)
            if found is None:
                found = self.by_name.get(qual.rsplit(".", 1)[-1], {}).get(attr)
            if found is not None:
                return found
        return None
