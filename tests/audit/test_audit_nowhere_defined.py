"""A method no class could supply (PATTERNS.md item 68): a property returns a plugin picked
at run time (``REGISTRY[slug]``) or, as a fallback, a project record; the audit typed the
value with the record's class, which (with every base the project's own) defines no
``notify``. The call is then one on an unknown receiver: guessed among the project's
methods, or listed unresolved; it is not dropped. Snippets written for the audit, not copied
from a project."""

from __future__ import annotations

import pytest

APP = """
    from celery import Celery
    from fastapi import FastAPI

    celery_app = Celery("app")
    app = FastAPI()
    REGISTRY = {}


    @celery_app.task
    def send_page(message):
        return message


    class PagerPlugin:
        def notify(self, message):
            send_page.delay(message)


    class PluginRecord(BASE):
        slug = "pager"


    class PluginSlot:
        record = PluginRecord()

        @property
        def instance(self):
            try:
                return REGISTRY[self.record.slug]
            except KeyError:
                return self.record


    @app.post("/page")
    def page(slot: PluginSlot):
        slot.instance.notify("db down")
        return {"ok": True}
"""


@pytest.mark.parametrize("base", ["object", "Exception", "Lookup"])
def test_a_method_the_typed_class_cannot_have_is_a_call_on_an_unknown_value(check, base):
    """``object`` or the project's own base: nothing supplies ``notify``, so the project's
    one ``notify`` is guessed. ``Exception`` (outside the project) might: the call stays
    the class's, as before."""
    text = APP.replace("BASE", base)
    if base == "Lookup":
        text = text.replace(
            "class PluginRecord", "class Lookup:\n        pass\n\n\n    class PluginRecord"
        )
    status = "inline" if base == "Exception" else "offloaded"
    report = check({"main.py": text}, {"page": (status, False)})
    if status == "offloaded":
        assert report.endpoints[0].confidence == "likely"


def test_a_class_answering_any_attribute_is_an_unknown_receiver(check):
    """Item 226 (was: left as it was): what ``__getattr__`` answers is not the class's own
    method, so the call is one on an unknown value, guessed like the others."""
    text = APP.replace("BASE", "object").replace(
        '        slug = "pager"',
        '        slug = "pager"\n\n        def __getattr__(self, name):\n            return None',
    )
    report = check({"main.py": text}, {"page": ("offloaded", False)})
    assert report.endpoints[0].confidence == "likely"
