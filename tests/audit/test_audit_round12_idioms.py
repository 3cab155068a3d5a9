"""Framework idioms a round-12 spot check found read wrong (PATTERNS.md items 88-94).
Snippets written for the audit, not copied from a project."""

from __future__ import annotations

TASKS = """
    from celery import shared_task

    @shared_task
    def reindex(pk):
        return pk
"""


def test_patch_runs_the_viewset_s_own_update(check):
    """Item 88: DRF's ``partial_update`` is ``self.update(..., partial=True)``, so an
    ``update()`` override runs on PATCH as on PUT; a viewset without one stays inline."""
    check(
        {
            "tasks.py": TASKS,
            "views.py": """
            from rest_framework import viewsets
            from tasks import reindex

            class EntryViewSet(viewsets.ModelViewSet):
                def update(self, request, *args, **kwargs):
                    response = super().update(request, *args, **kwargs)
                    reindex.delay(kwargs["pk"])
                    return response

            class NoteViewSet(viewsets.ModelViewSet):
                pass
            """,
            "urls.py": """
            from rest_framework.routers import DefaultRouter
            from views import EntryViewSet, NoteViewSet

            router = DefaultRouter()
            router.register("entries", EntryViewSet)
            router.register("notes", NoteViewSet)
            urlpatterns = router.urls
            """,
        },
        {
            "EntryViewSet.update": ("offloaded", False),
            "EntryViewSet.partial_update": ("offloaded", False),
            "NoteViewSet.update": ("inline", False),
            "NoteViewSet.partial_update": ("inline", False),
            "EntryViewSet.create": ("inline", False),
            "EntryViewSet.destroy": ("inline", False),
            "EntryViewSet.list": ("inline", False),
            "EntryViewSet.retrieve": ("inline", False),
            "NoteViewSet.create": ("inline", False),
            "NoteViewSet.destroy": ("inline", False),
            "NoteViewSet.list": ("inline", False),
            "NoteViewSet.retrieve": ("inline", False),
        },
    )


POOL = """
    from concurrent.futures import ThreadPoolExecutor, wait

    import requests

    executor = ThreadPoolExecutor(max_workers=8)

    def call_model(prompt):
        return requests.post("https://llm.example.com/complete", json={"p": prompt}).json()
"""


def test_futures_collected_and_waited_in_comprehensions_are_inline(check):
    """Item 89: futures made in a comprehension and waited for in another, or appended to
    ``self.futures`` that a sibling method the request runs waits for, are the request's
    own work; futures nobody waits for are in-process background."""
    check(
        {
            "pool.py": POOL,
            "runner.py": """
            from pool import call_model, executor, wait

            def run_all(prompts):
                futures = [executor.submit(call_model, p) for p in prompts]
                return [f.result() for f in futures]

            def fire_all(prompts):
                futures = [executor.submit(call_model, p) for p in prompts]
                return len(futures)

            class Runner:
                def __init__(self, prompts):
                    self.prompts = prompts
                    self.futures = []

                def start(self):
                    for p in self.prompts:
                        future = executor.submit(call_model, p)
                        self.futures.append(future)

                def settle(self):
                    wait(self.futures)

                def run(self):
                    self.start()
                    self.settle()
                    return "done"

                def launch(self):
                    self.start()
                    return "started"
            """,
            "app.py": """
            from flask import Flask
            from runner import Runner, fire_all, run_all

            app = Flask(__name__)

            @app.post("/all")
            def complete_all():
                return run_all(["a", "b"])

            @app.post("/fire")
            def fire():
                return str(fire_all(["a", "b"]))

            @app.post("/run")
            def run():
                return Runner(["a"]).run()

            @app.post("/launch")
            def launch():
                return Runner(["a"]).launch()
            """,
        },
        {
            "complete_all": ("inline", True),
            "fire": ("inprocess_background", False),
            "run": ("inline", False),
            "launch": ("inprocess_background", False),
        },
    )
