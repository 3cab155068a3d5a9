"""Wording shared by the human-readable formats."""

from __future__ import annotations

from ..classify import is_heavy_kind
from ..report import INLINE, INPROCESS, OFFLOADED, UNRESOLVED, Endpoint, Evidence, Report

STATUS_LABEL = {
    OFFLOADED: "offloaded",
    INLINE: "inline",
    INPROCESS: "in-process background",
    UNRESOLVED: "unresolved",
}


def status_text(endpoint: Endpoint) -> str:
    """``offloaded (likely)``; the certain ones and the unresolved stay short."""
    label = STATUS_LABEL[endpoint.status]
    return f"{label} (likely)" if endpoint.confidence == "likely" else label


def unrecognized_lines(report: Report) -> list[str]:
    """``12 registrations in api/routes.py not understood`` and each one with why."""
    lines = []
    for file, items in report.unrecognized_by_file().items():
        plural = "registration" if len(items) == 1 else "registrations"
        lines.append(f"{len(items)} route {plural} in {file} not understood:")
        lines += [f"  {i.file}:{i.line} {i.call}: {i.reason}" for i in items]
    return lines


def route_note_lines(report: Report) -> list[str]:
    """``1,027 endpoints have routes found by convention: <why>``, one line per note."""
    counts: dict[str, int] = {}
    for endpoint in report.endpoints:
        if endpoint.route_note:
            counts[endpoint.route_note] = counts.get(endpoint.route_note, 0) + 1
    return [
        f"{count} endpoint{'' if count == 1 else 's'} likely, because of the route: {note}"
        for note, count in sorted(counts.items(), key=lambda item: -item[1])
    ]


def methods_route(endpoint: Endpoint) -> str:
    """``POST /api/upload``."""
    return f"{','.join(endpoint.methods)} {endpoint.route or '(no route)'}"


def heavy_kinds(endpoint: Endpoint) -> list[str]:
    return [k for k in endpoint.kinds() if is_heavy_kind(k)]


def first(endpoint: Endpoint, *kinds: str) -> Evidence | None:
    return next((e for e in endpoint.evidence if e.kind in kinds), None)


def heavy_evidence(endpoint: Endpoint) -> list[Evidence]:
    return [e for e in endpoint.evidence if is_heavy_kind(e.kind)]


def where(evidence: Evidence) -> str:
    return f"{evidence.file}:{evidence.line}"


def feature_title(name: str) -> str:
    """``dataframe_operations`` -> ``Dataframe Operations``; dotted packages stay as they are."""
    if "." in name or name.startswith("("):
        return name
    return " ".join(w[:1].upper() + w[1:] for w in name.replace("-", "_").split("_") if w)


def summary_line(report: Report) -> str:
    s = report.summary
    return (
        f"{s.endpoints} endpoints: {s.offloaded} offloaded, {s.inline} inline "
        f"({s.inline_heavy} heavy), {s.inprocess_background} in-process background; "
        f"coverage {s.coverage_text}"
    ) + (
        f"; {len(report.unrecognized)} route registrations not understood"
        if report.unrecognized
        else ""
    )
