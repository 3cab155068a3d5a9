"""Markdown shaped like the report teams write by hand: a summary, then per feature what is
offloaded, what still runs inline and what is heavy there, and a recommendation."""

from __future__ import annotations

from ..budget import STOPPED
from ..markers import EAGER_MODE, INLINE_FALLBACK, SETTING_GUARD
from ..report import INLINE, INPROCESS, OFFLOADED, UNRESOLVED, Endpoint, Report
from ._common import (
    feature_title,
    first,
    heavy_evidence,
    heavy_kinds,
    methods_route,
    route_note_lines,
    where,
)

_LISTED = 12  # endpoints named per bullet before "and N more"


def code(value: str) -> str:
    """An inline code span that survives backticks in the value."""
    value = value.replace("\n", " ")
    if "`" in value:
        return f"`` {value} ``"
    return f"`{value}`"


def _names(endpoints: list[Endpoint]) -> str:
    shown = ", ".join(code(methods_route(e)) for e in endpoints[:_LISTED])
    more = len(endpoints) - _LISTED
    return shown + (f" and {more} more" if more > 0 else "")


def render(report: Report) -> str:
    summary = report.summary
    features = report.features()
    out = ["# Celery Worker Coverage Report", "", "## Summary"]
    out.append(
        f"- Coverage: **{summary.coverage:.1f}%** of the resolved endpoints with work worth "
        f"offloading submit it to a queue (offloaded / (offloaded + inline heavy + "
        f"in-process background)): {summary.coverage_text}."
    )
    if summary.unresolved or report.unrecognized:
        out.append(
            f"- Not seen: {summary.unresolved} endpoints unresolved and "
            f"{len(report.unrecognized)} route registrations not understood (listed under "
            f"*What the audit could not see*); the figures above leave them out."
        )
    plural = "feature" if len(features) == 1 else "features"
    out.append(
        f"- {summary.endpoints} endpoints in {len(features)} {plural}: "
        f"{summary.offloaded} offloaded, {summary.inline} inline "
        f"({summary.inline_heavy} doing heavy work), {summary.inprocess_background} "
        f"pushing work to background tasks in the web process."
    )
    offloading = [f for f, eps in features.items() if any(e.status == OFFLOADED for e in eps)]
    if offloading:
        out.append(
            "- Features that submit work to Celery: "
            + ", ".join(feature_title(f) for f in offloading)
            + "."
        )
    blocking = [f for f, eps in features.items() if any(e.is_gap for e in eps)]
    if blocking:
        out.append(
            "- Features that still do heavy or background work in the web process: "
            + ", ".join(feature_title(f) for f in blocking)
            + "."
        )
    eager = next((first(e, EAGER_MODE) for e in report.endpoints if first(e, EAGER_MODE)), None)
    if eager is not None:
        out.append(
            f"- Celery runs tasks inline: {code(eager.call)} at {code(where(eager))}, so "
            f"the offloaded endpoints still block while it is set."
        )
    out += ["", "## Feature Findings"]
    for feature, endpoints in features.items():
        out += ["", f"### {feature_title(feature)}"]
        out += _feature(endpoints)
    out += _not_seen(report)
    if report.suppressed:
        out += ["", "## Suppressed"]
        for item in report.suppressed:
            e = item.endpoint
            out.append(
                f"- {code(methods_route(e))} ({code(e.handler)} in "
                f"{code(f'{e.file}:{e.line}')}): {item.reason}"
            )
    if report.skipped:
        out += ["", "## Skipped files"]
        out += [f"- {code(s.file)}: {s.reason}" for s in report.skipped]
    out += ["", "## Next Steps"]
    out += _next_steps(report)
    return "\n".join(out) + "\n"


def _not_seen(report: Report) -> list[str]:
    unresolved = [e for e in report.endpoints if e.status == UNRESOLVED]
    uncertain = [e for e in report.endpoints if e.unresolved_calls]
    notes = route_note_lines(report)
    if not (unresolved or report.unrecognized or uncertain or notes):
        return []
    out = ["", "## What the audit could not see"]
    out += [f"- {line}." for line in notes]
    for file, items in report.unrecognized_by_file().items():
        plural = "registration" if len(items) == 1 else "registrations"
        out.append(f"- {len(items)} route {plural} in {code(file)} not understood:")
        out += [f"  - {code(f'{i.file}:{i.line}')} {code(i.call)}: {i.reason}" for i in items]
    for e in unresolved:
        out.append(f"- Unresolved: {code(methods_route(e))} ({code(e.handler)}): {e.reason}.")
    for e in uncertain:
        calls = "; ".join(
            f"{code(c.call)} at {code(f'{c.file}:{c.line}')}"
            for c in e.unresolved_calls[:5]
            if not c.reason.startswith(STOPPED)
        )
        stops = [c.reason for c in e.unresolved_calls if c.reason.startswith(STOPPED)]
        said = [f"calls not resolved: {calls}" if calls else "", *stops[:1]]
        out.append(
            f"- {code(methods_route(e))} is {e.status} ({e.confidence or 'no status'}); "
            + "; ".join(s for s in said if s)
            + "."
        )
    return out


def _feature(endpoints: list[Endpoint]) -> list[str]:
    lines = []
    offloaded = [e for e in endpoints if e.status == OFFLOADED]
    heavy = [e for e in endpoints if e.status == INLINE and e.heavy]
    background = [e for e in endpoints if e.status == INPROCESS]
    light = [e for e in endpoints if e.status == INLINE and not e.heavy]
    if offloaded:
        dispatch = first(offloaded[0], "dispatch")
        how = f" through {code(dispatch.call)}" if dispatch else ""
        lines.append(f"- Celery coverage: {_names(offloaded)} submit their work to Celery{how}.")
        configured = [e for e in offloaded if e.uses_config]
        if configured:
            lines.append(
                f"- {_names(configured)} count as offloaded only through a dispatch wrapper "
                f"or task named in the config."
            )
        for e in offloaded:
            fallback = first(e, INLINE_FALLBACK)
            if fallback is not None:
                lines.append(
                    f"- {code(methods_route(e))} falls back to running the work in "
                    f"the web process ({code(fallback.call)} at "
                    f"{code(where(fallback))}) when the dispatch fails."
                )
            guard = first(e, SETTING_GUARD)
            if guard is not None:
                lines.append(
                    f"- {code(methods_route(e))} only dispatches when "
                    f"{code(guard.call)} ({code(where(guard))}); otherwise it runs "
                    f"inline."
                )
    for e in heavy:
        evidence = heavy_evidence(e)
        shown = "; ".join(f"{code(x.call)} at {code(where(x))}" for x in evidence[:3])
        lines.append(
            f"- Still inline and heavy: {code(methods_route(e))} ({code(e.handler)}) "
            f"does {', '.join(heavy_kinds(e))} work in the request: {shown}."
        )
    for e in background:
        hand_off = first(e, "background")
        at = f"{code(hand_off.call)} at {code(where(hand_off))}" if hand_off else "a thread"
        lines.append(
            f"- In-process background: {code(methods_route(e))} "
            f"({code(e.handler)}) hands work to {at}; it is lost if the web process "
            f"restarts and competes with requests for CPU."
        )
    if light:
        lines.append(f"- Inline but light (no heavy calls found): {_names(light)}.")
    lines.append("- Recommendation: " + _recommend(heavy, background))
    return lines


def _recommend(heavy: list[Endpoint], background: list[Endpoint]) -> str:
    if heavy and background:
        return (
            "move the heavy work above into Celery tasks that return a task id the client "
            "can poll, and replace the in-process background work with Celery tasks."
        )
    if heavy:
        kinds = sorted({k for e in heavy for k in heavy_kinds(e)})
        return (
            f"move the {', '.join(kinds)} work into Celery tasks and return task ids the "
            f"frontend can poll."
        )
    if background:
        return (
            "replace the in-process background work with Celery tasks so it survives "
            "restarts and scales with the workers."
        )
    return "nothing heavy runs in the request here; no change needed."


def _next_steps(report: Report) -> list[str]:
    gaps = [e for e in report.endpoints if e.is_gap]
    if not gaps:
        return [
            "1. Keep the gate in CI (`controlplane audit . --baseline audit.json`) so new "
            "endpoints stay offloaded."
        ]
    return [
        f"1. Start with the {len(gaps)} endpoints listed as heavy or in-process background "
        f"above; wrap each heavy routine in a small service function so a task can call it.",
        "2. Register a Celery task per routine and return the task id from the endpoint.",
        "3. Add `controlplane audit . --format json --baseline audit.json` to CI so coverage only "
        "goes up.",
    ]
