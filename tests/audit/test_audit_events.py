"""Dispatch through events the handler fires (issue 14 item 3): blinker signals and
SQLAlchemy mapper events, with the chain as evidence. Snippets of audited projects (source
text only, nothing runs)."""

from __future__ import annotations

TASKS = """
    from celery import shared_task

    @shared_task
    def crunch(x):
        return x
"""
MODELS = """
    from sqlalchemy.orm import DeclarativeBase

    class Base(DeclarativeBase):
        pass

    class Order(Base):
        __tablename__ = "orders"

    class Note(Base):
        __tablename__ = "notes"
"""
LISTENERS = """
    from blinker import signal
    from sqlalchemy import event
    from tasks import crunch
    from models import Order

    order_placed = signal("order-placed")
    order_viewed = signal("order-viewed")

    @order_placed.connect
    def on_order(sender, **kw):
        crunch.delay(sender)

    @order_viewed.connect
    def on_view(sender, **kw):
        return sender

    @event.listens_for(Order, "after_insert")
    def after_insert(mapper, connection, target):
        crunch.delay(target.id)

    def after_delete(mapper, connection, target):
        crunch.delay(target.id)

    event.listen(Order, "after_delete", after_delete)
"""


def app(body: str) -> str:
    return f"""
from flask import Flask
from listeners import order_placed, order_viewed
from models import Note, Order
from db import session

app = Flask(__name__)

@app.post("/x")
def handler():
{body}
    return "ok"
"""


def files(body: str) -> dict[str, str]:
    return {
        "tasks.py": TASKS,
        "models.py": MODELS,
        "listeners.py": LISTENERS,
        "db.py": "session = None\n",
        "app.py": app(body),
    }


def test_a_blinker_signal_whose_receiver_dispatches_is_offloaded_with_the_chain(check):
    report = check(files("    order_placed.send(1)"), {"handler": ("offloaded", False)})
    (evidence,) = [e for e in report.endpoints[0].evidence if e.kind == "dispatch"]
    assert evidence.via == (
        "app.py:handler",
        "listeners.py:on_order (order_placed receiver connected at listeners.py:9,"
        " fired by order_placed.send(1) at app.py:10)",
    )


def test_a_blinker_signal_whose_receivers_do_not_dispatch_is_inline(check):
    check(files("    order_viewed.send(1)"), {"handler": ("inline", False)})


def test_sqlalchemy_mapper_events_fired_by_session_writes(check):
    for body in (
        "    session.add(Order())\n    session.commit()",
        "    order = Order()\n    session.add(order)",
        "    session.delete(Order())",
    ):
        report = check(files(body), {"handler": ("offloaded", False)})
        (evidence,) = [e for e in report.endpoints[0].evidence if e.kind == "dispatch"]
        assert evidence.via[0] == "app.py:handler", body


def test_a_write_of_a_model_without_listeners_is_inline(check):
    check(files("    session.add(Note())\n    session.commit()"), {"handler": ("inline", False)})


# Round 11, item 81: the row a helper writes is the one its caller passed
def test_a_session_write_of_a_parameter_is_of_the_row_the_caller_passed(check):
    helper = "\n\ndef save(obj):\n    session.add(obj)\n    session.commit()\n"
    for body, status in (
        ("    save(Order())", "offloaded"),
        ("    order = Order()\n    save(order)", "offloaded"),
        ("    save(Note())", "inline"),
    ):
        text = files(body)
        text["app.py"] = text["app.py"].replace(
            "app = Flask(__name__)", "app = Flask(__name__)" + helper
        )
        check(text, {"handler": (status, False)})
