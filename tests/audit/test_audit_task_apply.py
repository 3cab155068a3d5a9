"""``task.apply()`` runs a Celery task's body in the request, synchronously: what the body
dispatches is the endpoint's (PATTERNS.md item 36). Snippets written for the audit."""

from __future__ import annotations

TASKS = """
    from celery import shared_task

    @shared_task
    def send_mail(to):
        return to

    @shared_task
    def update_check():
        send_mail.apply_async(args=("admin",))

    @shared_task
    def quiet_check():
        return 1

    def not_a_task():
        send_mail.delay("x")
"""
VIEWS = """
    from flask import Blueprint
    from app.tasks import not_a_task, quiet_check, update_check

    bp = Blueprint("admin", __name__)


    @bp.route("/check", methods=["POST"])
    def check():
        update_check.apply()
        return ""


    @bp.route("/quiet", methods=["POST"])
    def quiet():
        quiet_check.apply()
        return ""


    @bp.route("/plain", methods=["POST"])
    def plain():
        not_a_task.apply()  # not a task: an attribute of a function, nothing it runs
        return ""
"""


def test_a_task_applied_in_the_request_runs_its_body(check):
    check(
        {"app/__init__.py": "", "app/tasks.py": TASKS, "app/views.py": VIEWS},
        {
            "check": ("offloaded", False),  # its body enqueues the mail
            "quiet": ("inline", False),
            "plain": ("inline", False),
        },
    )
