"""DRF serializers, forms and view mixins reaching a dispatch (issue 14, brief items 3-4):
``is_valid()`` runs ``validate*``/``clean*``, the serializer is the one
``get_serializer_class()`` returns, and a mixin's ``self.sync_task`` is whatever the routed
class (or its ``__init__``) stores there. Snippets of audited projects (source text only)."""

from __future__ import annotations

TASKS = """
    import dramatiq
    from celery import shared_task

    @dramatiq.actor
    def sync_objects(pk):
        return pk

    @shared_task
    def crunch(pk):
        return pk

    def plain(pk):
        return pk
"""
MODELS = """
    from django.db import models

    class Source(models.Model):
        pass
"""
MIXINS = """
    class SyncMixin:
        sync_task = None

        def sync_object(self, instance):
            self.sync_task.send_with_options(args=(instance.pk,), delay=0)
"""
SERIALIZERS = """
    from rest_framework import serializers
    from app.models import Source
    from app.tasks import crunch, plain

    class CheckedSerializer(serializers.ModelSerializer):
        class Meta:
            model = Source

        def validate_name(self, value):
            crunch.delay(1)
            return value

    class CalmSerializer(serializers.ModelSerializer):
        class Meta:
            model = Source

        def validate(self, attrs):
            plain(1)
            return attrs
"""


def project(views: str, urls: str) -> dict[str, str]:
    return {
        "app/__init__.py": "",
        "app/tasks.py": TASKS,
        "app/models.py": MODELS,
        "app/mixins.py": MIXINS,
        "app/serializers.py": SERIALIZERS,
        "app/views.py": views,
        "app/urls.py": urls,
    }


def router(*viewsets: str) -> str:
    lines = "\n".join(f'    router.register("{v.lower()}", {v})' for v in viewsets)
    return (
        "from rest_framework.routers import SimpleRouter\n"
        f"from app.views import {', '.join(viewsets)}\n"
        "router = SimpleRouter()\n"
        "if True:\n"
        f"{lines}\n"
        "urlpatterns = router.urls\n"
    )


CRUD = ("create", "destroy", "list", "partial_update", "retrieve", "update")


def crud(view: str, offloaded: tuple[str, ...]) -> dict[str, tuple[str, bool]]:
    return {f"{view}.{m}": ("offloaded" if m in offloaded else "inline", False) for m in CRUD}


def test_a_mixin_dispatches_through_the_actor_the_routed_class_holds(check):
    views = """
    from rest_framework import viewsets
    from rest_framework.decorators import action
    from app.mixins import SyncMixin
    from app.models import Source
    from app.serializers import CalmSerializer
    from app.tasks import plain, sync_objects

    class SourceViewSet(SyncMixin, viewsets.ModelViewSet):
        queryset = Source.objects.all()
        serializer_class = CalmSerializer
        sync_task = sync_objects

        def perform_create(self, serializer):
            self.sync_object(serializer.save())

    class BuiltViewSet(SyncMixin, viewsets.ModelViewSet):
        queryset = Source.objects.all()
        serializer_class = CalmSerializer

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.sync_task = sync_objects

        @action(detail=True, methods=["post"])
        def sync(self, request, pk=None):
            self.sync_object(self.get_object())

    class PlainViewSet(SyncMixin, viewsets.ModelViewSet):
        queryset = Source.objects.all()
        serializer_class = CalmSerializer
        sync_task = plain

        def perform_create(self, serializer):
            self.sync_object(serializer.save())
    """
    report = check(
        project(views, router("SourceViewSet", "BuiltViewSet", "PlainViewSet")),
        {
            **crud("SourceViewSet", ("create",)),
            **crud("BuiltViewSet", ()),
            "BuiltViewSet.sync": ("offloaded", False),
            **crud("PlainViewSet", ()),
        },
    )
    created = next(e for e in report.endpoints if e.handler == "SourceViewSet.create")
    [dispatch] = [e for e in created.evidence if e.kind == "dispatch"]
    assert (dispatch.file, dispatch.line, dispatch.queue_system) == ("app/mixins.py", 5, "dramatiq")
    assert dispatch.via[-1] == "app/mixins.py:SyncMixin.sync_object"


def test_is_valid_runs_the_validators_of_the_serializer_get_serializer_class_returns(check):
    views = """
    from rest_framework import viewsets
    from rest_framework.views import APIView
    from app.models import Source
    from app.serializers import CalmSerializer, CheckedSerializer

    class CheckedViewSet(viewsets.ModelViewSet):
        queryset = Source.objects.all()

        def get_serializer_class(self):
            return CheckedSerializer

    class CalmViewSet(viewsets.ModelViewSet):
        queryset = Source.objects.all()
        serializer_class = CalmSerializer

    class Import(APIView):
        def post(self, request):
            serializer = CheckedSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)

        def put(self, request):
            serializer = CalmSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
    """
    urls = router("CheckedViewSet", "CalmViewSet") + (
        "from django.urls import path\nfrom app.views import Import\n"
        'urlpatterns += [path("import/", Import.as_view())]\n'
    )
    report = check(
        project(views, urls),
        {
            **crud("CheckedViewSet", ("create", "update", "partial_update")),
            **crud("CalmViewSet", ()),
            "Import.post": ("offloaded", False),
            "Import.put": ("inline", False),
        },
    )
    created = next(e for e in report.endpoints if e.handler == "CheckedViewSet.create")
    [dispatch] = [e for e in created.evidence if e.kind == "dispatch"]
    assert dispatch.via[-1] == "app/serializers.py:CheckedSerializer.validate_name"


def test_a_form_view_runs_the_clean_methods_of_its_form(check):
    files = {
        "app/__init__.py": "",
        "app/tasks.py": TASKS,
        "app/forms.py": """
        from django import forms
        from app.tasks import crunch, plain

        class CheckedForm(forms.Form):
            def clean_url(self):
                crunch.delay(1)

        class CalmForm(forms.Form):
            def clean(self):
                plain(1)
        """,
        "app/views.py": """
        from django.views.generic.edit import FormView
        from app.forms import CalmForm, CheckedForm

        class CheckedView(FormView):
            form_class = CheckedForm

        class CalmView(FormView):
            def get_form_class(self):
                return CalmForm
        """,
        "app/urls.py": """
        from django.urls import path
        from app.views import CalmView, CheckedView

        urlpatterns = [path("a/", CheckedView.as_view()), path("b/", CalmView.as_view())]
        """,
    }
    check(
        files,
        {
            "CheckedView.get": ("inline", False),
            "CheckedView.post": ("offloaded", False),
            "CalmView.get": ("inline", False),
            "CalmView.post": ("inline", False),
        },
    )


def test_a_method_of_another_class_reached_from_self_is_not_run_as_the_view(check):
    """``self.service.run()`` from a view method: ``run``'s own ``self.step()`` is the
    service's, not a method of the view (the view is no subclass of the service)."""
    files = {
        "tasks.py": TASKS,
        "app.py": """
        from flask import Flask
        from flask.views import MethodView
        from tasks import crunch

        app = Flask(__name__)

        class Service:
            def run(self):
                self.step()

            def step(self):
                crunch.delay(1)

        class Base(MethodView):
            def step(self):
                return None

        class Jobs(Base):
            def __init__(self):
                self.service = Service()

            def post(self):
                self.service.run()

        app.add_url_rule("/jobs", view_func=Jobs.as_view("jobs"))
        """,
    }
    check(files, {"Jobs.post": ("offloaded", False)})


SIGNALS = """
    from django.db.models.signals import post_save
    from django.dispatch import receiver
    from app.models import Source
    from app.tasks import crunch

    @receiver(post_save, sender=Source)
    def source_saved(sender, instance, **kwargs):
        crunch.delay(instance.pk)
"""
LAYERED = """
    from rest_framework import serializers
    from app.models import Other, Source

    class TaggedSerializer(serializers.ModelSerializer):
        def create(self, validated_data):
            validated_data.pop("tags", None)
            return super().create(validated_data)

        def update(self, instance, validated_data):
            return super().update(instance, validated_data)

    class LoggedSerializer(TaggedSerializer):
        def save(self, **kwargs):
            return super().save(**kwargs)

    class SourceSerializer(LoggedSerializer):
        class Meta:
            model = Source

    class OtherSerializer(LoggedSerializer):
        class Meta:
            model = Other
"""


def test_perform_create_gets_the_view_serializer_whose_base_super_create_saves_the_model(
    check,
):
    """DRF hands ``perform_create(serializer)`` the view's serializer; its ``save()``
    override, its base's ``create()`` and ``super().create()`` (DRF's ModelSerializer) save
    the serializer's ``Meta.model``, whose post_save receiver dispatches."""
    views = """
    from rest_framework import viewsets
    from app.models import Other, Source
    from app.serializers import OtherSerializer, SourceSerializer

    class SourceViewSet(viewsets.ModelViewSet):
        queryset = Source.objects.all()
        serializer_class = SourceSerializer

        def perform_create(self, serializer):
            serializer.save(owner=self.request.user)

    class OtherViewSet(viewsets.ModelViewSet):
        queryset = Other.objects.all()
        serializer_class = OtherSerializer

        def perform_create(self, serializer):
            serializer.save(owner=self.request.user)
    """
    files = project(views, router("SourceViewSet", "OtherViewSet"))
    files["app/models.py"] = MODELS + "\n    class Other(models.Model):\n        pass\n"
    files["app/serializers.py"] = LAYERED
    files["app/signals.py"] = SIGNALS
    report = check(
        files,
        {
            **crud("SourceViewSet", ("create", "update", "partial_update")),
            **crud("OtherViewSet", ()),
        },
    )
    created = next(e for e in report.endpoints if e.handler == "SourceViewSet.create")
    [dispatch] = [e for e in created.evidence if e.kind == "dispatch"]
    assert dispatch.via[1:4] == (
        "app/views.py:SourceViewSet.perform_create",
        "app/serializers.py:LoggedSerializer.save",
        "app/serializers.py:TaggedSerializer.create",
    )
    assert dispatch.via[4].startswith("app/signals.py:source_saved (post_save receiver")


def test_super_in_a_plain_mixin_follows_the_routed_class_mro_into_drf(check):
    """``class UpdateMixin: def update(...): super().update(...)`` has no DRF base itself;
    for a routed ``UpdateMixin, ModelViewSet`` class, ``super()`` is DRF's ``update``, which
    runs the class's ``perform_update``."""
    views = """
    from rest_framework import viewsets
    from app.models import Source
    from app.serializers import CalmSerializer
    from app.tasks import crunch

    class UpdateMixin:
        def update(self, request, *args, **kwargs):
            super().update(request, *args, **kwargs)
            return None

    class SourceViewSet(UpdateMixin, viewsets.ModelViewSet):
        queryset = Source.objects.all()
        serializer_class = CalmSerializer

        def perform_update(self, serializer):
            crunch.delay(serializer.save().pk)

    class QuietViewSet(UpdateMixin, viewsets.ModelViewSet):
        queryset = Source.objects.all()
        serializer_class = CalmSerializer
    """
    report = check(
        project(views, router("SourceViewSet", "QuietViewSet")),
        {
            **crud("SourceViewSet", ("update", "partial_update")),
            **crud("QuietViewSet", ()),
        },
    )
    updated = next(e for e in report.endpoints if e.handler == "SourceViewSet.update")
    assert updated.file == "app/views.py"


def test_drf_save_runs_create_for_a_new_serializer_and_update_for_a_bound_one(check):
    """DRF's ``BaseSerializer.save()`` runs ``update()`` when the serializer was made with an
    instance and ``create()`` otherwise; ``CreateModelMixin`` makes it from the data alone,
    ``UpdateModelMixin`` with the object. So a serializer whose ``create()`` dispatches makes
    only ``create`` offloaded, and one whose ``update()`` dispatches only
    ``update``/``partial_update`` (before, both hooks were taken for every ``save()``)."""
    serializers = """
    from django.db import transaction
    from rest_framework import serializers
    from app.models import Source
    from app.tasks import crunch

    class ExportSerializer(serializers.ModelSerializer):
        class Meta:
            model = Source

        def create(self, validated_data):
            row = Source.objects.create(**validated_data)
            transaction.on_commit(lambda: crunch.delay(row.pk))
            return row

    class InviteSerializer(serializers.ModelSerializer):
        class Meta:
            model = Source

        def update(self, instance, validated_data):
            crunch.delay(instance.pk)
            return instance
    """
    views = """
    from rest_framework import viewsets
    from app.models import Source
    from app.serializers import ExportSerializer, InviteSerializer

    class ExportViewSet(viewsets.ModelViewSet):
        queryset = Source.objects.all()
        serializer_class = ExportSerializer

    class InviteViewSet(viewsets.ModelViewSet):
        queryset = Source.objects.all()
        serializer_class = InviteSerializer
    """
    files = project(views, router("ExportViewSet", "InviteViewSet"))
    files["app/serializers.py"] = serializers
    check(
        files,
        {
            **crud("ExportViewSet", ("create",)),
            **crud("InviteViewSet", ("update", "partial_update")),
        },
    )


def test_a_view_that_makes_its_serializer_picks_the_hook_by_whether_it_gave_an_instance(check):
    """A project ``create()`` making ``self.get_serializer(data=...)`` and a
    ``partial_update()`` making ``Serializer(obj, data=..., partial=True)`` then calling
    ``save()``: DRF runs ``create()`` for the first, ``update()`` for the second. A serializer
    made in a way not seen (``**kwargs``) still takes both."""
    serializers = """
    from rest_framework import serializers
    from app.models import Source
    from app.tasks import crunch

    class InviteSerializer(serializers.ModelSerializer):
        class Meta:
            model = Source

        def create(self, validated_data):
            return Source.objects.create(**validated_data)

        def update(self, instance, validated_data):
            crunch.delay(instance.pk)
            return instance

    class BatchSerializer(serializers.Serializer):
        def create(self, validated_data):
            crunch.delay(1)
            return validated_data
    """
    views = """
    from rest_framework import viewsets
    from rest_framework.response import Response
    from app.models import Source
    from app.serializers import BatchSerializer, InviteSerializer

    class InviteViewSet(viewsets.GenericViewSet):
        queryset = Source.objects.all()
        serializer_class = InviteSerializer

        def create(self, request, *args, **kwargs):
            serializer = self.get_serializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            serializer.save()
            return Response(serializer.data)

        def partial_update(self, request, *args, **kwargs):
            invite = self.get_object()
            serializer = InviteSerializer(invite, data=request.data, partial=True)
            serializer.is_valid(raise_exception=True)
            serializer.save()
            return Response(serializer.data)

    class BatchViewSet(viewsets.GenericViewSet):
        queryset = Source.objects.all()
        serializer_class = BatchSerializer

        def create(self, request, *args, **kwargs):
            serializer = BatchSerializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            serializer.save()
            return Response(serializer.data)

        def partial_update(self, request, *args, **kwargs):
            serializer = self.get_serializer(self.get_object(), data=request.data)
            serializer.is_valid(raise_exception=True)
            serializer.save()
            return Response(serializer.data)

        def update(self, request, *args, **kwargs):
            serializer = self.get_serializer(**self.serializer_kwargs(request))
            serializer.save()
            return Response(serializer.data)

        def serializer_kwargs(self, request):
            return {"data": request.data}
    """
    files = project(views, router("InviteViewSet", "BatchViewSet"))
    files["app/serializers.py"] = serializers
    check(
        files,
        {
            "InviteViewSet.create": ("inline", False),
            "InviteViewSet.partial_update": ("offloaded", False),
            "BatchViewSet.create": ("offloaded", False),
            "BatchViewSet.partial_update": ("inline", False),
            "BatchViewSet.update": ("offloaded", False),
        },
    )


def test_a_project_serializer_base_s_update_saves_the_instance_of_the_serializer_s_model(check):
    """PATTERNS.md item 19: DRF's ``save()`` calls ``update(self.instance, data)`` with the
    view's object, an instance of the serializer's ``Meta.model``, so ``instance.save()`` in
    a project base's ``update`` fires that model's receivers, and only that model's."""
    serializers = """
    from django.db.models import Model
    from rest_framework import serializers
    from app.models import Other, Source

    class ModelSerializer(serializers.ModelSerializer):
        def update(self, instance: Model, validated_data):
            for attr, value in validated_data.items():
                setattr(instance, attr, value)
            instance.save()
            return instance

    class SourceSerializer(ModelSerializer):
        class Meta:
            model = Source

    class OtherSerializer(ModelSerializer):
        class Meta:
            model = Other
    """
    views = """
    from rest_framework import viewsets
    from app.models import Other, Source
    from app.serializers import OtherSerializer, SourceSerializer

    class SourceViewSet(viewsets.ModelViewSet):
        queryset = Source.objects.all()
        serializer_class = SourceSerializer

    class OtherViewSet(viewsets.ModelViewSet):
        queryset = Other.objects.all()
        serializer_class = OtherSerializer
    """
    files = project(views, router("SourceViewSet", "OtherViewSet"))
    files["app/models.py"] = MODELS + "\n    class Other(models.Model):\n        pass\n"
    files["app/serializers.py"] = serializers
    files["app/signals.py"] = SIGNALS
    report = check(
        files,
        {
            # create() is DRF's own ModelSerializer.create: it saves a Source too
            **crud("SourceViewSet", ("create", "update", "partial_update")),
            **crud("OtherViewSet", ()),
        },
    )
    updated = next(e for e in report.endpoints if e.handler == "SourceViewSet.update")
    [dispatch] = [e for e in updated.evidence if e.kind == "dispatch"]
    assert "app/serializers.py:ModelSerializer.update" in dispatch.via
