"""Model writes in Django projects: what a save runs depends on how it is called.

Save overrides and signal receivers guard their dispatch on the call's arguments
(``broadcast=False``, ``update_fields``, ``created``, tracked fields), and the object
saved gets its model from forms, helpers and ``request.user``.
"""

from __future__ import annotations

from tests.audit.test_audit_dispatch import TASKS


def urls(*views: str) -> str:
    entries = ", ".join(f'path("{v}/", views.{v})' for v in views)
    return f"""
from django.urls import path
from shop import views

urlpatterns = [{entries}]
"""


def test_keywords_of_a_save_decide_the_branches_of_the_save_overrides(check):
    check(
        {
            "shop/urls.py": urls("quiet", "loud"),
            "shop/tasks.py": TASKS,
            "shop/models.py": """
            from django.db import models
            from shop.tasks import crunch

            class BroadcastMixin:
                def save(self, *args, broadcast=True, **kwargs):
                    super().save(*args, **kwargs)
                    if not broadcast:
                        return
                    crunch.delay(self.pk)

            class Member(BroadcastMixin, models.Model):
                def save(self, *args, **kwargs):
                    self.name = self.name.strip()
                    super().save(*args, **kwargs)
        """,
            "shop/views.py": """
            from shop.models import Member

            def quiet(request):
                member = Member.objects.get(pk=1)
                member.save(broadcast=False)

            def loud(request):
                member = Member.objects.get(pk=1)
                member.save()
        """,
        },
        {"quiet": ("inline", False), "loud": ("offloaded", False)},
    )


RECEIVERS = """
    from django.db.models.signals import post_save
    from django.dispatch import receiver
    from shop.models import Member
    from shop.tasks import crunch, report

    @receiver(post_save, sender=Member)
    def member_saved(sender, instance, created, update_fields=None, **kwargs):
        if created:
            report.delay(instance.pk)
        if update_fields and "discoverable" not in update_fields:
            return
        crunch.delay(instance.pk)
"""

PREVIEW = """
    from django.db.models.signals import post_save
    from django.dispatch import receiver
    from shop.models import Member
    from shop.tasks import crunch

    @receiver(post_save, sender=Member)
    def preview(instance, *args, **kwargs):
        changed = instance.tracker.changed()
        if len(changed) > 0:
            crunch.delay(instance.pk)
"""


def test_update_fields_created_and_tracked_fields_decide_the_receivers(check):
    check(
        {
            "shop/urls.py": urls(
                "save_flag", "save_discoverable", "save_name", "save_all", "signup"
            ),
            "shop/tasks.py": TASKS,
            "shop/models.py": """
            from django.db import models
            from model_utils import FieldTracker

            class Member(models.Model):
                tracker = FieldTracker(fields=["name", "avatar"])
        """,
            "shop/signals.py": RECEIVERS,
            "shop/preview.py": PREVIEW,
            "shop/views.py": """
            from shop.models import Member

            def save_flag(request):
                Member.objects.get(pk=1).save(update_fields=["flag"])

            def save_discoverable(request):
                Member.objects.get(pk=1).save(update_fields=["discoverable"])

            def save_name(request):
                member = Member.objects.get(pk=1)
                member.save(update_fields=["name", "discoverable"])

            def save_all(request):
                Member.objects.get(pk=1).save()

            def signup(request):
                Member.objects.create_user("ada", "ada@example.com", "secret")
        """,
        },
        {
            "save_flag": ("inline", False),
            "save_discoverable": ("offloaded", False),
            "save_name": ("offloaded", False),
            "save_all": ("offloaded", False),
            "signup": ("offloaded", False),
        },
    )


def test_a_save_naming_its_fields_updates_a_row_that_exists(check):
    check(
        {
            "shop/urls.py": urls("touch", "register"),
            "shop/tasks.py": TASKS,
            "shop/models.py": """
            from django.db import models
            from shop.tasks import crunch

            class Member(models.Model):
                def save(self, *args, **kwargs):
                    created = not bool(self.id)
                    super().save(*args, **kwargs)
                    if created:
                        crunch.delay(self.pk)
        """,
            "shop/views.py": """
            from shop.models import Member

            def touch(request):
                member = Member.objects.get(pk=1)
                member.save(update_fields=["last_seen"])

            def register(request):
                member = Member(name="ada")
                member.save()
        """,
        },
        {"touch": ("inline", False), "register": ("offloaded", False)},
    )


def test_super_save_in_a_model_method_fires_the_model_signals(check):
    check(
        {
            "shop/urls.py": urls("deactivate", "hide"),
            "shop/tasks.py": TASKS,
            "shop/models.py": """
            from django.db import models

            class Member(models.Model):
                def deactivate(self):
                    self.is_active = False
                    super().save()

                def hide(self):
                    super().save(update_fields=["hidden"])
        """,
            "shop/signals.py": RECEIVERS,
            "shop/views.py": """
            from shop.models import Member

            def deactivate(request):
                Member.objects.get(pk=1).deactivate()

            def hide(request):
                Member.objects.get(pk=1).hide()
        """,
        },
        {"deactivate": ("offloaded", False), "hide": ("inline", False)},
    )


FORMS = """
    from django import forms
    from shop.models import Note, Order

    class CustomForm(forms.ModelForm):
        def save(self, request, *args, **kwargs):
            return super().save(*args, **kwargs)

    class OrderForm(CustomForm):
        class Meta:
            model = Order
            fields = ["total"]

    class NoteForm(CustomForm):
        class Meta:
            model = Note
            fields = ["text"]
"""

MODELS = """
    from django.db import models
    from shop.tasks import crunch

    class Order(models.Model):
        def save(self, *args, **kwargs):
            super().save(*args, **kwargs)
            crunch.delay(self.pk)

    class Note(models.Model):
        pass

    class Member(models.Model):
        def save(self, *args, **kwargs):
            super().save(*args, **kwargs)
            crunch.delay(self.pk)
"""


def test_objects_from_forms_helpers_and_request_user_have_their_model(check):
    check(
        {
            "shop/settings.py": 'AUTH_USER_MODEL = "shop.Member"\n',
            "shop/urls.py": urls(
                "draft",
                "order_via_form",
                "note_via_form",
                "order_via_helper",
                "note_via_helper",
                "order_chained",
                "profile",
            ),
            "shop/tasks.py": TASKS,
            "shop/models.py": MODELS,
            "shop/forms.py": FORMS,
            "shop/helpers.py": """
            from django.shortcuts import _get_queryset

            def save_form(request, form):
                obj = form.save(request, commit=False)
                obj.save()
                return obj

            def fetch_or_404(klass, pk):
                queryset = _get_queryset(klass)
                return queryset.get(pk=pk)
        """,
            "shop/views.py": """
            from shop import forms, helpers
            from shop.models import Note, Order

            def draft(request):
                forms.OrderForm(request.POST).save(request, commit=False)

            def order_via_form(request):
                helpers.save_form(request, forms.OrderForm(request.POST))

            def note_via_form(request):
                form = forms.NoteForm(request.POST)
                helpers.save_form(request, form)

            def order_via_helper(request, pk):
                order = helpers.fetch_or_404(Order, pk)
                order.save()

            def note_via_helper(request, pk):
                note = helpers.fetch_or_404(Note, pk)
                note.save()

            def order_chained(request, pk):
                helpers.fetch_or_404(Order, pk).save()

            def profile(request):
                request.user.save()
        """,
        },
        {
            "draft": ("inline", False),
            "order_via_form": ("offloaded", False),
            "note_via_form": ("inline", False),
            "order_via_helper": ("offloaded", False),
            "note_via_helper": ("inline", False),
            "order_chained": ("offloaded", False),
            "profile": ("offloaded", False),
        },
    )


def test_a_class_based_view_called_from_a_function_view_runs_its_handlers(check):
    check(
        {
            "shop/urls.py": urls("comment", "page"),
            "shop/tasks.py": TASKS,
            "shop/views.py": """
            from django.views import View
            from shop.tasks import crunch

            class CreateComment(View):
                def post(self, request, kind):
                    crunch.delay(kind)

            class Page(View):
                def get(self, request):
                    return None

            def comment(request):
                return CreateComment.as_view()(request, "comment")

            def page(request):
                return Page.as_view()(request)
        """,
        },
        {"comment": ("offloaded", False), "page": ("inline", False)},
    )


def test_each_row_of_a_loop_over_a_queryset_is_an_instance_of_its_model(check):
    """``for order in Order.objects.filter(...): order.delete()`` runs the model's
    ``delete`` override; a loop over anything else gives its variable no type."""
    files = {
        "shop/__init__.py": "",
        "shop/tasks.py": """
        from celery import shared_task

        @shared_task
        def purge(pk):
            return pk
        """,
        "shop/models.py": """
        from django.db import models
        from shop.tasks import purge

        class Order(models.Model):
            def delete(self, *args, **kwargs):
                purge.delay(self.pk)
                return super().delete(*args, **kwargs)
        """,
        "shop/views.py": """
        from shop.models import Order

        def purge_orders(request):
            for order in Order.objects.filter(stale=True):
                order.delete()

        def purge_names(request):
            for order in ["a", "b"]:
                order.strip()
        """,
        "shop/urls.py": """
        from django.urls import path
        from shop import views

        urlpatterns = [path("a/", views.purge_orders), path("b/", views.purge_names)]
        """,
    }
    check(files, {"purge_orders": ("offloaded", False), "purge_names": ("inline", False)})


def test_a_parameter_the_call_does_not_pass_keeps_its_default(check):
    """``def save(self, asynchronous=False, *args, **kwargs)`` forwarding ``asynchronous`` to
    ``self.sync(asynchronous)`` whose ``if asynchronous:`` branch dispatches: a row made by
    ``objects.create()`` (Django calls ``save()`` with none of the project's arguments) or
    ``row.sync()`` with nothing passed takes the default ``False`` and stays inline;
    ``row.sync(True)`` dispatches, and so does ``row.sync(*flags)`` (what it passes is not
    seen, so the default cannot be assumed)."""
    check(
        {
            "shop/urls.py": urls("made", "plain", "forced", "splatted"),
            "shop/tasks.py": TASKS,
            "shop/models.py": """
            from django.db import models
            from shop.tasks import crunch

            class Entry(models.Model):
                def save(self, asynchronous=False, *args, **kwargs):
                    super().save(*args, **kwargs)
                    self.sync(asynchronous)

                def sync(self, asynchronous=False):
                    if asynchronous:
                        crunch.delay(self.pk)
        """,
            "shop/views.py": """
            from shop.models import Entry

            def made(request):
                Entry.objects.create(name="x")

            def plain(request):
                entry = Entry.objects.get(pk=1)
                entry.sync()

            def forced(request):
                entry = Entry.objects.get(pk=1)
                entry.sync(True)

            def splatted(request):
                entry = Entry.objects.get(pk=1)
                entry.sync(*request.flags)
        """,
        },
        {
            "made": ("inline", False),
            "plain": ("inline", False),
            "forced": ("offloaded", False),
            "splatted": ("offloaded", False),
        },
    )


CLEANUP_MODELS = """
    from django.db import models
    from shop.tasks import crunch

    class Resource(models.Model):
        def save(self, *args, **kwargs):
            if self._state.adding:
                return super().save(*args, **kwargs)
            crunch.delay(self.pk)
            return super().save(*args, **kwargs)
"""
CLEANUP_VIEWS = """
    from shop.models import Resource

    def add(request):
        Resource.objects.create(name="new")

    def add_or_touch(request):
        Resource.objects.get_or_create(name="new")

    def touch(request):
        Resource.objects.get(pk=1).save(update_fields=["name"])

    def edit(request):
        resource = Resource.objects.get(pk=1)
        resource.save()
"""


def test_self_state_adding_is_true_under_create_and_false_for_an_update(check):
    """``if self._state.adding: return super().save()``: work after it runs for rows that
    exist (PATTERNS.md item 63). ``create()`` inserts; ``save(update_fields=...)`` updates,
    and so does ``save()`` on a row ``objects.get()`` read (item 227); ``get_or_create()``
    may do either."""
    check(
        {
            "shop/urls.py": urls("add", "add_or_touch", "touch", "edit"),
            "shop/tasks.py": TASKS,
            "shop/models.py": CLEANUP_MODELS,
            "shop/views.py": CLEANUP_VIEWS,
        },
        {
            "add": ("inline", False),
            "add_or_touch": ("offloaded", False),
            "touch": ("offloaded", False),
            "edit": ("offloaded", False),
        },
    )


def test_work_only_for_new_rows_runs_under_create_only(check):
    models = CLEANUP_MODELS.replace("if self._state.adding:", "if not self._state.adding:")
    check(
        {
            "shop/urls.py": urls("add", "add_or_touch", "touch", "edit"),
            "shop/tasks.py": TASKS,
            "shop/models.py": models,
            "shop/views.py": CLEANUP_VIEWS,
        },
        {
            "add": ("offloaded", False),
            "add_or_touch": ("offloaded", False),
            "touch": ("inline", False),
            "edit": ("inline", False),  # a row read from the database: an UPDATE (227)
        },
    )
