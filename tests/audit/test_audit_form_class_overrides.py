"""A mixin's ``get_form_class`` override that keeps the routed view's ``form_class`` (issue
14, round 6b, item 13b): ``form_class = super().get_form_class()`` then either that class or
one derived from it inside the method. The form ``form_valid`` receives is still the routed
class's ``form_class``, so ``form.save(commit=False)`` is its ``Meta.model``. Snippets written
for the audit (source text only, nothing runs)."""

from __future__ import annotations

import pytest

from tests.audit.test_audit_dispatch import TASKS
from tests.audit.test_audit_self_attrs import FORMS, MODELS, RECEIVERS, URLS

FORMS_MORE = (
    FORMS
    + """
    class NoteForm(forms.ModelForm):
        class Meta:
            model = Note
            fields = ["name"]
"""
)
KEEPS = """
def get_form_class(self):
    form_class = super().get_form_class()
    if FieldsetsForm in form_class.mro():
        return form_class

    class Derived(FieldsetsForm, form_class):
        pass

    return Derived
"""
SAVE = """
self.object = form.save(commit=False)
self.object.save()
"""
TRY_SAVE = """
self.object = form.save(commit=False)
try:
    self.object.save(**extra)
except Exception:
    if settings.DEBUG:
        raise
    return super().form_invalid(form=form)
else:
    messages.success(self.request, "saved")
"""


def indent(text: str, spaces: int) -> str:
    return "\n".join(" " * spaces + line for line in text.strip().splitlines())


def views(override: str, body: str) -> str:
    """A project mixin (a ``ModelFormMixin``) with ``override``, a project base view whose
    ``form_valid`` runs ``body``, and the routed subclass with ``form_class = TagForm``."""
    return f"""
    from django.conf import settings
    from django.contrib import messages
    from django.http import HttpResponseRedirect
    from django.views.generic import CreateView
    from django.views.generic.edit import ModelFormMixin
    from shop.forms import NoteForm, TagForm

    class FieldsetsForm:
        pass

    class ModelFormFieldsetsMixin(ModelFormMixin):
{indent(override, 8) if override.strip() else "        pass"}

    class ObjectCreateView(ModelFormFieldsetsMixin, CreateView):
        def form_valid(self, form):
            extra = {{}}
{indent(body, 12)}
            return HttpResponseRedirect("/")

    class TagCreate(ObjectCreateView):
        form_class = TagForm
"""


def files(override: str, body: str = SAVE) -> dict[str, str]:
    return {
        "shop/__init__.py": "",
        "shop/tasks.py": TASKS,
        "shop/models.py": MODELS,
        "shop/forms.py": FORMS_MORE,
        "shop/receivers.py": RECEIVERS,
        "shop/views.py": views(override, body),
        "shop/urls.py": URLS,
    }


def post(status: str) -> dict[str, tuple[str, bool]]:
    return {"TagCreate.get": ("inline", False), "TagCreate.post": (status, False)}


def test_without_an_override_the_forms_model_is_saved(check):
    check(files(""), post("offloaded"))


def test_a_save_in_try_except_else_is_followed(check):
    check(files("", TRY_SAVE), post("offloaded"))


def test_an_override_keeping_the_form_class_keeps_the_forms_model(check):
    check(files(KEEPS), post("offloaded"))


def test_the_brief_reproduction_override_and_try_else_offloaded(check):
    report = check(files(KEEPS, TRY_SAVE), post("offloaded"))
    [endpoint] = [e for e in report.endpoints if e.handler == "TagCreate.post"]
    assert endpoint.confidence == "certain"


@pytest.mark.parametrize(
    "override",
    [
        # a local bound to super's value, returned as it is
        "def get_form_class(self):\n    form_class = super().get_form_class()\n"
        "    return form_class",
        # super's value returned outright
        "def get_form_class(self):\n    return super().get_form_class()",
        # a class made in the method from super's value, under an if
        "def get_form_class(self):\n    base = super().get_form_class()\n    if self.request:\n"
        "        class Derived(base):\n            pass\n        return Derived\n    return base",
    ],
)
def test_other_overrides_keeping_the_form_class_keep_the_forms_model(check, override):
    check(files(override, TRY_SAVE), post("offloaded"))


@pytest.mark.parametrize(
    "override",
    [
        # another form class: NoteForm's model, Note, has no receiver
        "def get_form_class(self):\n    return NoteForm",
        # super's value on one path, an unrelated class on the other
        "def get_form_class(self):\n    if self.request:\n        return NoteForm\n"
        "    return super().get_form_class()",
        # a class made in the method that does not derive from super's value
        "def get_form_class(self):\n    form_class = super().get_form_class()\n\n"
        "    class Derived(NoteForm):\n        pass\n\n    return Derived",
        # a value the audit cannot read: the form is not typed
        "def get_form_class(self):\n    return FORMS[self.kind]",
        "def get_form_class(self):\n    super().get_form_class()\n    return build_form(self)",
    ],
)
def test_overrides_not_keeping_the_form_class_do_not_save_the_tag(check, override):
    check(files(override, TRY_SAVE), post("inline"))


def model_view_files(override: str) -> dict[str, str]:
    """The routed view names its model (``model = Tag``) and no form class (round 9)."""
    out = files(override, TRY_SAVE)
    out["shop/views.py"] = (
        out["shop/views.py"]
        .replace("form_class = TagForm", 'model = Tag\n        fields = ("name",)')
        .replace(
            "from shop.forms import", "from shop.models import Tag\n    from shop.forms import"
        )
    )
    return out


@pytest.mark.parametrize("override", ["", KEEPS])
def test_a_form_built_for_the_views_model_saves_it_past_overrides_keeping_it(check, override):
    check(model_view_files(override), post("offloaded"))


def test_a_form_class_chosen_by_an_override_the_audit_cannot_read_is_not_the_model(check):
    check(
        model_view_files("def get_form_class(self):\n    return FORMS[self.kind]"), post("inline")
    )
