"""A dispatch taken as a bound method and called later (issue 14, PATTERNS.md round 5b,
pattern 7): ``fn = send_mail.delay if config.USE_QUEUE else send_now`` then ``fn(payload)``
enqueues on one arm of the setting, so the endpoint is offloaded (``likely``, as any
dispatch under a setting) with the ``fn(...)`` call and the setting as evidence. A local
bound to a plain function, a bound dispatch nothing calls and a signature (``task.s``) are
no dispatch. Snippets of audited projects (source text only, nothing runs)."""

from __future__ import annotations

TASKS = """
    from celery import shared_task
    import dramatiq


    @shared_task
    def send_mail(payload):
        pass


    @dramatiq.actor
    def send_event(payload):
        pass


    def send_now(payload):
        pass
"""


def routes(helper: str) -> str:
    """A Flask handler calling ``notify`` (``helper``, a body taking ``payload``)."""
    body = "\n".join("    " + line for line in helper.strip("\n").splitlines())
    return f"""
from functools import partial
from django.db.transaction import on_commit
from flask import Flask, current_app
from app.tasks import send_event, send_mail, send_now

app = Flask(__name__)


def notify(payload):
{body}


@app.post("/notify")
def handler():
    notify(1)
    return "ok"
"""


def audit(run_audit, helper: str):
    files = {"app/__init__.py": "", "app/tasks.py": TASKS, "app/routes.py": routes(helper)}
    [endpoint] = run_audit(files).endpoints
    return endpoint


def test_a_dispatch_chosen_by_a_setting_and_called_through_a_local_is_a_dispatch(run_audit):
    for helper, call, guard in (
        (
            "fn = send_mail.delay if current_app.config['USE_QUEUE'] else send_now\nfn(payload)",
            "fn(payload)",
            "current_app.config['USE_QUEUE']",
        ),
        (  # the guard is the test as written
            "fn = send_now if not current_app.config['USE_QUEUE'] else send_mail.apply_async\n"
            "fn(args=(payload,))",
            "fn(args=(payload,))",
            "not current_app.config['USE_QUEUE']",
        ),
        (  # Dramatiq's send, one level down a nested conditional
            "send = send_now if current_app.debug else (\n"
            "    send_event.send if current_app.config['USE_QUEUE'] else send_now)\n"
            "send(payload)",
            "send(payload)",
            "current_app.config['USE_QUEUE']",
        ),
    ):
        endpoint = audit(run_audit, helper)
        assert (endpoint.status, endpoint.confidence) == ("offloaded", "likely"), helper
        assert [(e.kind, e.file, e.call) for e in endpoint.evidence][:2] == [
            ("dispatch", "app/routes.py", call),
            ("setting_guard", "app/routes.py", guard),
        ], helper


def test_a_dispatch_bound_in_the_arms_of_an_if_on_a_setting_is_either_arm(run_audit):
    for helper in (
        "if current_app.config['USE_QUEUE']:\n"
        "    fn = send_mail.delay\n"
        "else:\n"
        "    fn = send_now\n"
        "fn(payload)",
        # one arm keeps the binding from before the if
        "fn = send_now\nif current_app.config['USE_QUEUE']:\n    fn = send_mail.delay\nfn(payload)",
    ):
        endpoint = audit(run_audit, helper)
        assert (endpoint.status, endpoint.confidence) == ("offloaded", "likely"), helper
        assert [(e.kind, e.call) for e in endpoint.evidence] == [
            ("dispatch", "fn(payload)"),
            ("setting_guard", "current_app.config['USE_QUEUE']"),
        ], helper


def test_plain_functions_bound_in_the_arms_of_an_if_keep_the_last_binding(run_audit):
    for helper in (
        "if current_app.config['USE_QUEUE']:\n"
        "    fn = send_now\n"
        "else:\n"
        "    fn = print\n"
        "fn(payload)",
        # a signature is no dispatch method
        "fn = send_now\nif current_app.config['USE_QUEUE']:\n    fn = send_mail.s\nfn(payload)",
    ):
        endpoint = audit(run_audit, helper)
        assert (endpoint.status, endpoint.evidence) == ("inline", ()), helper


def test_a_dispatch_bound_without_a_condition_and_called_is_a_certain_dispatch(run_audit):
    endpoint = audit(run_audit, "fn = send_mail.delay\nfn(payload)")
    assert (endpoint.status, endpoint.confidence) == ("offloaded", "certain")
    assert [(e.kind, e.line, e.call) for e in endpoint.evidence] == [
        ("dispatch", 11, "fn(payload)")
    ]


def test_a_local_that_is_no_dispatch_or_is_never_called_is_inline(run_audit):
    for helper in (
        "fn = send_now\nfn(payload)",
        "fn = send_now if current_app.config['USE_QUEUE'] else print\nfn(payload)",
        "fn = send_mail.delay\nreturn payload",
        "fn = send_mail.delay if current_app.config['USE_QUEUE'] else send_now\nreturn payload",
        # a signature is built, not sent
        "fn = send_mail.s\nfn(payload)",
        "fn = send_mail.s if current_app.config['USE_QUEUE'] else send_mail.si\nfn(payload)",
    ):
        endpoint = audit(run_audit, helper)
        assert (endpoint.status, endpoint.evidence) == ("inline", ()), helper


def test_a_partial_of_a_dispatch_chosen_by_a_setting_is_judged_per_arm(run_audit):
    bound = "fn = send_mail.delay if current_app.config['USE_QUEUE'] else send_now\n"
    endpoint = audit(run_audit, bound + "on_commit(partial(fn, payload))")
    assert (endpoint.status, endpoint.confidence) == ("offloaded", "likely")
    assert [(e.kind, e.call) for e in endpoint.evidence][:1] == [
        ("dispatch", "partial(fn, payload)")
    ]
    # built and never called, passed on or returned: it never runs
    endpoint = audit(run_audit, bound + "job = partial(fn, payload)")
    assert (endpoint.status, endpoint.evidence) == ("inline", ())


def test_an_arm_picked_by_the_callers_argument_follows_that_argument(check):
    files = {
        "app/__init__.py": "",
        "app/tasks.py": TASKS,
        "app/routes.py": """
            from flask import Flask
            from app.tasks import send_mail, send_now

            app = Flask(__name__)


            def notify(payload, queued):
                fn = send_mail.delay if queued else send_now
                fn(payload)


            @app.post("/queued")
            def queued():
                notify(1, queued=True)
                return "ok"


            @app.post("/now")
            def now():
                notify(1, queued=False)
                return "ok"
        """,
    }
    check(files, {"queued": ("offloaded", False), "now": ("inline", False)})


QUEUED = """
    from flask import Flask, current_app, g
    from app.tasks import send_mail, send_now

    app = Flask(__name__)


    def notify(payload):
        fn = send_mail.delay if current_app.config["USE_QUEUE"] else send_now
        g.setdefault("pending", []).append((fn, payload))


    @app.post("/notify")
    def handler():
        notify(1)
        return "ok"
"""
FLUSHER = """
    from flask import g


    def flush_pending(sender, **kwargs):
        for fn, *args in g.pop("pending", []):
            fn(*args)
"""


def test_a_dispatch_stored_in_a_queue_a_flusher_calls_is_a_dispatch(run_audit):
    files = {"app/__init__.py": "", "app/tasks.py": TASKS, "app/routes.py": QUEUED}
    [endpoint] = run_audit({**files, "app/flush.py": FLUSHER}).endpoints
    assert (endpoint.status, endpoint.confidence) == ("offloaded", "likely")
    assert [(e.kind, e.line, e.call) for e in endpoint.evidence] == [
        ("dispatch", 9, 'g.setdefault("pending", []).append((fn, payload))'),
        ("setting_guard", 8, "current_app.config['USE_QUEUE']"),
    ]


def test_a_callable_stored_in_a_queue_nothing_calls_or_no_dispatch_stored_is_inline(check):
    files = {"app/__init__.py": "", "app/tasks.py": TASKS}
    # nothing calls the queue's elements: they are only kept
    check({**files, "app/routes.py": QUEUED}, {"handler": ("inline", False)})
    # a loop calls the elements of another queue
    other = FLUSHER.replace('"pending"', '"callbacks"')
    check({**files, "app/routes.py": QUEUED, "app/flush.py": other}, {"handler": ("inline", False)})
    # the queue is flushed, but what is stored is no dispatch
    plain = QUEUED.replace("send_mail.delay if", "send_mail if")
    check(
        {**files, "app/routes.py": plain, "app/flush.py": FLUSHER}, {"handler": ("inline", False)}
    )
