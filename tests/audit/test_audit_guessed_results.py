"""What a guessed call returns is typed by the candidates' return annotation (PATTERNS.md
round 7b, item 25): ``for spec in specs: schedule = spec.update_or_create();
schedule.send()``, where the one project method ``update_or_create`` is annotated ``->
"Schedule"`` (imported under ``TYPE_CHECKING``) and ``Schedule.send`` dispatches. The
dispatch is found, as ``likely``: it rests on the guess of ``spec``'s class. Snippets written
for the audit, not copied from a project."""

from __future__ import annotations

TASKS = """
    from celery import shared_task


    @shared_task
    def run(pk):
        return pk
"""
MODELS = """
    from django.db import models

    from app.tasks import run


    class Schedule(models.Model):
        name = models.CharField(max_length=10)

        def send(self):
            return run.delay(self.pk)


    class Report(models.Model):
        name = models.CharField(max_length=10)

        def send(self):
            return self.name
"""
SPECS = """
    from typing import TYPE_CHECKING

    if TYPE_CHECKING:
        from app.models import Report, Schedule


    class Spec:
        def update_or_create(self) -> "Schedule":
            from app.models import Schedule

            return Schedule.objects.on_conflict(["name"]).insert_and_get(name="x")

        def render(self) -> "Report":
            from app.models import Report

            return Report.objects.on_conflict(["name"]).insert_and_get(name="x")
"""
VIEWS = """
    def scheduled(request, specs):
        for spec in specs:
            schedule = spec.update_or_create()
            schedule.send()


    def reported(request, specs):
        for spec in specs:
            report = spec.render()
            report.send()
"""
URLS = """
    from django.urls import path
    from app import views

    urlpatterns = [path("s/", views.scheduled), path("r/", views.reported)]
"""
OTHER_SPEC = """
    from app.models import Report


    class OtherSpec:
        def update_or_create(self) -> Report:
            return Report.objects.get(pk=1)
"""


def files(**extra: str) -> dict[str, str]:
    return {
        "app/__init__.py": "",
        "app/tasks.py": TASKS,
        "app/models.py": MODELS,
        "app/specs.py": SPECS,
        "app/views.py": VIEWS,
        "app/urls.py": URLS,
        **extra,
    }


def test_a_guessed_calls_annotated_result_is_followed_as_a_guess(check):
    report = check(files(), {"scheduled": ("offloaded", False), "reported": ("inline", False)})
    [scheduled] = [e for e in report.endpoints if e.handler == "scheduled"]
    assert scheduled.confidence == "likely"
    [dispatch] = [item for item in scheduled.evidence if item.kind == "dispatch"]
    assert "guessed update_or_create()" in dispatch.via[-1], dispatch.via


def test_candidates_that_return_different_classes_type_nothing(check):
    # two update_or_create methods returning different models: the result stays unknown
    check(
        files(**{"app/other.py": OTHER_SPEC}),
        {"scheduled": ("inline", False), "reported": ("inline", False)},
    )


def test_a_result_annotated_with_a_base_class_reaches_its_subclasses_overrides(check):
    # "-> Base" with subclasses: the instance may be any of them, so an override that
    # dispatches counts, as for any receiver typed by a base class
    models = (
        MODELS
        + """

    class Base(models.Model):
        class Meta:
            abstract = True

        def deliver(self):
            return None


    class Remote(Base):
        def deliver(self):
            return run.delay(self.pk)
    """
    )
    specs = (
        SPECS
        + """

        def pick(self) -> "Base":
            from app.models import Remote

            return Remote()
    """
    )
    views = (
        VIEWS
        + """

    def delivered(request, specs):
        for spec in specs:
            spec.pick().deliver()
    """
    )
    urls = URLS.replace(
        'path("r/", views.reported)]', 'path("r/", views.reported), path("d/", views.delivered)]'
    )
    check(
        {
            **files(),
            "app/models.py": models,
            "app/specs.py": specs,
            "app/views.py": views,
            "app/urls.py": urls,
        },
        {
            "scheduled": ("offloaded", False),
            "reported": ("inline", False),
            "delivered": ("offloaded", False),
        },
    )


def test_an_annotation_naming_a_class_without_the_method_leaves_the_receiver_unknown(check):
    # "-> Kind" names a choices class; the method called on the result is not Kind's: it
    # is followed as on an unknown receiver (the project's one method of that name)
    models = (
        MODELS
        + """

    class Kind(models.TextChoices):
        MANUAL = "manual"


    class Automatic:
        def revise(self):
            return run.delay(1)
    """
    )
    specs = (
        SPECS.replace("import Report, Schedule", "import Kind, Report, Schedule")
        + """

        def to_action(self) -> "Kind":
            from app.models import Automatic

            return Automatic()
    """
    )
    views = (
        VIEWS
        + """

    def revised(request, specs):
        for spec in specs:
            action = spec.to_action()
            action.revise()
    """
    )
    urls = URLS.replace(
        'path("r/", views.reported)]', 'path("r/", views.reported), path("v/", views.revised)]'
    )
    check(
        {
            **files(),
            "app/models.py": models,
            "app/specs.py": specs,
            "app/views.py": views,
            "app/urls.py": urls,
        },
        {
            "scheduled": ("offloaded", False),
            "reported": ("inline", False),
            "revised": ("offloaded", False),
        },
    )
