"""Methods added to a model at run time (issue 14, round 5, pattern 3): Django's
``Model.add_to_class("name", function)`` or ``setattr(Model, "name", function)``, in an
``AppConfig.ready()``, the model imported or looked up by name; ``document.name()`` then
runs the function. On a value of unknown type the added name counts as a ``def`` of that
name in the class would (round 6, item 15): followed among few candidates, else said.
Snippets written for the audit, not copied from a project."""

from __future__ import annotations

TASKS = """
    from celery import shared_task

    @shared_task
    def ocr(pk):
        return pk
"""
MODELS = """
    from django.db import models

    class Document(models.Model):
        label = models.CharField(max_length=10)

    class Folder(models.Model):
        label = models.CharField(max_length=10)
"""
METHODS = """
    from docs.tasks import ocr

    def method_document_submit(self, *, user=None):
        ocr.delay(self.pk)

    def method_folder_submit(self, user=None):
        return self.label

    def method_document_refresh(self):
        ocr.delay(self.pk)
"""
APPS = """
    from django.apps import AppConfig
    from django.db import models
    from docs.methods import method_document_refresh, method_document_submit
    from docs.models import Folder

    class DocsConfig(AppConfig):
        name = "docs"

        def ready(self):
            Document = self.get_model(model_name="Document")
            Document.add_to_class(name="submit_for_ocr", value=method_document_submit)
            Document.add_to_class("ocr_content", models.TextField(blank=True))
            setattr(Folder, "refresh", method_document_refresh)
"""
VIEWS = """
    from docs.models import Document, Folder

    def submit(request):
        Document.objects.get(pk=1).submit_for_ocr(user=request.user)

    def submit_each(request):
        for item in request.session["documents"]:
            item.submit_for_ocr()

    def refresh(request):
        folder = Folder.objects.get(pk=1)
        folder.refresh()

    def label(request):
        return Document.objects.get(pk=1).label
"""
URLS = """
    from django.urls import path
    from docs import views

    urlpatterns = [
        path("submit/", views.submit),
        path("each/", views.submit_each),
        path("refresh/", views.refresh),
        path("label/", views.label),
    ]
"""


def docs(**more: str) -> dict[str, str]:
    files = {
        "docs/__init__.py": "",
        "docs/tasks.py": TASKS,
        "docs/models.py": MODELS,
        "docs/methods.py": METHODS,
        "docs/apps.py": APPS,
        "docs/views.py": VIEWS,
        "docs/urls.py": URLS,
    }
    files.update(more)
    return files


def test_a_method_added_to_a_model_runs_when_called_on_an_instance(check):
    check(
        docs(),
        {
            "submit": ("offloaded", False),
            "submit_each": ("offloaded", False),  # one class gets the name: that function
            "refresh": ("offloaded", False),  # setattr(Folder, "refresh", f)
            "label": ("inline", False),
        },
    )


def test_a_name_added_to_two_classes_is_guessed_like_two_defs_of_it(check):
    """Round 6 item 15: an added method is in the project's method-name index as a ``def``
    in a class body is: on an untyped value, one of two classes' functions may run."""
    apps = APPS.replace(
        '            setattr(Folder, "refresh"',
        '            Folder.add_to_class("submit_for_ocr", method_folder_submit)\n'
        '            setattr(Folder, "refresh"',
    ).replace(
        "import method_document_refresh,", "import method_document_refresh, method_folder_submit,"
    )
    report = check(
        docs(**{"docs/apps.py": apps}),
        {
            "submit": ("offloaded", False),  # typed: the Document's function
            "submit_each": ("offloaded", False),
            "refresh": ("offloaded", False),
            "label": ("inline", False),
        },
    )
    [each] = [e for e in report.endpoints if e.handler.endswith("submit_each")]
    assert each.confidence == "likely"  # Folder's function does not dispatch: a guess
    [dispatch] = [e for e in each.evidence if e.kind == "dispatch"]
    assert dispatch.via[-1].startswith("docs/methods.py:method_document_submit")


def test_a_name_added_to_many_unrelated_classes_is_an_unresolved_call(check):
    models = (
        MODELS
        + """
    class Page(models.Model):
        label = models.CharField(max_length=10)
"""
    )
    apps = (
        APPS.replace(
            '            setattr(Folder, "refresh"',
            '            Folder.add_to_class("submit_for_ocr", method_folder_submit)\n'
            '            Page.add_to_class("submit_for_ocr", method_page_submit)\n'
            '            setattr(Folder, "refresh"',
        )
        .replace(
            "import method_document_refresh,",
            "import method_document_refresh, method_folder_submit, method_page_submit,",
        )
        .replace("import Folder", "import Folder, Page")
    )
    methods = (
        METHODS
        + """
    def method_page_submit(self):
        return self.label
"""
    )
    report = check(
        docs(**{"docs/apps.py": apps, "docs/models.py": models, "docs/methods.py": methods}),
        {
            "submit": ("offloaded", False),
            "submit_each": ("inline", False),
            "refresh": ("offloaded", False),
            "label": ("inline", False),
        },
    )
    [each] = [e for e in report.endpoints if e.handler.endswith("submit_each")]
    assert each.confidence == "likely"
    [unresolved] = each.unresolved_calls
    assert unresolved.call == "item.submit_for_ocr()"


def test_a_name_added_nowhere_stays_silent(check):
    views = VIEWS.replace("item.submit_for_ocr()", "item.submit_for_review()")
    report = check(
        docs(**{"docs/views.py": views}),
        {
            "submit": ("offloaded", False),
            "submit_each": ("inline", False),
            "refresh": ("offloaded", False),
            "label": ("inline", False),
        },
    )
    [each] = [e for e in report.endpoints if e.handler.endswith("submit_each")]
    assert (each.confidence, each.unresolved_calls) == ("certain", ())


def test_nothing_added_nothing_reached(check):
    check(
        docs(**{"docs/apps.py": "from django.apps import AppConfig\n"}),
        {
            "submit": ("inline", False),
            "submit_each": ("inline", False),
            "refresh": ("inline", False),
            "label": ("inline", False),
        },
    )
