"""A project decorator that applies a queue library's task decorator makes a task of what it
decorates (PATTERNS.md round 7d, item 27): ``def task(retries=5): def deco(fn): ...; return
huey.task(retries=retries)(inner); return deco`` - ``@task()`` functions are Huey tasks, and
calling one enqueues it. Seen on a project in no labelled set (linkding); snippets written for
the audit."""

from __future__ import annotations

TASKS = """
    import functools

    from celery import shared_task
    from huey.contrib.djhuey import HUEY as huey


    def task(retries=5, retry_delay=15):
        def deco(fn):
            @functools.wraps(fn)
            def inner(*args, **kwargs):
                return fn(*args, **kwargs)

            return huey.task(retries=retries, retry_delay=retry_delay, context=True)(inner)

        return deco


    def background(fn):
        return shared_task(bind=True)(fn)


    def logged(fn):
        @functools.wraps(fn)
        def inner(*args, **kwargs):
            return fn(*args, **kwargs)

        return inner


    @task()
    def load_favicon(pk):
        return pk


    @background
    def rebuild(self, pk):
        return pk


    @logged
    def describe(pk):
        return pk
"""
VIEWS = """
    from django.http import HttpResponse

    from app.tasks import describe, load_favicon, rebuild


    def favicon(request, pk):
        load_favicon(pk)  # calling a Huey task enqueues it
        return HttpResponse("")


    def rebuild_later(request, pk):
        rebuild.delay(pk)
        return HttpResponse("")


    def rebuild_now(request, pk):
        rebuild(pk)  # calling a Celery task runs it here
        return HttpResponse("")


    def show(request, pk):
        return HttpResponse(describe(pk))
"""
URLS = """
    from django.urls import path
    from app import views

    urlpatterns = [
        path("f/<int:pk>/", views.favicon),
        path("r/<int:pk>/", views.rebuild_later),
        path("n/<int:pk>/", views.rebuild_now),
        path("s/<int:pk>/", views.show),
    ]
"""


def test_a_project_decorator_applying_a_task_decorator_makes_tasks(check):
    report = check(
        {"app/__init__.py": "", "app/tasks.py": TASKS, "app/views.py": VIEWS, "app/urls.py": URLS},
        {
            "favicon": ("offloaded", False),
            "rebuild_later": ("offloaded", False),
            "rebuild_now": ("inline", False),
            "show": ("inline", False),
        },
    )
    systems = {
        e.handler: {item.queue_system for item in e.evidence if item.kind == "dispatch"}
        for e in report.endpoints
    }
    assert systems["favicon"] == {"huey"} and systems["rebuild_later"] == {"celery"}, systems


# Round 11, item 76: the same made by an instance of a project class, through __call__
CLASS_TASKS = """
    import functools

    from celery import shared_task


    class retryable_task:
        def __init__(self, *args, **kwargs):
            self.task_args = args
            self.task_kwargs = kwargs

        def __call__(self, f):
            @functools.wraps(f)
            def inner(*args, **kwargs):
                return f(*args, **kwargs)

            return shared_task(*self.task_args, **self.task_kwargs)(inner)


    class logged:
        def __init__(self, label):
            self.label = label

        def __call__(self, f):
            return f


    @retryable_task(name="rebuild", max_retries=10)
    def rebuild(pk):
        return pk


    @logged("describe")
    def describe(pk):
        return pk

    load_favicon = describe
"""


def test_a_project_class_whose_instances_make_tasks_makes_tasks(check):
    check(
        {
            "app/__init__.py": "",
            "app/tasks.py": CLASS_TASKS,
            "app/views.py": VIEWS,
            "app/urls.py": URLS,
        },
        {
            "favicon": ("inline", False),
            "rebuild_later": ("offloaded", False),
            "rebuild_now": ("inline", False),
            "show": ("inline", False),
        },
    )
