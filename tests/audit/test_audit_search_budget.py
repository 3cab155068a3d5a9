"""A call search cut short by its budget is said, never passed off as complete (issue 14 item 5).

Snippets of audited projects (source text only, nothing runs), with ``max_depth`` set small:
a dispatch past the budget leaves the endpoint ``inline`` but ``likely``, with where the search
stopped; a dispatch within it stays ``offloaded``/``certain``; a deep chain read whole, or cut
only before a function that does nothing, stays ``inline``/``certain``.
"""

from __future__ import annotations

import json

from controlplane.migrations_audit.formatters import get_formatter

TASKS = """
    from celery import shared_task

    @shared_task
    def crunch(x):
        return x
"""

CHAIN = """
    from tasks import crunch

    def a(): return b()
    def b(): return c()
    def c(): return crunch.delay(1)
"""

API = """
    from fastapi import FastAPI
    from chain import a

    app = FastAPI()

    @app.post("/run")
    def handler():
        return a()
"""

STOP = "search stopped at depth 2 at chain.py:4 (call c())"


def test_dispatch_past_the_depth_budget_is_likely_with_where_it_stopped(check):
    files = {"tasks.py": TASKS, "chain.py": CHAIN, "api.py": API}
    (endpoint,) = check(files, {"handler": ("inline", False)}, max_depth=2).endpoints
    assert endpoint.confidence == "likely"
    assert [(u.file, u.line, u.call, u.reason) for u in endpoint.unresolved_calls] == [
        ("chain.py", 4, "c()", STOP)
    ]


def test_dispatch_within_the_budget_stays_certain(check):
    files = {"tasks.py": TASKS, "chain.py": CHAIN, "api.py": API}
    (endpoint,) = check(files, {"handler": ("offloaded", False)}, max_depth=3).endpoints
    assert endpoint.confidence == "certain"
    assert endpoint.unresolved_calls == ()


def test_deep_chain_without_dispatch_read_whole_stays_certain(check):
    chain = CHAIN.replace("crunch.delay(1)", "d()") + "    def d(): return len('x')\n"
    files = {"tasks.py": TASKS, "chain.py": chain, "api.py": API}
    for depth in (4, 8):
        (endpoint,) = check(files, {"handler": ("inline", False)}, max_depth=depth).endpoints
        assert (endpoint.confidence, endpoint.unresolved_calls) == ("certain", ())


def test_cut_before_a_function_that_does_nothing_stays_certain(check):
    chain = CHAIN.replace("crunch.delay(1)", "1")
    files = {"tasks.py": TASKS, "chain.py": chain, "api.py": API}
    (endpoint,) = check(files, {"handler": ("inline", False)}, max_depth=2).endpoints
    assert (endpoint.confidence, endpoint.unresolved_calls) == ("certain", ())


def test_dispatch_found_before_the_cut_keeps_its_status(check):
    api = API.replace("return a()", "crunch.delay(2)\n        return a()").replace(
        "from chain import a", "from chain import a\n    from tasks import crunch"
    )
    files = {"tasks.py": TASKS, "chain.py": CHAIN.replace("crunch.delay(1)", "d()")}
    files["chain.py"] += "    def d(): return crunch.delay(3)\n"
    files["api.py"] = api
    (endpoint,) = check(files, {"handler": ("offloaded", False)}, max_depth=2).endpoints
    assert (endpoint.confidence, endpoint.unresolved_calls) == ("certain", ())


def test_every_format_says_where_the_search_stopped(run_audit):
    report = run_audit({"tasks.py": TASKS, "chain.py": CHAIN, "api.py": API}, max_depth=2)
    rendered = {name: get_formatter(name)(report) for name in ("text", "markdown", "html")}
    for name, text in rendered.items():
        assert STOP in text.replace("&#x27;", "'").replace("`", ""), name
    (row,) = json.loads(get_formatter("json")(report))["endpoints"]
    assert row["confidence"] == "likely"
    assert row["unresolved_calls"][0]["reason"] == STOP
