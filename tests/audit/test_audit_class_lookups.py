"""Lookups keyed by a class (PATTERNS.md round 5, pattern 1): ``registry.get_by_type(
CreateThing).do(user)`` and ``registry.get(CreateThing.type).do(user)`` run that class's
``do``, through its bases, and nothing else's; ``get_object_or_404(Model, ...)`` and
``cast(Model, x)`` give an instance of the model. A method called on what a registry holds
under a key the audit cannot read is said, not dropped. Snippets of audited projects (source
text only, nothing runs)."""

from __future__ import annotations

from typing import Any

REGISTRY = """
    class Instance:
        type = None


    class Registry:
        def __init__(self):
            self.registry = {}

        def register(self, instance):
            self.registry[instance.type] = instance

        def get(self, type_name):
            try:
                return self.registry[type_name]
            except KeyError:
                raise LookupError(type_name)

        def get_by_type(self, instance_type):
            return self.get(instance_type.type)
"""
ACTIONS = """
    from core.registry import Instance, Registry


    class ActionType(Instance):
        @classmethod
        def do(cls, *args, **kwargs):
            raise NotImplementedError


    class ActionTypeRegistry(Registry):
        pass


    action_type_registry = ActionTypeRegistry()
"""
SIGNALS = """
    from django.dispatch import Signal

    thing_created = Signal()
"""
MODELS = """
    from django.db import models
    from ws.tasks import broadcast


    class Thing(models.Model):
        name = models.CharField(max_length=10)
        key = "thing"

        def publish(self):
            broadcast.delay(self.pk)

        def describe(self):
            return self.name
"""
HANDLER = """
    from things.models import Thing
    from things.signals import thing_created


    class ThingHandler:
        def create_thing(self, user, name):
            thing = Thing.objects.create(name=name)
            thing_created.send(self, thing=thing, user=user)
            return thing
"""
THING_ACTIONS = """
    from core.actions import ActionType
    from things.handler import ThingHandler
    from ws.tasks import broadcast


    class CreateThingActionType(ActionType):
        type = "create_thing"

        @classmethod
        def do(cls, user, name):
            return ThingHandler().create_thing(user, name)


    class RenameThingActionType(ActionType):
        type = "rename_thing"

        @classmethod
        def do(cls, user, name):
            return name


    class NotifyingActionType(ActionType):
        @classmethod
        def do(cls, user, name):
            broadcast.delay(name)


    class PingThingActionType(NotifyingActionType):
        type = "ping_thing"
"""
APPS = """
    from django.apps import AppConfig


    class ThingsConfig(AppConfig):
        name = "things"

        def ready(self):
            from core.actions import action_type_registry
            from things import actions

            action_type_registry.register(actions.CreateThingActionType())
            action_type_registry.register(actions.RenameThingActionType())
            action_type_registry.register(actions.PingThingActionType())
"""
TASKS = """
    from celery import shared_task


    @shared_task
    def broadcast(thing_id):
        return thing_id
"""
RECEIVERS = """
    from django.db import transaction
    from django.dispatch import receiver

    from things.signals import thing_created
    from ws.tasks import broadcast


    @receiver(thing_created)
    def thing_created_handler(sender, thing, user, **kwargs):
        transaction.on_commit(lambda: broadcast.delay(thing.id))
"""
URLS = """
    from django.urls import path

    from things.views import ThingView

    urlpatterns = [path("things/", ThingView.as_view())]
"""


def view(body: str, imports: str = "") -> str:
    return f"""
from django.core.cache import cache
from django.shortcuts import get_object_or_404
from rest_framework.response import Response
from rest_framework.views import APIView
from typing import cast

from core.actions import action_type_registry
from things.actions import CreateThingActionType, PingThingActionType, RenameThingActionType
from things.models import Thing
{imports}

class ThingView(APIView):
    def post(self, request, pk=None):
{body}
        return Response({{}})
"""


def files(body: str, imports: str = "", **extra: str) -> dict[str, str]:
    out = {
        "core/__init__.py": "",
        "core/registry.py": REGISTRY,
        "core/actions.py": ACTIONS,
        "things/__init__.py": "",
        "things/signals.py": SIGNALS,
        "things/models.py": MODELS,
        "things/handler.py": HANDLER,
        "things/actions.py": THING_ACTIONS,
        "things/apps.py": APPS,
        "things/views.py": view(body, imports),
        "things/urls.py": URLS,
        "ws/__init__.py": "",
        "ws/tasks.py": TASKS,
        "ws/receivers.py": RECEIVERS,
    }
    out.update(extra)
    return out


def run(check: Any, body: str, status: str, imports: str = "", **extra: str) -> Any:
    report = check(files(body, imports, **extra), {"ThingView.post": (status, False)})
    [endpoint] = report.endpoints
    return endpoint


def test_a_registry_lookup_by_class_reaches_a_receiver_on_commit_dispatch(check):
    """view -> registry.get_by_type(X).do() -> X.do -> Handler().create_thing() ->
    thing_created.send() (a custom Signal) -> @receiver in another module ->
    on_commit(lambda: broadcast.delay(...)): offloaded, certain, with the whole chain."""
    body = "        action_type_registry.get_by_type(CreateThingActionType).do(request.user, 'x')"
    endpoint = run(check, body, "offloaded")
    assert (endpoint.confidence, endpoint.unresolved_calls) == ("certain", ())
    [dispatch] = [e for e in endpoint.evidence if e.kind == "dispatch"]
    assert (dispatch.file, dispatch.line, dispatch.call) == (
        "ws/receivers.py",
        10,
        "broadcast.delay(thing.id)",
    )
    assert dispatch.via == (
        "things/views.py:ThingView.post",
        "things/actions.py:CreateThingActionType.do",
        "things/handler.py:ThingHandler.create_thing",
        "ws/receivers.py:thing_created_handler (thing_created receiver connected at "
        "ws/receivers.py:8, fired by thing_created.send(self, thing=thing, user=user) at "
        "things/handler.py:8)",
    )


def test_a_lookup_by_a_class_attribute_or_through_a_local_runs_that_class_method(check):
    for body in (
        "        action_type_registry.get(CreateThingActionType.type).do(request.user, 'x')",
        "        action = action_type_registry.get(CreateThingActionType.type)\n"
        "        action.do(request.user, 'x')",
        "        action = action_type_registry.get_by_type(CreateThingActionType)\n"
        "        thing = action.do(request.user, 'x')",
        # the local kept the latest lookup of that name
        "        action = action_type_registry.get_by_type(RenameThingActionType)\n"
        "        action.do(request.user, 'x')\n"
        "        action = action_type_registry.get_by_type(CreateThingActionType)\n"
        "        action.do(request.user, 'x')",
    ):
        endpoint = run(check, body, "offloaded")
        assert endpoint.confidence == "certain", body


def test_the_method_of_a_base_of_the_class_looked_up_runs(check):
    body = "        action_type_registry.get_by_type(PingThingActionType).do(request.user, 'x')"
    endpoint = run(check, body, "offloaded")
    [dispatch] = [e for e in endpoint.evidence if e.kind == "dispatch"]
    assert dispatch.via == (
        "things/views.py:ThingView.post",
        "things/actions.py:NotifyingActionType.do",
    )


def test_only_the_class_looked_up_runs_not_every_subclass_of_its_base(check):
    for body in (
        "        action_type_registry.get_by_type(RenameThingActionType).do(request.user, 'x')",
        "        action_type_registry.get(RenameThingActionType.type).do(request.user, 'x')",
    ):
        endpoint = run(check, body, "inline")
        assert (endpoint.confidence, endpoint.unresolved_calls) == ("certain", ()), body


def test_a_registry_that_finds_the_instance_of_the_class_by_a_loop_is_a_lookup(check):
    registry = REGISTRY.replace(
        "            return self.get(instance_type.type)",
        "            for instance in self.registry.values():\n"
        "                if isinstance(instance, instance_type):\n"
        "                    return instance\n"
        "            raise LookupError(instance_type)",
    )
    body = "        action_type_registry.get_by_type(CreateThingActionType).do(request.user, 'x')"
    run(check, body, "offloaded", **{"core/registry.py": registry})


def test_a_library_function_given_a_model_class_returns_an_instance_of_it(check):
    for body in (
        "        get_object_or_404(Thing, pk=pk).publish()",
        "        thing = get_object_or_404(Thing, pk=pk)\n        thing.publish()",
        "        cast(Thing, request.data).publish()",
    ):
        run(check, body, "offloaded")


def test_what_is_not_an_instance_of_the_class_is_not_given_its_methods(check):
    helpers = """
        from sqlalchemy import func


        def column_of(model):
            return func.count(model.id)


        def pick(model, things):
            return things[model.key]
    """
    for body in (
        # a cache read by a class attribute is no registry of that class's instances
        "        cache.get(CreateThingActionType.type).do(request.user, 'x')",
        # a project function that builds something else from the class
        "        column_of(CreateThingActionType).do(request.user, 'x')",
        # a method of an object of unknown type given the class
        "        request.session.get(CreateThingActionType).do(request.user, 'x')",
        # a method the class does not define
        "        get_object_or_404(Thing, pk=pk).describe().publish()",
    ):
        run(
            check,
            body,
            "inline",
            "from things.helpers import column_of",
            **{"things/helpers.py": helpers},
        )


def test_a_lookup_whose_result_the_analyser_knows_keeps_that_answer(check):
    registry = REGISTRY.replace(
        "            return self.get(instance_type.type)",
        "            return Logged(instance_type)",
    ).replace(
        "class Registry:",
        "class Logged:\n        def __init__(self, kind):\n            self.kind = kind\n\n"
        "        def do(self, *args):\n            return args\n\n\n    class Registry:",
    )
    body = "        action_type_registry.get_by_type(CreateThingActionType).do(request.user, 'x')"
    endpoint = run(check, body, "inline", **{"core/registry.py": registry})
    assert endpoint.confidence == "certain"


def test_a_method_called_on_what_a_registry_holds_under_an_unread_key_is_said(check):
    body = "        action_type_registry.get(request.data['type']).do(request.user, 'x')"
    endpoint = run(check, body, "inline")
    assert endpoint.confidence == "likely"
    [unresolved] = endpoint.unresolved_calls
    assert (unresolved.file, unresolved.line) == ("things/views.py", 14)
    assert unresolved.call.startswith("action_type_registry.get(request.data['type']).do(")
    assert unresolved.reason == "a method of the project called on an object of unknown type"


def test_a_call_on_what_no_container_holds_or_no_project_class_defines_is_not_said(check):
    helpers = """
        import json


        def load(name):
            return json.loads(name)["settings"]
    """
    for body in (
        # a project function returning what a call returned, not what it holds
        "        load(request.data['type']).do(request.user, 'x')",
        # a method no project class defines
        "        action_type_registry.get(request.data['type']).undo(request.user)",
        # a builtin container's method
        "        action_type_registry.get(request.data['type']).items()",
    ):
        endpoint = run(
            check,
            body,
            "inline",
            "from things.helpers import load",
            **{"things/helpers.py": helpers},
        )
        assert (endpoint.confidence, endpoint.unresolved_calls) == ("certain", ()), body
