"""A table for the terminal: one row per endpoint, then the summary and what was skipped."""

from __future__ import annotations

from ..report import UNRESOLVED, Report
from ._common import first, heavy_kinds, status_text, summary_line, unrecognized_lines, where

_COLUMNS = ("STATUS", "HEAVY", "METHODS", "ROUTE", "HANDLER", "WHERE", "WHY")
_WIDTH = {"ROUTE": 44, "HANDLER": 36, "WHY": 48}


def _cut(value: str, width: int | None) -> str:
    if width is None or len(value) <= width:
        return value
    return value[: width - 1] + "…"


def render(report: Report) -> str:
    rows = []
    for endpoint in report.endpoints:
        decisive = first(endpoint, "dispatch") or first(endpoint, "background")
        kinds = heavy_kinds(endpoint)
        if endpoint.status == UNRESOLVED:
            why = endpoint.reason
        elif decisive is not None:
            why = f"{decisive.call} @ {where(decisive)}"
            if endpoint.uses_config:
                why += " (config)"
        elif kinds:
            evidence = first(endpoint, *kinds)
            why = f"{', '.join(kinds)}: {evidence.call if evidence else ''}"
        else:
            why = ""
        rows.append(
            (
                status_text(endpoint),
                "yes" if endpoint.heavy else "",
                ",".join(endpoint.methods),
                endpoint.route,
                endpoint.handler,
                f"{endpoint.file}:{endpoint.line}",
                why,
            )
        )
    table = [
        tuple(_cut(v, _WIDTH.get(c)) for c, v in zip(_COLUMNS, row, strict=True)) for row in rows
    ]
    widths = [max([len(c)] + [len(r[i]) for r in table]) for i, c in enumerate(_COLUMNS)]
    lines = []
    for row in [_COLUMNS, *table]:
        lines.append("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip())
    lines.append("")
    lines.append(summary_line(report))
    lines += unrecognized_lines(report)
    for endpoint in report.endpoints:
        for call in endpoint.unresolved_calls:
            lines.append(
                f"unresolved call in {endpoint.handler}: {call.file}:{call.line} "
                f"{call.call} ({call.reason})"
            )
    for item in report.suppressed:
        e = item.endpoint
        lines.append(f"suppressed: {e.file}:{e.line} {e.handler} ({item.reason})")
    for skipped in report.skipped:
        lines.append(f"skipped: {skipped.file}: {skipped.reason}")
    return "\n".join(lines) + "\n"
