"""A Django editing view's ``form_valid(self, form)`` override (issue 14, round 5): Django's
``post()`` builds the view's form (``form_class``, or what ``get_form_class()`` returns) and
hands it to ``form_valid``, so ``form.save()`` there is that form's ``save()`` (its override,
or a save of its ``Meta.model`` with that model's signals). Snippets of audited projects
(source text only, nothing runs)."""

from __future__ import annotations

from tests.audit.test_audit_dispatch import TASKS

FORMS = """
    from django import forms
    from shop.models import Note, Order
    from shop.tasks import crunch

    class OrderForm(forms.ModelForm):
        class Meta:
            model = Order
            fields = ["name"]

        def save(self, commit=True):
            order = super().save(commit)
            crunch.delay(order.pk)
            return order

        def notify(self):
            crunch.delay(1)

    class NoteForm(forms.ModelForm):
        class Meta:
            model = Note
            fields = ["name"]
"""
MODELS = """
    from django.db import models

    class Order(models.Model):
        name = models.CharField(max_length=10)

    class Note(models.Model):
        name = models.CharField(max_length=10)
"""
RECEIVERS = """
    from django.db.models.signals import post_save
    from django.dispatch import receiver
    from shop.models import Order
    from shop.tasks import crunch

    @receiver(post_save, sender=Order)
    def order_saved(sender, instance, **kwargs):
        crunch.delay(instance.pk)
"""
URLS = """
    from django.urls import path
    from shop import views

    urlpatterns = [
        path("a/", views.OrderCreate.as_view()),
        path("b/", views.NoteCreate.as_view()),
        path("c/", views.OrderContact.as_view()),
        path("d/", views.NoteEdit.as_view()),
        path("e/", views.OrderByModel.as_view()),
    ]
"""
VIEWS = """
    from django.http import HttpResponseRedirect
    from django.views.generic import CreateView, FormView, UpdateView
    from shop.forms import NoteForm, OrderForm
    from shop.models import Order

    class SavingMixin:
        def form_valid(self, form):
            form.save()
            return HttpResponseRedirect("/")

    class OrderCreate(SavingMixin, CreateView):
        form_class = OrderForm

    class NoteCreate(SavingMixin, CreateView):
        form_class = NoteForm

    class OrderContact(FormView):
        form_class = OrderForm

        def form_valid(self, form):
            form.notify()
            return HttpResponseRedirect("/")

    class NoteEdit(UpdateView):
        def get_form_class(self):
            return NoteForm

        def form_valid(self, form):
            form.save()
            return HttpResponseRedirect("/")

    class OrderByModel(UpdateView):
        model = Order
        fields = ["name"]

        def form_valid(self, form):
            form.instance.name = form.instance.name.strip()
            return super().form_valid(form)
"""


def posts(**statuses: str) -> dict[str, tuple[str, bool]]:
    """Each view's POST with its status; its GET renders the form, inline."""
    out: dict[str, tuple[str, bool]] = {}
    for view, status in statuses.items():
        out[f"{view}.get"] = ("inline", False)
        out[f"{view}.post"] = (status, False)
    return out


def files(**more: str) -> dict[str, str]:
    out = {
        "shop/__init__.py": "",
        "shop/tasks.py": TASKS,
        "shop/models.py": MODELS,
        "shop/forms.py": FORMS,
        "shop/views.py": VIEWS,
        "shop/urls.py": URLS,
    }
    out.update(more)
    return out


def test_form_valid_overrides_act_on_the_form_the_view_builds(check):
    check(
        files(),
        posts(
            OrderCreate="offloaded",
            NoteCreate="inline",
            OrderContact="offloaded",
            NoteEdit="inline",
            OrderByModel="inline",
        ),
    )


def test_the_form_saved_in_form_valid_fires_its_models_receivers_only(check):
    check(
        files(**{"shop/receivers.py": RECEIVERS}),
        posts(
            OrderCreate="offloaded",
            NoteCreate="inline",
            OrderContact="offloaded",
            NoteEdit="inline",
            OrderByModel="offloaded",
        ),
    )


DECLARED_FIELD_FORMS = """
    from django import forms
    from shop.tasks import crunch


    class PictureField(forms.ImageField):
        def save(self, instance, picture):
            crunch.delay(instance.pk)


    class PlainField(forms.CharField):
        def save(self, instance, value):
            return value


    class BaseProfileForm(forms.Form):
        avatar = PictureField()


    class ProfileForm(BaseProfileForm):
        nickname = PlainField()

        def save(self):
            self.fields["{name}"].save(self.instance, self.cleaned_data.get("{name}"))
"""
DECLARED_FIELD_VIEWS = """
    from shop.forms import ProfileForm


    def edit(request):
        form = ProfileForm(request.POST)
        form.save()
"""


def declared_field_files(name: str) -> dict[str, str]:
    return {
        "shop/__init__.py": "",
        "shop/tasks.py": TASKS,
        "shop/forms.py": DECLARED_FIELD_FORMS.format(name=name),
        "shop/views.py": DECLARED_FIELD_VIEWS,
        "shop/urls.py": """
            from django.urls import path
            from shop import views

            urlpatterns = [path("edit/", views.edit)]
        """,
    }


def test_self_fields_by_name_is_the_field_the_form_declares(check):
    """``self.fields["avatar"]`` is the ``avatar`` field a base form declares (PATTERNS.md
    item 65); ``nickname``'s field does not dispatch; an undeclared name is nothing."""
    report = check(declared_field_files("avatar"), {"edit": ("offloaded", False)})
    [dispatch] = [e for e in report.endpoints[0].evidence if e.kind == "dispatch"]
    assert dispatch.via[-1] == "shop/forms.py:PictureField.save"
    check(declared_field_files("nickname"), {"edit": ("inline", False)})
    check(declared_field_files("missing"), {"edit": ("inline", False)})
