"""Dispatches an endpoint must NOT reach (issue 14, precision of ``offloaded``): a routed
class's self-calls resolve through its own MRO, an override reached only because the
receiver's class is unknown makes the status ``likely``, and the round-3 edges (receivers,
serializer hooks, validators, partials, forms) fire only for what the endpoint uses.
Snippets written for the audit, not copied from a project."""

from __future__ import annotations

from controlplane.migrations_audit.report import CERTAIN, LIKELY

TASKS = """
    from celery import shared_task

    @shared_task
    def crunch(pk):
        return pk

    def plain(pk):
        return pk
"""
BASE_VIEW = """
    from django.views import View


    class CRUDView(View):
        def post(self, request, *args, **kwargs):
            self.save_object()

        def save_object(self):
            pass


    class TalkView(CRUDView):
        def save_object(self):
            from app.tasks import crunch
            crunch.delay(1)


    class RoomView(CRUDView):
        pass


    class HallView(RoomView):
        def save_object(self):
            raise NotImplementedError
"""
URLS = """
    from django.urls import path
    from app import views

    urlpatterns = [
        path("talks/", views.TalkView.as_view()),
        path("rooms/", views.RoomView.as_view()),
    ]
"""


def app(**files: str) -> dict[str, str]:
    out = {"app/__init__.py": "", "app/tasks.py": TASKS}
    out.update({f"app/{name}.py": text for name, text in files.items()})
    return out


def confidence(report, handler: str) -> str:
    return next(e.confidence for e in report.endpoints if e.handler == handler)


def test_a_routed_class_runs_its_own_override_of_a_stub_hook_not_a_sibling_s(check):
    report = check(
        app(views=BASE_VIEW, urls=URLS),
        {"TalkView.post": ("offloaded", False), "RoomView.post": ("inline", False)},
    )
    assert confidence(report, "TalkView.post") == CERTAIN


def test_the_override_in_the_routed_class_s_own_mro_is_followed(check):
    urls = URLS.replace('path("rooms/", views.RoomView.as_view()),', "").replace(
        "views.TalkView", "views.LateTalkView"
    )
    views = BASE_VIEW + "\n    class LateTalkView(TalkView):\n        pass\n"
    check(app(views=views, urls=urls), {"LateTalkView.post": ("offloaded", False)})


SERVICES = """
    class Exporter:
        def export(self):
            self.write()

        def write(self):
            raise NotImplementedError


    class QueuedExporter(Exporter):
        def write(self):
            from app.tasks import crunch
            crunch.delay(1)


    class FileExporter(Exporter):
        def write(self):
            from app.tasks import plain
            plain(1)
"""


def test_overrides_reached_for_a_receiver_of_unknown_class_make_the_status_likely(check):
    views = """
    from app.services import Exporter

    def export(request, exporter: Exporter):
        exporter.export()

    def export_base(request):
        Exporter().export()
    """
    urls = """
    from django.urls import path
    from app import views

    urlpatterns = [path("e/", views.export), path("b/", views.export_base)]
    """
    report = check(
        app(services=SERVICES, views=views, urls=urls),
        {"export": ("offloaded", False), "export_base": ("offloaded", False)},
    )
    assert confidence(report, "export") == LIKELY
    assert confidence(report, "export_base") == LIKELY
    endpoint = next(e for e in report.endpoints if e.handler == "export_base")
    [dispatch] = [e for e in endpoint.evidence if e.kind == "dispatch"]
    assert any("receiver's class is not known" in step for step in dispatch.via)


def test_a_method_name_defined_in_several_classes_is_likely_not_certain(check):
    services = """
    class Mailer:
        def deliver(self):
            from app.tasks import crunch
            crunch.delay(1)


    class Printer:
        def deliver(self):
            from app.tasks import plain
            plain(1)
    """
    views = """
    def send(request):
        backend = request.backend
        backend.deliver()
    """
    urls = """
    from django.urls import path
    from app import views

    urlpatterns = [path("s/", views.send)]
    """
    report = check(app(services=services, views=views, urls=urls), {"send": ("offloaded", False)})
    assert confidence(report, "send") == LIKELY


def test_a_partial_built_and_never_called_or_handed_on_is_not_a_dispatch(check):
    views = """
    from functools import partial
    from django.db import transaction
    from app.tasks import crunch

    def built(request):
        job = partial(crunch.delay, 1)
        return None

    def handed(request):
        transaction.on_commit(partial(crunch.delay, 1))

    def called(request):
        job = partial(crunch.delay, 1)
        job()
    """
    urls = """
    from django.urls import path
    from app import views

    urlpatterns = [
        path("a/", views.built), path("b/", views.handed), path("c/", views.called)
    ]
    """
    check(
        app(views=views, urls=urls),
        {
            "built": ("inline", False),
            "handed": ("offloaded", False),
            "called": ("offloaded", False),
        },
    )


SERIALIZERS = """
    from rest_framework import serializers
    from app.models import Source


    class HookedSerializer(serializers.ModelSerializer):
        def create(self, validated_data):
            obj = super().create(validated_data)
            self.after_create(obj)
            return obj

        def after_create(self, obj):
            pass


    class QuietSerializer(HookedSerializer):
        class Meta:
            model = Source


    class LoudSerializer(HookedSerializer):
        class Meta:
            model = Source

        def after_create(self, obj):
            from app.tasks import crunch
            crunch.delay(obj.pk)
"""
MODELS = """
    from django.db import models

    class Source(models.Model):
        pass
"""


def test_super_create_in_one_serializer_does_not_run_a_sibling_serializer_s_hook(check):
    views = """
    from rest_framework import generics
    from app.models import Source
    from app.serializers import LoudSerializer, QuietSerializer

    class QuietList(generics.CreateAPIView):
        queryset = Source.objects.all()
        serializer_class = QuietSerializer

    class LoudList(generics.CreateAPIView):
        queryset = Source.objects.all()
        serializer_class = LoudSerializer
    """
    urls = """
    from django.urls import path
    from app import views

    urlpatterns = [
        path("q/", views.QuietList.as_view()),
        path("l/", views.LoudList.as_view()),
    ]
    """
    check(
        app(models=MODELS, serializers=SERIALIZERS, views=views, urls=urls),
        {"QuietList.post": ("inline", False), "LoudList.post": ("offloaded", False)},
    )


FORMS = """
    from django import forms


    class CheckedForm(forms.Form):
        def clean(self):
            from app.tasks import crunch
            crunch.delay(1)
            return super().clean()


    class CalmForm(forms.Form):
        def clean(self):
            return super().clean()
"""


def test_is_valid_runs_the_clean_of_the_form_class_the_view_builds_only(check):
    views = """
    from app.forms import CalmForm, CheckedForm

    def calm(request):
        form = CalmForm(request.POST)
        form.is_valid()

    def checked(request):
        form = CheckedForm(request.POST)
        form.is_valid()
    """
    urls = """
    from django.urls import path
    from app import views

    urlpatterns = [path("c/", views.calm), path("k/", views.checked)]
    """
    check(
        app(forms=FORMS, views=views, urls=urls),
        {"calm": ("inline", False), "checked": ("offloaded", False)},
    )


SENDER_MODELS = """
    from django.db import models

    class Order(models.Model):
        pass

    class Note(models.Model):
        pass
"""
SENDER_VIEWS = """
    from app.models import Note, Order

    def order(request):
        Order(pk=1).save()

    def note(request):
        Note(pk=1).save()
"""
SENDER_URLS = """
    from django.urls import path
    from app import views

    urlpatterns = [path("o/", views.order), path("n/", views.note)]
"""


def test_a_receiver_connected_for_one_model_does_not_fire_on_another_s_writes(check):
    handlers = """
    from django.db.models.signals import post_save
    from app.tasks import crunch

    def order_saved(sender, instance, **kwargs):
        crunch.delay(instance.pk)

    def connect_all(*models):
        for model in models:
            post_save.connect(order_saved, sender=model)
    """
    apps = """
    from django.apps import AppConfig

    class ShopConfig(AppConfig):
        name = "app"

        def ready(self):
            from app.handlers import connect_all
            from app.models import Order
            connect_all(Order)
    """
    check(
        app(
            models=SENDER_MODELS, handlers=handlers, apps=apps, views=SENDER_VIEWS, urls=SENDER_URLS
        ),
        {"order": ("offloaded", False), "note": ("inline", False)},
    )


def test_a_sender_given_by_position_limits_the_receiver_to_that_model(check):
    # Signal.connect(receiver, sender=None, weak=True, dispatch_uid=None): the second
    # positional argument is the sender (blinker's connect too), also inside a helper
    handlers = """
    from django.db.models.signals import post_save, pre_delete
    from app.models import Order
    from app.tasks import crunch

    def register(task):
        def saved(sender, instance, **kwargs):
            task.delay(instance.pk)

        post_save.connect(saved, Order, dispatch_uid="x", weak=False)

    def removed(sender, instance, **kwargs):
        crunch.delay(instance.pk)

    pre_delete.connect(removed, Order)
    """
    apps = """
    from django.apps import AppConfig

    class ShopConfig(AppConfig):
        name = "app"

        def ready(self):
            from app.handlers import register
            from app.tasks import crunch
            register(crunch)
    """
    views = (
        SENDER_VIEWS
        + """
    def drop_note(request):
        Note(pk=1).delete()

    def drop_order(request):
        Order(pk=1).delete()
    """
    )
    urls = """
    from django.urls import path
    from app import views

    urlpatterns = [
        path("o/", views.order),
        path("n/", views.note),
        path("do/", views.drop_order),
        path("dn/", views.drop_note),
    ]
    """
    check(
        app(models=SENDER_MODELS, handlers=handlers, apps=apps, views=views, urls=urls),
        {
            "order": ("offloaded", False),
            "note": ("inline", False),
            "drop_order": ("offloaded", False),
            "drop_note": ("inline", False),
        },
    )


RECEIVER = """
    from django.db.models.signals import post_save
    from django.dispatch import receiver
    from app.models import Order
    from app.tasks import crunch, plain

    @receiver(post_save)
    def saved(sender, instance, created, **kwargs):
        \"\"\"Index orders.\"\"\"
{body}
"""


def sender_check(check, body: str, note_offloaded: bool) -> None:
    handlers = RECEIVER.format(body=body)
    check(
        app(models=SENDER_MODELS, handlers=handlers, views=SENDER_VIEWS, urls=SENDER_URLS),
        {
            "order": ("offloaded", False),
            "note": ("offloaded" if note_offloaded else "inline", False),
        },
    )


def test_a_receiver_whose_whole_body_tests_the_sender_fires_for_that_model_only(check):
    for test in (
        "isinstance(instance, Order)",
        "created and isinstance(instance, (Order,))",
        "sender in (Order,)",
        "sender is Order",
        "issubclass(sender, Order)",
    ):
        sender_check(check, f"        if {test}:\n            crunch.delay(instance.pk)", False)


def test_an_elif_chain_of_sender_tests_without_else_covers_its_models_only(check):
    body = (
        "        if isinstance(instance, Order):\n"
        "            crunch.delay(instance.pk)\n"
        "        elif sender == Order:\n"
        "            plain(1)"
    )
    sender_check(check, body, False)


def test_a_receiver_with_work_outside_the_sender_test_fires_for_every_model(check):
    else_branch = (
        "        if isinstance(instance, Order):\n"
        "            plain(1)\n"
        "        else:\n"
        "            crunch.delay(instance.pk)"
    )
    after = "        if isinstance(instance, Order):\n            plain(1)\n        crunch.delay(1)"
    unrelated = "        if created:\n            crunch.delay(instance.pk)"
    for body in (else_branch, after, unrelated):
        check(
            app(
                models=SENDER_MODELS,
                handlers=RECEIVER.format(body=body),
                views=SENDER_VIEWS,
                urls=SENDER_URLS,
            ),
            {"order": ("offloaded", False), "note": ("offloaded", False)},
        )


def test_a_builtin_container_method_on_an_unknown_object_is_not_a_project_method(check):
    """``payload.update(...)``, ``names.append(...)`` on an object of unknown type are most
    likely the dict's and list's: a project class with methods of those names is not run."""
    services = """
    class Syncer:
        def update(self, values):
            from app.tasks import crunch
            crunch.delay(1)

        def append(self, value):
            from app.tasks import crunch
            crunch.delay(1)

        def deliver(self):
            from app.tasks import crunch
            crunch.delay(1)
    """
    views = """
    def update(request):
        payload = request.data
        payload.update({"a": 1})

    def collect(request):
        names = request.names
        names.append("a")

    def deliver(request):
        backend = request.backend
        backend.deliver()
    """
    urls = """
    from django.urls import path
    from app import views

    urlpatterns = [path("u/", views.update), path("c/", views.collect), path("d/", views.deliver)]
    """
    report = check(
        app(services=services, views=views, urls=urls),
        {
            "update": ("inline", False),
            "collect": ("inline", False),
            "deliver": ("offloaded", False),
        },
    )
    assert confidence(report, "deliver") == LIKELY


ROUTER = (
    "from rest_framework.routers import SimpleRouter\n"
    "from app.views import SourceViewSet\n"
    "router = SimpleRouter()\n"
    'router.register("s", SourceViewSet)\n'
    "urlpatterns = router.urls\n"
)
ACTIONS = ("create", "destroy", "list", "partial_update", "retrieve", "update")


def test_the_serializer_chosen_for_another_action_does_not_validate_this_one(check):
    serializers = """
    from rest_framework import serializers
    from app.models import Source

    class CreateSerializer(serializers.ModelSerializer):
        class Meta:
            model = Source

        def validate(self, attrs):
            from app.tasks import crunch
            crunch.delay(1)
            return attrs

    class DetailSerializer(serializers.ModelSerializer):
        class Meta:
            model = Source
    """
    views = """
    from rest_framework import viewsets
    from app.models import Source
    from app.serializers import CreateSerializer, DetailSerializer

    class SourceViewSet(viewsets.ModelViewSet):
        queryset = Source.objects.all()
        serializer_class = DetailSerializer

        def get_serializer_class(self):
            if self.action == "create":
                return CreateSerializer
            return DetailSerializer
    """
    check(
        app(models=MODELS, serializers=serializers, views=views, urls=ROUTER),
        {
            f"SourceViewSet.{a}": ("offloaded" if a == "create" else "inline", False)
            for a in ACTIONS
        },
    )


def test_a_serializer_chosen_for_several_actions_may_be_a_class_replaced_on_instantiation(
    check,
):
    serializers = """
    from rest_framework import serializers
    from app.models import Source

    class Override:
        _default_class = None

        def __new__(cls, *args, **kwargs):
            return cls._default_class(*args, **kwargs)

    class EditSerializerBase(serializers.ModelSerializer):
        class Meta:
            model = Source

        def validate(self, attrs):
            from app.tasks import crunch
            crunch.delay(1)
            return attrs

    class EditSerializer(Override):
        _default_class = EditSerializerBase

    class DetailSerializer(serializers.ModelSerializer):
        class Meta:
            model = Source
    """
    views = """
    from rest_framework import viewsets
    from app.models import Source
    from app.serializers import DetailSerializer, EditSerializer

    class SourceViewSet(viewsets.ModelViewSet):
        queryset = Source.objects.all()

        def get_serializer_class(self):
            \"\"\"Editing validates more.\"\"\"
            if self.action in ("update", "partial_update"):
                return EditSerializer
            return DetailSerializer
    """
    check(
        app(models=MODELS, serializers=serializers, views=views, urls=ROUTER),
        {
            f"SourceViewSet.{a}": (
                "offloaded" if a in ("update", "partial_update") else "inline",
                False,
            )
            for a in ACTIONS
        },
    )


def test_a_function_handed_to_a_project_function_that_only_stores_it_does_not_run(check):
    registry = """
    HANDLERS = {}

    def register(name, handler):
        HANDLERS[name] = handler

    def run_now(handler):
        handler(1)

    def run_later(handler):
        from django.db import transaction
        transaction.on_commit(handler)
    """
    views = """
    from app.registry import register, run_later, run_now
    from app.tasks import crunch

    def notify(pk):
        crunch.delay(pk)

    def stored(request):
        register("n", notify)

    def ran(request):
        run_now(notify)

    def later(request):
        run_later(notify)
    """
    urls = """
    from django.urls import path
    from app import views

    urlpatterns = [path("s/", views.stored), path("r/", views.ran), path("l/", views.later)]
    """
    check(
        app(registry=registry, views=views, urls=urls),
        {"stored": ("inline", False), "ran": ("offloaded", False), "later": ("offloaded", False)},
    )


def test_a_method_guessed_by_name_still_gets_the_literal_arguments_of_the_call(check):
    """``mailer.deliver(asynchronous=False)`` on an object of unknown type reaches the
    project's ``deliver`` by name; the ``False`` it passes rules out that method's
    ``if asynchronous:`` branch, as it would for a call whose receiver is known. The same
    call with ``True`` (or nothing, the default) still reaches the dispatch."""
    services = """
    class Mailer:
        def deliver(self, asynchronous=True):
            if asynchronous:
                from app.tasks import crunch
                crunch.delay(1)
            else:
                from app.tasks import plain
                plain(1)
    """
    views = """
    def now(request):
        mailer = request.mailer
        mailer.deliver(asynchronous=False)

    def later(request):
        mailer = request.mailer
        mailer.deliver(asynchronous=True)

    def default(request):
        mailer = request.mailer
        mailer.deliver()
    """
    urls = """
    from django.urls import path
    from app import views

    urlpatterns = [
        path("n/", views.now),
        path("l/", views.later),
        path("d/", views.default),
    ]
    """
    check(
        app(services=services, views=views, urls=urls),
        {
            "now": ("inline", False),
            "later": ("offloaded", False),
            "default": ("offloaded", False),
        },
    )


def test_a_view_s_own_partial_update_gets_the_serializer_chosen_for_its_action(check):
    """``partial_update`` written in the view calls ``self.get_serializer(obj, ...)``; DRF
    has set ``self.action`` to ``"partial_update"``, so ``get_serializer_class()`` returns
    the class chosen for it (``CancelSerializer``, whose ``update()`` is plain), not the
    first class it returns (``StartSerializer``, whose ``update()`` dispatches). Its own
    ``create`` gets ``StartSerializer`` and dispatches through its ``create()``."""
    serializers = """
    from rest_framework import serializers
    from app.models import Source
    from app.tasks import crunch

    class StartSerializer(serializers.ModelSerializer):
        class Meta:
            model = Source

        def create(self, validated_data):
            crunch.delay(1)
            return validated_data

        def update(self, instance, validated_data):
            crunch.delay(2)
            return instance

    class CancelSerializer(serializers.ModelSerializer):
        class Meta:
            model = Source

        def update(self, instance, validated_data):
            return instance
    """
    views = """
    from rest_framework import viewsets
    from rest_framework.response import Response
    from app.models import Source
    from app.serializers import CancelSerializer, StartSerializer

    class SourceViewSet(viewsets.GenericViewSet):
        queryset = Source.objects.all()
        serializer_class = StartSerializer

        GETTER

        def create(self, request, *args, **kwargs):
            serializer = self.get_serializer(data=request.data)
            serializer.save()
            return Response(serializer.data)

        def partial_update(self, request, *args, **kwargs):
            serializer = self.get_serializer(self.get_object(), data=request.data)
            serializer.save()
            return Response(serializer.data)
    """
    # either class may be the first one returned: the action decides, not the order
    getters = (
        'if self.action == "partial_update":\n'
        "                return CancelSerializer\n"
        "            return StartSerializer",
        'if self.action == "create":\n'
        "                return StartSerializer\n"
        "            return CancelSerializer",
    )
    for body in getters:
        getter = "def get_serializer_class(self):\n            " + body
        check(
            app(
                models=MODELS,
                serializers=serializers,
                views=views.replace("GETTER", getter),
                urls=ROUTER,
            ),
            {
                "SourceViewSet.create": ("offloaded", False),
                "SourceViewSet.partial_update": ("inline", False),
            },
        )
