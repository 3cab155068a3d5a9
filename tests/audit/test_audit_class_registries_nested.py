"""A class registry keyed by class, then by name, filled by a metaclass (issue 14, round
6b, item 14b): ``cls._registry.get(cls, {})[name]`` reads the class's own registry, and the
metaclass's ``__new__`` hands each class it builds to ``<a base>.register(klass=new_class)``,
so every class the metaclass builds is held. ``Modification.get(name=x).execute()`` then runs
the ``execute`` of Modification's subclasses (in another module). Snippets written for the
audit, not copied from a project."""

from __future__ import annotations

import pytest

from tests.audit.test_audit_class_registries import BACKENDS, OTHER, TASKS, URLS, VIEWS, both

REGISTER_CALL = "registry_base(new_class).register(klass=new_class)"
BASE = """
    class LoaderMixin:
        @classmethod
        def load(cls):
            return cls


    def registry_base(klass):
        for base in klass.__mro__:
            if "_registry" in base.__dict__:
                return base
        return klass


    class BackendMeta(type):
        def __new__(mcs, name, bases, attrs):
            new_class = super().__new__(mcs, name, bases, attrs)
            if not attrs.get("abstract") and new_class.name:
                REGISTER_CALL
            return new_class


    class Base(LoaderMixin, metaclass=BackendMeta):
        _registry = {}
        name = None
        abstract = True

        @classmethod
        def get(cls, name):
            return cls._registry.get(cls, {})[name]

        @classmethod
        def register(cls, klass):
            cls._registry.setdefault(cls, {})
            cls._registry[cls][klass.name] = klass


    class Modification(Base):
        abstract = True

        @classmethod
        def execute(cls, pk, user=None):
            raise NotImplementedError
"""


def docs(base: str = BASE, backends: str = BACKENDS) -> dict[str, str]:
    return {
        "docs/__init__.py": "",
        "docs/tasks.py": TASKS,
        "docs/base.py": base,
        "docs/backends.py": backends,
        "docs/other.py": OTHER,
        "docs/views.py": VIEWS,
        "docs/urls.py": URLS,
    }


def test_a_metaclass_registering_through_a_helper_base_offloaded_certain(check):
    report = both(check, docs(BASE.replace("REGISTER_CALL", REGISTER_CALL)), "offloaded")
    for endpoint in report.endpoints:
        assert (endpoint.confidence, endpoint.unresolved_calls) == ("certain", ())


@pytest.mark.parametrize(
    "call",
    [
        "registry_base(new_class).register(new_class)",  # positional
        "mcs.lookup(new_class).register(klass=new_class)",  # any receiver
        "register_backend(new_class)",  # a plain function filling the registry
    ],
)
def test_other_register_calls_in_the_metaclass_fill_the_registry_too(check, call):
    base = (
        BASE.replace("REGISTER_CALL", call)
        + """

    def register_backend(klass):
        Base._registry.setdefault(Modification, {})
        Base._registry[Modification][klass.name] = klass
"""
    )
    both(check, docs(base), "offloaded")


def test_a_register_call_not_under_an_if_fills_the_registry(check):
    base = BASE.replace('            if not attrs.get("abstract") and new_class.name:\n', "")
    base = base.replace("                REGISTER_CALL", "            " + REGISTER_CALL)
    assert REGISTER_CALL in base and "if not attrs" not in base
    both(check, docs(base), "offloaded")


def test_the_nested_read_with_a_registry_filled_by_init_subclass(check):
    # item (a) alone: the class's own registry, each subclass putting itself in
    base = """
    class Modification:
        _registry = {}
        name = None

        def __init_subclass__(cls, **kwargs):
            super().__init_subclass__(**kwargs)
            cls._registry[cls.__mro__[1]][cls.name] = cls

        @classmethod
        def get(cls, name):
            return cls._registry.get(cls, {})[name]

        @classmethod
        def execute(cls, pk, user=None):
            raise NotImplementedError
"""
    both(check, docs(base), "offloaded")


def test_a_flat_read_with_a_metaclass_register_call(check):
    # item (b) alone: read by name only, filled by the metaclass's register call
    base = BASE.replace("REGISTER_CALL", REGISTER_CALL).replace(
        "return cls._registry.get(cls, {})[name]", "return cls._registry[name]"
    )
    both(check, docs(base), "offloaded")


@pytest.mark.parametrize(
    "call",
    [
        "new_class.ready = True",  # a metaclass that registers nothing
        "registry_base(new_class).register(klass=name)",  # hands over something else
        "registry_base(new_class).unregister(klass=new_class)",  # another function
    ],
)
def test_a_metaclass_not_registering_what_it_builds_fills_nothing(check, call):
    both(check, docs(BASE.replace("REGISTER_CALL", call)), "inline")


@pytest.mark.parametrize(
    "read",
    [
        "return cls._labels.get(cls, {})[name]",  # a class-level dict nothing fills
        "return LABELS.get(cls, {})[name]",  # a module-level dict
    ],
)
def test_a_get_reading_an_unrelated_dict_runs_no_subclass(check, read):
    base = BASE.replace("REGISTER_CALL", REGISTER_CALL)
    base = base.replace("return cls._registry.get(cls, {})[name]", read)
    base = base.replace("    _registry = {}\n", "    _registry = {}\n        _labels = {}\n")
    base = "    LABELS = {}\n" + base
    both(check, docs(base), "inline")


def test_only_the_looked_up_classs_subclasses_run_not_every_class_built(check):
    # Export is built by the metaclass too, but it is no Modification
    backends = (
        BACKENDS.replace("flip.apply_async(args=(pk,))", "return pk").replace(
            "rotate.apply_async(args=(pk,))", "return pk"
        )
        + """

    from docs.base import Base


    class Export(Base):
        name = "export"

        @classmethod
        def execute(cls, pk, user=None):
            flip.apply_async(args=(pk,))
"""
    )
    base = BASE.replace("REGISTER_CALL", REGISTER_CALL)
    report = both(check, docs(base, backends), "inline")
    for endpoint in report.endpoints:
        assert (endpoint.confidence, endpoint.unresolved_calls) == ("certain", ())
