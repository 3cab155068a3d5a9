"""A property or cached property is read as its value: ``self.login_form.save()`` runs the
``save`` of the form the property returns, also under another decorator (PATTERNS.md item
31). Snippets written for the audit."""

from __future__ import annotations

TASKS = """
    from celery import shared_task

    @shared_task
    def send_mail(to):
        return to
"""
FORMS = """
    from django import forms
    from app.tasks import send_mail

    class LoginForm(forms.Form):
        def save(self):
            send_mail.delay("x")

    class QuietForm(forms.Form):
        def save(self):
            return None
"""
VIEWS = """
    import functools

    from django.utils.functional import cached_property
    from django.views.generic import TemplateView
    from django_context_decorator import context
    from app.forms import LoginForm, QuietForm

    class Decorated(TemplateView):
        @context
        @cached_property
        def login_form(self):
            return LoginForm(data=self.request.POST)

        def post(self, request):
            if self.login_form.is_valid():
                self.login_form.save()

    class Builtin(TemplateView):
        @property
        def login_form(self):
            return LoginForm(data=self.request.POST)

        def post(self, request):
            self.login_form.save()

    class Functools(TemplateView):
        @functools.cached_property
        def login_form(self):
            return LoginForm(data=self.request.POST)

        def post(self, request):
            self.login_form.save()

    class Quiet(TemplateView):
        @property
        def login_form(self):
            return QuietForm(data=self.request.POST)

        def post(self, request):
            self.login_form.save()

    class NotAProperty(TemplateView):
        def login_form(self):
            return LoginForm(data=self.request.POST)

        def post(self, request):
            self.login_form.save()  # an attribute of the method itself: nothing runs
"""
URLS = """
    from django.urls import path
    from app import views

    urlpatterns = [
        path("decorated", views.Decorated.as_view()),
        path("builtin", views.Builtin.as_view()),
        path("functools", views.Functools.as_view()),
        path("quiet", views.Quiet.as_view()),
        path("method", views.NotAProperty.as_view()),
    ]
"""


def test_a_property_is_read_as_what_it_returns(check):
    views = ("Decorated", "Builtin", "Functools", "Quiet", "NotAProperty")
    expected = {f"{view}.get": ("inline", False) for view in views}
    expected.update(
        {
            "Decorated.post": ("offloaded", False),
            "Builtin.post": ("offloaded", False),
            "Functools.post": ("offloaded", False),
            "Quiet.post": ("inline", False),
            "NotAProperty.post": ("inline", False),
        }
    )
    check(
        {
            "app/__init__.py": "",
            "app/tasks.py": TASKS,
            "app/forms.py": FORMS,
            "app/views.py": VIEWS,
            "app/urls.py": URLS,
        },
        expected,
    )


# Round 9, item 48: a property read as a call's argument runs its body
STATE = """
    from dataclasses import asdict, dataclass

    from django.db import models
    from rest_framework.response import Response
    from rest_framework.views import APIView

    from app.tasks import send_mail


    @dataclass
    class State:
        healthy: bool


    class Connection(models.Model):
        name = models.CharField(max_length=10)

        @property
        def state(self):
            send_mail.delay(self.name)  # refreshed in the background on a cache miss
            return State(False)

        @property
        def label(self):
            return self.name

        def check(self):
            send_mail.delay(self.name)


    class StateView(APIView):
        def get(self, request, pk):
            connection = Connection.objects.get(pk=pk)
            return Response(asdict(connection.state))


    class LabelView(APIView):
        def get(self, request, pk):
            connection = Connection.objects.get(pk=pk)
            return Response({"label": str(connection.label)})


    class MethodView(APIView):
        def get(self, request, pk):
            connection = Connection.objects.get(pk=pk)
            return Response(repr(connection.check))  # a method named, not called
"""
STATE_URLS = """
    from django.urls import path
    from app import views

    urlpatterns = [
        path("state", views.StateView.as_view()),
        path("label", views.LabelView.as_view()),
        path("method", views.MethodView.as_view()),
    ]
"""


def test_a_property_read_as_an_argument_runs_its_body(check):
    check(
        {
            "app/__init__.py": "",
            "app/tasks.py": TASKS,
            "app/views.py": STATE,
            "app/urls.py": STATE_URLS,
        },
        {
            "StateView.get": ("offloaded", False),
            "LabelView.get": ("inline", False),
            "MethodView.get": ("inline", False),
        },
    )
