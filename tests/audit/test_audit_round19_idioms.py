"""Shapes round 19 found read wrong (PATTERNS.md items 211-). Snippets written for the audit,
not copied from a project."""

from __future__ import annotations


def test_framework_background_spellings_are_background(check):
    """Item 211: FastAPI's BackgroundTasks from ``fastapi.background`` under an alias,
    Litestar's background tasks on a response, and Quart's ``add_background_task`` run after
    the response in this process. A handler that awaits its work stays inline."""
    check(
        {
            "svc/api.py": """
            from fastapi import FastAPI
            from fastapi.background import BackgroundTasks as Later

            app = FastAPI()

            def job(x):
                return x

            @app.post("/aliased")
            async def aliased(tasks: Later):
                tasks.add_task(job, 1)
                return {}

            @app.post("/awaited")
            async def awaited():
                return job(1)
            """,
            "svc/lite.py": """
            from litestar import Litestar, Response, get
            from litestar.background_tasks import BackgroundTask, BackgroundTasks

            def job(x):
                return x

            @get("/one")
            async def one() -> Response:
                return Response({}, background=BackgroundTask(job, 1))

            @get("/many")
            async def many() -> Response:
                tasks = BackgroundTasks([BackgroundTask(job, 1), BackgroundTask(job, 2)])
                return Response({}, background=tasks)

            @get("/none")
            async def none() -> Response:
                return Response({})

            app = Litestar(route_handlers=[one, many, none])
            """,
            "svc/q.py": """
            from quart import Quart

            qapp = Quart(__name__)

            def job(x):
                return x

            @qapp.post("/later")
            async def later():
                qapp.add_background_task(job, 1)
                return {}

            @qapp.post("/now")
            async def now():
                return job(1)
            """,
        },
        {
            "aliased": ("inprocess_background", False),
            "awaited": ("inline", False),
            "one": ("inprocess_background", False),
            "many": ("inprocess_background", False),
            "none": ("inline", False),
            "later": ("inprocess_background", False),
            "now": ("inline", False),
        },
    )
