"""Loops over the instance's model fields of one type run only for models that have one.

``for f in self._meta.fields: if isinstance(f, models.FileField): cleanup.delay(...)``, or a
loop over ``self._file_fields``, a property returning ``[f.name for f in self._meta.fields
if isinstance(f, models.FileField)]``: the body runs once per such field, so never for a
model that declares none (round 7, item 21). The extractor marks the statements that run
only for such a field with a ``FIELDS`` block whose condition is ``["types", [T, ...]]``
(the isinstance test, rendered) or ``["via", name]`` (a loop over ``self.<name>``, a method
whose ``FunctionFacts.field_types`` says which types it keeps). The call graph drops the
calls of such a block when no class ``self`` may have declares a field of those types:
exactly the class when it is known exactly, else the class and every project subclass.

What a model declares is read from its class attributes along the project MRO
(``doc = models.FileField()``, abstract bases included); a field class of the project is
of every type in its MRO, ImageField is a FileField. A class from outside Django and the
project (a capitalised name: ``sorl.thumbnail.ImageField``), what a project function builds,
or a base model from a library whose fields are not known may be a field of the type: the
loop is then kept, as before. So is a test on a relation or a primary key's type, which the
class attributes do not show.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Any

from .facts import FIELDS, Block
from .project import Target

if TYPE_CHECKING:
    from .project import Project

# self._meta.<these> iterate the model's fields
_META_LISTS = frozenset({"fields", "concrete_fields", "local_fields", "local_concrete_fields"})
_META_CALLS = frozenset({"get_fields"})
_DJANGO_MODELS = "django.db.models."
# Django's own field classes and the one each subclasses, for isinstance against a base
_DJANGO_PARENTS = {
    "ImageField": "FileField",
    "OneToOneField": "ForeignKey",
    "ForeignKey": "ForeignObject",
    "ForeignObject": "RelatedField",
    "ManyToManyField": "RelatedField",
    "EmailField": "CharField",
    "SlugField": "CharField",
    "URLField": "CharField",
    "BigAutoField": "AutoField",
    "SmallAutoField": "AutoField",
    "BigIntegerField": "IntegerField",
    "SmallIntegerField": "IntegerField",
    "PositiveIntegerField": "IntegerField",
    "PositiveSmallIntegerField": "IntegerField",
    "PositiveBigIntegerField": "IntegerField",
}
# bases from outside the project that declare no model fields
_FIELDLESS_BASES = frozenset(
    {
        "object",
        "django.db.models.Model",
        "django.db.models.base.Model",
        "abc.ABC",
        "typing.Generic",
        "typing.Protocol",
    }
)
_MAYBE = "?"  # a field of a class whose hierarchy is not known
# a library field whose name says nothing of files: of an unknown type, but no FileField
_MAYBE_NOT_FILE = "?-file"
_FILE_KEYS = frozenset({"django:FileField", "django:ImageField"})
# words in a library field class's name that say it may hold a file (round 7c, item 21b)
_FILE_WORDS = (
    "file", "image", "media", "upload", "attach", "document", "photo", "picture",
    "thumbnail", "avatar", "video", "audio", "cloudinary", "storage", "blob", "s3",
)  # fmt: skip
# types the audit cannot rule out from class attributes: every model has a primary key (an
# AutoField unless declared), and relations are recorded by the model they point to
_UNDECIDED = frozenset(
    "django:" + name
    for name in (
        "Field",
        "AutoField",
        "BigAutoField",
        "SmallAutoField",
        "RelatedField",
        "ForeignObject",
        "ForeignKey",
        "OneToOneField",
        "ManyToManyField",
    )
)

# ---- extraction (on the AST) ------------------------------------------------------------


def _is_self(node: ast.expr) -> bool:
    """``self``, ``type(self)`` or ``self.__class__``: the instance's class's ``_meta``."""
    if isinstance(node, ast.Name):
        return node.id == "self"
    if isinstance(node, ast.Attribute) and node.attr == "__class__":
        return _is_self(node.value)
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "type"
        and len(node.args) == 1
        and _is_self(node.args[0])
    )


def meta_fields(node: ast.expr) -> bool:
    """``self._meta.fields`` / ``self._meta.get_fields()`` and the like."""
    if isinstance(node, ast.Call) and not node.args and isinstance(node.func, ast.Attribute):
        attr, holder = node.func.attr, node.func.value
        wanted = _META_CALLS
    elif isinstance(node, ast.Attribute):
        attr, holder = node.attr, node.value
        wanted = _META_LISTS
    else:
        return False
    return (
        attr in wanted
        and isinstance(holder, ast.Attribute)
        and holder.attr == "_meta"
        and _is_self(holder.value)
    )


def self_member(node: ast.expr) -> str:
    """``self.<name>`` or ``self.<name>()`` (no arguments): the name, else ""."""
    if isinstance(node, ast.Call) and not node.args and not node.keywords:
        node = node.func
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return node.attr if node.value.id == "self" else ""
    return ""


def type_test(test: ast.expr, names: set[str] | frozenset[str]) -> list[ast.expr] | None:
    """The classes of ``isinstance(f, T)`` / ``isinstance(f, (T1, T2))`` with ``f`` one of
    ``names``, also as one operand of an ``and`` (the test needs it true); else None."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        for value in test.values:
            found = type_test(value, names)
            if found is not None:
                return found
        return None
    if not (
        isinstance(test, ast.Call)
        and isinstance(test.func, ast.Name)
        and test.func.id == "isinstance"
        and len(test.args) == 2
        and isinstance(test.args[0], ast.Name)
        and test.args[0].id in names
    ):
        return None
    kinds = test.args[1]
    return list(kinds.elts) if isinstance(kinds, ast.Tuple) else [kinds]


def negated_type_test(stmt: ast.stmt, names: set[str]) -> list[ast.expr] | None:
    """``if not isinstance(f, T): continue`` (or break, return, raise): the classes."""
    if (
        not isinstance(stmt, ast.If)
        or stmt.orelse
        or not isinstance(stmt.body[-1], ast.Continue | ast.Break | ast.Return | ast.Raise)
        or not isinstance(stmt.test, ast.UnaryOp)
        or not isinstance(stmt.test.op, ast.Not)
    ):
        return None
    inner = stmt.test.operand
    if isinstance(inner, ast.BoolOp):
        return None  # not (isinstance(f, T) and x): the rest runs for other fields too
    return type_test(inner, names)


def filtered_fields(node: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.expr] | None:
    """A method whose body is ``return [... for f in self._meta.fields if isinstance(f, T)]``
    (a list, set or generator, maybe in ``list()``/``tuple()``): the classes T."""
    body = [s for s in node.body if not _docstring(s)]
    if len(body) != 1 or not isinstance(body[0], ast.Return) or body[0].value is None:
        return None
    value = body[0].value
    if (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Name)
        and value.func.id in ("list", "tuple", "set", "frozenset")
        and len(value.args) == 1
    ):
        value = value.args[0]
    if not isinstance(value, ast.ListComp | ast.SetComp | ast.GeneratorExp):
        return None
    if len(value.generators) != 1:
        return None
    loop = value.generators[0]
    if not isinstance(loop.target, ast.Name) or not meta_fields(loop.iter):
        return None
    names = frozenset({loop.target.id})
    for test in loop.ifs:
        found = type_test(test, names)
        if found is not None:
            return found
    return None


_FILLS = frozenset({"append", "add", "update", "extend", "insert", "setdefault"})
_VIEWS = frozenset({"items", "keys", "values"})


def fill_target(node: ast.expr) -> ast.Name | None:
    """The local container ``node`` fills: ``old.append(x)`` -> ``old``."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in _FILLS
        and isinstance(node.func.value, ast.Name)
    ):
        return node.func.value
    return None


def iterated_name(node: ast.expr) -> str:
    """The local a loop iterates: ``old``, ``old.items()``, ``old.values()``; else ""."""
    if (
        isinstance(node, ast.Call)
        and not node.args
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in _VIEWS
    ):
        node = node.func.value
    return node.id if isinstance(node, ast.Name) else ""


def empty_container(node: ast.expr) -> bool:
    """``{}``, ``[]``, ``set()``, ``dict()``, ``list()``: a container still empty."""
    if isinstance(node, ast.Dict | ast.List | ast.Set | ast.Tuple):
        return not (node.keys if isinstance(node, ast.Dict) else node.elts)
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ("dict", "list", "set", "tuple")
        and not node.args
        and not node.keywords
    )


def _docstring(stmt: ast.stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


# ---- analysis (on facts) -----------------------------------------------------------------


class FieldTypes:
    """Which field types a project model declares, along its MRO."""

    def __init__(self, project: Project) -> None:
        self.project = project
        self._declared: dict[tuple[str, str], frozenset[str]] = {}
        self._kinds: dict[tuple[str, str, str], frozenset[str]] = {}

    def never_runs(
        self, block: Block, module: str, cls: str, selftype: Target | None, exact: bool
    ) -> bool:
        """Whether the statements of a FIELDS block cannot run: no class ``self`` may have
        declares a field of the types the loop keeps."""
        wanted = self.decidable(block, module, cls, selftype)
        if not wanted:
            return False
        owner = (selftype.module, selftype.name) if selftype is not None else (module, cls)
        candidates = [owner] if exact else [owner, *self.project.subclasses(*owner)]
        return not any(self.declares(mod, qual, wanted) for mod, qual in candidates)

    def decidable(
        self, block: Block, module: str, cls: str, selftype: Target | None
    ) -> frozenset[str]:
        """The type keys of a FIELDS block when the fields a model declares decide it."""
        if block.kind != FIELDS or not cls or not isinstance(block.cond, list):
            return frozenset()
        wanted = self.wanted(block.cond, module, cls, selftype)
        return wanted if all(_decidable(key) for key in wanted) else frozenset()

    def wanted(
        self, cond: list[Any], module: str, cls: str, selftype: Target | None
    ) -> frozenset[str]:
        """The type keys a FIELDS condition keeps (empty: not known)."""
        if cond[0] == "types":
            return self.type_keys(cond[1], module, cls)
        if cond[0] != "via" or len(cond) < 2:
            return frozenset()
        # the member itself (a property read through resolve() would give its value)
        member_of = selftype if selftype is not None else Target("C", module, cls)
        target = self.project.class_attr(member_of, cond[1], 0) if cls or selftype else None
        if target is None or target.kind != "F":
            return frozenset()
        facts = self.project.function(target)
        if facts is None or not facts.field_types:
            return frozenset()
        owner = self.project.class_of(target.module, target.name)
        return self.type_keys(facts.field_types, target.module, owner)

    def type_keys(self, names: list[str], module: str, cls: str) -> frozenset[str]:
        """Keys of the classes an isinstance test names; empty if one is not understood."""
        keys: set[str] = set()
        for name in names:
            key = self._key_of(name, module, cls)
            if not key:
                return frozenset()
            keys.add(key)
        return frozenset(keys)

    def _key_of(self, name: str, module: str, cls: str) -> str:
        if not name or name[0] == "~":
            return ""
        target = self.project.resolve(name, module, cls)
        if target is None:
            return ""
        if target.kind == "C":
            return f"C:{target.module}:{target.name}"
        if target.kind == "X":
            return _external_key(target.name)
        return ""

    def declares(self, module: str, cls: str, wanted: frozenset[str]) -> bool:
        """Whether the class (its bases included) declares a field of a wanted type, or may."""
        kinds = self.declared(module, cls)
        if _MAYBE in kinds or kinds & wanted:
            return True
        # a library field that is no file field may still be of another wanted type
        return _MAYBE_NOT_FILE in kinds and not wanted <= _FILE_KEYS

    def declared(self, module: str, cls: str) -> frozenset[str]:
        """Every type key of every field the class declares along its MRO (``?`` for one
        whose types are not known)."""
        key = (module, cls)
        found = self._declared.get(key)
        if found is not None:
            return found
        project = self.project
        out: set[str] = set()
        for base in project.external_bases(module, cls):
            name = base.rstrip("()[]")
            if name not in _FIELDLESS_BASES and not name.endswith("Mixin"):
                out.add(_MAYBE)  # a model from a library: its fields are not known
        for mod, qual in project.mro(module, cls):
            klass = project.klass(mod, qual)
            if klass is None:
                continue
            for value in klass.attrs.values():
                if value.endswith("()") and value.count("()") == 1:
                    out |= self.field_kinds(value[:-2], mod, qual)
        result = frozenset(out)
        self._declared[key] = result
        return result

    def field_kinds(self, name: str, module: str, cls: str) -> frozenset[str]:
        """The type keys of an attribute built by calling ``name``: a field class's own and
        its bases'; nothing for what is not a field."""
        memo = (name, module, cls)
        found = self._kinds.get(memo)
        if found is not None:
            return found
        out: set[str] = set()
        target = self.project.resolve(name, module, cls)
        if target is not None and target.kind == "X":
            out |= _external_kinds(target.name)
        elif target is not None and target.kind == "F":
            out.add(_MAYBE)  # doc = file_field(...): what a project function builds
        elif target is not None and target.kind == "C":
            chain = self.project.mro(target.module, target.name)
            externals = self.project.external_bases(target.module, target.name)
            if any(_external_kinds(b.rstrip("()")) for b in externals):
                out.update(f"C:{m}:{q}" for m, q in chain)
                for base in externals:
                    out |= _external_kinds(base.rstrip("()"))
        result = frozenset(out)
        self._kinds[memo] = result
        return result


def _decidable(key: str) -> bool:
    """Whether the fields a model declares show if it has one of this type: a Django
    field type but a relation or a primary key's, or a project field class."""
    return key.startswith("C:") or (key.startswith("django:") and key not in _UNDECIDED)


def _external_key(name: str) -> str:
    if name.startswith(_DJANGO_MODELS):
        return "django:" + name.rsplit(".", 1)[-1]
    return name


def _external_kinds(name: str) -> set[str]:
    """Keys of an outside class built as a class attribute and its bases: a Django field's
    from the table; a library's ``...Field`` class may be a field of any type, its bases are
    not known (``?``), unless its name says nothing of files (``?-file``: of any type but
    a FileField); a library class not named ``...Field`` (a manager), a Django manager or a
    function's result is no field."""
    tail: str | None = name.rsplit(".", 1)[-1]
    if name.startswith(_DJANGO_MODELS):
        if not tail or not (tail.endswith("Field") or tail in _DJANGO_PARENTS):
            return set()
        out = {"django:Field"}
        while tail:
            out.add("django:" + tail)
            tail = _DJANGO_PARENTS.get(tail)
        return out
    if not tail or not tail[0].isupper():
        return set()
    if not tail.endswith("Field"):
        return set()  # a library manager, tracker or choices class: no model field
    if any(word in tail.lower() for word in _FILE_WORDS):
        return {name, _MAYBE}
    return {name, _MAYBE_NOT_FILE}  # I18nCharField: a field, named as no file field
