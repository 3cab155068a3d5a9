"""Shapes round 18 found read wrong (PATTERNS.md items 196-). Snippets written for the audit,
not copied from a project."""

from __future__ import annotations


def test_a_child_process_the_request_ends_is_not_background(check):
    """Item 196: a subprocess (or a multiprocessing.Process) the request terminates or
    kills does not outlive the response: inline, heavy for a subprocess. One never ended
    stays in the background."""
    check(
        {
            "app.py": """
            import multiprocessing
            import subprocess
            from flask import Flask

            app = Flask(__name__)

            def version():
                proc = subprocess.Popen(["gpg", "--version"], stdout=subprocess.PIPE)
                out = proc.stdout.read()
                proc.terminate()
                return out

            def work():
                return 1

            @app.get("/terminated")
            def terminated():
                return version()

            @app.get("/killed")
            def killed():
                proc = subprocess.Popen(["gpg", "--list-keys"], stdout=subprocess.PIPE)
                first = proc.stdout.readline()
                proc.kill()
                return first

            @app.get("/process")
            def process():
                worker = multiprocessing.Process(target=work)
                worker.start()
                worker.terminate()
                return "ok"

            @app.get("/left")
            def left():
                subprocess.Popen(["gpg", "--refresh-keys"])
                return "started"
            """
        },
        {
            "terminated": ("inline", True),
            "killed": ("inline", True),
            "process": ("inline", False),
            "left": ("inprocess_background", False),
        },
    )


STORAGE_MODELS = """
import subprocess
import django_rq
from django.db import models


def check_bucket(bucket):
    pass


class Storage(models.Model):
    def validate_connection(self):
        subprocess.run(["true"])

    class Meta:
        abstract = True


class S3Mixin(models.Model):
    bucket = models.TextField()

    def validate_connection(self):
        django_rq.get_queue("default").enqueue(check_bucket, self.bucket)

    class Meta:
        abstract = True


class LocalMixin(models.Model):
    path = models.TextField()

    def validate_connection(self):
        return bool(self.path)

    class Meta:
        abstract = True


class ExportStorage(Storage):
    pass


class S3ExportStorage(S3Mixin, ExportStorage):
    pass
"""
STORAGE_SERIALIZERS = """
from rest_framework import serializers
from app.models import ExportStorage, S3ExportStorage


class ExportStorageSerializer(serializers.ModelSerializer):
    class Meta:
        model = ExportStorage
        fields = "__all__"


class S3ExportStorageSerializer(ExportStorageSerializer):
    class Meta:
        model = S3ExportStorage
        fields = "__all__"


class InheritedMetaSerializer(S3ExportStorageSerializer):
    pass
"""
STORAGE_API = """
from django.urls import path
from rest_framework import generics
from rest_framework.response import Response
from app.serializers import (
    ExportStorageSerializer,
    InheritedMetaSerializer,
    S3ExportStorageSerializer,
)


class StorageValidateAPI(generics.CreateAPIView):
    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        storage = self.serializer_class.Meta.model(**serializer.validated_data)
        storage.validate_connection()
        return Response()


class ExportValidateAPI(StorageValidateAPI):
    serializer_class = ExportStorageSerializer


class S3ExportValidateAPI(StorageValidateAPI):
    serializer_class = S3ExportStorageSerializer


class InheritedValidateAPI(StorageValidateAPI):
    serializer_class = InheritedMetaSerializer


urlpatterns = [
    path("export/validate", ExportValidateAPI.as_view()),
    path("export/s3/validate", S3ExportValidateAPI.as_view()),
    path("export/inherited/validate", InheritedValidateAPI.as_view()),
]
"""


def test_a_model_read_through_a_serializers_meta_keeps_its_class(check):
    """Item 197: ``self.serializer_class.Meta.model(...)`` is the model the routed view's
    serializer names (its own ``Meta``, or the one it inherits), so the method called on
    the instance is that model's: the S3 mixin's enqueue, the base's subprocess. It was
    guessed among the project's methods of that name (the base's no-op, inline)."""
    check(
        {
            "app/models.py": STORAGE_MODELS,
            "app/serializers.py": STORAGE_SERIALIZERS,
            "app/api.py": STORAGE_API,
        },
        {
            "ExportValidateAPI.post": ("inline", True),
            "S3ExportValidateAPI.post": ("offloaded", False),
            "InheritedValidateAPI.post": ("offloaded", False),
        },
    )


# a model whose post_save receiver enqueues, and its plain ModelSerializer (items 198, 199)
HOST_PROJECT = {
    "app/tasks.py": """
    from celery import shared_task

    @shared_task
    def gather_facts(pk):
        pass
    """,
    "app/models.py": """
    from django.db import models
    from django.db.models.signals import post_save
    from django.dispatch import receiver
    from app.tasks import gather_facts

    class Host(models.Model):
        name = models.CharField(max_length=20)

    @receiver(post_save, sender=Host)
    def on_host_saved(sender, instance, created, **kwargs):
        gather_facts.delay(instance.pk)
    """,
    "app/serializers.py": """
    from rest_framework import serializers
    from app.models import Host

    class HostSerializer(serializers.ModelSerializer):
        class Meta:
            model = Host
            fields = ["name"]
    """,
}


def test_a_bare_callable_annotation_does_not_shadow_the_framework_method(check):
    """Item 198: ``get_serializer: Callable`` in a mixin first in a viewset's bases is a type
    hint, not a definition: DRF's ``get_serializer`` still builds the viewset's serializer,
    whose save fires the receiver that enqueues. It was read as an instance of ``Callable``
    (inline, certain). An annotation naming a class still types the attribute."""
    check(
        {
            **HOST_PROJECT,
            "app/api.py": """
            from typing import Any, Callable
            from rest_framework import viewsets
            from rest_framework.routers import DefaultRouter
            from app.models import Host
            from app.serializers import HostSerializer

            class SuggestionMixin:
                get_serializer: Callable
                get_queryset: Callable
                request: Any

            class HostViewSet(SuggestionMixin, viewsets.ModelViewSet):
                queryset = Host.objects.all()
                serializer_class = HostSerializer
                http_method_names = ["post"]

            router = DefaultRouter()
            router.register("hosts", HostViewSet)
            urlpatterns = router.urls
            """,
        },
        {"HostViewSet.create": ("offloaded", False)},
    )


def test_a_serializer_chosen_at_run_time_is_said_not_seen(run_audit):
    """Item 199: a view's own ``get_serializer_class()`` returning a class looked up in a
    table at run time (falling back to ``super()``'s on some path or not): the inherited
    ``serializer.save()`` of create/update is listed as an unresolved call at the getter,
    and the endpoint is ``likely``, not ``certain``. A view whose serializer class is read
    keeps its certain answer."""
    report = run_audit(
        {
            **HOST_PROJECT,
            "app/api.py": """
            from rest_framework import viewsets
            from rest_framework.routers import DefaultRouter
            from app.models import Host
            from app.serializers import HostSerializer

            class SerializerMixin:
                serializer_classes = None

                def get_serializer_class(self):
                    table = dict(self.serializer_classes or {})
                    found = table.get(self.action) or table.get("default")
                    return found

            class FallbackMixin:
                serializer_classes = None

                def get_serializer_class(self):
                    found = dict(self.serializer_classes or {}).get(self.action)
                    if found is None:
                        found = super().get_serializer_class()
                    return found

            class FallbackViewSet(FallbackMixin, viewsets.ModelViewSet):
                queryset = Host.objects.all()
                serializer_classes = {"create": HostSerializer}
                http_method_names = ["post"]

            class TableViewSet(SerializerMixin, viewsets.ModelViewSet):
                queryset = Host.objects.all()
                serializer_classes = {"default": HostSerializer}
                http_method_names = ["post", "put"]

            class PlainViewSet(viewsets.ModelViewSet):
                queryset = Host.objects.all()
                serializer_class = HostSerializer
                http_method_names = ["post"]

            router = DefaultRouter()
            router.register("table", TableViewSet)
            router.register("plain", PlainViewSet)
            router.register("fallback", FallbackViewSet)
            urlpatterns = router.urls
            """,
        }
    )
    found = {
        e.handler: (e.status, e.confidence, [(u.file, u.line, u.call) for u in e.unresolved_calls])
        for e in report.endpoints
    }
    getter = ("app/api.py", 9, "self.get_serializer().save()")
    assert found == {
        "TableViewSet.create": ("inline", "likely", [getter]),
        "TableViewSet.update": ("inline", "likely", [getter]),
        "PlainViewSet.create": ("offloaded", "certain", []),
        "FallbackViewSet.create": ("inline", "likely", [("app/api.py", 17, getter[2])]),
    }
    (unseen,) = next(
        e for e in report.endpoints if e.handler == "TableViewSet.create"
    ).unresolved_calls
    assert "get_serializer_class()" in unseen.reason


def test_serializer_getters_read_by_action_or_past_a_guarded_attribute(check):
    """Item 199 (second part): ``return A if self.action in (...) else B`` chooses by action
    as the ``if`` statement form does, and a getter whose first return is an attribute no
    class sets (guarded by ``try``) still returns the class of its second."""
    check(
        {
            "app/tasks.py": """
            from celery import shared_task

            @shared_task
            def gather_facts(pk):
                pass
            """,
            "app/models.py": """
            from django.db import models

            from app.tasks import gather_facts

            class Host(models.Model):
                name = models.CharField(max_length=20)
            """,
            "app/serializers.py": """
            from rest_framework import serializers
            from app.models import Host
            from app.tasks import gather_facts

            class HostCreateSerializer(serializers.ModelSerializer):
                class Meta:
                    model = Host
                    fields = ["name"]

                def create(self, validated_data):
                    host = super().create(validated_data)
                    gather_facts.delay(host.pk)
                    return host

            class HostSerializer(serializers.ModelSerializer):
                class Meta:
                    model = Host
                    fields = ["name"]
            """,
            "app/api.py": """
            from rest_framework import mixins, viewsets
            from rest_framework.routers import DefaultRouter
            from app.models import Host
            from app.serializers import HostCreateSerializer, HostSerializer

            class ByActionViewSet(viewsets.ModelViewSet):
                queryset = Host.objects.all()
                http_method_names = ["post", "get"]

                def get_serializer_class(self):
                    return HostCreateSerializer if self.action in ["create"] else HostSerializer

            class GuardedViewSet(mixins.CreateModelMixin, viewsets.GenericViewSet):
                queryset = Host.objects.all()
                serializer_class = HostCreateSerializer

                def get_serializer_class(self):
                    try:
                        if self.request.user.is_staff and self.admin_serializer_class is not None:
                            return self.admin_serializer_class
                    except AttributeError:
                        pass
                    return self.serializer_class

            router = DefaultRouter()
            router.register("by-action", ByActionViewSet)
            router.register("guarded", GuardedViewSet)
            urlpatterns = router.urls
            """,
        },
        {
            "ByActionViewSet.create": ("offloaded", False),
            "ByActionViewSet.list": ("inline", False),
            "ByActionViewSet.retrieve": ("inline", False),
            "GuardedViewSet.create": ("offloaded", False),
        },
    )


def test_a_signal_sent_for_a_class_reaches_only_that_classs_receivers(check):
    """Item 201: ``post_save.send(sender=cls, ...)`` in a helper the caller gives a class
    runs the receivers connected for that class (and those for every sender), not every
    post_save receiver of the project; a sender the audit cannot read keeps them all."""
    check(
        {
            "app/tasks.py": """
            from celery import shared_task

            @shared_task
            def sync_host(pk):
                pass
            """,
            "app/models.py": """
            from django.db import models
            from django.db.models.signals import post_save
            from django.dispatch import receiver
            from app.tasks import sync_host

            class Binding(models.Model):
                name = models.CharField(max_length=20)

            class Host(models.Model):
                name = models.CharField(max_length=20)

            @receiver(post_save, sender=Host)
            def on_host_saved(sender, instance, created, **kwargs):
                sync_host.delay(instance.pk)

            def bulk_create_with_signal(cls, items):
                cls.objects.bulk_create(items)
                for item in items:
                    post_save.send(sender=cls, instance=item, created=True)

            def resend(items):
                for item in items:
                    post_save.send(item.__class__, instance=item, created=True)
            """,
            "app/views.py": """
            from django.http import JsonResponse
            from django.urls import path
            from app.models import Binding, Host, bulk_create_with_signal, resend

            def bind(request):
                bulk_create_with_signal(Binding, [Binding(name="x")])
                return JsonResponse({})

            def hosts(request):
                bulk_create_with_signal(Host, [Host(name="x")])
                return JsonResponse({})

            def direct(request):
                from django.db.models.signals import post_save
                post_save.send(sender=Binding, instance=None, created=False)
                return JsonResponse({})

            def unknown(request):
                resend([Binding(name="y")])
                return JsonResponse({})

            urlpatterns = [
                path("bind/", bind),
                path("hosts/", hosts),
                path("direct/", direct),
                path("unknown/", unknown),
            ]
            """,
        },
        {
            "bind": ("inline", False),
            "hosts": ("offloaded", False),
            "direct": ("inline", False),
            "unknown": ("offloaded", False),
        },
    )


def test_a_model_given_to_a_url_helper_is_not_a_view(run_audit):
    """Item 202: ``meta_path(Part)`` builds a redirect for the model it is given; the model
    is not a view, so its ``delete()`` is no DELETE endpoint; the view beside it keeps its
    endpoint."""
    report = run_audit(
        {
            "proj/__init__.py": "",
            "proj/settings.py": 'ROOT_URLCONF = "proj.urls"\n',
            "proj/models.py": """
            from django.db import models

            class Part(models.Model):
                name = models.CharField(max_length=20)

                def delete(self, *args, **kwargs):
                    return super().delete(*args, **kwargs)
            """,
            "proj/views.py": """
            from django.views.generic import RedirectView, View

            class MetadataRedirectView(RedirectView):
                model_name = None

            class PartDetail(View):
                def get(self, request, pk):
                    return None
            """,
            "proj/urls.py": """
            from django.urls import include, path
            from proj.models import Part
            from proj.views import MetadataRedirectView, PartDetail

            def meta_path(model):
                return path(
                    "metadata/", MetadataRedirectView.as_view(model_name=model._meta.model_name)
                )

            urlpatterns = [
                path("part/<int:pk>/", include([meta_path(Part), path("", PartDetail.as_view())])),
            ]
            """,
        }
    )
    # the redirect view the helper names itself is routed under the call's prefix, as a
    # builder's views are (item 244); the model is still no view
    assert [(e.handler, e.methods, e.route) for e in report.endpoints] == [
        ("MetadataRedirectView.get", ("GET",), "/part/<int:pk>/"),
        ("PartDetail.get", ("GET",), "/part/<int:pk>/"),
    ]
    assert report.unrecognized == []


def test_rows_of_drfs_filtered_queryset_keep_the_views_model(check):
    """Item 203: ``for item in self.filter_queryset(self.get_queryset()): item.delete()``
    (and over ``paginate_queryset``) deletes rows of the view's model, whose receiver
    enqueues."""
    check(
        {
            "app/tasks.py": """
            from celery import shared_task

            @shared_task
            def gone(pk):
                pass
            """,
            "app/models.py": """
            from django.db import models
            from django.db.models.signals import post_delete
            from django.dispatch import receiver
            from app.tasks import gone

            class Address(models.Model):
                name = models.CharField(max_length=20)

            @receiver(post_delete, sender=Address)
            def on_delete(sender, instance, **kwargs):
                gone.delay(instance.pk)
            """,
            "app/api.py": """
            from django.urls import path
            from rest_framework import generics
            from rest_framework.response import Response
            from app.models import Address

            class BulkDeleteMixin:
                def get_bulk_queryset(self):
                    return self.filter_queryset(self.get_queryset())

                def delete(self, request, *args, **kwargs):
                    for item in self.get_bulk_queryset():
                        item.delete()
                    return Response(status=204)

            class PageDeleteMixin:
                def delete(self, request, *args, **kwargs):
                    for item in self.paginate_queryset(self.get_queryset()):
                        item.delete()
                    return Response(status=204)

            class AddressList(BulkDeleteMixin, generics.ListAPIView):
                queryset = Address.objects.all()

            class AddressPages(PageDeleteMixin, generics.ListAPIView):
                queryset = Address.objects.all()

            urlpatterns = [path("a/", AddressList.as_view()), path("b/", AddressPages.as_view())]
            """,
        },
        {
            "AddressList.delete": ("offloaded", False),
            "AddressList.get": ("inline", False),
            "AddressPages.delete": ("offloaded", False),
            "AddressPages.get": ("inline", False),
        },
    )


def test_each_serializer_a_views_getter_may_return_is_saved(check):
    """Item 204: a ``get_serializer()`` override returning an export serializer on one
    branch and ``super().get_serializer(...)`` on the other: create and update may save
    either, and the model serializer's save fires the receiver that enqueues."""
    check(
        {
            "app/tasks.py": """
            from celery import shared_task

            @shared_task
            def notify(name, pk):
                pass
            """,
            "app/models.py": """
            from django.db import models
            from django.db.models.signals import post_save
            from django.dispatch import receiver
            from app.tasks import notify

            class Unit(models.Model):
                name = models.CharField(max_length=20)

            @receiver(post_save, sender=Unit)
            def after_save(sender, instance, created, **kwargs):
                notify.delay(sender.__name__, instance.pk)
            """,
            "app/api.py": """
            from rest_framework import serializers, viewsets
            from rest_framework.routers import DefaultRouter
            from app.models import Unit

            class UnitSerializer(serializers.ModelSerializer):
                class Meta:
                    model = Unit
                    fields = ["name"]

            class ExportOptionsSerializer(serializers.Serializer):
                fmt = serializers.CharField()

            class DataExportViewMixin:
                def get_serializer(self, *args, **kwargs):
                    if self.request.method == "GET" and "export" in self.request.query_params:
                        return ExportOptionsSerializer(*args, **kwargs)
                    return super().get_serializer(*args, **kwargs)

            class UnitViewSet(DataExportViewMixin, viewsets.ModelViewSet):
                queryset = Unit.objects.all()
                serializer_class = UnitSerializer
                http_method_names = ["get", "post", "put"]

            router = DefaultRouter()
            router.register("units", UnitViewSet)
            urlpatterns = router.urls
            """,
        },
        {
            "UnitViewSet.create": ("offloaded", False),
            "UnitViewSet.update": ("offloaded", False),
            "UnitViewSet.list": ("inline", False),
            "UnitViewSet.retrieve": ("inline", False),
        },
    )


def test_a_router_included_into_the_router_a_helper_is_given(run_audit):
    """Item 205: ``def include_migration_router(target_router):
    target_router.include_router(migration_router)``, called with ``router_v1`` (itself
    under ``/api``): the routes are under ``/api/v1``, also from a caller in another module
    and for a keyword argument; a helper nobody calls mounts at the root."""
    report = run_audit(
        {
            "app/__init__.py": "",
            "app/migration.py": """
            from fastapi import APIRouter

            migration_router = APIRouter(prefix="/migration")
            deploy_router = APIRouter(prefix="/deployments")
            orphan_router = APIRouter(prefix="/orphan")

            @migration_router.get("/status")
            async def status():
                return {}

            @deploy_router.post("/")
            async def deploy():
                return {}

            @orphan_router.get("/")
            async def orphan():
                return {}
            """,
            "app/helpers.py": """
            from fastapi import APIRouter
            from app.migration import deploy_router, migration_router, orphan_router

            def include_migration_router(target_router: APIRouter) -> None:
                target_router.include_router(migration_router)

            def include_deploy_router(*, parent: APIRouter) -> None:
                parent.include_router(deploy_router)

            def never_called(target: APIRouter) -> None:
                target.include_router(orphan_router)
            """,
            "app/router.py": """
            from fastapi import APIRouter
            from app.helpers import include_deploy_router, include_migration_router

            router = APIRouter(prefix="/api")
            router_v1 = APIRouter(prefix="/v1")
            include_migration_router(router_v1)
            include_deploy_router(parent=router_v1)
            router.include_router(router_v1)
            """,
            "app/main.py": """
            from fastapi import FastAPI
            from app.router import router

            app = FastAPI()
            app.include_router(router)
            """,
        }
    )
    assert sorted((e.handler, e.route) for e in report.endpoints) == [
        ("deploy", "/api/v1/deployments/"),
        ("orphan", "/orphan/"),
        ("status", "/api/v1/migration/status"),
    ]


def test_a_route_summed_with_a_constant_of_another_module(run_audit):
    """Item 206: ``"x/" + views.SUB + "/y/"`` and ``r"^data/" + settings.AVATAR_PATH +
    ...``: the constant's value where the project holds it, else the name as a
    placeholder; never the root route."""
    report = run_audit(
        {
            "proj/__init__.py": "",
            "proj/settings.py": 'ROOT_URLCONF = "proj.urls"\nAVATAR_PATH = "avatars"\n',
            "proj/views.py": """
            SUB = "sub"

            def items(request):
                return None

            def avatar(request, path):
                return None

            def other(request):
                return None
            """,
            "proj/urls.py": """
            from django.conf import settings
            from django.urls import path, re_path
            from proj import views
            from proj.elsewhere import COMPUTED

            urlpatterns = [
                path("x/" + views.SUB + "/y/", views.items),
                re_path(r"^data/" + settings.AVATAR_PATH + "/(?P<path>.*)$", views.avatar),
                path("z/" + COMPUTED + "/", views.other),
            ]
            """,
        }
    )
    assert sorted((e.handler, e.route) for e in report.endpoints) == [
        ("avatar", "/data/avatars/(?P<path>.*)"),
        ("items", "/x/sub/y/"),
        ("other", "/z/{COMPUTED}/"),
    ]


def test_a_class_routed_with_as_view_on_a_package_view_not_named_like_one(run_audit):
    """Item 207: ``GeoJsonLocationList.as_view()`` whose base is an installed package's
    ``...List`` class: a library-served view (``likely`` inline), not a registration left
    unread. Item 208: such a class answers the methods its ``http_method_names`` lists."""
    report = run_audit(
        {
            "proj/__init__.py": "",
            "proj/settings.py": 'ROOT_URLCONF = "proj.urls"\n',
            "proj/views.py": """
            from openwisp_controller.geo.api.views import GeoJsonLocationList as BaseGeoJson
            from openwisp_utils.mixins import ProtectedAPIMixin

            class GeoJsonLocationList(ProtectedAPIMixin, BaseGeoJson):
                pass

            class MonitoringDeviceList(BaseGeoJson):
                http_method_names = ["get", "head", "options"]
            """,
            "proj/urls.py": """
            from django.urls import path
            from proj import views

            urlpatterns = [
                path("api/v1/geojson/", views.GeoJsonLocationList.as_view()),
                path("api/v1/devices/", views.MonitoringDeviceList.as_view()),
            ]
            """,
        }
    )
    assert [(e.handler, e.methods, e.route, e.status) for e in report.endpoints] == [
        ("GeoJsonLocationList", ("ANY",), "/api/v1/geojson/", "inline"),
        ("MonitoringDeviceList", ("GET",), "/api/v1/devices/", "inline"),
    ]
    assert {e.confidence for e in report.endpoints} == {"likely"}
    assert report.unrecognized == []


def test_a_view_loaded_by_a_path_held_in_a_setting_is_said_not_read(run_audit):
    """Item 209: ``import_string(settings.TOKENS_VIEW).as_view()`` in a URL entry is not a
    library's view named ``import_string()``: no endpoint, a registration not understood."""
    report = run_audit(
        {
            "proj/__init__.py": "",
            "proj/settings.py": 'ROOT_URLCONF = "proj.urls"\nTOKENS_VIEW = "proj.views.Tokens"\n',
            "proj/views.py": """
            import requests
            from django.views.generic import View

            class Tokens(View):
                def post(self, request):
                    return requests.post("https://example.com", timeout=5)
            """,
            "proj/urls.py": """
            from django.conf import settings
            from django.urls import path
            from django.utils.module_loading import import_string

            urlpatterns = [
                path("tokens/", import_string(settings.TOKENS_VIEW).as_view()),
            ]
            """,
        }
    )
    assert report.endpoints == []
    assert [(u.file, u.line, u.reason) for u in report.unrecognized] == [
        ("proj/urls.py", 6, "the view is what a call returns at run time")
    ]


def test_self_in_a_function_nested_in_a_method_is_the_methods_self(check):
    """Item 210: ``def post(self): def handle_one(p): return self.start(p)``: the closure's
    ``self`` is the method's, so ``self.start`` (which enqueues) runs, and for a routed
    subclass its override does; a nested function taking its own ``self`` parameter is
    left as it is."""
    check(
        {
            "tasks.py": """
            from celery import shared_task

            @shared_task
            def work(p):
                pass
            """,
            "app.py": """
            from flask import Flask
            from flask.views import MethodView
            from tasks import work

            app = Flask(__name__)

            class Jobs(MethodView):
                def post(self):
                    def handle_one(payload):
                        return self.start(payload)

                    return handle_one({"a": 1})

                def put(self):
                    class Local:
                        def start(self, payload):
                            return payload

                    def run(self, payload):
                        return self.start(payload)

                    return run(Local(), {"a": 1})

                def start(self, payload):
                    work.delay(payload)
                    return "ok"

            class Export(MethodView):
                def get(self):
                    def rows():
                        yield self.build_row()

                    return list(rows())

                def build_row(self):
                    return None

            class JobExport(Export):
                def build_row(self):
                    work.delay("row")

            app.add_url_rule("/jobs", view_func=Jobs.as_view("jobs"))
            app.add_url_rule("/export", view_func=JobExport.as_view("export"))
            """,
        },
        {
            "Jobs.post": ("offloaded", False),
            "Jobs.put": ("inline", False),
            "JobExport.get": ("offloaded", False),
        },
    )
