"""Row 17 of FAULTS.md: markup and template syntax inside task names, args, kwargs, results,
exceptions, tracebacks, queues and hostnames arrive as real Celery event messages (Celery's own
event dispatcher, on a private redis-server, read by the real ingester), and every page, htmx
partial and API answer that shows them keeps them inert.

Each page is parsed (html.parser): no <script> or <img> from the payload, no on* attribute
carrying it, no hx-* attribute carrying it outside an element under hx-disable (hx-confirm and
hx-prompt excepted: htmx shows their text through window.confirm/prompt), and the `Z{{7*7}}Z`
probe never renders as `Z49Z` (no template evaluation). The marker must be visible as text on
the pages that show the field, so a page that silently dropped it cannot pass.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterator
from html.parser import HTMLParser

from celery import Celery
from flask.testing import FlaskClient

from controlplane import users
from controlplane.services import Services
from controlplane.web import create_app
from tests.conftest import add_user, log_in, wait_for
from tests.faults.conftest import FaultRedis, task_row

MARK = "xss" + uuid.uuid4().hex[:6]
PAYLOAD = (
    f"{MARK}<script>alert(1)</script><img src=x onerror=alert(2)>"
    '<a hx-post="/api/v1/pwn" hx-get="/api/v1/pwn" hx-trigger="load">'
    "Z{{7*7}}Z{% raw %}</a>"
)
# htmx shows these as plain text through window.confirm/prompt: a payload there is only read.
TEXT_ONLY_HX = {"hx-confirm", "hx-prompt", "data-hx-confirm", "data-hx-prompt"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}  # fmt: skip


class LiveMarkupFinder(HTMLParser):
    """Walks a page and lists every element or attribute the payload could have made live."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool]] = []
        self.in_script = False
        self.violations: list[str] = []
        self.text: list[str] = []

    def disabled(self) -> bool:
        return any(flag for _, flag in self.stack)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "img" and values.get("src") == "x":
            self.violations.append(f"live <img src=x>: {attrs}")
        if tag == "a" and any("pwn" in v for v in values.values()):
            self.violations.append(f"live <a> from the payload: {attrs}")
        for name, value in values.items():
            if name.startswith("on") and "alert(" in value:
                self.violations.append(f"live {name}= on <{tag}>: {value!r}")
            hx = name.startswith(("hx-", "data-hx-")) and name not in TEXT_ONLY_HX
            if hx and "pwn" in value and not (self.disabled() or "hx-disable" in values):
                self.violations.append(f"live {name}= on <{tag}> outside hx-disable: {value!r}")
            if "Z49Z" in value:
                self.violations.append(f"template evaluated in {name}= on <{tag}>")
        if tag == "script":
            self.in_script = True
        if tag not in VOID:
            self.stack.append((tag, "hx-disable" in values or "data-hx-disable" in values))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self.in_script = False
        for index in range(len(self.stack) - 1, -1, -1):
            if self.stack[index][0] == tag:
                del self.stack[index:]
                break

    def handle_data(self, data: str) -> None:
        if self.in_script and ("alert(1)" in data or MARK in data):
            self.violations.append(f"live <script> carries the payload: {data[:200]!r}")
        self.text.append(data)


def inspect_page(client: FlaskClient, url: str, *, htmx: bool = False) -> str:
    """Fetch `url`, fail on any live markup from the payload; return the page's visible text."""
    headers = {"HX-Request": "true"} if htmx else {}
    response = client.get(url, headers=headers)
    body = response.get_data(as_text=True)
    assert response.status_code == 200, (url, response.status_code, body[:500])
    finder = LiveMarkupFinder()
    finder.feed(body)
    finder.close()
    text = "".join(finder.text)
    assert not finder.violations, (url, finder.violations)
    assert "Z49Z" not in text, f"{url}: {{{{7*7}}}} was evaluated"
    return text


def strings_in(value: object) -> Iterator[str]:
    """Every string inside a decoded JSON document."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)


def publish_hostile_events(broker_url: str, hostname: str, queue: str) -> dict[str, str]:
    """Send a worker's and two tasks' whole lives through Celery's own event dispatcher."""
    app = Celery(broker=broker_url, set_as_current=False)
    ids = {"failed": f"{MARK}-f-{uuid.uuid4().hex[:6]}", "ok": f"{MARK}-s-{uuid.uuid4().hex[:6]}"}
    try:
        with app.connection_for_write() as connection:
            dispatcher = app.events.Dispatcher(connection, hostname=hostname, enabled=True)
            dispatcher.send("worker-online", freq=2.0, sw_ident="py-celery", sw_ver="5",
                            sw_sys="Linux")  # fmt: skip
            dispatcher.send("worker-heartbeat", freq=2.0, active=0, processed=0)
            for kind, task_id in ids.items():
                now = time.time()
                dispatcher.send("task-sent", uuid=task_id, name=f"{MARK}.{kind}{PAYLOAD}",
                                args=repr((PAYLOAD,)), kwargs=repr({"note": PAYLOAD}),
                                queue=queue, routing_key=queue, exchange="",
                                retries=0, eta=None, expires=None, root_id=task_id,
                                parent_id=None, timestamp=now)  # fmt: skip
                dispatcher.send("task-received", uuid=task_id, name=f"{MARK}.{kind}{PAYLOAD}",
                                args=repr((PAYLOAD,)), kwargs=repr({"note": PAYLOAD}),
                                retries=0, eta=None, root_id=task_id, parent_id=None,
                                timestamp=now)  # fmt: skip
                dispatcher.send("task-started", uuid=task_id, timestamp=now)
            dispatcher.send("task-failed", uuid=ids["failed"],
                            exception=f"ValueError({PAYLOAD!r})",
                            traceback=f"Traceback (most recent call last):\n  {PAYLOAD}\n"
                                      f"ValueError: {PAYLOAD}",
                            timestamp=time.time())  # fmt: skip
            dispatcher.send("task-succeeded", uuid=ids["ok"], result=repr(PAYLOAD),
                            runtime=0.01, timestamp=time.time())  # fmt: skip
            dispatcher.close()
    finally:
        app.close()
    return ids


def test_row17_hostile_text_from_real_events_is_inert_on_every_page_partial_and_api(
    fault_redis: FaultRedis,
    console_factory: Callable[..., Services],
    ingesters: Callable[[Services], object],
) -> None:
    queue = f"q{MARK}<script>alert(1)</script>hx-get=Z{{{{7*7}}}}Z"
    services = console_factory(fault_redis.url, queues=(queue,))
    ingesters(services)
    hostname = f"w{MARK}<script>alert(1)</script>@h<img src=x onerror=alert(3)>Z{{{{7*7}}}}Z"
    time.sleep(1.0)  # the ingester's consumer binds before the events go out
    ids = publish_hostile_events(fault_redis.url, hostname, queue)

    def stored() -> bool:
        failed, ok = task_row(services, ids["failed"]), task_row(services, ids["ok"])
        return bool(failed and failed.state == "FAILURE" and ok and ok.state == "SUCCESS")

    wait_for(stored, timeout=30, what="both hostile tasks stored as FAILURE and SUCCESS")

    app = create_app(services, {"TESTING": True})
    add_user(services, "xss-admin", "admin")
    client = app.test_client()
    log_in(client, "xss-admin")

    # Pages that show the payload must show it as text (escaped, not dropped).
    shown = {
        "/tasks": inspect_page(client, "/tasks"),
        "/tasks rows": inspect_page(client, "/tasks?fragment=rows", htmx=True),
    }
    for task_id in ids.values():
        shown[f"detail {task_id}"] = inspect_page(client, f"/tasks/{task_id}")
        shown[f"live {task_id}"] = inspect_page(client, f"/tasks/{task_id}?fragment=live",
                                                htmx=True)  # fmt: skip
        shown[f"row {task_id}"] = inspect_page(client, f"/tasks/{task_id}/row", htmx=True)
    failures = inspect_page(client, "/failures")
    shown["/failures"] = failures
    failures_html = client.get("/failures").get_data(as_text=True)
    for group_id in sorted(set(re.findall(r'href="/failures/(\d+)"', failures_html))):
        shown[f"/failures/{group_id}"] = inspect_page(client, f"/failures/{group_id}")
    for where, text in shown.items():
        assert MARK in text, f"{where} does not show the hostile task at all"
    for task_id in ids.values():
        assert PAYLOAD in shown[f"detail {task_id}"], "the args/kwargs are not shown verbatim"
    failed_detail = shown[f"detail {ids['failed']}"]
    assert f"ValueError: {PAYLOAD}" in failed_detail, "the traceback is not shown verbatim"
    assert "Z{{7*7}}Z{% raw %}" in failed_detail

    # Every other page and partial that may carry the text: inert, whatever it shows.
    elsewhere = {url: inspect_page(client, url, htmx=url.startswith("/fragments"))
                 for url in ("/", "/fragments/fleet", "/workers", "/queues", "/insights",
                             "/actions", "/alerts/", "/alerts/history")}  # fmt: skip
    for url in ("/fragments/fleet", "/workers", "/insights"):
        assert MARK in elsewhere[url], f"{url} does not show the hostile worker or task"

    # The JSON API hands the text back as data, byte for byte, never as HTML.
    api = app.test_client()
    api.environ_base["HTTP_AUTHORIZATION"] = f"Bearer {users.create_token(services, 'xss-admin')}"
    for task_id in ids.values():
        response = api.get(f"/api/v1/tasks/{task_id}")
        assert response.status_code == 200 and response.is_json, response.status_code
        strings = list(strings_in(response.get_json()))
        assert any(PAYLOAD in value for value in strings), strings
        assert not any("Z49Z" in value for value in strings)
    listing = api.get("/api/v1/tasks")
    assert listing.status_code == 200 and listing.is_json
    assert "Z49Z" not in listing.get_data(as_text=True)
