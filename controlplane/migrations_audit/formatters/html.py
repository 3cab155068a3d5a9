"""A self-contained HTML page (no scripts, no external assets); every value is escaped."""

from __future__ import annotations

from html import escape

from ..report import INLINE, INPROCESS, OFFLOADED, UNRESOLVED, Endpoint, Report
from ._common import STATUS_LABEL, feature_title, status_text, summary_line

_STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem;color:#1d2433}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0}
th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #e3e6ec;vertical-align:top}
code{font:12px ui-monospace,monospace}
.s{border-radius:3px;padding:0 .4rem;font-size:12px;white-space:nowrap}
.unresolved{background:#e9d8fd}.offloaded{background:#d7f5dd}.inline{background:#eef0f4}.inprocess_background{background:#ffe7c2}
.heavy{background:#ffd3d3}table.summary{width:auto}.summary td{border:0;padding:.1rem .8rem .1rem 0}
details summary{cursor:pointer;color:#4a5568}
"""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _places(count: int) -> str:
    return f"{count} place" + ("" if count == 1 else "s")


def _unresolved(endpoint: Endpoint) -> str:
    if not endpoint.unresolved_calls and not endpoint.reason and not endpoint.route_note:
        return ""
    items = [
        f"<li><code>{_e(u.call)}</code> at <code>{_e(u.file)}:{_e(u.line)}</code>: "
        f"{_e(u.reason)}</li>"
        for u in endpoint.unresolved_calls
    ]
    said = [endpoint.reason, f"route: {endpoint.route_note}" if endpoint.route_note else ""]
    reason = "".join(f"<p>{_e(line)}</p>" for line in said if line)
    summary = f"not resolved ({_places(len(items))})" if items or endpoint.reason else "why likely"
    return f"<details><summary>{summary}</summary>{reason}<ul>" + "".join(items) + "</ul></details>"


def _evidence(endpoint: Endpoint) -> str:
    if not endpoint.evidence:
        return _unresolved(endpoint)
    items = []
    for item in endpoint.evidence:
        via = " &rarr; ".join(_e(v) for v in item.via)
        items.append(
            f"<li><b>{_e(item.kind)}</b> <code>{_e(item.call)}</code> at "
            f"<code>{_e(item.file)}:{_e(item.line)}</code>"
            + (f"<br><small>via {via}</small>" if via else "")
            + "</li>"
        )
    return (
        f"<details><summary>evidence ({_places(len(endpoint.evidence))})</summary><ul>"
        + "".join(items)
        + "</ul></details>"
        + _unresolved(endpoint)
    )


def _row(endpoint: Endpoint) -> str:
    status = f'<span class="s {_e(endpoint.status)}">{_e(status_text(endpoint))}</span>'
    heavy = '<span class="s heavy">heavy</span>' if endpoint.heavy else ""
    return (
        "<tr>"
        f"<td>{status} {heavy}</td>"
        f"<td><code>{_e(','.join(endpoint.methods))}</code></td>"
        f"<td><code>{_e(endpoint.route)}</code></td>"
        f"<td><code>{_e(endpoint.handler)}</code></td>"
        f"<td><code>{_e(endpoint.file)}:{_e(endpoint.line)}</code></td>"
        f"<td>{_evidence(endpoint)}</td>"
        "</tr>"
    )


def render(report: Report) -> str:
    s = report.summary
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Celery coverage: {_e(report.root)}</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<h1>Celery Worker Coverage Report</h1>",
        f"<p><code>{_e(report.root)}</code> &middot; {_e(report.files)} files, "
        f"{_e(report.lines)} lines</p>",
        '<table class="summary">',
        f"<tr><td>Coverage</td><td><b>{s.coverage:.1f}%</b> ({_e(s.coverage_text)})</td></tr>",
        f"<tr><td>Endpoints</td><td>{s.endpoints}</td></tr>",
        f"<tr><td>{_e(STATUS_LABEL[OFFLOADED])}</td><td>{s.offloaded}</td></tr>",
        f"<tr><td>{_e(STATUS_LABEL[INLINE])}</td><td>{s.inline} ({s.inline_heavy} heavy)</td></tr>",
        f"<tr><td>{_e(STATUS_LABEL[INPROCESS])}</td><td>{s.inprocess_background}</td></tr>",
        f"<tr><td>{_e(STATUS_LABEL[UNRESOLVED])}</td><td>{s.unresolved}</td></tr>",
        f"<tr><td>registrations not understood</td><td>{len(report.unrecognized)}</td></tr>",
        "</table>",
        f"<p>{_e(summary_line(report))}</p>",
    ]
    head = (
        "<tr><th>Status</th><th>Methods</th><th>Route</th><th>Handler</th><th>Where</th>"
        "<th>Evidence</th></tr>"
    )
    for feature, endpoints in report.features().items():
        parts.append(f"<h2>{_e(feature_title(feature))}</h2>")
        parts.append("<table>" + head + "".join(_row(e) for e in endpoints) + "</table>")
    if report.unrecognized:
        parts.append("<h2>Route registrations not understood</h2>")
        for file, items in report.unrecognized_by_file().items():
            parts.append(f"<p>{len(items)} in <code>{_e(file)}</code></p><ul>")
            parts += [
                f"<li><code>{_e(i.file)}:{_e(i.line)}</code> <code>{_e(i.call)}</code>: "
                f"{_e(i.reason)}</li>"
                for i in items
            ]
            parts.append("</ul>")
    if report.suppressed:
        parts.append("<h2>Suppressed</h2><ul>")
        parts += [
            f"<li><code>{_e(i.endpoint.file)}:{_e(i.endpoint.line)}</code> "
            f"<code>{_e(i.endpoint.handler)}</code>: {_e(i.reason)}</li>"
            for i in report.suppressed
        ]
        parts.append("</ul>")
    if report.skipped:
        parts.append("<h2>Skipped files</h2><ul>")
        parts += [f"<li><code>{_e(i.file)}</code>: {_e(i.reason)}</li>" for i in report.skipped]
        parts.append("</ul>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
