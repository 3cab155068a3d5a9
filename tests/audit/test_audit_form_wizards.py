"""django-formtools wizards: the last step's ``post`` runs ``render_done``, which runs the
project's ``done()``; a view that sets its request's method to GET before calling another
view runs only that view's ``get`` (PATTERNS.md item 32). Snippets written for the audit."""

from __future__ import annotations

TASKS = """
    from celery import shared_task

    @shared_task
    def process_logo(pk):
        return pk
"""
VIEWS = """
    from django.views import View
    from formtools.wizard.views import SessionWizardView
    from app.tasks import process_logo

    class CreateWizard(SessionWizardView):
        form_list = []

        def done(self, form_list, **kwargs):
            process_logo.delay(1)

    class BackMixin:
        def post(self, *args, **kwargs):
            form = self.get_form(data=self.request.POST)
            if form.is_valid():
                return self.render_done(form, **kwargs)
            return self.render(form)

    class SavingWizard(BackMixin, SessionWizardView):
        form_list = []

        def done(self, form_list, **kwargs):
            process_logo.delay(2)

    class QuietWizard(SessionWizardView):
        form_list = []

        def done(self, form_list, **kwargs):
            return None

    class SeedView(View):
        def post(self, request, *args, **kwargs):
            request.method = "GET"  # shows the wizard's first step, seeded
            return CreateWizard.as_view(initial_dict={})(request)

    class ForwardView(View):
        def post(self, request, *args, **kwargs):
            return CreateWizard.as_view()(request)
"""
URLS = """
    from django.urls import path
    from app.views import CreateWizard, ForwardView, QuietWizard, SavingWizard, SeedView

    urlpatterns = [
        path("seed", SeedView.as_view()),
        path("forward", ForwardView.as_view()),
        path("create", CreateWizard.as_view()),
        path("saving", SavingWizard.as_view()),
        path("quiet", QuietWizard.as_view()),
    ]
"""


def test_a_wizard_s_post_runs_its_done(check):
    check(
        {"app/__init__.py": "", "app/tasks.py": TASKS, "app/views.py": VIEWS, "app/urls.py": URLS},
        {
            "CreateWizard.get": ("inline", False),
            "CreateWizard.post": ("offloaded", False),
            "SavingWizard.get": ("inline", False),
            "SavingWizard.post": ("offloaded", False),
            "QuietWizard.get": ("inline", False),
            "QuietWizard.post": ("inline", False),
            # the request's method set to GET first: only the wizard's get runs
            "SeedView.post": ("inline", False),
            "ForwardView.post": ("offloaded", False),
        },
    )
