"""Assignments that fire SQLAlchemy events (PATTERNS.md item 77): ``run.status = "PAUSED"``
runs the ``set`` listeners of ``Run.status``, and on a row the session loaded the model's
``after_update`` listeners; ``Run(status="NEW")`` runs the ``set`` listeners of the
attributes it is given. ``session.query(Run)`` and ``session.get(Run, pk)`` are Run's rows.
Snippets written for the audit, not copied from a project."""

from __future__ import annotations

import pytest

MODELS = """
    from sqlalchemy import Column, Integer, String, event
    from sqlalchemy.orm import declarative_base

    from app.tasks import notify

    Base = declarative_base()


    class Run(Base):
        __tablename__ = "runs"
        id = Column(Integer, primary_key=True)
        status = Column(String)
        label = Column(String)


    class Note(Base):
        __tablename__ = "notes"
        id = Column(Integer, primary_key=True)
        status = Column(String)


    LISTENER
"""
SET_LISTENER = """
    @event.listens_for(Run.status, "set")
    def status_changed(target, value, old_value, initiator):
        notify.delay(target.id, value)
"""
UPDATE_LISTENER = """
    @event.listens_for(Run, "after_update")
    def run_updated(mapper, connection, target):
        notify.delay(target.id, target.status)
"""
TASKS = """
    from celery import Celery

    celery_app = Celery("app")


    @celery_app.task
    def notify(run_id, status):
        return run_id
"""
API = """
    from fastapi import FastAPI

    from app.db import session
    from app.models import Note, Run

    app = FastAPI()


    @app.post("/runs/{run_id}/pause")
    def pause(run_id: int):
        run = session.query(Run).get(run_id)
        run.status = "PAUSED"
        session.commit()
        return {}


    @app.post("/runs/{run_id}/label")
    def relabel(run_id: int):
        run = session.get(Run, run_id)
        run.label = "x"
        session.commit()
        return {}


    @app.post("/runs")
    def create():
        run = Run(status="NEW")
        session.add(run)
        session.commit()
        return {}


    @app.post("/notes/{note_id}")
    def touch_note(note_id: int):
        note = session.query(Note).filter(Note.id == note_id).first()
        note.status = "SEEN"
        session.commit()
        return {}
"""


def project(listener: str) -> dict[str, str]:
    return {
        "app/__init__.py": "",
        "app/tasks.py": TASKS,
        "app/db.py": "from sqlalchemy.orm import Session\n\nsession = Session()\n",
        "app/models.py": MODELS.replace("    LISTENER\n", listener),
        "app/api.py": API,
    }


@pytest.mark.parametrize(
    "listener, expected",
    [
        # set: assigning Run.status, or passing it to the constructor; not Run.label
        (SET_LISTENER, {"pause": "offloaded", "relabel": "inline", "create": "offloaded"}),
        # after_update: any assignment to a loaded Run; a Run made here is inserted
        (UPDATE_LISTENER, {"pause": "offloaded", "relabel": "offloaded", "create": "inline"}),
    ],
)
def test_assignments_reach_the_listeners_they_fire(check, listener, expected):
    expected = {**expected, "touch_note": "inline"}  # Note has no listener
    report = check(project(listener), {k: (v, False) for k, v in expected.items()})
    pause = next(e for e in report.endpoints if e.handler == "pause")
    [dispatch] = [e for e in pause.evidence if e.kind == "dispatch"]
    assert "Run.status" in dispatch.via[-1] and "at app/api.py:12" in dispatch.via[-1]
