"""Flask-SQLAlchemy's ``Model.query``: a query of the model, whose rows (``get_or_404()``,
``one()``, iterating ``query.all()`` or a slice of it) are instances (PATTERNS.md item 35).
Snippets written for the audit."""

from __future__ import annotations

TASKS = """
    from celery import shared_task

    @shared_task
    def cancel_bookings(pk):
        return pk
"""
DB = """
    from flask_sqlalchemy import SQLAlchemy

    db = SQLAlchemy()
"""
MODELS = """
    from app.db import db
    from app.tasks import cancel_bookings


    class Event(db.Model):
        def delete(self, reason):
            cancel_bookings.delay(self.id)


    class Note(db.Model):
        def delete(self, reason):
            db.session.delete(self)


    class Report:
        query = None

        def delete(self, reason):
            cancel_bookings.delay(0)
"""
VIEWS = """
    from flask import Blueprint
    from app.models import Event, Note, Report

    bp = Blueprint("events", __name__)


    @bp.route("/events/delete", methods=["POST"])
    def delete_events():
        query = Event.query.filter(Event.id > 0).order_by(Event.id)
        events = query.all()
        for ev in events[:]:
            ev.delete("bulk")
        return ""


    @bp.route("/events/<int:oid>/delete", methods=["POST"])
    def delete_event(oid):
        Event.query.get_or_404(oid).delete("one")
        return ""


    @bp.route("/notes/<int:oid>/delete", methods=["POST"])
    def delete_note(oid):
        Note.query.filter_by(id=oid).one().delete("one")
        return ""


    @bp.route("/reports/<int:oid>/delete", methods=["POST"])
    def delete_report(oid):
        Report.query.get(oid).delete("one")  # not a model: its query is whatever it holds
        return ""
"""


def test_a_model_s_query_gives_its_rows(check):
    check(
        {
            "app/__init__.py": "",
            "app/tasks.py": TASKS,
            "app/db.py": DB,
            "app/models.py": MODELS,
            "app/views.py": VIEWS,
        },
        {
            "delete_events": ("offloaded", False),  # each Event of query.all()[:]
            "delete_event": ("offloaded", False),  # Event.query.get_or_404(...)
            "delete_note": ("inline", False),  # a Note: its delete sends nothing
            "delete_report": ("inline", False),  # no Model base: its query is its own
        },
    )
