"""A return annotation ``Self`` (``-> Self | None`` on a model's ``get`` classmethod) is an
instance of the class the method is called on (PATTERNS.md item 33), and a class attribute
declared ``Model: type[Base]`` is that class (item 34: models built on ``db.Model``).
Snippets written for the audit."""

from __future__ import annotations

import pytest

TASKS = """
    from celery import shared_task

    @shared_task
    def notify(pk):
        return pk
"""
MODELS = """
    from typing import Self

    from app.db import db
    from app.tasks import notify


    class Base(db.Model):
        __abstract__ = True

        @classmethod
        def get(cls, oid) -> Self | None:
            obj = cls.query.get(oid)
            return obj

        def fresh(self) -> "Self":
            return self


    class Event(Base):
        def delete(self):
            notify.delay(self.id)


    class Note(Base):
        def delete(self):
            return None
"""
DB = """
    from flask_sqlalchemy import SQLAlchemy

    db = SQLAlchemy()
"""
VIEWS = """
    from flask import Blueprint
    from app.models import Event, Note

    bp = Blueprint("events", __name__)


    @bp.route("/events/<int:oid>/delete", methods=["POST"])
    def delete_event(oid):
        event = Event.get(oid)
        event.delete()
        return ""


    @bp.route("/notes/<int:oid>/delete", methods=["POST"])
    def delete_note(oid):
        Note.get(oid).delete()
        return ""


    @bp.route("/events/<int:oid>/again", methods=["POST"])
    def delete_fresh(oid):
        Event.get(oid).fresh().delete()
        return ""
"""


def test_a_method_returning_self_returns_the_class_it_is_called_on(check):
    check(
        {
            "app/__init__.py": "",
            "app/tasks.py": TASKS,
            "app/db.py": DB,
            "app/models.py": MODELS,
            "app/views.py": VIEWS,
        },
        {
            "delete_event": ("offloaded", False),  # Event.get(...) is an Event
            "delete_note": ("inline", False),  # Note.get(...) a Note: its delete sends nothing
            "delete_fresh": ("offloaded", False),  # -> "Self" on an instance method
        },
    )


DECLARED_DB = """
    from flask_sqlalchemy import SQLAlchemy
    from sqlalchemy.orm import declarative_base

    from app.base import IndexedModel


    class IndexedSQLAlchemy(SQLAlchemy):
        Model: type[IndexedModel]


    db = IndexedSQLAlchemy(model_class=declarative_base(cls=IndexedModel))
"""
DECLARED_BASE = """
    from typing import Self


    class IndexedModel:
        @classmethod
        def get(cls, oid) -> Self | None:
            return cls.query.get(oid)
"""
DECLARED_MODELS = """
    from app.db import db
    from app.tasks import notify


    class Event(db.Model):
        def delete(self):
            notify.delay(self.id)


    class Note(db.Model):
        def delete(self):
            return None
"""


def test_models_on_a_db_model_declared_by_annotation_inherit_its_methods(check):
    check(
        {
            "app/__init__.py": "",
            "app/tasks.py": TASKS,
            "app/base.py": DECLARED_BASE,
            "app/db.py": DECLARED_DB,
            "app/models.py": DECLARED_MODELS,
            "app/views.py": VIEWS.replace("Event.get(oid).fresh()", "Event.get(oid)"),
        },
        {
            "delete_event": ("offloaded", False),  # Event.get: IndexedModel's, an Event
            "delete_note": ("inline", False),
            "delete_fresh": ("offloaded", False),
        },
    )


# Round 11, item 80: a function annotated to return a class, type[X] / Type[X] / Type["X"]
PLUGINS = """
    import typing
    from typing import Type

    from django.utils.module_loading import import_string

    from app.tasks import notify


    class Plugin:
        def sync_rules(self):
            notify.delay(1)


    class Loader:
        def __init__(self, path):
            self.path = path

        def plugin_class(self) -> ANNOTATION:
            return import_string(self.path)
"""
PLUGIN_VIEWS = """
    from flask import Flask

    from app.plugins import Loader

    app = Flask(__name__)


    @app.post("/sync")
    def sync():
        Loader("app.x.Y").plugin_class()().sync_rules()
        return "ok"
"""


@pytest.mark.parametrize(
    "annotation", ["type[Plugin]", "Type[Plugin]", 'Type["Plugin"]', "typing.Type[Plugin]"]
)
def test_a_function_returning_a_class_by_its_annotation(check, annotation):
    files = {
        "app/__init__.py": "",
        "app/tasks.py": TASKS,
        "app/plugins.py": PLUGINS.replace("ANNOTATION", annotation),
        "app/views.py": PLUGIN_VIEWS,
    }
    report = check(files, {"sync": ("offloaded", False)})
    assert report.endpoints[0].confidence == "certain"
