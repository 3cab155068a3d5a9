"""An attribute of ``self`` assigned from a call in a method carries that call's value.

Django's ``ModelFormMixin.form_valid`` does ``self.object = form.save()``, and project base
views ``self.object = form.save(commit=False)`` then ``self.object.save()``: within the
method, until it is assigned again, ``self.object`` stands for the call it was given, so
``self.object.save()`` renders as ``form.save().save()``, exactly as through a local. Only a
call's value is carried (its type is what the call returns); anything else assigned to the
attribute, or an assignment the extractor cannot read, forgets it.

A method the same method then calls on ``self`` (``self.finish()``) sees the value too, when
it reads the attribute: the call gives it ``"self.object"`` in its context, typed, from the
caller's last assignment before the call (``attr_context``), and ``carried_attr`` resolves
``self.object.save`` there. One call deep: what the callee calls in turn is not told.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .project import Project, Target


def attr_key(node: ast.Attribute, self_name: str) -> str:
    """``"self.object"`` for ``self.object`` when ``self_name`` is the method's receiver."""
    value = node.value
    if type(value) is ast.Name and value.id == self_name:
        return f"{value.id}.{node.attr}"
    return ""


def attr_value(values: dict[str, str], node: ast.Attribute) -> str:
    """What ``self.<attr>`` was last assigned in this method from a call ("" if nothing)."""
    value = node.value
    if type(value) is ast.Name:
        return values.get(f"{value.id}.{node.attr}", "")
    return ""


def carried(node: ast.expr | None) -> bool:
    """Whether an assigned value's type is what a call returns (``await`` or not)."""
    if type(node) is ast.Await:
        node = node.value
    return type(node) is ast.Call


def attr_context(sets: list[list[Any]], line: int, col: int, reads: list[str]) -> dict[str, str]:
    """``{"self.object": "~form.save()"}``: what each attribute the callee reads was last
    given (from a call) before the position ``line:col`` of the call of it."""
    latest: dict[str, str] = {}
    for set_line, set_col, attr, value in sets:
        if (set_line, set_col) <= (line, col):
            latest[attr] = value
    return {f"self.{attr}": value for attr, value in latest.items() if value and attr in reads}


def carried_attr(project: Project, types: dict[str, Target], name: str) -> Target | None:
    """What ``self.object.save`` is when the caller said what ``self.object`` holds."""
    segments = name.split(".")
    target = types.get(f"self.{segments[1]}") if len(segments) > 1 else None
    if target is None:
        return None
    return project.follow(target, "", segments[2:])
