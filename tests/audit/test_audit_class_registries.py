"""A class registry looked up by a key the audit cannot read (PATTERNS.md round 6, item 14):
``Modification.get(name=backend).execute(...)``, where ``get`` is a classmethod returning
one of the classes (or instances) a class-level container holds, filled as subclasses are
defined (``__init_subclass__``, a metaclass) or registered (``@Base.register``,
``Base.register(C)``). Any registered subclass may be picked: the call runs the ``execute``
of each. All dispatch: offloaded; some: offloaded, likely, the evidence naming the class;
none: inline. Snippets written for the audit, not copied from a project."""

from __future__ import annotations

from typing import Any

import pytest

TASKS = """
    from celery import shared_task


    @shared_task
    def flip(pk):
        return pk


    @shared_task
    def rotate(pk):
        return pk
"""
# the registry: a class-level dict that __init_subclass__ fills with each subclass
BASE = """
    class Modification:
        _registry = {}
        name = None

        def __init_subclass__(cls, **kwargs):
            super().__init_subclass__(**kwargs)
            cls._registry[cls.name] = cls

        @classmethod
        def get(cls, name):
            return cls._registry[name]

        @classmethod
        def execute(cls, pk, user=None):
            raise NotImplementedError
"""
BACKENDS = """
    from docs.base import Modification
    from docs.tasks import flip, rotate


    class Flip(Modification):
        name = "flip"

        @classmethod
        def execute(cls, pk, user=None):
            flip.apply_async(args=(pk,))


    class Rotate(Modification):
        name = "rotate"

        @classmethod
        def execute(cls, pk, user=None):
            rotate.apply_async(args=(pk,))
"""
# the project has other classes with an ``execute``: no guess by the name alone
OTHER = """
    class Command:
        def execute(self, pk, user=None):
            return pk
"""
VIEWS = """
    from docs.base import Modification


    def modify(request):
        Modification.get(name=request.POST["backend"]).execute(pk=1, user=request.user)


    def modify_local(request):
        backend = Modification.get(request.POST["backend"])
        backend.execute(pk=1)
"""
URLS = """
    from django.urls import path
    from docs import views

    urlpatterns = [
        path("modify/", views.modify),
        path("local/", views.modify_local),
    ]
"""


def docs(**more: str) -> dict[str, str]:
    files = {
        "docs/__init__.py": "",
        "docs/tasks.py": TASKS,
        "docs/base.py": BASE,
        "docs/backends.py": BACKENDS,
        "docs/other.py": OTHER,
        "docs/views.py": VIEWS,
        "docs/urls.py": URLS,
    }
    files.update(more)
    return files


def both(check: Any, files: dict[str, str], status: str) -> Any:
    return check(files, {"modify": (status, False), "modify_local": (status, False)})


def test_every_registered_subclass_dispatches_offloaded_certain(check):
    report = both(check, docs(), "offloaded")
    for endpoint in report.endpoints:
        assert (endpoint.confidence, endpoint.unresolved_calls) == ("certain", ())
        calls = sorted(e.call for e in endpoint.evidence if e.kind == "dispatch")
        assert calls == ["flip.apply_async(args=(pk,))", "rotate.apply_async(args=(pk,))"]


def test_a_subclass_dispatching_through_a_helper_counts_as_dispatching(check):
    backends = (
        BACKENDS.replace("rotate.apply_async(args=(pk,))", "queue_rotation(pk)")
        + """

    def queue_rotation(pk):
        rotate.apply_async(args=(pk,))
"""
    )
    report = both(check, docs(**{"docs/backends.py": backends}), "offloaded")
    for endpoint in report.endpoints:
        assert (endpoint.confidence, endpoint.unresolved_calls) == ("certain", ())


def test_some_registered_subclasses_dispatch_offloaded_likely_naming_the_class(check):
    backends = BACKENDS.replace("rotate.apply_async(args=(pk,))", "return pk")
    report = both(check, docs(**{"docs/backends.py": backends}), "offloaded")
    for endpoint in report.endpoints:
        assert endpoint.confidence == "likely"
        [dispatch] = [e for e in endpoint.evidence if e.kind == "dispatch"]
        assert dispatch.call == "flip.apply_async(args=(pk,))"
        assert dispatch.via[-1].startswith("docs/backends.py:Flip.execute (")
        assert "Modification" in dispatch.via[-1]


def test_no_registered_subclass_dispatches_inline(check):
    backends = BACKENDS.replace("flip.apply_async(args=(pk,))", "return pk").replace(
        "rotate.apply_async(args=(pk,))", "return pk"
    )
    report = both(check, docs(**{"docs/backends.py": backends}), "inline")
    for endpoint in report.endpoints:
        assert (endpoint.confidence, endpoint.unresolved_calls) == ("certain", ())


METACLASS = """
    class Registered(type):
        _registry = {}

        def __new__(mcs, name, bases, attrs):
            new_class = super().__new__(mcs, name, bases, attrs)
            mcs._registry[attrs.get("name")] = new_class
            return new_class


    class Modification(metaclass=Registered):
        name = None

        @classmethod
        def get(cls, name):
            return cls._registry[name]
"""
REGISTERING = """
    class Modification:
        _registry = {}

        @classmethod
        def register(cls, klass):
            cls._registry[klass.name] = klass
            return klass

        @classmethod
        def get(cls, name):
            return cls._registry.get(name)()
"""
FACTORY = """
    class Modification:
        _registry = {}

        @classmethod
        def register(cls, name):
            def decorator(klass):
                cls._registry[name] = klass
                return klass

            return decorator

        @classmethod
        def get(cls, name):
            return cls._registry[name]
"""
DECORATED = BACKENDS.replace("\n    class Flip", "\n    @Modification.register\n    class Flip")
FACTORY_DECORATED = BACKENDS.replace(
    "\n    class Flip", '\n    @Modification.register("flip")\n    class Flip'
).replace("\n    class Rotate", '\n    @Modification.register("rotate")\n    class Rotate')
CALLED = (
    BACKENDS
    + """

    from django.apps import AppConfig


    class DocsConfig(AppConfig):
        name = "docs"

        def ready(self):
            Modification.register(Flip)
            Modification.register(Rotate)
"""
)


@pytest.mark.parametrize(
    "base, backends",
    [
        (METACLASS, BACKENDS),
        (REGISTERING, DECORATED),
        (FACTORY, FACTORY_DECORATED),
        (REGISTERING, CALLED),
    ],
    ids=["metaclass", "register-decorator", "decorator-factory", "register-call"],
)
def test_a_metaclass_a_register_decorator_or_call_fill_the_registry_too(check, base, backends):
    both(check, docs(**{"docs/base.py": base, "docs/backends.py": backends}), "offloaded")


def test_a_registry_filled_by_none_of_the_subclasses_is_not_read_as_theirs(check):
    # register() exists but nothing passes it a class: what the registry holds is unknown
    both(check, docs(**{"docs/base.py": REGISTERING}), "inline")


def test_a_model_fetched_by_a_classmethod_is_no_registry(check):
    model = """
        from django.db import models


        class Modification(models.Model):
            name = models.CharField(max_length=10)

            @classmethod
            def get(cls, name):
                return cls.objects.get(name=name)

            def execute(self, pk, user=None):
                return pk


        class Flip(Modification):
            def execute(self, pk, user=None):
                from docs.tasks import flip

                flip.apply_async(args=(pk,))
    """
    both(check, docs(**{"docs/base.py": model, "docs/backends.py": ""}), "inline")


def test_a_registry_of_plain_functions_runs_no_subclass_method(check):
    hooks = """
        class Modification:
            _registry = {}

            @classmethod
            def register(cls, function):
                cls._registry[function.__name__] = function
                return function

            @classmethod
            def get(cls, name):
                return cls._registry[name]


        @Modification.register
        def noop(pk, user=None):
            return pk
    """
    report = both(check, docs(**{"docs/base.py": hooks}), "inline")
    for endpoint in report.endpoints:
        assert endpoint.confidence == "likely"  # said, as before: a call it cannot follow
        assert len(endpoint.unresolved_calls) == 1


def test_only_the_classes_registered_run_not_every_subclass(check):
    # only Flip is registered, and its execute does not dispatch; Rotate's does
    backends = DECORATED.replace("flip.apply_async(args=(pk,))", "return pk")
    report = both(
        check, docs(**{"docs/base.py": REGISTERING, "docs/backends.py": backends}), "inline"
    )
    for endpoint in report.endpoints:
        assert (endpoint.confidence, endpoint.unresolved_calls) == ("certain", ())


def test_a_registry_class_holding_other_classes_runs_theirs(check):
    registry = """
        class Registry:
            _items = {}

            @classmethod
            def register(cls, klass):
                cls._items[klass.name] = klass

            @classmethod
            def get(cls, name):
                return cls._items[name]
    """
    views = VIEWS.replace(
        "from docs.base import Modification", "from docs.registry import Registry"
    )
    views = views.replace("Modification.get(", "Registry.get(")
    apps = """
        from django.apps import AppConfig

        from docs.backends import Flip, Rotate
        from docs.registry import Registry


        class DocsConfig(AppConfig):
            name = "docs"

            def ready(self):
                Registry.register(Flip)
                Registry.register(Rotate)
    """
    extra = {"docs/registry.py": registry, "docs/views.py": views, "docs/apps.py": apps}
    both(check, docs(**extra), "offloaded")
