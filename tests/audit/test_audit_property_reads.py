"""A property read without a call runs its getter (PATTERNS.md item 78): ``Job(x).queued``
where ``queued`` is a ``@property`` that enqueues, ``loader.model`` whose getter makes an
HTTP call. ``self.<property>`` reads are not followed (their cost on a large project, for
no change on either labelled set, is in the rule's docstring). Snippets written for the
audit, not copied from a project."""

from __future__ import annotations

APP = """
    import requests
    from celery import Celery
    from fastapi import FastAPI

    celery_app = Celery("t")
    app = FastAPI()


    @celery_app.task
    def work(x):
        return x


    class Loader:
        def __init__(self, url):
            self.url = url

        @property
        def model(self):
            return requests.get(self.url).json()

        @property
        def name(self):
            return "loader"


    class Job:
        def __init__(self, x):
            self.x = x

        @property
        def queued(self):
            return work.delay(self.x).id


    @app.get("/model")
    def via_property():
        loader = Loader("http://x")
        m = loader.model
        return {"m": m}


    @app.post("/enqueue")
    def enqueue_via_property(x: int):
        return {"task": Job(x).queued}


    @app.get("/name")
    def plain_property():
        return {"name": Loader("http://x").name}
"""


def test_a_property_read_runs_its_getter(check) -> None:
    report = check(
        {"main.py": APP},
        {
            "via_property": ("inline", True),
            "enqueue_via_property": ("offloaded", False),
            "plain_property": ("inline", False),
        },
    )
    queued = next(e for e in report.endpoints if e.handler == "enqueue_via_property")
    [dispatch] = [e for e in queued.evidence if e.kind == "dispatch"]
    assert "property read at main.py:45" in dispatch.via[-1]
