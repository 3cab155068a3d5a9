"""A table for the terminal: one row per endpoint, then the summary and what was skipped."""

from __future__ import annotations

from collections import Counter

from ..report import UNRESOLVED, Report
from ._common import (
    first,
    heavy_kinds,
    route_note_lines,
    status_text,
    summary_line,
    unrecognized_lines,
    where,
)

_COLUMNS = ("STATUS", "HEAVY", "METHODS", "ROUTE", "HANDLER", "WHERE", "WHY")
_WIDTH = {"ROUTE": 44, "HANDLER": 36, "WHY": 48}


def _cut(value: str, width: int | None) -> str:
    if width is None or len(value) <= width:
        return value
    return value[: width - 1] + "…"


MAX_CALLS_LISTED = 20


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" if number == 1 else f"{number} {noun}s"


def unresolved_call_lines(report: Report) -> list[str]:
    """Calls not resolved, each once, with how many endpoints reach it (most first); every
    endpoint's own list is in the JSON and Markdown reports."""
    reached: Counter[tuple[str, int, str, str]] = Counter()
    for endpoint in report.endpoints:
        for item in endpoint.unresolved_calls:
            reached[(item.file, item.line, item.call, item.reason)] += 1
    if not reached:
        return []
    likely = sum(1 for e in report.endpoints if e.unresolved_calls)
    # not the "unresolved" endpoints of the summary: these keep their status, as likely
    out = [
        f"{_count(likely, 'endpoint')} with a status (likely, not certain) "
        f"{'reaches' if likely == 1 else 'reach'} calls the audit could not resolve "
        f"({_count(len(reached), 'call')}):"
    ]
    for (file, line, text, reason), count in reached.most_common(MAX_CALLS_LISTED):
        out.append(f"  {file}:{line} {text} ({reason}): reached by {_count(count, 'endpoint')}")
    if len(reached) > MAX_CALLS_LISTED:
        out.append(f"  and {len(reached) - MAX_CALLS_LISTED} more (--format json lists them)")
    return out


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
    lines += unresolved_call_lines(report)
    lines += route_note_lines(report)
    for item in report.suppressed:
        e = item.endpoint
        lines.append(f"suppressed: {e.file}:{e.line} {e.handler} ({item.reason})")
    for skipped in report.skipped:
        lines.append(f"skipped: {skipped.file}: {skipped.reason}")
    return "\n".join(lines) + "\n"
