"""Django receivers a write reaches (issue 14, brief item 1): receivers connected at run time
(in ``AppConfig.ready``, by a registry class that loops over the models it was given, by a
helper taking ``*models``, by an object built per model), ``m2m_changed`` fired by
``obj.<m2m>.add()/remove()/set()/clear()``, and custom ``Signal()`` objects sent with
``.send()``/``.send_robust()`` whose receivers live in another app. The evidence names the
signal, where the receiver was connected and which write fired it. Snippets of audited
projects (source text only, nothing runs)."""

from __future__ import annotations

import pytest

TASKS = """
    from celery import shared_task

    @shared_task
    def crunch(x):
        return x

    def plain(x):
        return x
"""
MODELS = """
    from django.db import models

    class Order(models.Model):
        tags = models.ManyToManyField("Tag")
        owner = models.ForeignKey("Tag", on_delete=models.CASCADE)

    class Tag(models.Model):
        pass

    class Note(models.Model):
        pass
"""
VIEWS = """
    from shop.models import Note, Order, Tag

    def create_order(request):
        Order.objects.create()

    def create_note(request):
        Note.objects.create()

    def save_tag(request):
        tag = Tag()
        tag.save()

    def delete_order(request):
        Order.objects.get(pk=1).delete()
"""
URLS = """
    from django.urls import path
    from shop import views

    urlpatterns = [
        path("a/", views.create_order),
        path("b/", views.create_note),
        path("c/", views.save_tag),
        path("d/", views.delete_order),
    ]
"""


def shop(**more: str) -> dict[str, str]:
    files = {
        "shop/__init__.py": "",
        "shop/tasks.py": TASKS,
        "shop/models.py": MODELS,
        "shop/views.py": VIEWS,
        "shop/urls.py": URLS,
    }
    files.update(more)
    return files


def statuses(**offloaded: bool) -> dict[str, tuple[str, bool]]:
    names = ("create_order", "create_note", "save_tag", "delete_order")
    return {n: ("offloaded" if offloaded.get(n) else "inline", False) for n in names}


def dispatch_via(report, handler: str) -> tuple[str, ...]:
    endpoint = next(e for e in report.endpoints if e.handler == handler)
    return next(e for e in endpoint.evidence if e.kind == "dispatch").via


def test_a_receiver_connected_in_app_config_ready_fires_for_its_sender_only(check):
    report = check(
        shop(
            **{
                "shop/apps.py": """
                from django.apps import AppConfig
                from django.db.models.signals import post_save

                class ShopConfig(AppConfig):
                    name = "shop"

                    def ready(self):
                        from shop.handlers import order_saved
                        from shop.models import Order
                        post_save.connect(order_saved, sender=Order)
                """,
                "shop/handlers.py": """
                from shop.tasks import crunch

                def order_saved(sender, instance, **kwargs):
                    crunch.delay(instance.pk)
                """,
            }
        ),
        statuses(create_order=True),
    )
    assert dispatch_via(report, "create_order") == (
        "shop/views.py:create_order",
        "shop/handlers.py:order_saved (post_save receiver connected at shop/apps.py:10,"
        " fired by Order.objects.create() at shop/views.py:4)",
    )


REGISTRY = """
    from django.db.models.signals import post_delete, post_save
    from shop.tasks import crunch, plain

    class IndexRegistry:
        def __init__(self):
            self.models = []

        def register(self, model):
            self.models.append(model)

        def connect(self):
            for model in self.models:
                post_save.connect(self.handle_save, sender=model)
                post_delete.connect(self.handle_delete, sender=model)

        def handle_save(self, sender, instance, **kwargs):
            crunch.delay(instance.pk)

        def handle_delete(self, sender, instance, **kwargs):
            plain(instance.pk)

    registry = IndexRegistry()
"""


def test_a_registry_class_connects_its_bound_handlers_for_the_models_registered(check):
    report = check(
        shop(
            **{
                "shop/registry.py": REGISTRY,
                "shop/apps.py": """
                from django.apps import AppConfig

                class ShopConfig(AppConfig):
                    def ready(self):
                        from shop.models import Order, Tag
                        from shop.registry import registry
                        registry.register(Order)
                        registry.register(model=Tag)
                        registry.connect()
                """,
            }
        ),
        statuses(create_order=True, save_tag=True),
    )
    assert dispatch_via(report, "save_tag")[-1] == (
        "shop/registry.py:IndexRegistry.handle_save (post_save receiver connected at"
        " shop/registry.py:13, fired by tag.save() at shop/views.py:11)"
    )


def test_a_registry_nothing_registers_a_model_with_connects_no_receiver(check):
    """Never "every model": a sender nothing passes gives no receiver."""
    check(
        shop(
            **{
                "shop/registry.py": REGISTRY,
                "shop/apps.py": """
                from django.apps import AppConfig

                class ShopConfig(AppConfig):
                    def ready(self):
                        from shop.registry import registry
                        registry.connect()
                """,
            }
        ),
        statuses(),
    )


def test_receivers_connected_by_helpers_taking_models_and_by_objects_built_per_model(check):
    check(
        shop(
            **{
                "shop/counters.py": """
                from django.db.models.signals import post_save
                from shop.tasks import crunch

                def recount(sender, instance, **kwargs):
                    crunch.delay(instance.pk)

                def connect_counters(*models):
                    for model in models:
                        post_save.connect(recount, sender=model)

                def connect_one(label, model):
                    connect_counters(model)
                """,
                "shop/indexing.py": """
                from django.db.models.signals import post_delete
                from shop.tasks import crunch

                class ModelIndex:
                    def __init__(self, model):
                        self.model = model
                        post_delete.connect(self.unindex, sender=self.model)

                    def unindex(self, sender, instance, **kwargs):
                        crunch.delay(instance.pk)
                """,
                "shop/apps.py": """
                from django.apps import AppConfig

                class ShopConfig(AppConfig):
                    def ready(self):
                        from shop.counters import connect_one
                        from shop.indexing import ModelIndex
                        from shop.models import Order, Tag
                        connect_one("tags", model=Tag)
                        ModelIndex(model=Order)
                """,
            }
        ),
        statuses(save_tag=True, delete_order=True),
    )


M2M_VIEWS = """
    from shop.models import Order, Tag

    def tag_order(request):
        order = Order.objects.get(pk=1)
        order.tags.add(Tag.objects.get(pk=2))

    def untag_order(request):
        Order.objects.get(pk=1).tags.remove(Tag.objects.get(pk=2))

    def retag_order(request):
        order = Order.objects.get(pk=1)
        order.tags.set([])
        order.tags.clear()

    def read_tags(request):
        return list(Order.objects.get(pk=1).tags.all())

    def add_to_a_set(request):
        seen = set()
        seen.add(1)
"""
M2M_URLS = """
    from django.urls import path
    from shop import views

    urlpatterns = [
        path("a/", views.tag_order),
        path("b/", views.untag_order),
        path("c/", views.retag_order),
        path("d/", views.read_tags),
        path("e/", views.add_to_a_set),
    ]
"""


def m2m_project(field: str) -> dict[str, str]:
    """The views above, and an ``m2m_changed`` receiver for ``Order.<field>.through``."""
    signals = f"""
    from django.db.models.signals import m2m_changed
    from django.dispatch import receiver
    from shop.models import Order
    from shop.tasks import crunch

    @receiver(m2m_changed, sender=Order.{field}.through)
    def changed(sender, instance, action, **kwargs):
        crunch.delay(instance.pk)
    """
    return shop(
        **{"shop/views.py": M2M_VIEWS, "shop/urls.py": M2M_URLS, "shop/signals.py": signals}
    )


def m2m_statuses(changed: str) -> dict[str, tuple[str, bool]]:
    names = ("tag_order", "untag_order", "retag_order", "read_tags", "add_to_a_set")
    return {n: (changed if n.endswith("_order") else "inline", False) for n in names}


def test_m2m_changed_receivers_fire_on_related_manager_changes(check):
    report = check(m2m_project("tags"), m2m_statuses("offloaded"))
    assert dispatch_via(report, "tag_order")[-1].startswith(
        "shop/signals.py:changed (m2m_changed receiver connected at shop/signals.py:6,"
        " fired by order.tags.add("
    )


def test_m2m_changed_for_another_field_does_not_fire(check):
    check(m2m_project("followers"), m2m_statuses("inline"))


def test_custom_signals_sent_in_one_app_fire_receivers_in_another(check):
    report = check(
        shop(
            **{
                "shop/views.py": """
                from shop.signals import order_cancelled, order_paid

                def create_order(request):
                    order_paid.send(sender=None, order=1)

                def create_note(request):
                    order_cancelled.send(sender=None, order=1)

                def save_tag(request):
                    order_paid.send_robust(sender=None, order=1)

                def delete_order(request):
                    return None
                """,
                "shop/signals.py": """
                from django.dispatch import Signal

                order_paid = Signal()
                order_cancelled = Signal()
                """,
                "billing/__init__.py": "",
                "billing/receivers.py": """
                from django.dispatch import receiver
                from shop.signals import order_cancelled, order_paid
                from shop.tasks import crunch, plain

                @receiver(order_paid)
                def on_paid(sender, order, **kwargs):
                    crunch.delay(order)

                @receiver(order_cancelled)
                def on_cancel(sender, order, **kwargs):
                    plain(order)
                """,
            }
        ),
        statuses(create_order=True, save_tag=True),
    )
    assert dispatch_via(report, "create_order")[-1] == (
        "billing/receivers.py:on_paid (order_paid receiver connected at billing/receivers.py:5,"
        " fired by order_paid.send(sender=None, order=1) at shop/views.py:4)"
    )


def test_receivers_connected_for_a_model_named_by_a_string_or_looked_up_by_name(check):
    handlers = """
    from shop.tasks import crunch

    def order_saved(sender, instance, **kwargs):
        crunch.delay(instance.pk)
    """
    for connect, saved in (
        (
            'Order = self.get_model(model_name="Order")\n{i}post_save.connect(h, sender=Order)',
            "order",
        ),
        ('Order = apps.get_model("shop", "Order")\n{i}post_save.connect(h, sender=Order)', "order"),
        ('Order = apps.get_model("shop.Order")\n{i}post_save.connect(h, sender=Order)', "order"),
        ('post_save.connect(h, sender="shop.Order")', "order"),
        ('Note = self.get_model("Note")\n{i}post_save.connect(h, sender=Note)', "note"),
        ('post_save.connect(h, sender="shop.Note")', "note"),
    ):
        body = connect.format(i=" " * 24)
        apps = f"""
                from django.apps import AppConfig, apps
                from django.db.models.signals import post_save
                from shop.handlers import order_saved as h

                class ShopConfig(AppConfig):
                    def ready(self):
                        {body}
                """
        check(
            shop(**{"shop/handlers.py": handlers, "shop/apps.py": apps}),
            statuses(create_order=saved == "order", create_note=saved == "note"),
        )


def test_receivers_for_auth_user_model_fire_when_django_user_is_written(check):
    """``sender=settings.AUTH_USER_MODEL`` with Django's own ``User``: deleting a user runs
    the project's ``pre_delete`` receiver; other writes and other models do not."""
    files = {
        "tasks.py": TASKS,
        "signals.py": """
        from django.conf import settings
        from django.db.models.signals import pre_delete
        from django.dispatch import receiver
        from tasks import crunch

        @receiver(pre_delete, sender=settings.AUTH_USER_MODEL)
        def user_deleted(sender, instance, **kwargs):
            crunch.delay(instance.pk)
        """,
        "views.py": """
        from django.contrib.auth.models import Group, User

        def delete_account(request):
            User.objects.get(pk=request.user.pk).delete()

        def rename_account(request):
            user = User.objects.get(pk=1)
            user.save()

        def delete_group(request):
            Group.objects.get(pk=1).delete()
        """,
        "urls.py": """
        from django.urls import path
        from views import delete_account, delete_group, rename_account

        urlpatterns = [
            path("a/", delete_account),
            path("b/", rename_account),
            path("c/", delete_group),
        ]
        """,
    }
    check(
        files,
        {
            "delete_account": ("offloaded", False),
            "rename_account": ("inline", False),
            "delete_group": ("inline", False),
        },
    )


def test_receivers_for_auth_user_model_fire_for_the_project_user_model(check):
    files = {
        "tasks.py": TASKS,
        "settings.py": 'AUTH_USER_MODEL = "accounts.User"\n',
        "accounts/__init__.py": "",
        "accounts/models.py": """
        from django.contrib.auth.models import AbstractUser
        from django.db import models

        class User(AbstractUser):
            pass

        class Team(models.Model):
            pass
        """,
        "signals.py": """
        from django.conf import settings
        from django.db.models.signals import post_save
        from django.dispatch import receiver
        from tasks import crunch

        @receiver(post_save, sender=settings.AUTH_USER_MODEL)
        def user_saved(sender, instance, **kwargs):
            crunch.delay(instance.pk)
        """,
        "views.py": """
        from accounts.models import Team, User

        def sign_up(request):
            User.objects.create(username="x")

        def add_team(request):
            Team.objects.create()
        """,
        "urls.py": """
        from django.urls import path
        from views import add_team, sign_up

        urlpatterns = [path("a/", sign_up), path("b/", add_team)]
        """,
    }
    check(files, {"sign_up": ("offloaded", False), "add_team": ("inline", False)})


SEARCH_MODELS = """
    from django.apps import apps

    class SearchModel:
        _registry = {}

        @classmethod
        def all(cls):
            return sorted(cls._registry.values(), key=lambda item: item.label)

        def __init__(self, app_label=None, model_name=None, label="", model=None):
            self.app_label = app_label
            self.model_name = model_name
            self.label = label
            self._model = model
            self.proxies = []
            self.__class__._registry[label] = self

        def add_proxy_model(self, app_label, model_name):
            self.proxies.append(apps.get_model(app_label=app_label, model_name=model_name))

        @property
        def model(self):
            if self._model:
                return self._model
            return apps.get_model(app_label=self.app_label, model_name=self.model_name)
"""
SEARCH_APPS = """
    from django.apps import AppConfig
    from django.db.models.signals import {signal}

    def index_instance(sender, instance, **kwargs):
        from shop.tasks import crunch
        crunch.delay(instance.pk)

    class SearchConfig(AppConfig):
        name = "search"

        def ready(self):
            from search.classes import SearchModel
            for search_model in SearchModel.all():
                {signal}.connect(receiver=index_instance, sender=search_model.model)
                for proxy in search_model.proxies:
                    {signal}.connect(receiver=index_instance, sender=proxy)
"""


def search_project(signal: str, constructions: str, classes: str = SEARCH_MODELS):
    return shop(
        **{
            "search/__init__.py": "",
            "search/classes.py": classes,
            "search/apps.py": SEARCH_APPS.format(signal=signal),
            "shop/search.py": constructions,
        }
    )


def test_receivers_connected_for_each_instance_of_a_registry_class_fire_for_its_models(check):
    """``for m in SearchModel.all(): post_save.connect(h, sender=m.model)``: the senders are
    the models given to ``SearchModel(...)`` anywhere, as a class or by name."""
    constructions = """
    from search.classes import SearchModel
    from shop.models import Note, Order

    search_order = SearchModel(model=Order, label="orders")
    SearchModel(app_label="shop", model_name="Tag", label="tags")

    def register_notes():
        SearchModel(model=Note, label="notes")
    """
    check(
        search_project("post_save", constructions),
        statuses(create_order=True, save_tag=True, create_note=True),
    )
    check(
        search_project("pre_delete", constructions),
        statuses(delete_order=True),
    )


def test_receivers_connected_for_the_proxies_each_registry_instance_was_given(check):
    """``for proxy in search_model.proxies``: the models ``add_proxy_model`` calls name."""
    constructions = """
    from search.classes import SearchModel

    search_tag = SearchModel(app_label="shop", model_name="Tag", label="tags")
    search_tag.add_proxy_model(app_label="shop", model_name="Note")
    """
    check(
        search_project("post_save", constructions),
        statuses(save_tag=True, create_note=True),
    )


LOOKED_UP_IN_INIT = """
    from django.apps import apps

    class SearchModel:
        _registry = {}

        @classmethod
        def all(cls):
            return SearchModel._registry.values()

        def __init__(self, app_label, model_name):
            self.model = apps.get_model(app_label=app_label, model_name=model_name)
            self.proxies = []
            SearchModel._registry[model_name] = self
"""


def test_a_registry_read_by_its_class_name_with_the_model_looked_up_in_init(check):
    """``return SearchModel._registry.values()``, ``self.model = apps.get_model(...)``."""
    constructions = """
    from search.classes import SearchModel

    SearchModel("shop", "Tag")
    """
    check(
        search_project("post_save", constructions, classes=LOOKED_UP_IN_INIT),
        statuses(save_tag=True),
    )


def test_a_model_name_is_matched_as_django_reads_it_without_case(check):
    """``apps.get_model("shop", "tag")`` is the model ``Tag``; "tags" is no model."""
    constructions = """
    from search.classes import SearchModel

    SearchModel(app_label="shop", model_name="tag", label="tags")
    SearchModel(app_label="shop", model_name="notes", label="notes")
    """
    check(search_project("post_save", constructions), statuses(save_tag=True))


def test_a_registry_loop_whose_models_cannot_be_read_connects_no_receiver(check):
    """Nothing constructed, a model given by a non-literal, or an ``all()`` that is no
    classmethod over a class-level container: no sender is known, so nothing fires (never
    every model)."""
    check(search_project("post_save", ""), statuses())
    check(
        search_project(
            "post_save",
            """
            from search.classes import SearchModel

            def register(name):
                SearchModel(app_label="shop", model_name=name, label=name)
            """,
        ),
        statuses(),
    )
    not_a_registry = SEARCH_MODELS.replace(
        "@classmethod\n        def all(cls):\n            return sorted(cls._registry.values(),"
        " key=lambda item: item.label)",
        "@staticmethod\n        def all():\n            return []",
    )
    assert not_a_registry != SEARCH_MODELS
    check(
        search_project(
            "post_save",
            """
            from search.classes import SearchModel
            from shop.models import Order

            search_order = SearchModel(model=Order, label="orders")
            """,
            classes=not_a_registry,
        ),
        statuses(),
    )


LOWERED_NAME_CLASSES = """
    from django.apps import apps
    from django.utils.functional import cached_property

    class LoaderMixin:
        pass

    class SearchModel(LoaderMixin):
        _registry = {}

        @classmethod
        def all(cls):
            result = set(cls._registry.values())
            result = list(result)
            result.sort(key=lambda entry: entry.label)
            return result

        def __init__(self, app_label, model_name, label=None):
            self.app_label = app_label
            self.model_name = model_name.lower()
            self.label = label
            self.__class__._registry["{}.{}".format(app_label, model_name)] = self

        @cached_property
        def model(self):
            return apps.get_model(app_label=self.app_label, model_name=self.model_name)
"""
ENABLED_FROM_READY = """
    from django.apps import AppConfig
    from django.db.models.signals import post_save

    from search.classes import SearchModel

    class SearchBackend:
        @staticmethod
        def _enable():
            from search.handlers import index_instance
            for search_model in SearchModel.all():
                post_save.connect(
                    dispatch_uid="index", receiver=index_instance, sender=search_model.model
                )

    class SearchConfig(AppConfig):
        name = "search"

        def ready(self):
            SearchBackend._enable()
"""


def test_a_registry_keeping_its_model_name_lowered_behind_a_cached_property(check):
    """``self.model_name = model_name.lower()`` and ``model`` a ``cached_property``
    (Django reads a model name without case); ``all()`` through locals; the loop in a
    static method ``ready()`` calls, the handler imported inside it."""
    files = shop(
        **{
            "search/__init__.py": "",
            "search/classes.py": LOWERED_NAME_CLASSES,
            "search/handlers.py": """
            def index_instance(sender, instance, **kwargs):
                from shop.tasks import crunch
                crunch.delay(instance.pk)
            """,
            "search/apps.py": ENABLED_FROM_READY,
            "shop/search.py": """
            from search.classes import SearchModel

            SearchModel(app_label="shop", model_name="Tag", label="tags")
            """,
        }
    )
    check(files, statuses(save_tag=True))
    # a model name computed in any other way names no model
    other = LOWERED_NAME_CLASSES.replace("model_name.lower()", "model_name.title() + 's'")
    check({**files, "search/classes.py": other}, statuses())


PROXIES_AS_DICTS = """
    from django.apps import apps
    from django.utils.functional import cached_property

    class SearchModel:
        _registry = {}

        @classmethod
        def all(cls):
            return list(cls._registry.values())

        def __init__(self, app_label, model_name, label=None):
            self.app_label = app_label
            self.model_name = model_name.lower()
            self.label = label
            self._proxies = []
            self.__class__._registry[label] = self

        def add_proxy_model(self, app_label, model_name):
            self._proxies.append({"app_label": app_label, "model_name": model_name.lower()})

        @cached_property
        def model(self):
            return apps.get_model(app_label=self.app_label, model_name=self.model_name)

        @cached_property
        def proxies(self):
            result = []
            for proxy in self._proxies:
                result.append(apps.get_model(**proxy))
            return result
"""


def test_receivers_connected_for_proxies_kept_as_dicts_and_turned_into_models(check):
    """``self._proxies.append({"app_label": a, "model_name": name.lower()})`` and a property
    ``proxies`` calling ``apps.get_model(**p)`` over them: the models ``add_proxy_model``
    calls name."""
    constructions = """
    from search.classes import SearchModel

    search_tag = SearchModel(app_label="shop", model_name="Tag", label="tags")
    search_tag.add_proxy_model(app_label="shop", model_name="Note")
    """
    files = search_project("post_save", constructions, classes=PROXIES_AS_DICTS)
    check(files, statuses(save_tag=True, create_note=True))
    # the same as a plain property over a comprehension
    comprehension = PROXIES_AS_DICTS.replace(
        "@cached_property\n        def proxies(self):\n"
        "            result = []\n"
        "            for proxy in self._proxies:\n"
        "                result.append(apps.get_model(**proxy))\n"
        "            return result",
        "@property\n        def proxies(self):\n"
        "            return [apps.get_model(**entry) for entry in self._proxies]",
    )
    assert comprehension != PROXIES_AS_DICTS
    check({**files, "search/classes.py": comprehension}, statuses(save_tag=True, create_note=True))
    # dicts the property never turns into models name none
    unread = PROXIES_AS_DICTS.replace("apps.get_model(**proxy)", "proxy")
    check({**files, "search/classes.py": unread}, statuses(save_tag=True))


FACTORY_APPS = """
    from django.apps import AppConfig
    from django.db.models.signals import post_save

    def handler_factory(kind):
        def handler(sender, instance, **kwargs):
            from shop.tasks import {task}
            {task}.delay(instance.pk)
        return handler

    class SearchConfig(AppConfig):
        name = "search"

        def ready(self):
            from search.classes import SearchModel
            for search_model in SearchModel.all():
                post_save.connect(receiver=handler_factory(kind="save"), sender=search_model.model)
"""


def test_a_receiver_made_by_a_factory_function_is_the_inner_function_it_returns(check):
    """``receiver=handler_factory(...)`` returning an inner ``def``: that function runs."""
    files = {
        **search_project(
            "post_save",
            """
            from search.classes import SearchModel

            SearchModel(model_name="Tag", app_label="shop", label="t")
            """,
        ),
        "search/apps.py": FACTORY_APPS.format(task="crunch"),
    }
    check(files, statuses(save_tag=True))
    check({**files, "search/apps.py": FACTORY_APPS.format(task="plain")}, statuses())


INTROSPECTED = """
    from django.apps import apps
    from django.db.models.signals import m2m_changed, post_save

    class Index:
        @staticmethod
        def through_models():
            found = {{}}
            for model in apps.get_models():
                for field in model._meta.many_to_many:
                    found[field.remote_field.through] = field.name
            return found

        @staticmethod
        def related_models():
            return [
                (field.related_model, field.name)
                for model in apps.get_models()
                for field in model._meta.related_objects
            ]

        @staticmethod
        def enable():
            from shop.handlers import on_change
            from shop.models import Order
            for {loop}:
                {signal}.connect(receiver=on_change, sender={sender}, weak=False)
"""
THROUGH_LOOP = "through, data in Index.through_models().items()"
RELATED_LOOP = "model, path in Index.related_models()"


def introspected(signal: str, loop: str, sender: str) -> dict[str, str]:
    """A search app connecting its receiver, in ``ready()``, for models it finds by
    introspection: no source text names them (PATTERNS.md item 58)."""
    return m2m_project("tags") | {
        "shop/signals.py": "",
        "shop/search.py": INTROSPECTED.format(signal=signal, loop=loop, sender=sender),
        "shop/handlers.py": """
            from shop.tasks import crunch

            def on_change(sender, instance, **kwargs):
                crunch.delay(instance.pk)
        """,
        "shop/apps.py": """
            from django.apps import AppConfig

            class ShopConfig(AppConfig):
                name = "shop"

                def ready(self):
                    from shop.search import Index
                    Index.enable()
        """,
    }


def test_an_m2m_receiver_connected_for_through_models_computed_at_run_time_is_a_guess(check):
    report = check(introspected("m2m_changed", THROUGH_LOOP, "through"), m2m_statuses("offloaded"))
    changed = [e for e in report.endpoints if e.status == "offloaded"]
    assert {e.confidence for e in changed} == {"likely"}
    assert dispatch_via(report, "tag_order")[-1].startswith(
        "shop/handlers.py:on_change (m2m_changed receiver connected at shop/search.py:26"
        " for senders computed at run time, fired by order.tags.add("
    )


def test_a_save_receiver_connected_for_models_computed_at_run_time_stands_for_none(run_audit):
    """Saves are in nearly every endpoint, and a save receiver connected for computed models
    watches a family of them (related models, models with a mixin): taking it for every model
    would claim a dispatch on every write, so it stays unmatched, as before."""
    files = introspected("post_save", RELATED_LOOP, "model")
    files["shop/views.py"] += """
    def save_order(request):
        Order.objects.get(pk=1).save()
"""
    files["shop/urls.py"] = files["shop/urls.py"].replace(
        "urlpatterns = [", 'urlpatterns = [\n        path("save/", views.save_order),'
    )
    report = run_audit(files)
    by_handler = {e.handler: (e.status, e.confidence) for e in report.endpoints}
    assert by_handler["save_order"] == ("inline", "certain")
    assert by_handler["tag_order"] == ("inline", "certain")


def test_a_receiver_connected_for_a_named_model_still_fires_for_that_model_only(check):
    """Only a sender the audit cannot follow stands for any model: a named one is kept."""
    check(
        introspected("m2m_changed", THROUGH_LOOP, "Order.followers.through"),
        m2m_statuses("inline"),
    )
    check(
        introspected("m2m_changed", THROUGH_LOOP, "Order.tags.through"),
        m2m_statuses("offloaded"),
    )


USER_RECEIVERS = """
    from django.contrib.auth import get_user_model
    from django.db.models.signals import post_save
    from django.dispatch import receiver
    from tasks import crunch

    User = get_user_model()

    @receiver(post_save, sender=User)
    def user_saved(sender, instance, **kwargs):
        crunch.delay(instance.pk)
"""
USER_READY = """
    from django.apps import AppConfig
    from django.contrib.auth import get_user_model
    from django.db.models.signals import post_save

    class AccountsConfig(AppConfig):
        name = "accounts"

        def ready(self):
            from signals import user_saved
            post_save.connect(user_saved, sender=get_user_model())
"""


@pytest.mark.parametrize("connected", ["module variable", "in ready"])
def test_a_sender_that_is_get_user_model_is_the_user_model(check, connected):
    """``sender=get_user_model()`` (or ``User = get_user_model()``) is the user model, like
    ``settings.AUTH_USER_MODEL`` (PATTERNS.md item 59)."""
    signals = USER_RECEIVERS
    more = {}
    if connected == "in ready":
        signals = USER_RECEIVERS.replace("@receiver(post_save, sender=User)\n    ", "")
        more = {"apps.py": USER_READY}
    files = {
        "tasks.py": TASKS,
        "signals.py": signals,
        "views.py": """
        from django.contrib.auth.models import Group, User

        def rename_account(request):
            user = User.objects.get(pk=1)
            user.save()

        def rename_group(request):
            Group.objects.get(pk=1).save()
        """,
        "urls.py": """
        from django.urls import path
        from views import rename_account, rename_group

        urlpatterns = [path("a/", rename_account), path("b/", rename_group)]
        """,
        **more,
    }
    check(files, {"rename_account": ("offloaded", False), "rename_group": ("inline", False)})
