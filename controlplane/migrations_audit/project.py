"""The audited tree as one index: which module a dotted name means, and what a rendered name
refers to (a function, class, instance, module of the project, or something outside it).

Resolution is best effort and memoised; it follows imports and aliases across modules,
module-level assignments (``client = boto3.client("s3")``), ``self``/``cls``/``super()``,
base classes, instance attributes set in methods, and the return values of factories.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from typing import NamedTuple

from .class_additions import Additions
from .facts import (
    MODEL_BY_NAME,
    QUERYSET_OF,
    TUPLE_ELEMENT,
    ClassFacts,
    FunctionFacts,
    ModuleFacts,
)
from .framework_shadows import FrameworkShadows
from .injected import Injections
from .injected import collect as collect_injections
from .kept_overrides import keeps_super, next_override
from .linearisation import c3
from .reverse_managers import ReverseManagers

# Top-level names that are never the project's own modules, so a project file called
# ``celery.py`` or ``requests.py`` is not mistaken for the library.
KNOWN_EXTERNAL = frozenset(sys.stdlib_module_names) | frozenset(
    {
        "celery",
        "kombu",
        "django",
        "rest_framework",
        "flask",
        "flask_restful",
        "flask_restx",
        "flask_appbuilder",
        "fastapi",
        "starlette",
        "pydantic",
        "sqlalchemy",
        "pandas",
        "numpy",
        "polars",
        "pyarrow",
        "requests",
        "httpx",
        "aiohttp",
        "urllib3",
        "boto3",
        "botocore",
        "minio",
        "openai",
        "anthropic",
        "redis",
        "sklearn",
        "torch",
        "tensorflow",
        "dramatiq",
        "rq",
        "huey",
        "marshmallow",
        "werkzeug",
        "jinja2",
        "click",
        "gevent",
        "eventlet",
        "anyio",
        "trio",
        "uvicorn",
        "gunicorn",
        "asgiref",
        "channels",
        "google",
        "azure",
        "langchain",
    }
)

_RESULT_METHODS = frozenset(
    {
        "get",
        "create",
        "first",
        "last",
        "latest",
        "earliest",
        "get_or_create",
        "update_or_create",
        "aget",
        "acreate",
        "afirst",
        "alast",
        # SQLAlchemy's Query (Flask-SQLAlchemy's Model.query)
        "one",
        "one_or_none",
        "get_or_404",
        "first_or_404",
    }
)
_MAX_DEPTH = 14
# Django's editing views that build a ModelForm of their model when given no form_class
_DJANGO_MODEL_FORM_VIEWS = frozenset(
    {"CreateView", "UpdateView", "BaseCreateView", "BaseUpdateView", "ModelFormMixin"}
)
_MANAGERS = frozenset({"objects", "_default_manager", "_base_manager"})
_MODEL_QUERY = "query"  # Flask-SQLAlchemy: Model.query, a query of the model
# DRF's GenericAPIView methods handing back the view's rows, filtered or one page of them
# (PATTERNS.md item 203): iterated, each is an instance of the view's model
_FILTERED_ROWS = ("filter_queryset", "paginate_queryset")
_META = ":Meta"  # a class's inner Meta (kept as a table): Target("V", module, "Cls:Meta")
# where a model declares the class of its Flask-SQLAlchemy query (``query: ShopQuery`` as a
# type hint, ``query_class = ShopQuery``), and the bases that make a class a query class
_QUERY_DECLARATIONS = (_MODEL_QUERY, "query_class")
_QUERY_BASES = frozenset({"Query", "BaseQuery"})
# enumerations whose class attributes are instances of the class (PATTERNS.md item 239)
_ENUM_BASES = frozenset(
    {"Enum", "IntEnum", "StrEnum", "Flag", "IntFlag", "TextChoices", "IntegerChoices", "Choices"}
)
_AS_MANAGER = ".as_manager()"  # OrderQuerySet.as_manager(): a manager with the QS's methods
# Method names too common to guess the class from the name alone.
_GENERIC_METHODS = frozenset(
    {
        "get",
        "post",
        "put",
        "patch",
        "delete",
        "save",
        "run",
        "call",
        "execute",
        "send",
        "close",
        "open",
        "read",
        "write",
        "create",
        "update",
        "list",
        "retrieve",
        "destroy",
        "start",
        "stop",
        "dispatch",
        "handle",
        "process",
        "setup",
        "validate",
        "clean",
        "render",
        "load",
        "dump",
        "dumps",
        "loads",
        "to_dict",
        "from_dict",
        "as_dict",
        "json",
        "filter",
        "all",
        "first",
        "exists",
        "count",
        "commit",
        "flush",
        "refresh",
        "add",
        "remove",
        "query",
        # Django's async forms of the names above (PATTERNS.md item 248)
        "asave",
        "adelete",
        "acreate",
        "aget",
        "aupdate",
        "afirst",
        "aexists",
        "acount",
    }
)


class Target(NamedTuple):
    """What a name refers to.

    kind: F function, C class, I instance of a project class, M module, Q manager or
    queryset of a project model, QM a method of one, V a method a project class inherits
    from a framework (``name`` is "Class:method"), S ``super()`` inside a class, X outside
    the project (``name`` is the expanded dotted name).
    """

    kind: str
    module: str
    name: str


def split_segment(segment: str) -> tuple[str, str]:
    """``("chain", "()()")`` for ``"chain()()"``."""
    base = segment.rstrip("()[]")
    return base, segment[len(base) :]


class Project:
    """Index over every module's facts, with memoised name resolution."""

    def __init__(
        self, modules: Iterable[ModuleFacts], package: str = "", unreadable: Iterable[str] = ()
    ) -> None:
        # the dotted name the audited directory itself has when it is a package (its
        # modules import each other as ``package.x``): PATTERNS.md item 73
        self.package = package
        self.modules: dict[str, ModuleFacts] = {}
        for facts in modules:
            # a.py and a/__init__.py cannot both be imported; keep the package
            if facts.module not in self.modules or facts.is_package:
                self.modules[facts.module] = facts
        self.suffixes: dict[str, list[str]] = {}
        for name in self.modules:
            parts = name.split(".")
            for start in range(1, len(parts)):
                self.suffixes.setdefault(".".join(parts[start:]), []).append(name)
        self.roots: list[str] = [""]
        # modules of the project's files that could not be parsed (the report's skipped)
        self.unreadable = frozenset(unreadable)
        self._module_memo: dict[tuple[str, str], ModuleFacts | None] = {}
        self._package_groups: dict[str, str] | None = None
        self._memo: dict[tuple[str, str, str, Target | None], Target | None] = {}
        self._mro: dict[tuple[str, str], list[tuple[str, str]]] = {}
        self._external: dict[tuple[str, str], frozenset[str]] = {}
        self._subclasses: dict[tuple[str, str], list[tuple[str, str]]] | None = None
        self._methods: dict[str, list[Target]] | None = None
        self._models_by_name: dict[str, list[Target]] | None = None
        self._classes_by_spelling: dict[str, list[Target]] | None = None
        self._properties: frozenset[str] | None = None
        self._active: set[tuple[str, str, str, Target | None]] = set()
        self._reading_rows: set[tuple[str, str]] = set()  # model_of's get_queryset() reads
        self._injections: Injections | None = None
        self._additions: Additions | None = None
        self._reverse: ReverseManagers | None = None
        self._shadows: FrameworkShadows | None = None
        self._shadowed: dict[str, bool] = {}
        self._user_model: Target | None = None
        self.infer_roots()

    # ---- modules -----------------------------------------------------------------------

    def infer_roots(self) -> None:
        """Directories that are on ``sys.path`` for the project, found from its imports.

        ``from app.features.x import y`` in ``backend/app/main.py`` means ``backend`` is a
        root. Only imports that name at least a package and a member are used as evidence.
        """
        roots: dict[str, int] = {}
        for facts in self.modules.values():
            for target in facts.imports.values():
                first = target.split(".", 1)[0]
                if first in KNOWN_EXTERNAL or "." not in target or target in self.modules:
                    continue
                parts = target.split(".")
                if ".".join(parts[:-1]) in self.modules:
                    continue
                for k in range(len(parts), 1, -1):
                    dotted = ".".join(parts[:k])
                    candidates = self.suffixes.get(dotted, [])
                    if len(candidates) == 1:
                        root = candidates[0][: -len(dotted) - 1]
                        roots[root] = roots.get(root, 0) + 1
                        break
        self.roots = ["", *sorted(roots, key=lambda r: (-roots[r], r))]

    def in_unreadable(self, name: str) -> bool:
        """Whether ``name`` (rendered) leads into a file of the project the audit could not
        parse: what it calls there is not read (PATTERNS.md item 246)."""
        if not self.unreadable:
            return False
        parts: list[str] = []
        for segment in name.split("."):
            base, ops = split_segment(segment)
            parts.append(base)
            dotted = ".".join(parts)
            if any(f"{root}.{dotted}".lstrip(".") in self.unreadable for root in self.roots):
                return True
            if ops:
                return False
        return False

    def module_for(self, dotted: str, importer: str = "") -> ModuleFacts | None:
        key = (dotted, importer)
        if key in self._module_memo:
            return self._module_memo[key]
        found = self.modules.get(dotted)
        if found is None:
            for root in self.roots[1:]:
                found = self.modules.get(f"{root}.{dotted}")
                if found is not None:
                    break
        if found is None and "." in dotted and dotted.split(".", 1)[0] not in KNOWN_EXTERNAL:
            candidates = self.suffixes.get(dotted)
            if candidates:
                found = self.modules[max(candidates, key=lambda c: _shared(c, importer))]
        package = self.package
        if found is None and package and (dotted + ".").startswith(package + "."):
            found = self.module_for(dotted[len(package) + 1 :], importer)
        self._module_memo[key] = found
        return found

    def shadowed(self, module: str) -> bool:
        """Whether the package above ``module`` binds its name to something else:
        ``from .follow import follow`` in ``views/__init__.py`` makes ``views.follow`` the
        function, not the submodule."""
        known = self._shadowed.get(module)
        if known is None:
            parent_name, _, name = module.rpartition(".")
            parent = self.modules.get(parent_name)
            known = False
            if parent is not None and parent.is_package:
                imported = parent.imports.get(name)
                known = (
                    name in parent.functions
                    or name in parent.classes
                    or name in parent.assigns
                    or (
                        imported is not None
                        and imported != module
                        and not module.endswith("." + imported)
                    )
                )
            self._shadowed[module] = known
        return known

    def function(self, target: Target) -> FunctionFacts | None:
        module = self.modules.get(target.module)
        return module.functions.get(target.name) if module else None

    def dep_alias(self, name: str, importer: str) -> tuple[str, str] | None:
        """The dependency an ``Annotated[T, Depends(f)]`` alias names (``f`` rendered, and
        the module it is rendered in), following re-exports; None for any other name."""
        for _ in range(4):
            module, _dot, attr = name.rpartition(".")
            facts = self.module_for(module, importer) if module else None
            if facts is None:
                return None
            if attr in facts.dep_aliases:
                return facts.dep_aliases[attr], facts.module
            name, importer = facts.imports.get(attr, ""), facts.module
            if not name:
                return None
        return None

    def klass(self, module: str, qualname: str) -> ClassFacts | None:
        facts = self.modules.get(module)
        return facts.classes.get(qualname) if facts else None

    def class_of(self, module: str, qualname: str) -> str:
        """The class a method belongs to ("" for plain functions)."""
        facts = self.modules.get(module)
        owner = qualname.rpartition(".")[0]
        if facts is None or not owner:
            return ""
        return owner if owner in facts.classes else ""

    def closure_owner(self, target: Target) -> str:
        """``closure_class`` of a function target ("" for anything else)."""
        facts = self.function(target) if target.kind == "F" else None
        return self.closure_class(target.module, target.name, facts.params) if facts else ""

    def closure_class(self, module: str, qualname: str, params: list[str]) -> str:
        """The class of the method a function is nested in (``Jobs.post.handle_one``:
        ``Jobs``), when the function does not take a ``self`` of its own: its ``self`` is
        the method's; "" otherwise (PATTERNS.md item 210)."""
        facts = self.modules.get(module)
        if facts is None or "self" in params:
            return ""
        outer = qualname.rpartition(".")[0]
        while outer:
            function = facts.functions.get(outer)
            if function is None:
                return ""
            cls = self.class_of(module, outer)
            if cls:
                return cls if function.params[:1] == ["self"] else ""
            outer = outer.rpartition(".")[0]
        return ""

    # ---- names -------------------------------------------------------------------------

    def resolve(
        self, name: str, module: str, cls: str = "", depth: int = 0, selftype: Target | None = None
    ) -> Target | None:
        """What ``name`` (rendered in ``module``, inside class ``cls``) refers to.

        ``selftype`` is the class ``self`` really has when a method of ``cls`` runs for an
        instance of a subclass: what ``super().save()`` returns in a base form depends on
        the model of the subclass.
        """
        key = (name, module, cls, selftype)
        if key in self._memo:
            return self._memo[key]
        if depth > _MAX_DEPTH or key in self._active:
            return None
        self._active.add(key)
        try:
            result = self._resolve(name, module, cls, depth, selftype)
        finally:
            self._active.discard(key)
        self._memo[key] = result
        return result

    def _resolve(
        self, name: str, module: str, cls: str, depth: int, selftype: Target | None
    ) -> Target | None:
        if not name:
            return None
        if name == "self.__class__" or name.startswith("self.__class__."):
            name = "cls" + name[len("self.__class__") :]  # the instance's class (item 136)
        segments = name.split(".")
        head, ops = split_segment(segments[0])
        rest = 1
        target: Target | None
        if head == "self":
            target = Target("I", module, cls) if cls else None
            if selftype is not None:
                # in a method of a model's manager or query, self is that query (item 178)
                kind = "Q" if selftype.kind == "Q" else "I"
                target = Target(kind, selftype.module, selftype.name)
        elif head == "cls":
            target = Target("C", module, cls) if cls else None
            if selftype is not None and selftype.kind != "Q":
                target = Target("C", selftype.module, selftype.name)
        elif head == "super":
            target = Target("S", module, cls) if cls else None
            ops = ""  # super() itself, not a call of its result
        elif head == MODEL_BY_NAME and len(segments) > 1:
            # a model looked up by name (apps.get_model): the project's one model so named
            name, ops = split_segment(segments[1])
            target, rest = self.model_named(name), 2
            if target is None:
                return None
        elif head.startswith("~"):
            model = self.user_model() if head == "~request" and len(segments) > 1 else None
            if model is None or split_segment(segments[1])[0] != "user":
                return None
            # request.user in a Django view: an instance of settings.AUTH_USER_MODEL
            target, ops, rest = Target("I", model.module, model.name), segments[1][4:], 2
        else:
            plain = 0
            while plain < len(segments) and not split_segment(segments[plain])[1]:
                plain += 1
            target = None
            for k in range(plain, 0, -1):
                facts = self.module_for(".".join(segments[:k]), module)
                if facts is not None and not (
                    k == len(segments) > 1 and self.shadowed(facts.module)
                ):
                    target, rest, ops = Target("M", facts.module, ""), k, ""
                    break
            if target is None:
                if f".{TUPLE_ELEMENT}" in name:
                    return None  # an element of a library call's tuple: not known (item 232)
                return Target("X", "", name)
        return self.follow(target, ops, segments[rest:], depth, selftype)

    def follow(
        self,
        target: Target | None,
        ops: str,
        segments: list[str],
        depth: int = 0,
        selftype: Target | None = None,
    ) -> Target | None:
        """Apply calls/subscripts ``ops`` to ``target``, then the attribute ``segments``."""
        if (
            target is not None
            and target.kind == "S"
            and selftype is not None
            and selftype.kind != "Q"
        ):
            target = Target(
                "S", target.module, target.name + "@" + selftype.module + ":" + selftype.name
            )
        if segments and segments[0][:1] == TUPLE_ELEMENT:
            target = self._element(target, ops, segments[0], depth)
            segments = segments[1:]
        else:
            chosen = self._return_defining(target, ops, segments, depth)
            target = chosen if chosen is not None else self._apply_ops(target, ops, depth)
        skip = False
        for index, segment in enumerate(segments):
            if target is None:
                return None
            if skip:  # the element taken below
                skip = False
                continue
            attr, ops = split_segment(segment)
            owner = target
            target = self.attr(target, attr, depth)
            if target is not None and target.kind == "F" and owner.kind in "ICS":
                facts = self.function(target)
                if facts is not None and facts.is_property:  # read: its value
                    target = self.call(target, depth, _self_of(owner))
            rest = segments[index + 1 :]
            if rest and rest[0][:1] == TUPLE_ELEMENT:
                target = self._element(target, ops, rest[0], depth, _self_of(owner))
                skip = True
                continue
            chosen = self._return_defining(target, ops, rest, depth)
            if chosen is not None:
                target = chosen
            elif (
                ops
                and target is not None
                and target.kind == "F"
                and owner.kind in ("I", "C", "S", "Q")
            ):
                # a method called on an instance: it runs with self of the instance's class;
                # one of a model's manager or query class, with self the model's query
                target = self._apply_ops(target, ops, depth, _self_of(owner))
            else:
                target = self._apply_ops(target, ops, depth)
            if target is None and attr == "save" and ops[:2] == "()" and self.is_model(owner):
                # form.save(commit=False) of the form a view builds for its model (stood in
                # for by the model's instance): the instance, as a model form's save() gives
                target = self._apply_ops(owner, ops[2:], depth)
        return target

    def _element(
        self,
        target: Target | None,
        ops: str,
        segment: str,
        depth: int,
        owner: Target | None = None,
    ) -> Target | None:
        """Element ``i`` (``segment`` is "#i") of what calling the project function
        ``target`` returns: the first of its ``return a, b`` statements' (or its ``tuple[...]``
        annotation's) element ``i`` that resolves (PATTERNS.md item 232); None for anything
        else, as a name nothing is known of."""
        index = segment[len(TUPLE_ELEMENT) :]
        if ops != "()" or target is None or target.kind != "F" or not index.isdigit():
            return None
        facts = self.function(target)
        if facts is None:
            return None
        cls = self.class_of(target.module, target.name)
        selftype = _subclass_self(owner, target.module, cls) if owner is not None else None
        position = int(index)
        for elements in facts.tuple_returns:
            if position < len(elements) and elements[position]:
                found = self.resolve(elements[position], target.module, cls, depth + 1, selftype)
                if found is not None:
                    return found
        return None

    def _return_defining(
        self, target: Target | None, ops: str, segments: list[str], depth: int
    ) -> Target | None:
        """``parse_path(...).do_lock()`` where the function returns instances of several
        classes and the first it returns has no ``do_lock``: the first returned whose class
        defines the method read (PATTERNS.md item 218); None to go on as usual."""
        if ops != "()" or len(segments) != 1 or target is None or target.kind != "F":
            return None  # the method called on the value itself, not deeper in a chain
        facts = self.function(target)
        if facts is None or len(facts.returns) < 2:
            return None
        attr = split_segment(segments[0])[0]
        cls = self.class_of(target.module, target.name)
        first = True
        for value in facts.returns:
            found = self.resolve(value, target.module, cls, depth + 1)
            if found is None or found.kind != "I":
                continue
            defined = self.class_attr(found, attr, depth)
            if defined is not None and defined.kind == "F":
                return None if first else found
            first = False
        return None

    def is_model(self, target: Target) -> bool:
        """Whether ``target`` is an instance of a project model: a class with a framework
        base named like one (``Model``, ``MPTTModel``, ``PolymorphicModel``)."""
        if target.kind != "I":
            return False
        return any(t.endswith("Model") for t in self.base_tails(target.module, target.name))

    def _apply_ops(
        self, target: Target | None, ops: str, depth: int, owner: Target | None = None
    ) -> Target | None:
        for index in range(0, len(ops), 2):
            if target is None:
                return None
            if ops[index : index + 2] == "()":
                target = self.call(target, depth, owner if index == 0 else None)
            elif target.kind == "Q":
                target = Target("I", target.module, target.name)  # a row of a queryset
            else:
                target = Target("X", "", target.name + "[]") if target.kind == "X" else None
        return target

    def user_model(self) -> Target | None:
        """The class of ``settings.AUTH_USER_MODEL`` ("app.Model"), when the project sets it."""
        if self._user_model is None:
            found: Target | None = None
            for facts in self.modules.values():
                label = facts.lits.get("AUTH_USER_MODEL")
                if isinstance(label, str) and label.count(".") == 1:
                    app, model = label.split(".")
                    found = self.resolve(f"{app}.models.{model}", facts.module)
                    if found is not None and found.kind == "C":
                        break
                    found = None
            self._user_model = found or Target("X", "", "")
        return self._user_model if self._user_model.kind == "C" else None

    def tracked_fields(self, module: str, cls: str, attr: str) -> tuple[str, ...] | None:
        """The fields ``cls.<attr> = FieldTracker(fields=[...])`` follows, if literal."""
        for mod, qual in self.mro(module, cls):
            value = self.modules[mod].classes[qual].lits.get(attr)
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                return tuple(value)
            if attr in self.modules[mod].classes[qual].attrs:
                return None
        return None

    def attr(self, target: Target, attr: str, depth: int) -> Target | None:
        kind = target.kind
        if kind == "X":
            if attr == "user" and target.name.endswith("HttpRequest()"):
                model = self.user_model()
                if model is not None:
                    return Target("I", model.module, model.name)
            return Target("X", "", f"{target.name}.{attr}")
        if kind == "M":
            return self.module_attr(target.module, attr, depth, set())
        if kind in ("C", "I"):
            return self.class_attr(target, attr, depth)
        if kind == "V" and target.name.endswith(_META):
            return self.meta_attr(target.module, target.name.removesuffix(_META), attr, depth)
        if kind == "S":
            cls, _, real = target.name.partition("@")  # "Base@mod:Sub": self is a Sub
            chain = self.mro(target.module, cls)[1:]
            if real:
                # Python's super() is the next class of type(self).__mro__: in a cooperative
                # mixin (``class M(LogMixin, CleanupMixin, Model)``) LogMixin's super() is
                # CleanupMixin, which is not among LogMixin's own bases
                real_module, _, real_cls = real.partition(":")
                full = self.mro(real_module, real_cls)
                if (target.module, cls) in full:
                    chain = full[full.index((target.module, cls)) + 1 :]
            for mod, qual in chain:
                if f"{qual}.{attr}" in self.modules[mod].functions:
                    return Target("F", mod, f"{qual}.{attr}")
            if real:
                real_module, _, real_cls = real.partition(":")
                return Target("V", real_module, f"{real_cls}:{attr}")
            return Target("V", target.module, f"{cls}:{attr}")
        if kind == "F":
            nested = f"{target.name}.{attr}"
            facts = self.modules[target.module]
            if nested in facts.functions:
                return Target("F", target.module, nested)
            if nested in facts.classes:
                return Target("C", target.module, nested)
            return None
        if kind == "Q":
            if attr == "model":  # Manager.model, QuerySet.model: the model class
                return Target("C", target.module, target.name)
            custom = self.manager_method(target, attr, depth)
            return custom or Target("QM", target.module, f"{target.name}:{attr}")
        return None

    def meta_attr(self, module: str, cls: str, attr: str, depth: int) -> Target | None:
        """``Cls.Meta.model``: the inner ``Meta`` of the class, or the one it inherits (the
        first in its MRO that has one, as Python's attribute lookup finds it), whose values
        the extractor keeps as a table (PATTERNS.md item 197)."""
        if module not in self.modules or cls not in self.modules[module].classes:
            return None
        for mod, qual in self.mro(module, cls):
            meta = self.modules[mod].classes[qual].meta
            if meta:
                value = meta.get(attr)
                return self.resolve(value, mod, "", depth + 1) if value else None
        return None

    def module_attr(self, module: str, attr: str, depth: int, seen: set[str]) -> Target | None:
        facts = self.modules[module]
        if attr in facts.functions:
            return Target("F", module, attr)
        if attr in facts.classes:
            return Target("C", module, attr)
        value = facts.assigns.get(attr)
        if value:
            return self.resolve(value, module, "", depth + 1)
        imported = facts.imports.get(attr)
        if imported:
            return self.resolve(imported, module, "", depth + 1)
        sub = self.module_for(f"{module}.{attr}") if module else self.module_for(attr)
        if sub is not None:
            return Target("M", sub.module, "")
        seen.add(module)
        for star in facts.star_imports:
            star_facts = self.module_for(star, module)
            if star_facts is not None and star_facts.module not in seen:
                found = self.module_attr(star_facts.module, attr, depth + 1, seen)
                if found is not None:
                    return found
        return None

    def class_attr(self, target: Target, attr: str, depth: int) -> Target | None:
        if attr in _MANAGERS:
            # Model.objects is the model's manager whatever class implements it: keep the
            # model, so create()/save() still reach the model's own code
            return Target("Q", target.module, target.name)
        if attr == _MODEL_QUERY and target.kind == "C" and self.model_query(target):
            return Target("Q", target.module, target.name)  # Flask-SQLAlchemy's Model.query
        if attr == "Meta" and any(
            self.modules[mod].classes[qual].meta
            for mod, qual in self.mro(target.module, target.name)
        ):
            return Target("V", target.module, target.name + _META)
        for mod, qual in self.mro(target.module, target.name):
            facts = self.modules[mod]
            method = f"{qual}.{attr}"
            if method in facts.functions:
                if (mod, qual) != (target.module, target.name) and self.shadows().shadowed(
                    target.module, target.name, (mod, qual), attr
                ):  # DRF's ModelSerializer.create before a project mixin's stub create
                    return Target("V", target.module, f"{target.name}:{attr}")
                return Target("F", mod, method)
            if method in facts.classes:
                return Target("C", mod, method)
            if target.kind == "C" and self._enum_member(facts.classes[qual], mod, attr):
                return Target("I", mod, qual)  # MTEngine.GOOGLE: an MTEngine (item 239)
            value = facts.classes[qual].attrs.get(attr)
            if value:
                # set on a base (``self.object = self.get_object()`` in its dispatch): ``self``
                # in the value is the instance it is read on, of the class ``target`` names
                selftype = _subclass_self(target, mod, qual) if target.kind in "CI" else None
                found = self.resolve(value, mod, qual, depth + 1, selftype)
                if found is None and value[0] == "~":  # self.x = x, x a parameter
                    found = self.injected(target, value[1:], depth)
                if (
                    found is not None
                    and found.kind == "X"
                    and found.name.endswith(("Manager()", _AS_MANAGER))
                    and target.kind == "C"
                    and any(t.endswith("Model") for t in self.base_tails(mod, qual))
                ):
                    # unfiltered = models.Manager(): a manager of the model, as objects is
                    # (PATTERNS.md item 235)
                    return Target("Q", target.module, target.name)
                return found
        return (
            self.added(target, attr)
            or self.injected(target, attr, depth)
            or self.reverse_managers().manager(target, attr)
            or Target("V", target.module, f"{target.name}:{attr}")
        )

    def _enum_member(self, facts: ClassFacts, module: str, attr: str) -> bool:
        """Whether ``attr`` is a member of an Enum the project defines: a literal (or
        ``auto()``) assigned in the body of a class derived from one of Python's or
        Django's enumerations."""
        if attr not in facts.lits and not facts.attrs.get(attr, "").endswith("auto()"):
            return False
        return bool(self.base_tails(module, facts.qualname) & _ENUM_BASES)

    def model_query(self, target: Target) -> bool:
        """Whether ``target.query`` is the query of the model (Flask-SQLAlchemy): a class with
        a ``Model`` base that defines no ``query`` of its own; one typed with a project query
        class is still the model's (PATTERNS.md item 177)."""
        if "Model" not in self.base_tails(target.module, target.name):
            return False
        for mod, qual in self.mro(target.module, target.name):
            facts = self.modules[mod]
            if f"{qual}.query" in facts.functions:
                return False
            value = facts.classes[qual].attrs.get(_MODEL_QUERY)
            if value and self._query_class(value, mod, qual, 0) is None:
                return False
        return True

    def query_class(self, model: Target, depth: int) -> Target | None:
        """The project class a model's query is an instance of, declared on the model or a
        base (``query: ShopQuery``, ``query_class = ShopQuery``): its methods are called on
        ``Model.query`` (PATTERNS.md item 177)."""
        for mod, qual in self.mro(model.module, model.name):
            attrs = self.modules[mod].classes[qual].attrs
            for attr in _QUERY_DECLARATIONS:
                value = attrs.get(attr)
                found = self._query_class(value, mod, qual, depth) if value else None
                if found is not None:
                    return found
        return None

    def _query_class(self, value: str, module: str, cls: str, depth: int) -> Target | None:
        """The project class ``value`` names or makes, when it derives from a query class."""
        found = self.resolve(value, module, cls, depth + 1)
        if found is None or found.kind not in ("C", "I"):
            return None
        if not self.base_tails(found.module, found.name) & _QUERY_BASES:
            return None
        return Target("C", found.module, found.name)

    def shadows(self) -> FrameworkShadows:
        if self._shadows is None:
            self._shadows = FrameworkShadows(self)
        return self._shadows

    def reverse_managers(self) -> ReverseManagers:
        if self._reverse is None:
            self._reverse = ReverseManagers.empty()  # resolving the keys may come back here
            self._reverse = ReverseManagers(self)
        return self._reverse

    def additions(self) -> Additions:
        if self._additions is None:
            self._additions = Additions.empty()  # resolving the classes may come back here
            self._additions = Additions(self)
        return self._additions

    def added(self, target: Target, attr: str) -> Target | None:
        """A function added to the class (or a base) at run time (``add_to_class``)."""
        return self.additions().method(self, target, attr)

    def injected(self, target: Target, name: str, depth: int) -> Target | None:
        """What ``X.as_view(name=...)`` gives the instances of ``target``'s class."""
        if self._injections is None:
            self._injections = {}  # resolving the classes below may come back here
            self._injections = collect_injections(self)
        if not self._injections:
            return None
        for mod, qual in self.mro(target.module, target.name):
            for value, written in self._injections.get((mod, qual), {}).get(name, ()):
                found = self.resolve(value, written, "", depth + 1)
                if found is not None:
                    return found
        return None

    def manager_method(self, model: Target, attr: str, depth: int) -> Target | None:
        """A method of the project class that implements ``model.objects``, if any: the
        manager's class, or the QuerySet a manager was made from (``QS.as_manager()``); for
        a Flask-SQLAlchemy model, its query class."""
        for mod, qual in self.mro(model.module, model.name):
            value = self.modules[mod].classes[qual].attrs.get("objects")
            if value:
                if value.endswith(_AS_MANAGER):
                    value = value[: -len(_AS_MANAGER)] + "()"  # its methods are the QS's
                manager = self.resolve(value, mod, qual, depth + 1)
                if manager is not None and manager.kind == "I":
                    found = self.class_attr(manager, attr, depth + 1)
                    if found is not None and found.kind == "F":
                        return found
                    made_from = self.modules[mod].classes[qual].attrs.get("objects" + QUERYSET_OF)
                    queryset = self.resolve(made_from, mod, qual, depth + 1) if made_from else None
                    if queryset is not None and queryset.kind == "I":  # item 231
                        found = self.class_attr(queryset, attr, depth + 1)
                        return found if found is not None and found.kind == "F" else None
                return None
        query = self.query_class(model, depth)
        if query is not None:  # Flask-SQLAlchemy: a method of the model's query class
            found = self.class_attr(Target("I", query.module, query.name), attr, depth + 1)
            return found if found is not None and found.kind == "F" else None
        return None

    def call(self, target: Target, depth: int, owner: Target | None = None) -> Target | None:
        """What calling ``target`` returns; ``owner`` is the instance a method is called on."""
        kind = target.kind
        if kind == "X":
            return Target("X", "", target.name + "()")
        if kind == "C":
            return Target("I", target.module, target.name)
        if kind == "F":
            facts = self.function(target)
            if facts is None:
                return None
            cls = self.class_of(target.module, target.name)
            selftype = _subclass_self(owner, target.module, cls) if owner is not None else None
            framework: Target | None = None
            for value in facts.returns:
                found = self.resolve(value, target.module, cls, depth + 1, selftype)
                if found is not None and found.kind not in ("X", "V"):
                    return found
                if found is not None and found.kind == "V" and framework is None:
                    framework = found
            if framework is not None:
                return framework  # after every project value (PATTERNS.md item 242)
            overridden = self.overridden_getter(target, cls, owner, depth)
            if overridden is not None:
                return overridden
            for value in facts.returns:
                found = self.resolve(value, target.module, cls, depth + 1, selftype)
                if found is not None:
                    return found
            return None
        if kind == "I":
            dunder = self.class_attr(target, "__call__", depth)
            return self.call(dunder, depth + 1) if dunder and dunder.kind == "F" else None
        if kind == "QM":
            model, _, method = target.name.partition(":")
            if method in _RESULT_METHODS:
                return Target("I", target.module, model)
            return Target("Q", target.module, model)
        if kind == "V":
            return self.virtual_call(target, depth)
        return None

    def overridden_getter(
        self, target: Target, cls: str, owner: Target | None, depth: int
    ) -> Target | None:
        """A view's own ``get_object()``/``get_queryset()`` whose result the analyser cannot
        type (a lookup through ``filter_queryset``, a composite key) still returns the view's
        model, as the framework's does: an instance, or a queryset of it."""
        method = target.name.rpartition(".")[2]
        if method not in ("get_object", "get_queryset") or not cls:
            return None
        view = owner if owner is not None else Target("C", target.module, cls)
        model = self.model_of(view.module, view.name, depth + 1)
        if model is None:
            return None
        return Target("I" if method == "get_object" else "Q", model.module, model.name)

    def virtual_call(self, target: Target, depth: int) -> Target | None:
        """Results of framework methods a class inherits (DRF, Django generic views)."""
        cls, _, method = target.name.partition(":")
        owner = Target("C", target.module, cls)
        if method in ("get_serializer", "get_serializer_class"):
            serializer = self.chosen_class(owner, "serializer_class", depth)
            if serializer is not None and serializer.kind == "C":
                return (
                    serializer
                    if method == "get_serializer_class"
                    else Target("I", serializer.module, serializer.name)
                )
            return None
        if method in ("get_form", "get_form_class"):
            form = self.chosen_class(owner, "form_class", depth)
            if form is not None and form.kind == "C":
                return form if method == "get_form_class" else Target("I", form.module, form.name)
            chosen = self.own_getter(owner, "form_class", depth) is not None
            if method == "get_form" and (form is None or form.kind == "V") and not chosen:
                return self.model_form(owner, depth)  # no form_class: one made for the model
            return None
        if method in ("get_object", "get_queryset", "save", *_FILTERED_ROWS):
            model = self.model_of(target.module, cls, depth)
            if model is None:
                return None
            kind = "I" if method in ("get_object", "save") else "Q"
            return Target(kind, model.module, model.name)
        return None

    def model_form(self, view: Target, depth: int) -> Target | None:
        """The form a Django editing view without ``form_class`` builds from its ``model``
        (``fields = [...]``): saving it saves an instance of that model, so it stands for
        one. None for views that are not Django's editing views."""
        if not self.base_tails(view.module, view.name) & _DJANGO_MODEL_FORM_VIEWS:
            return None
        model = self.model_of(view.module, view.name, depth + 1)
        return Target("I", model.module, model.name) if model is not None else None

    def chosen_class(self, owner: Target, attr: str, depth: int, action: str = "") -> Target | None:
        """The serializer or form class a view uses: what its own ``get_<attr>()`` override
        returns for ``action`` when it chooses by ``self.action`` (the first class it
        returns otherwise), else its ``<attr>`` attribute."""
        getter = self.own_getter(owner, attr, depth)
        if getter is not None:
            facts = self.function(getter)
            choices = facts.choices if facts is not None else {}
            if action and choices:
                chosen = choices.get(action) or choices.get("*", "")
                cls = self.class_of(getter.module, getter.name)
                found = self.resolve(chosen, getter.module, cls, depth + 1) if chosen else None
                return found if found is not None and found.kind == "C" else None
            found = self.call(getter, depth + 1, owner)
            if found is not None and found.kind == "C":
                return found
            returned = self.returned_class(getter, owner, depth + 1)
            if returned is not None:  # ``self.admin_serializer_class`` no class defines
                return returned
            if facts is not None and facts.named_by:  # looked up by this class's name
                return self.named_class(getter, facts.named_by, owner, depth + 1)
            return None  # an override whose value is not read: the class is not known
        return self.class_attr(owner, attr, depth)

    def returned_class(self, getter: Target, owner: Target, depth: int) -> Target | None:
        """The first class a getter returns, passing over values that are not a class (an
        attribute no class in the view's MRO sets, which the getter guards with ``try``)."""
        return next((t for t in self.returned(getter, owner, depth) if t.kind == "C"), None)

    def returned(self, function: Target, owner: Target, depth: int) -> list[Target]:
        """What each ``return`` of a method gives when it runs for ``owner``, once each, in
        order; values the analysis cannot resolve are left out."""
        facts = self.function(function)
        if facts is None:
            return []
        cls = self.class_of(function.module, function.name)
        selftype = _subclass_self(owner, function.module, cls)
        out: list[Target] = []
        for value in facts.returns:
            found = self.resolve(value, function.module, cls, depth + 1, selftype)
            if found is not None and found not in out:
                out.append(found)
        return out

    def own_getter(self, owner: Target, attr: str, depth: int) -> Target | None:
        """The project's ``get_<attr>()`` override that chooses the class for ``owner``,
        past overrides that hand back what ``super()``'s gives."""
        getter = self.class_attr(owner, "get_" + attr, depth)
        while getter is not None and getter.kind == "F" and keeps_super(self, getter):
            further = next_override(self, owner, getter)  # it hands back super()'s class
            getter = Target("F", *further) if further is not None else None
        return getter if getter is not None and getter.kind == "F" else None

    def named_class(
        self, getter: Target, named_by: list[str], owner: Target, depth: int
    ) -> Target | None:
        """A getter's class looked up by another class's name (``registry[base.__name__]``,
        a versioned API): that class, the first of the expressions its name is read from that
        resolves to one for the routed view ``owner``."""
        cls = self.class_of(getter.module, getter.name)
        selftype = _subclass_self(owner, getter.module, cls)
        for value in named_by:
            found = self.resolve(value, getter.module, cls, depth, selftype)
            if found is not None and found.kind == "C":
                return found
        return None

    def model_of(self, module: str, cls: str, depth: int = 0) -> Target | None:
        """The model a view, serializer or form works on: queryset, model, Meta.model."""
        owner = Target("C", module, cls)
        for attr in ("queryset", "model"):
            found = self.class_attr(owner, attr, depth)
            if found is not None and found.kind in ("Q", "C", "I"):
                return Target("C", found.module, found.name)
        for mod, qual in self.mro(module, cls):
            meta_model = self.modules[mod].classes[qual].meta.get("model")
            if meta_model:
                found = self.resolve(meta_model, mod, "", depth + 1)
                if found is not None and found.kind == "C":
                    return found
        getter = self.class_attr(owner, "get_queryset", depth)
        if getter is not None and getter.kind == "F" and (module, cls) not in self._reading_rows:
            # def get_queryset(self): return Bag.objects.filter(...): the rows it hands
            # back are the view's, whatever serializer it picks (PATTERNS.md item 243); a
            # getter reading the view's model (self.model.objects) comes back here: not again
            self._reading_rows.add((module, cls))
            try:
                rows = self.call(getter, depth + 1, Target("I", module, cls))
            finally:
                self._reading_rows.discard((module, cls))
            if rows is not None and rows.kind in ("Q", "I"):
                return Target("C", rows.module, rows.name)
        for attr in ("serializer_class", "form_class"):
            found = self.class_attr(owner, attr, depth)
            if (
                found is not None
                and found.kind == "C"
                and (found.module, found.name) != (module, cls)
            ):
                return self.model_of(found.module, found.name, depth + 1)
        return None

    def var_key(self, name: str, module: str, depth: int = 0) -> tuple[str, str] | None:
        """(module, variable) for a name that ends at a module-level variable, via imports.

        Gives objects an identity (a blueprint, a router, a signal) where ``resolve`` would
        only say what they are an instance of.
        """
        segments = name.split(".")
        if depth > _MAX_DEPTH or len(segments) < 2 or split_segment(segments[-1])[1]:
            return None
        facts = self.module_for(".".join(segments[:-1]), module)
        if facts is None:
            return None
        symbol = segments[-1]
        if (
            symbol in facts.ctors
            or facts.assigns.get(symbol)
            or symbol in facts.urllists
            or isinstance(facts.lits.get(symbol), list)
        ):
            return (facts.module, symbol)  # (a list of URL patterns or of functions: "")
        imported = facts.imports.get(symbol)
        if imported:
            return self.var_key(imported, facts.module, depth + 1)
        for star in facts.star_imports:  # a package re-exporting its modules' names
            star_facts = self.module_for(star, facts.module)
            if star_facts is not None and star_facts.module != facts.module:
                found = self.var_key(f"{star_facts.module}.{symbol}", facts.module, depth + 1)
                if found is not None:
                    return found
        return None

    # ---- classes -----------------------------------------------------------------------

    def mro(self, module: str, qualname: str) -> list[tuple[str, str]]:
        """Project classes in method resolution order: Python's C3 linearisation over the
        project bases (a mixin listed before a shared base wins, as at run time), depth
        first where the hierarchy is not consistent."""
        key = (module, qualname)
        cached = self._mro.get(key)
        if cached is not None:
            return cached
        self._mro[key] = [key]  # cycle guard
        order: list[tuple[str, str]] = [key]
        external: set[str] = set()
        facts = self.klass(module, qualname)
        if facts is not None:
            parents: list[list[tuple[str, str]]] = []
            for base in facts.bases:
                found = self.resolve(base, module, "")
                if base.endswith("[]") and (found is None or found.kind != "C"):
                    # class Repo(Base[Model]): a generic alias subclasses Base itself
                    generic = self.resolve(base[:-2], module, "")
                    found = generic if generic is not None and generic.kind == "C" else found
                if found is not None and found.kind == "C":
                    parents.append(self.mro(found.module, found.name))
                    for item in parents[-1]:
                        if item not in order:
                            order.append(item)
                    external |= self.external_bases(found.module, found.name)
                elif found is not None and found.kind == "X":
                    # RetrieveAPIView[Environment]: the class subscripted (PATTERNS.md 142)
                    external.add(found.name.removesuffix("[]"))
                else:
                    external.add(base.removesuffix("[]"))
            merged = c3([*parents, [p[0] for p in parents]]) if len(parents) > 1 else None
            if merged is not None and key not in merged:
                order = [key, *merged]
        self._mro[key] = order
        self._external[key] = frozenset(external)
        return order

    def external_bases(self, module: str, qualname: str) -> frozenset[str]:
        """Dotted names of the classes outside the project that a class derives from."""
        key = (module, qualname)
        if key not in self._external:
            self.mro(module, qualname)
        return self._external.get(key, frozenset())

    def base_tails(self, module: str, qualname: str) -> frozenset[str]:
        """Last segments of the external bases: {"ModelViewSet", "CreateModelMixin"}."""
        return frozenset(
            b.rstrip("()").rsplit(".", 1)[-1] for b in self.external_bases(module, qualname)
        )

    def methods_named(self, name: str, caller: str = "") -> list[Target]:
        """Project methods called ``name`` (none for dunders and very common names); with
        ``caller`` (a module), only those of packages linked to its own by imports, either
        way (PATTERNS.md item 121: a client package kept in the same tree as the server,
        neither importing the other, is not the server's code; a plugin importing the
        package that calls it is)."""
        if name.startswith("__") or name in _GENERIC_METHODS or len(name) < 4:
            return []
        found = self._method_index().get(name, [])
        if not caller:
            return found
        top = caller.split(".", 1)[0]
        if "." not in caller or all(t.module.split(".", 1)[0] == top for t in found):
            return found  # a module at the top of the tree: no package to set apart
        group = self.linked_packages()
        return [
            t
            for t in found
            if "." not in t.module or group.get(t.module.split(".", 1)[0]) == group.get(top)
        ]

    def linked_packages(self) -> dict[str, str]:
        """Each top-level package of the project -> one name for all the packages linked to
        it by imports (in either direction, through any others)."""
        if self._package_groups is None:
            parent: dict[str, str] = {}

            def root(name: str) -> str:
                while parent.setdefault(name, name) != name:
                    parent[name] = parent[parent[name]]
                    name = parent[name]
                return name

            for mod, facts in self.modules.items():
                top = mod.split(".", 1)[0]
                root(top)
                for target in facts.imports.values():
                    found = self._imported_module(target, mod)
                    if found is not None:
                        parent[root(found.split(".", 1)[0])] = root(top)
            self._package_groups = {name: root(name) for name in parent}
        return self._package_groups

    def _imported_module(self, target: str, importer: str) -> str | None:
        """The project module an import names (``a.b.func`` -> ``a.b``), else None."""
        dotted = target
        for _ in range(3):
            found = self.module_for(dotted, importer)
            if found is not None:
                return found.module
            if "." not in dotted:
                return None
            dotted = dotted.rsplit(".", 1)[0]
        return None

    def defines_method(self, name: str) -> bool:
        """Whether any project class has a method ``name`` (short and common names too)."""
        return name in self._method_index()

    def property_names(self) -> frozenset[str]:
        """Names of the project's methods that are read as properties (a cheap test before
        resolving what a read like ``obj.state`` is)."""
        if self._properties is None:
            self._properties = frozenset(
                qualname.rpartition(".")[2]
                for facts in self.modules.values()
                for qualname, function in facts.functions.items()
                if function.is_property
            )
        return self._properties

    def model_named(self, name: str) -> Target | None:
        """The project's model class called ``name`` (a class with a framework base named
        like a model), when exactly one is."""
        if self._models_by_name is None:
            index: dict[str, list[Target]] = {}
            for mod, facts in self.modules.items():
                for qual in facts.classes:
                    found = Target("C", mod, qual)
                    if self.is_model(Target("I", mod, qual)):
                        index.setdefault(qual.rsplit(".", 1)[-1], []).append(found)
            self._models_by_name = index
        models = self._models_by_name.get(name, [])
        return models[0] if len(models) == 1 else None

    def class_named_like(self, name: str) -> Target | None:
        """The project class a variable ``name`` is named after (``cabinet`` -> ``Cabinet``,
        ``index_node`` -> ``IndexNode``: case and underscores aside), when exactly one is."""
        if self._classes_by_spelling is None:
            index: dict[str, list[Target]] = {}
            for mod, facts in self.modules.items():
                for qual in facts.classes:
                    spelling = qual.rsplit(".", 1)[-1].replace("_", "").lower()
                    index.setdefault(spelling, []).append(Target("C", mod, qual))
            self._classes_by_spelling = index
        classes = self._classes_by_spelling.get(name.replace("_", "").lower(), [])
        return classes[0] if len(classes) == 1 else None

    def _method_index(self) -> dict[str, list[Target]]:
        if self._methods is None:
            index: dict[str, list[Target]] = {}
            for mod, facts in self.modules.items():
                for qual, klass in facts.classes.items():
                    for method in klass.methods:
                        index.setdefault(method, []).append(Target("F", mod, f"{qual}.{method}"))
            for method, functions in self.additions().named.items():
                for function in functions:  # Model.add_to_class("name", f): as a def
                    if function not in index.setdefault(method, []):
                        index[method].append(function)
            self._methods = index
        return self._methods

    def subclasses(self, module: str, qualname: str) -> list[tuple[str, str]]:
        """Project classes deriving (directly or not) from the given one."""
        if self._subclasses is None:
            index: dict[tuple[str, str], list[tuple[str, str]]] = {}
            for mod, facts in self.modules.items():
                for qual in facts.classes:
                    for base in self.mro(mod, qual)[1:]:
                        index.setdefault(base, []).append((mod, qual))
            self._subclasses = index
        return self._subclasses.get((module, qualname), [])


def _subclass_self(owner: Target, module: str, cls: str) -> Target | None:
    """The class ``self`` has when code of class ``module.cls`` runs for ``owner``: owner's
    class when that is another class (a subclass), else None (the class itself); the
    model's query when ``owner`` is one (PATTERNS.md item 178)."""
    if owner.kind == "Q":  # a manager's or query class's method: self is the model's query
        return owner
    if not cls or (owner.module, owner.name) == (module, cls):
        return None
    return Target("C", owner.module, owner.name)


def _self_of(owner: Target) -> Target:
    """The class ``self`` has in a method reached through ``owner``: through ``super()`` in
    class B it is B, or the subclass B's method was running for ("B@module:Sub")."""
    if owner.kind != "S":
        return owner
    cls, _, real = owner.name.partition("@")
    if real:
        module, _, name = real.partition(":")
        return Target("I", module, name)
    return Target("I", owner.module, cls)


def _shared(candidate: str, importer: str) -> int:
    """Length of the common dotted prefix, to prefer the candidate nearest the importer."""
    count = 0
    for a, b in zip(candidate.split("."), importer.split("."), strict=False):
        if a != b:
            break
        count += 1
    return count
