"""An attribute of ``self`` assigned in a method carries its value's type (issue 14, round 6,
item 13): Django's own ``ModelFormMixin.form_valid`` does ``self.object = form.save()`` and a
project's base view often ``self.object = form.save(commit=False)`` then
``self.object.save()``; that save is a save of the form's ``Meta.model``, as it is through a
local. Snippets of audited projects (source text only, nothing runs)."""

from __future__ import annotations

import pytest

from tests.audit.test_audit_dispatch import TASKS

MODELS = """
    from django.db import models

    class Tag(models.Model):
        name = models.CharField(max_length=10)

        def publish(self):
            self.save()

    class Note(models.Model):
        name = models.CharField(max_length=10)
"""
FORMS = """
    from django import forms
    from shop.models import Note, Tag

    class TagForm(forms.ModelForm):
        class Meta:
            model = Tag
            fields = ["name"]
"""
RECEIVERS = """
    from django.db.models.signals import post_save
    from django.dispatch import receiver
    from shop.models import Tag
    from shop.tasks import crunch

    @receiver(post_save, sender=Tag)
    def tag_saved(sender, instance, **kwargs):
        crunch.delay(instance.pk)
"""
URLS = """
    from django.urls import path
    from shop import views

    urlpatterns = [path("tags/", views.TagCreate.as_view())]
"""


FINISH = """
def finish(self):
    self.object.save()
"""


def views(body: str, extra: str = "") -> str:
    """A project base CreateView whose ``form_valid`` runs ``body`` (and more methods,
    ``extra``); a routed subclass."""
    indented = "\n".join("            " + line for line in body.strip().splitlines())
    methods = "\n".join("        " + line for line in extra.strip().splitlines())
    return f"""
    from django.http import HttpResponseRedirect
    from django.views.generic import CreateView
    from shop.forms import TagForm
    from shop.models import Note, Tag

    class ObjectCreateView(CreateView):
        def form_valid(self, form):
{indented}
            return HttpResponseRedirect("/")

{methods}

    class TagCreate(ObjectCreateView):
        form_class = TagForm
"""


def files(body: str, extra: str = "", **more: str) -> dict[str, str]:
    out = {
        "shop/__init__.py": "",
        "shop/tasks.py": TASKS,
        "shop/models.py": MODELS,
        "shop/forms.py": FORMS,
        "shop/receivers.py": RECEIVERS,
        "shop/views.py": views(body, extra),
        "shop/urls.py": URLS,
    }
    out.update(more)
    return out


def post(status: str) -> dict[str, tuple[str, bool]]:
    return {"TagCreate.get": ("inline", False), "TagCreate.post": (status, False)}


def test_a_local_from_form_save_commit_false_saves_the_forms_model(check):
    check(files("obj = form.save(commit=False)\nobj.save()"), post("offloaded"))


def test_self_object_from_form_save_commit_false_saves_the_forms_model(check):
    report = check(
        files("self.object = form.save(commit=False)\nself.object.save()"), post("offloaded")
    )
    chain = dispatch_chain(report)
    assert chain[0] == "shop/views.py:TagCreate.post"
    assert "fired by self.object.save() at shop/views.py:9" in chain[-1]


@pytest.mark.parametrize(
    "body",
    [
        # the method's last value wins over the class's first assignment
        "self.object = Note(name='x')\nself.object = form.save(commit=False)\nself.object.save()",
        "self.object = self.get_object()\nself.object.publish()",
        "self.thing = Tag.objects.get(pk=1)\nself.thing.publish()",
        "self.object = form.save(commit=False)\nself.object.tags_changed = 1\nself.object.save()",
    ],
)
def test_a_self_attribute_assigned_from_a_call_is_that_value(check, body):
    check(files(body), post("offloaded"))


@pytest.mark.parametrize(
    "body",
    [
        "self.object = form.save(commit=False)\nself.other.save()",
        "self.object = form.save(commit=False)\nself.object = Note(name='x')\nself.object.save()",
        "self.object = form.save(commit=False)\nself.object = None\nself.object.save()",
        "self.object = form.save(commit=False)\nself.object += 1\nself.object.save()",
        "self.object = form.save(commit=False)\nself.object, n = Note(), 1\nself.object.save()",
    ],
)
def test_a_self_attribute_not_holding_the_forms_value_saves_nothing_of_it(check, body):
    check(files(body), post("inline"))


def test_a_method_called_after_the_assignment_sees_the_value(check):
    body = "self.object = form.save(commit=False)\nself.finish()"
    report = check(files(body, FINISH), post("offloaded"))
    chain = dispatch_chain(report)
    assert chain[:3] == (
        "shop/views.py:TagCreate.post",
        "shop/views.py:ObjectCreateView.form_valid",
        "shop/views.py:ObjectCreateView.finish",
    )


@pytest.mark.parametrize(
    "body",
    [
        "self.finish()\nself.object = form.save(commit=False)",
        "self.object = form.save(commit=False)\nself.object = None\nself.finish()",
        "self.other = form.save(commit=False)\nself.finish()",
    ],
)
def test_a_method_called_before_or_after_a_forgetting_sees_nothing(check, body):
    check(files(body, FINISH), post("inline"))


def test_a_called_method_that_assigns_the_attribute_itself_keeps_its_own_value(check):
    body = "self.object = form.save(commit=False)\nself.finish()"
    finish = "def finish(self):\n    self.object = None\n    self.object.save()"
    check(files(body, finish), post("inline"))


def dispatch_chain(report) -> tuple[str, ...]:
    """The POST's dispatch evidence, certain: ``crunch.delay`` in the Tag receiver."""
    (endpoint,) = [e for e in report.endpoints if e.handler == "TagCreate.post"]
    assert endpoint.confidence == "certain"
    (dispatch,) = [e for e in endpoint.evidence if e.kind == "dispatch"]
    assert dispatch.call == "crunch.delay(instance.pk)"
    assert dispatch.queue_system == "celery"
    return dispatch.via


# Round 9, item 37: the routed view gives ``model = ...`` and no ``form_class``; the form
# Django builds for it is stood in for by an instance of the model, whose ``save()`` returns
# nothing, yet ``form.save(commit=False)`` is that instance.
SAVE_TWICE = "self.object = form.save(commit=False)\nself.object.save(**{})"
OWN_SAVE = MODELS.replace(
    "def publish(self):\n            self.save()",
    "def save(self, *args, **kwargs):\n            return super().save(*args, **kwargs)",
)

# a tree model (django-mptt): its base is named like a model, not ``Model``
MPTT_SAVE = OWN_SAVE.replace("class Tag(models.Model)", "class Tag(MPTTModel)").replace(
    "from django.db import models",
    "from django.db import models\n    from mptt.models import MPTTModel",
)


def model_files(body: str, model: str = "Tag", models: str = MODELS) -> dict[str, str]:
    """The routed view names its model instead of a form class."""
    view = views(body).replace(
        "form_class = TagForm", f'model = {model}\n        fields = ("name",)'
    )
    return files(body, **{"shop/views.py": view, "shop/models.py": models})


@pytest.mark.parametrize(
    "models",
    [MODELS, OWN_SAVE, MPTT_SAVE],
    ids=["inherited-save", "own-save", "mptt-model"],
)
def test_commit_false_then_save_of_a_views_model_form_saves_the_model(check, models):
    report = check(model_files(SAVE_TWICE, models=models), post("offloaded"))
    assert "fired by self.object.save(**{}) at shop/views.py:9" in dispatch_chain(report)[-1]


@pytest.mark.parametrize(
    "body",
    [
        SAVE_TWICE,  # a model no receiver listens to
        "self.object = form.save(commit=False)",  # never saved
    ],
)
def test_a_model_form_never_saved_or_of_another_model_fires_nothing(check, body):
    model = "Note" if body == SAVE_TWICE else "Tag"
    check(model_files(body, model), post("inline"))
