"""A first end-to-end run over a tiny FastAPI project."""

from __future__ import annotations


def test_a_dispatch_two_helpers_away_is_found_with_its_chain(check):
    report = check(
        {
            "app/tasks.py": """
            from celery import shared_task

            @shared_task
            def crunch(x):
                return x
        """,
            "app/service.py": """
            from app.tasks import crunch

            def enqueue(x):
                return _really(x)

            def _really(x):
                return crunch.delay(x)
        """,
            "app/routes.py": """
            from fastapi import APIRouter
            from app import service

            router = APIRouter()

            @router.post("/crunch")
            def start(x: int):
                return service.enqueue(x)
        """,
        },
        {"start": ("offloaded", False)},
    )
    (evidence,) = report.endpoints[0].evidence
    assert evidence.via == (
        "app/routes.py:start",
        "app/service.py:enqueue",
        "app/service.py:_really",
    )
    assert (evidence.file, evidence.line, evidence.call) == ("app/service.py", 7, "crunch.delay(x)")
