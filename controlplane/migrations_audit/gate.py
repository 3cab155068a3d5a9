"""The CI gate: a coverage floor, and a ratchet against a previous JSON report."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .errors import BaselineError
from .report import OFFLOADED, UNRESOLVED, Endpoint, Report


@dataclass(frozen=True, slots=True)
class GateResult:
    ok: bool
    messages: list[str] = field(default_factory=list)


def load_baseline(path: Path) -> Report:
    """A report written earlier with ``--format json``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BaselineError(f"cannot read baseline {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise BaselineError(f"baseline {path} is not JSON: {exc}") from None
    return Report.from_dict(data)


def regressions(report: Report, baseline: Report) -> list[Endpoint]:
    """Endpoints that became inline or in-process since the baseline.

    An endpoint regressed when it was offloaded and no longer is, or when it now does heavy
    or background work in the web process and did not before (new endpoints included).
    Endpoints that were already gaps in the baseline do not fail the ratchet, and neither
    does an endpoint becoming unresolved alone: the audit could not see it this time, which
    says nothing about the code (the report lists it with its reason).
    """
    before = {e.key: e for e in baseline.endpoints}
    # a baseline of an earlier analyser may show a route differently (or one route for a
    # handler it now reports under several): a handler's only endpoint there still matches
    by_handler: dict[tuple[str, str, tuple[str, ...]], list[Endpoint]] = {}
    for e in baseline.endpoints:
        by_handler.setdefault((e.file, e.handler, e.methods), []).append(e)
    out = []
    for endpoint in report.endpoints:
        if endpoint.status == UNRESOLVED:
            continue
        old = before.get(endpoint.key)
        if old is None:
            same = by_handler.get((endpoint.file, endpoint.handler, endpoint.methods), [])
            old = same[0] if len(same) == 1 else None
        lost_offload = (
            old is not None and old.status == OFFLOADED and (endpoint.status != OFFLOADED)
        )
        new_gap = endpoint.is_gap and (old is None or not old.is_gap)
        if lost_offload or new_gap:
            out.append(endpoint)
    return out


def evaluate(
    report: Report, fail_under: float | None = None, baseline: Report | None = None
) -> GateResult:
    messages = []
    ok = True
    summary = report.summary
    coverage = summary.coverage
    if fail_under is not None and coverage < fail_under:
        ok = False
        messages.append(
            f"gate failed: coverage {coverage:.1f}% is under {fail_under:g}% "
            f"({summary.coverage_text})"
        )
    if baseline is not None:
        regressed = regressions(report, baseline)
        if regressed:
            ok = False
            messages.append(
                f"gate failed: {len(regressed)} endpoint(s) became inline or "
                f"in-process since the baseline:"
            )
            for e in regressed:
                label = (
                    "in-process background"
                    if e.status != "inline"
                    else ("inline, heavy" if e.heavy else "inline")
                )
                messages.append(
                    f"  {','.join(e.methods)} {e.route} {e.handler} ({e.file}:{e.line}): {label}"
                )
    return GateResult(ok, messages)
