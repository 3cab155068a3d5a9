"""Two decorated functions with one name in a module (PATTERNS.md item 75): each ``def
root()`` under its own route decorator is a route (the first one's decorators ran before
the name was rebound), while the name itself is the last one's. Snippets written for the
audit, not copied from a project."""

from __future__ import annotations

TASKS = """
    from celery import Celery

    celery_app = Celery("t")


    @celery_app.task
    def work(x):
        return x
"""
MAIN = """
    from fastapi import APIRouter, FastAPI

    from tasks import work

    app = FastAPI()
    router = APIRouter()


    @app.get("/validate-token")
    async def root():
        work.delay("a")
        return {"ok": True}


    @app.get("/validate-key/{key}")
    async def root(key: str):
        return {"key": key}


    @router.get("/get/{feed_id}")
    def get_feed(feed_id: int):
        return {"id": feed_id}


    @router.get("/get/execution/{execution_id}")
    def get_feed(execution_id: int):
        return {"id": execution_id}


    app.include_router(router, prefix="/feeds")
"""


def test_each_redefined_route_function_is_an_endpoint(run_audit) -> None:
    report = run_audit({"main.py": MAIN, "tasks.py": TASKS})
    found = sorted((e.route, e.handler, e.status) for e in report.endpoints)
    assert found == [
        ("/feeds/get/execution/{execution_id}", "get_feed", "inline"),
        ("/feeds/get/{feed_id}", "get_feed", "inline"),
        ("/validate-key/{key}", "root", "inline"),
        ("/validate-token", "root", "offloaded"),
    ]


CALLER = """
    from fastapi import FastAPI

    from tasks import work

    app = FastAPI()


    def helper():
        work.delay(1)


    def helper():
        return 2


    @app.get("/calls")
    def calls():
        return helper()
"""


def test_the_name_is_the_last_definitions(check) -> None:
    """An undecorated function rebound later is gone: calls reach the last one."""
    check({"main.py": CALLER, "tasks.py": TASKS}, {"calls": ("inline", False)})
