"""Wording shared by the human-readable formats."""

from __future__ import annotations

from ..classify import is_heavy_kind
from ..report import INLINE, INPROCESS, OFFLOADED, Endpoint, Evidence, Report

STATUS_LABEL = {OFFLOADED: "offloaded", INLINE: "inline", INPROCESS: "in-process background"}


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
        f"coverage {s.coverage:.1f}%"
    )
