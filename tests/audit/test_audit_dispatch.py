"""One snippet per Celery dispatch pattern, and per place real projects hide dispatch.

Nothing here runs Celery or talks to a broker: every snippet is source text of an audited
project, written to files and read by the audit (static analysis). The Celery apps, eager-mode
settings and dispatch calls inside the strings are what the audit must recognise.
"""

from __future__ import annotations

import pytest

TASKS = """
    from celery import Celery, shared_task

    celery_app = Celery("proj")

    @shared_task
    def crunch(x):
        return x

    @celery_app.task(bind=True)
    def report(self, x):
        return x
"""


def fastapi(body: str, imports: str = "from tasks import crunch, report") -> str:
    return f"""
from fastapi import APIRouter
{imports}

router = APIRouter()

@router.post("/x")
def handler(x: int):
{body}
"""


def test_delay_apply_async_and_send_task_are_offloaded(check):
    for body in (
        "    return crunch.delay(x)",
        "    return report.apply_async(args=[x], countdown=5)",
        "    from tasks import celery_app\n    celery_app.send_task('proj.crunch')",
    ):
        check({"tasks.py": TASKS, "api.py": fastapi(body)}, {"handler": ("offloaded", False)})


def test_signatures_applied_or_in_canvas_are_offloaded(check):
    imports = "from celery import chain, chord, group, signature\nfrom tasks import crunch, report"
    for body in (
        "    crunch.s(x).delay()",
        "    sig = crunch.si(x)\n    sig.apply_async()",
        "    crunch.s(x)()",
        "    chain(crunch.s(x), report.s()).apply_async()",
        "    workflow = group(crunch.s(i) for i in range(3))\n    workflow()",
        "    chord([crunch.s(1), crunch.s(2)])(report.s())",
        "    (crunch.s(x) | report.s()).delay()",
        "    signature('proj.crunch', args=(x,)).delay()",
    ):
        check(
            {"tasks.py": TASKS, "api.py": fastapi(body, imports)}, {"handler": ("offloaded", False)}
        )


@pytest.mark.parametrize(
    "body",
    [
        # Celery 5.4's Django task class: enqueued once the transaction commits
        "    crunch.delay_on_commit(x)",
        "    crunch.apply_async_on_commit(args=[x])",
        "    run = crunch.delay_on_commit\n    run(x)",
        # one task over many arguments
        "    crunch.map([1, 2]).delay()",
        "    crunch.starmap([(1,), (2,)]).apply_async()",
        "    crunch.chunks([(1,), (2,)], 1).apply_async()",
        "    crunch.subtask((x,)).apply_async()",
        # a signature changed before it is applied
        "    crunch.s(x).set(countdown=3).delay()",
        "    crunch.s(x).on_error(report.s()).link(report.s()).apply_async()",
        "    sig = crunch.si(x).set(queue='slow')\n    sig.delay()",
    ],
)
def test_more_of_celerys_ways_to_apply_a_task_are_offloaded(check, body):
    check({"tasks.py": TASKS, "api.py": fastapi(body)}, {"handler": ("offloaded", False)})


@pytest.mark.parametrize(
    "body",
    [
        "    import asyncio\n    asyncio.run(asyncio.to_thread(crunch.delay, x))",
        "    from starlette.concurrency import run_in_threadpool\n"
        "    run_in_threadpool(crunch.apply_async, args=[x])",
        "    from asgiref.sync import sync_to_async\n    sync_to_async(crunch.delay)(x)",
    ],
)
def test_a_dispatch_handed_to_a_runner_is_offloaded(check, body):
    check({"tasks.py": TASKS, "api.py": fastapi(body)}, {"handler": ("offloaded", False)})


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("    import tasks\n    getattr(tasks, 'crunch').delay(x)", "offloaded"),
        ("    run = getattr(crunch, 'delay', None)\n    run(x)", "offloaded"),
        ("    import api\n    getattr(api, 'helper').delay(x)", "inline"),  # not a task
        # a name chosen at run time: whatever it names cannot be told
        ("    import tasks\n    getattr(tasks, f'{x}_task').delay(x)", "unresolved"),
    ],
)
def test_getattr_with_a_literal_name_is_that_attribute(check, body, status):
    api = fastapi(body) + "\ndef helper(x):\n    return x\n"
    check({"tasks.py": TASKS, "api.py": api}, {"handler": (status, False)})


def test_a_plain_function_handed_to_a_runner_is_inline_work(check):
    body = "    import asyncio\n    asyncio.run(asyncio.to_thread(len, [x]))"
    check({"tasks.py": TASKS, "api.py": fastapi(body)}, {"handler": ("inline", False)})


@pytest.mark.parametrize(
    "body",
    [
        "    return crunch.map([1, 2])",  # a signature never applied
        "    return crunch.s(x).set(countdown=3)",
    ],
)
def test_signatures_not_applied_or_not_of_a_task_are_not_dispatch(check, body):
    check({"tasks.py": TASKS, "api.py": fastapi(body)}, {"handler": ("inline", False)})


def test_a_signature_that_is_never_applied_is_not_dispatch(check):
    check(
        {"tasks.py": TASKS, "api.py": fastapi("    return crunch.s(x)")},
        {"handler": ("inline", False)},
    )


def test_delay_on_something_that_is_not_a_task_is_not_dispatch(check):
    check(
        {
            "api.py": """
            from fastapi import APIRouter

            router = APIRouter()

            class Debouncer:
                def delay(self, seconds):
                    return seconds

            debouncer = Debouncer()

            @router.post("/x")
            def handler():
                debouncer.delay(3)
        """,
        },
        {"handler": ("inline", False)},
    )


def test_reading_a_result_status_is_not_dispatch(check):
    check(
        {
            "tasks.py": TASKS,
            "api.py": fastapi("""    from celery.result import AsyncResult
    from tasks import celery_app
    state = AsyncResult(str(x)).status
    return {"state": state, "other": celery_app.AsyncResult(str(x)).result}"""),
        },
        {"handler": ("inline", False)},
    )


def test_running_a_task_in_process_with_apply_or_a_call_is_inline(check):
    for body in ("    return crunch.apply(args=[x])", "    return crunch(x)"):
        check({"tasks.py": TASKS, "api.py": fastapi(body)}, {"handler": ("inline", False)})


def test_task_classes_and_tasks_built_from_functions(check):
    check(
        {
            "jobs.py": """
            from celery import Task
            from proj.celery import app

            class BaseJob(Task):
                pass

            class Export(BaseJob):
                def run(self, x):
                    return x

            export = Export()

            def _rebuild(x):
                return x

            rebuild = app.task(_rebuild)
        """,
            "proj/celery.py": """
            from celery import Celery
            app = Celery("proj")
        """,
            "api.py": """
            from flask import Flask
            from jobs import export, rebuild

            app = Flask(__name__)

            @app.post("/export")
            def start_export():
                export.delay(1)

            @app.post("/rebuild")
            def start_rebuild():
                rebuild.apply_async((1,))
        """,
        },
        {"start_export": ("offloaded", False), "start_rebuild": ("offloaded", False)},
    )


def test_dispatch_wrappers_and_task_names_from_config(check):
    files = {
        "core/task_queue.py": """
            class TaskClient:
                def submit_callable(self, fn, *args):
                    return self._remote(fn, args)

                def _remote(self, fn, args):
                    return None

            celery_task_client = TaskClient()
        """,
        "external_jobs.py": """
            def run_job(x):
                return x
        """,
        "routes.py": """
            from fastapi import APIRouter
            from core.task_queue import celery_task_client
            from external_jobs import run_job

            router = APIRouter()

            @router.post("/load")
            def load():
                return celery_task_client.submit_callable(print, 1)

            @router.post("/job")
            def job():
                return run_job.delay(1)
        """,
    }
    check(files, {"load": ("inline", False), "job": ("inline", False)})
    check(
        files,
        {"load": ("offloaded", False), "job": ("offloaded", False)},
        dispatch_wrappers=("celery_task_client.submit_callable",),
        task_names=("external_jobs.run_job",),
    )


def test_reachability_through_aliases_self_methods_and_base_classes(check):
    check(
        {
            "tasks.py": TASKS,
            "services/base.py": """
            import tasks as t

            class Base:
                def enqueue(self, x):
                    return t.crunch.delay(x)
        """,
            "services/upload.py": """
            from services.base import Base

            class UploadService(Base):
                def handle(self, x):
                    return self.enqueue(x)
        """,
            "services/__init__.py": """
            from .upload import UploadService as Service
        """,
            "api.py": """
            from flask import Blueprint
            from services import Service as S

            bp = Blueprint("b", __name__)

            @bp.route("/u", methods=["POST"])
            def upload():
                return S().handle(1)
        """,
        },
        {"upload": ("offloaded", False)},
    )


def test_dependency_injected_services_and_factories(check):
    check(
        {
            "tasks.py": TASKS,
            "svc.py": """
            from tasks import crunch

            class Service:
                def go(self, x):
                    return crunch.delay(x)

            class Holder:
                def __init__(self, service: Service):
                    self.service = service

                def run(self, x):
                    return self.service.go(x)

            def get_service() -> Service:
                return Service()

            def make_holder():
                return Holder(Service())
        """,
            "api.py": """
            from typing import Annotated
            from fastapi import APIRouter, Depends
            from svc import Service, get_service, make_holder

            router = APIRouter()

            @router.post("/a")
            def by_depends(svc=Depends(get_service)):
                return svc.go(1)

            @router.post("/b")
            def by_annotation(svc: Annotated[Service, Depends()]):
                return svc.go(1)

            @router.post("/c")
            def by_factory():
                return make_holder().run(1)
        """,
        },
        {
            "by_depends": ("offloaded", False),
            "by_annotation": ("offloaded", False),
            "by_factory": ("offloaded", False),
        },
    )


def test_abstract_service_methods_stand_for_their_implementations(check):
    check(
        {
            "tasks.py": TASKS,
            "svc.py": """
            import abc
            from tasks import crunch

            class Port(abc.ABC):
                @abc.abstractmethod
                def send(self, x):
                    raise NotImplementedError

            class CeleryPort(Port):
                def send(self, x):
                    return crunch.delay(x)
        """,
            "api.py": """
            from fastapi import APIRouter, Depends
            from svc import Port

            router = APIRouter()

            @router.post("/x")
            def handler(port: Port):
                return port.send(1)
        """,
        },
        {"handler": ("offloaded", False)},
    )


DJANGO_URLS = """
    from django.urls import path
    from shop import views

    urlpatterns = [path("orders/", views.create_order)]
"""


def test_model_save_override_fired_by_the_handler_is_followed(check):
    check(
        {
            "shop/urls.py": DJANGO_URLS,
            "shop/tasks.py": TASKS,
            "shop/models.py": """
            from django.db import models
            from shop.tasks import crunch

            class Order(models.Model):
                def save(self, *args, **kwargs):
                    super().save(*args, **kwargs)
                    crunch.delay(self.pk)
        """,
            "shop/views.py": """
            from shop.models import Order

            def create_order(request):
                Order.objects.create(total=1)
        """,
        },
        {"create_order": ("offloaded", False)},
    )


def test_signal_receivers_fired_by_the_handler_writes_are_followed(check):
    check(
        {
            "shop/urls.py": DJANGO_URLS,
            "shop/tasks.py": TASKS,
            "shop/models.py": """
            from django.db import models

            class Order(models.Model):
                pass

            class Note(models.Model):
                pass
        """,
            "shop/signals.py": """
            from django.db.models.signals import post_save
            from django.dispatch import receiver
            from shop.models import Order
            from shop.tasks import crunch

            @receiver(post_save, sender=Order)
            def order_saved(sender, instance, **kwargs):
                crunch.delay(instance.pk)
        """,
            "shop/views.py": """
            from shop.models import Note, Order

            def create_order(request):
                order = Order(total=1)
                order.save()

            def create_note(request):
                Note.objects.create(text="x")
        """,
            "shop/more_urls.py": """
            from django.urls import path
            from shop import views

            urlpatterns = [path("notes/", views.create_note)]
        """,
        },
        {"create_order": ("offloaded", False), "create_note": ("inline", False)},
    )


def test_drf_perform_create_and_serializer_hooks_are_followed(check):
    check(
        {
            "api/tasks.py": TASKS,
            "api/serializers.py": """
            from rest_framework import serializers
            from api.models import Doc
            from api.tasks import report

            class DocSerializer(serializers.ModelSerializer):
                class Meta:
                    model = Doc

                def create(self, validated_data):
                    report.delay(1)
                    return super().create(validated_data)
        """,
            "api/models.py": """
            from django.db import models

            class Doc(models.Model):
                pass
        """,
            "api/views.py": """
            from rest_framework import viewsets
            from api.models import Doc
            from api.serializers import DocSerializer
            from api.tasks import crunch

            class DocViewSet(viewsets.ModelViewSet):
                queryset = Doc.objects.all()
                serializer_class = DocSerializer

                def perform_update(self, serializer):
                    instance = serializer.save()
                    crunch.delay(instance.pk)
        """,
            "api/urls.py": """
            from rest_framework.routers import SimpleRouter
            from api.views import DocViewSet

            router = SimpleRouter()
            router.register("docs", DocViewSet)
            urlpatterns = router.urls
        """,
        },
        {
            "DocViewSet.list": ("inline", False),
            "DocViewSet.create": ("offloaded", False),
            "DocViewSet.retrieve": ("inline", False),
            "DocViewSet.update": ("offloaded", False),
            "DocViewSet.partial_update": ("offloaded", False),
            "DocViewSet.destroy": ("inline", False),
        },
    )


def test_dispatch_guarded_by_a_setting_is_offloaded_and_flagged(run_audit):
    report = run_audit(
        {
            "tasks.py": TASKS,
            "api.py": fastapi("""    from django.conf import settings
    if settings.USE_CELERY:
        crunch.delay(x)
    else:
        crunch(x)"""),
        }
    )
    (endpoint,) = report.endpoints
    assert endpoint.status == "offloaded"
    assert [(e.kind, e.call, e.line) for e in endpoint.evidence] == [
        ("dispatch", "crunch.delay(x)", 10),
        ("setting_guard", "settings.USE_CELERY", 9),
    ]


def test_dispatch_with_an_inline_fallback_is_flagged(run_audit):
    report = run_audit(
        {
            "tasks.py": TASKS,
            "api.py": """
            import asyncio
            from fastapi import APIRouter
            from tasks import crunch

            router = APIRouter()

            async def _impl(job_id):
                return job_id

            @router.post("/trigger")
            async def trigger(job_id: str):
                try:
                    task = crunch.delay(job_id=job_id)
                except Exception:
                    asyncio.create_task(_impl(job_id))
                return {"job_id": job_id}
        """,
        }
    )
    (endpoint,) = report.endpoints
    assert (endpoint.status, endpoint.heavy) == ("offloaded", False)
    assert [(e.kind, e.line) for e in endpoint.evidence] == [
        ("dispatch", 13),
        ("inline_fallback", 15),
    ]


def test_dispatch_only_when_something_failed_is_not_a_normal_path(check):
    check(
        {
            "tasks.py": TASKS,
            "api.py": fastapi("""    import requests
    try:
        return requests.post("https://example.com")
    except Exception:
        crunch.delay(x)"""),
        },
        {"handler": ("inline", True)},
    )


def test_eager_mode_settings_are_reported_on_offloaded_endpoints(run_audit):
    files = {
        "tasks.py": TASKS,
        "api.py": fastapi("    crunch.delay(x)"),
        # Source text of the audited project, not our test setup: the audit must spot eager mode.
        "settings/prod.py": "CELERY_TASK_ALWAYS_EAGER = False\n",
        "settings/test.py": "CELERY_TASK_ALWAYS_EAGER = True\n",
    }
    (endpoint,) = run_audit(files).endpoints
    assert [e.kind for e in endpoint.evidence] == ["dispatch"]
    # Also audited source text: eager mode set from the environment in the project's config.
    files["celeryconfig.py"] = """
        import os
        task_always_eager = os.environ.get("EAGER", "1")
    """
    (endpoint,) = run_audit(files).endpoints
    assert endpoint.status == "offloaded"
    assert [(e.kind, e.file, e.line) for e in endpoint.evidence] == [
        ("dispatch", "api.py", 8),
        ("eager_mode", "celeryconfig.py", 2),
    ]


def test_bounded_depth_stops_following_calls(check):
    files = {
        "tasks.py": TASKS,
        "chain.py": """
            from tasks import crunch

            def a(): return b()
            def b(): return c()
            def c(): return crunch.delay(1)
        """,
        "api.py": fastapi("    from chain import a\n    return a()"),
    }
    check(files, {"handler": ("offloaded", False)}, max_depth=3)
    check(files, {"handler": ("inline", False)}, max_depth=2)


def test_a_receiver_without_sender_that_filters_on_the_class_fires_only_for_it(check):
    check(
        {
            "shop/urls.py": DJANGO_URLS,
            "shop/more_urls.py": """
            from django.urls import path
            from shop import views

            urlpatterns = [path("notes/", views.create_note)]
        """,
            "shop/tasks.py": TASKS,
            "shop/models.py": """
            from django.db import models

            class Order(models.Model):
                pass

            class Note(models.Model):
                pass
        """,
            "shop/signals.py": """
            from django.db.models import signals
            from django.dispatch import receiver
            from shop import models
            from shop.tasks import crunch

            @receiver(signals.post_save)
            def on_any_save(sender, instance, created, **kwargs):
                \"\"\"Only orders matter.\"\"\"
                if not issubclass(sender, (models.Order,)):
                    return
                crunch.delay(instance.pk)
        """,
            "shop/views.py": """
            from shop.models import Note, Order

            def create_order(request):
                Order.objects.create(total=1)

            def create_note(request):
                Note.objects.create(text="x")
        """,
        },
        {"create_order": ("offloaded", False), "create_note": ("inline", False)},
    )


def test_dispatch_reached_only_from_an_except_handler_is_an_error_path(check):
    check(
        {
            "tasks.py": TASKS,
            "settings_model.py": """
            import requests
            from tasks import crunch

            def create_defaults():
                crunch.delay(0)
                requests.post("https://example.com/defaults")

            def load():
                try:
                    return read_row()
                except LookupError:
                    return create_defaults()

            def read_row():
                return {}
        """,
            "api.py": fastapi("    from settings_model import load\n    return load()"),
        },
        {"handler": ("inline", True)},
    )


def test_functions_defined_inside_the_handler_are_followed(check):
    check(
        {
            "tasks.py": TASKS,
            "api.py": fastapi("""    def inner():
        return crunch.delay(x)

    class Local:
        def run(self):
            return inner()

    return Local().run()"""),
        },
        {"handler": ("offloaded", False)},
    )


def test_methods_on_objects_of_unknown_type_and_dispatch_tables_are_followed(check):
    check(
        {
            "tasks.py": TASKS,
            "connectors.py": """
            from tasks import crunch

            class Connector:
                def enqueue_lookup(self, x):
                    return crunch.delay(x)

            def by_kind(x):
                return crunch.delay(x)
        """,
            "api.py": """
            from fastapi import APIRouter
            from connectors import by_kind

            router = APIRouter()

            @router.post("/duck")
            def duck(items: list):
                for connector in items:
                    connector.enqueue_lookup(1)

            @router.post("/table")
            def table(kind: str):
                handlers = {"a": by_kind, "b": by_kind}
                return handlers[kind](1)
        """,
        },
        {"duck": ("offloaded", False), "table": ("offloaded", False)},
    )


def test_super_calls_and_foreign_keys_lead_to_the_model_code_that_dispatches(check):
    check(
        {
            "shop/urls.py": DJANGO_URLS,
            "shop/tasks.py": TASKS,
            "shop/models.py": """
            from django.db import models
            from shop.tasks import crunch

            class Broadcasting(models.Model):
                def save(self, *args, **kwargs):
                    super().save(*args, **kwargs)
                    crunch.delay(self.pk)

            class Customer(models.Model):
                def touch(self):
                    crunch.delay(self.pk)

            class Order(Broadcasting):
                customer = models.ForeignKey("Customer", on_delete=models.CASCADE)

                def save(self, *args, **kwargs):
                    super().save(*args, **kwargs)

            class Line(models.Model):
                order = models.ForeignKey(Order, on_delete=models.CASCADE)

                def touch_customer(self):
                    self.order.customer.touch()
        """,
            "shop/views.py": """
            from shop.models import Line, Order

            def create_order(request):
                Order.objects.create(total=1)

            def touch(request):
                Line.objects.get(pk=1).touch_customer()
        """,
            "shop/more_urls.py": """
            from django.urls import path
            from shop import views

            urlpatterns = [path("touch/", views.touch)]
        """,
        },
        {"create_order": ("offloaded", False), "touch": ("offloaded", False)},
    )


def test_custom_managers_keep_the_model_and_their_own_methods(check):
    check(
        {
            "shop/urls.py": DJANGO_URLS,
            "shop/more_urls.py": """
            from django.urls import path
            from shop import views

            urlpatterns = [path("restock/", views.restock)]
        """,
            "shop/tasks.py": TASKS,
            "shop/models.py": """
            from django.db import models
            from model_utils.managers import InheritanceManager
            from shop.tasks import crunch

            class StockManager(models.Manager):
                def restock(self):
                    crunch.delay(0)

            class Order(models.Model):
                objects = InheritanceManager()

                def save(self, *args, **kwargs):
                    super().save(*args, **kwargs)
                    crunch.delay(self.pk)

            class Item(models.Model):
                objects = StockManager()
        """,
            "shop/views.py": """
            from shop.models import Item, Order

            def create_order(request):
                Order.objects.create(total=1)

            def restock(request):
                Item.objects.restock()
        """,
        },
        {"create_order": ("offloaded", False), "restock": ("offloaded", False)},
    )


def test_a_manager_made_from_a_queryset_has_the_querysets_methods(check):
    """``objects = ItemQuerySet.as_manager()``: ``Item.objects.restock()`` is the
    QuerySet's method; Django's own (``filter``) stay Django's."""
    check(
        {
            "shop/urls.py": DJANGO_URLS,
            "shop/more_urls.py": """
            from django.urls import path
            from shop import views

            urlpatterns = [path("restock/", views.restock)]
        """,
            "shop/tasks.py": TASKS,
            "shop/models.py": """
            from django.db import models
            from shop.tasks import crunch

            class ItemQuerySet(models.QuerySet):
                def restock(self):
                    crunch.delay(0)

                def in_stock(self):
                    return self.filter(stock__gt=0)

            class Item(models.Model):
                objects = ItemQuerySet.as_manager()
        """,
            "shop/views.py": """
            from shop.models import Item

            def create_order(request):
                list(Item.objects.in_stock())
                Item.objects.filter(pk=1).update(stock=0)

            def restock(request):
                Item.objects.restock()
        """,
        },
        {"create_order": ("inline", False), "restock": ("offloaded", False)},
    )


def test_get_object_or_404_returns_an_instance_of_the_model(check):
    check(
        {
            "shop/urls.py": DJANGO_URLS,
            "shop/tasks.py": TASKS,
            "shop/models.py": """
            from django.db import models
            from shop.tasks import crunch

            class Order(models.Model):
                def delete(self, *args, **kwargs):
                    crunch.delay(self.pk)
                    return super().delete(*args, **kwargs)
        """,
            "shop/views.py": """
            from django.shortcuts import get_object_or_404
            from shop.models import Order

            def create_order(request):
                order = get_object_or_404(Order, pk=request.POST["pk"])
                order.delete()
        """,
        },
        {"create_order": ("offloaded", False)},
    )


def test_calls_through_a_plugin_interface_reach_every_implementation(check):
    plugins = "\n".join(
        f"class Plugin{n}(IssuerPlugin):\n    def revoke_certificate(self, cert):\n"
        f"        return {'crunch.delay(cert)' if n == 3 else 'None'}\n"
        for n in range(5)
    )
    check(
        {
            "tasks.py": TASKS,
            "plugins.py": "from tasks import crunch\n\n"
            "class IssuerPlugin:\n    def revoke_certificate(self, cert):\n"
            "        raise NotImplementedError\n\n" + plugins,
            "registry.py": """
            REGISTRY = {}

            def get(slug):
                return REGISTRY[slug]
        """,
            "api.py": fastapi(
                "    import registry\n    plugin = registry.get('x')\n"
                "    plugin.revoke_certificate(x)"
            ),
        },
        {"handler": ("offloaded", False)},
    )


def test_services_injected_through_as_view_keywords_are_followed(check):
    check(
        {
            "tasks.py": TASKS,
            "services.py": """
            from tasks import crunch

            class Mailer:
                def process(self, x):
                    return crunch.delay(x)

            class Counter:
                def process(self, x):
                    return x + 1

            def mailer_factory():
                return Mailer()

            def counter_factory():
                return Counter()
        """,
            "views.py": """
            from flask import Flask
            from flask.views import MethodView
            from services import counter_factory, mailer_factory

            app = Flask(__name__)

            class Send(MethodView):
                def __init__(self, service_factory):
                    self.service_factory = service_factory

                def post(self):
                    service = self.service_factory()
                    return service.process(1)

            class Count(MethodView):
                def __init__(self, service_factory):
                    self.service_factory = service_factory

                def post(self):
                    return self.service_factory().process(1)

            class Plain(MethodView):
                def __init__(self, service_factory):
                    self.service_factory = service_factory

                def post(self):
                    return self.service_factory().process(1)

            app.add_url_rule("/send",
                             view_func=Send.as_view("send", service_factory=mailer_factory))
            app.add_url_rule("/count",
                             view_func=Count.as_view("count", service_factory=counter_factory))
            app.add_url_rule("/plain", view_func=Plain.as_view("plain"))
        """,
        },
        {
            "Send.post": ("offloaded", False),
            "Count.post": ("inline", False),
            "Plain.post": ("inline", False),
        },
    )


def test_pluggy_hook_calls_reach_the_project_hook_implementations(check):
    check(
        {
            "tasks.py": TASKS,
            "hooks.py": """
            from pluggy import HookimplMarker, HookspecMarker, PluginManager

            spec = HookspecMarker("forum")
            impl = HookimplMarker("forum")
            pm = PluginManager("forum")

            @spec
            def on_signup(user):
                "Called after a user signed up."

            @spec
            def on_login(user):
                "Called after a user logged in."
        """,
            "plugins.py": """
            from hooks import impl
            from tasks import crunch

            @impl
            def on_signup(user):
                crunch.delay(user)

            def on_login(user):
                crunch.delay(user)  # not marked as an implementation: never called by pluggy
        """,
            "api.py": fastapi(
                "    from hooks import pm\n    pm.hook.on_signup(user=x)\n"
                "    return pm.hook.on_login(user=x)"
            ),
        },
        {"handler": ("offloaded", False)},
    )
    check(
        {
            "tasks.py": TASKS,
            "hooks.py": "from pluggy import PluginManager\n\npm = PluginManager('forum')\n",
            "plugins.py": (
                "from tasks import crunch\n\ndef on_login(user):\n    crunch.delay(user)\n"
            ),
            "api.py": fastapi("    from hooks import pm\n    return pm.hook.on_login(user=x)"),
        },
        {"handler": ("inline", False)},
    )


def test_nested_decorated_functions_the_handler_calls_or_awaits_are_followed(check):
    tx = """
import functools

def managed_tx(mode):
    def decorator(func):
        @functools.wraps(func)
        def wrapped(*args, **kwargs):
            return func(*args, **kwargs)
        return wrapped
    return decorator

class Repository:
    async def store(self, x):
        from tasks import crunch
        crunch.delay(x)
"""
    imports = "from tasks import crunch\nfrom tx import Repository, managed_tx"
    called = """    @managed_tx("commit")
    def store(session):
        crunch.delay(x)

    try:
        store()
    except ValueError:
        raise"""
    awaited = """    @managed_tx("commit")
    async def store_tx(session):
        return await Repository().store(x)

    return await store_tx()"""
    unused = """    @managed_tx("commit")
    def store(session):
        crunch.delay(x)

    return None"""
    for body, status in ((called, "offloaded"), (awaited, "offloaded"), (unused, "inline")):
        api = fastapi(body, imports)
        if body is awaited:
            api = api.replace("def handler", "async def handler")
        check({"tasks.py": TASKS, "tx.py": tx, "api.py": api}, {"handler": (status, False)})


def test_literal_arguments_decide_the_callee_guards_unless_it_reassigns_them(check):
    helpers = """
from tasks import crunch

def notify(user, loud=False):
    if not loud:
        return None
    return crunch.delay(user)

def notify_later(user, loud=False):
    for attempt in range(2):
        if loud:
            crunch.delay(user)
        loud = True
"""
    for body, status in (
        ("    return notify(x, loud=False)", "inline"),
        ("    return notify(x, True)", "offloaded"),
        # loud keeps its default False: never dispatches (this was "offloaded" while the
        # audit did not read parameter defaults)
        ("    return notify(x)", "inline"),
        ("    return notify(*x)", "offloaded"),  # what *x passes is not seen
        ("    return notify_later(x, loud=False)", "offloaded"),
    ):
        check(
            {
                "tasks.py": TASKS,
                "helpers.py": helpers,
                "api.py": fastapi(body, "from helpers import notify, notify_later"),
            },
            {"handler": (status, False)},
        )
