"""URLs built from untrusted names: one path segment each, always.

Werkzeug leaves "/" unquoted in a segment, so a task id "a/../trigger" (from an event stored
before ingest refused such ids, or a queue name) made the link /tasks/a/../trigger, which the
browser resolves to /trigger. Here "/" and "\\" are quoted too, and a segment of dots only
(which the browser would resolve even quoted) gets a quoted "/" after it: no longer a dot
segment, it leads to a 404, never to another page.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Flask
from werkzeug.routing import UnicodeConverter


class SegmentConverter(UnicodeConverter):
    def to_url(self, value: Any) -> str:
        text = str(value)
        quoted = quote(text, safe="!$&'()*+,:;=@")
        return quoted + "%2F" if text.strip(".") == "" else quoted


def init_app(app: Flask) -> None:
    """Call before any blueprint is registered: rules take their converter when added."""
    app.url_map.converters["default"] = SegmentConverter
    app.url_map.converters["string"] = SegmentConverter
