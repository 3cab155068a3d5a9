"""An attribute of ``self`` assigned from a call in a method carries that call's value.

Django's ``ModelFormMixin.form_valid`` does ``self.object = form.save()``, and project base
views ``self.object = form.save(commit=False)`` then ``self.object.save()``: within the
method, until it is assigned again, ``self.object`` stands for the call it was given, so
``self.object.save()`` renders as ``form.save().save()``, exactly as through a local. Only a
call's value is carried (its type is what the call returns); anything else assigned to the
attribute, or an assignment the extractor cannot read, forgets it.
"""

from __future__ import annotations

import ast


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
