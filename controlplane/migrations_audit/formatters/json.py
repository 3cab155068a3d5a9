"""The JSON report (schema in ARCHITECTURE.md, version 1): what CI and the console store."""

from __future__ import annotations

import json

from ..report import Report


def render(report: Report) -> str:
    return json.dumps(report.as_dict(), indent=2, ensure_ascii=False) + "\n"
