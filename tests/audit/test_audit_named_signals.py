"""Named blinker signals of one namespace are different signals (PATTERNS.md round 7, item
23): ``deleted = _signals.signal("deleted")`` and ``listed = _signals.signal("listed")`` in a
module that a package's ``__init__`` star-imports; a receiver of ``signals.event.deleted``
does not fire on ``signals.event.listed.send()``. Snippets written for the audit, not copied
from a project."""

from __future__ import annotations

import pytest

TASKS = """
    from celery import shared_task


    @shared_task
    def withdraw(pk):
        return pk
"""
SIGNALS_INIT = """
    from app.signals import event
"""
EVENT_INIT = """
    from blinker import Namespace

    _signals = Namespace()

    from app.signals.event.core import *
"""
EVENT_CORE = """
    from app.signals.event import _signals

    deleted = _signals.signal("deleted", '''Sent when an event is deleted.''')

    listed = _signals.signal("listed", '''Asks every plugin for its definitions.''')
"""
RECEIVERS = """
    from app import signals
    from app.tasks import withdraw


    @signals.event.deleted.connect
    def _event_deleted(event, **kwargs):
        withdraw.delay(event)
"""
VIEWS = """
    from flask import Blueprint

    from app import receivers  # noqa: F401  (connects the receivers)
    from app import signals

    bp = Blueprint("events", __name__)


    @bp.route("/definitions")
    def definitions():
        return str(signals.event.listed.send())


    @bp.route("/events/<int:pk>/delete", methods=["POST"])
    def delete(pk):
        signals.event.deleted.send(pk)
        return "ok"
"""


@pytest.mark.parametrize("star", [True, False], ids=["star-import", "direct"])
def test_a_receiver_of_one_named_signal_does_not_fire_for_another(check, star):
    init = (
        EVENT_INIT
        if star
        else EVENT_INIT.replace(
            "from app.signals.event.core import *",
            "from app.signals.event.core import deleted, listed",
        )
    )
    check(
        {
            "app/__init__.py": "",
            "app/tasks.py": TASKS,
            "app/signals/__init__.py": SIGNALS_INIT,
            "app/signals/event/__init__.py": init,
            "app/signals/event/core.py": EVENT_CORE,
            "app/receivers.py": RECEIVERS,
            "app/views.py": VIEWS,
        },
        {"definitions": ("inline", False), "delete": ("offloaded", False)},
    )


def test_signals_kept_as_class_attributes_are_told_apart_by_name(check):
    signals = """
    from blinker import Namespace

    _ns = Namespace()


    class Signals:
        deleted = _ns.signal("deleted")
        listed = _ns.signal("listed")
    """
    receivers = """
    from app.signals import Signals
    from app.tasks import withdraw


    @Signals.deleted.connect
    def _event_deleted(event, **kwargs):
        withdraw.delay(event)
    """
    views = """
    from flask import Blueprint

    from app import receivers  # noqa: F401  (connects the receivers)
    from app.signals import Signals

    bp = Blueprint("events", __name__)


    @bp.route("/definitions")
    def definitions():
        return str(Signals.listed.send())


    @bp.route("/events/<int:pk>/delete", methods=["POST"])
    def delete(pk):
        Signals.deleted.send(pk)
        return "ok"
    """
    check(
        {
            "app/__init__.py": "",
            "app/tasks.py": TASKS,
            "app/signals.py": signals,
            "app/receivers.py": receivers,
            "app/views.py": views,
        },
        {"definitions": ("inline", False), "delete": ("offloaded", False)},
    )
