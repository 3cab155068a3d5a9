"""In Chromium (issue 15 items 6 and 13): a page on another port of the same host cannot make
a logged-in operator trigger a task (HEAD, GET, a form, a fetch), and a session cookie copied
before logout stops working for pages and for a POST."""

from __future__ import annotations

import dataclasses
import http.server
import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from flask import Flask
from sqlalchemy import select

from controlplane.broker.embedded import free_port
from controlplane.config import Settings
from controlplane.models import Action
from controlplane.services import Services
from tests.conftest import wait_for

TASK = "worker_tasks.tasks.add"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return dataclasses.replace(settings, task_allowlist=(TASK,))


class Recorder:
    """WSGI middleware: which requests reached the console, and whether with its cookie."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[tuple[str, str, bool]] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        cookie = "controlplane_session=" in environ.get("HTTP_COOKIE", "")
        self.seen.append((environ["REQUEST_METHOD"], environ["PATH_INFO"], cookie))
        return self.app(environ, start_response)


def hostile_page(console: str, queue: str) -> str:
    query = f"name={TASK}&args=%5B666%2C1%5D&queue={queue}"
    body = json.dumps({"name": TASK, "args": [666, 1], "queue": queue})
    return f"""<!doctype html><title>win a prize</title>
<img src="{console}/trigger?{query}">
<iframe name="sink"></iframe>
<form id="f" method="post" action="{console}/trigger" target="sink">
  <input name="name" value="{TASK}"><input name="args" value="[666, 1]">
  <input name="queue" value="{queue}">
</form>
<script>
  const url = "{console}/trigger?{query}";
  Promise.allSettled([
    fetch(url, {{method: "HEAD", credentials: "include", mode: "no-cors"}}),
    fetch(url, {{credentials: "include", mode: "no-cors"}}),
    fetch("{console}/api/v1/tasks", {{method: "POST", credentials: "include", mode: "no-cors",
          headers: {{"Content-Type": "text/plain"}}, body: {json.dumps(body)}}}),
  ]).then(() => {{
    document.getElementById("f").submit();
    document.querySelector("iframe").onload = () => {{ document.title = "done"; }};
  }});
</script>"""


@pytest.fixture
def hostile_server() -> Iterator[Callable[[str], str]]:
    """Serves one hostile page from another port of the same host; returns its URL."""
    pages: dict[str, str] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = pages.get(self.path, "").encode()
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    port = free_port()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def serve(html: str) -> str:
        pages["/prize"] = html
        return f"http://127.0.0.1:{port}/prize"

    yield serve
    server.shutdown()
    thread.join(5)


def triggers_ok(services: Services) -> int:
    with services.transaction() as session:
        rows = session.scalars(
            select(Action).where(Action.action == "trigger", Action.outcome == "ok")
        ).all()
        return len(rows)


def test_a_same_host_page_cannot_make_an_operator_trigger(
    app: Flask,
    services: Services,
    page_as: Callable[[str], Any],
    hostile_server: Callable[[str], str],
    unique: str,
) -> None:
    recorder = Recorder(app.wsgi_app)
    app.wsgi_app = recorder  # type: ignore[method-assign]
    queue = f"hostile-{unique}"
    broker = redis.Redis.from_url(services.settings.broker_url or "")
    operator = page_as("operator")
    # another tab of the same browser (its console errors are the attack's, not the console's)
    prize = operator.context.new_page()
    prize.goto(hostile_server(hostile_page(operator.base_url, queue)))
    prize.wait_for_function("document.title === 'done'", timeout=20000)
    arrived = {(method, path) for method, path, cookie in recorder.seen if cookie}
    # every trick reached the console with the operator's cookie...
    for tried in [("GET", "/trigger"), ("HEAD", "/trigger"), ("POST", "/trigger"),
                  ("POST", "/api/v1/tasks")]:  # fmt: skip
        assert tried in arrived, (tried, recorder.seen)
    # ...and none of them sent a task or logged a trigger
    assert broker.llen(queue) == 0
    assert triggers_ok(services) == 0
    # the operator's own form, with its CSRF token, still sends (the check can see a send)
    operator.goto(f"{operator.base_url}/trigger?name={TASK}&args=%5B1%2C2%5D&queue={queue}")
    operator.click("#trigger-submit")
    wait_for(lambda: broker.llen(queue) == 1, timeout=20, what="the operator's own trigger")
    assert triggers_ok(services) == 1


def test_a_cookie_copied_before_logout_no_longer_works(
    browser: Any, services: Services, page_as: Callable[[str], Any]
) -> None:
    operator = page_as("operator")
    token = operator.get_attribute("meta[name=csrf-token]", "content")
    copy = browser.new_context()
    try:
        copy.add_cookies(operator.context.cookies())
        stolen = copy.new_page()
        stolen.goto(operator.base_url + "/tasks")
        assert stolen.url.endswith("/tasks")  # the copy works while the session lives
        operator.click("form[action='/logout'] button")
        operator.wait_for_url("**/login**")
        stolen.goto(operator.base_url + "/tasks")
        assert "/login" in stolen.url
        answer = copy.request.post(
            operator.base_url + "/tasks/some-task/revoke",
            form={"csrf_token": token or ""},
            headers={"X-CSRFToken": token or ""},
            max_redirects=0,
        )
        assert answer.status in (302, 400, 401, 403)
        with services.transaction() as session:
            assert not session.scalars(select(Action).where(Action.action == "revoke")).all()
    finally:
        copy.close()
