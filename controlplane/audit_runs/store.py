"""Write a finished audit Report into `audit_runs` and `audit_findings`.

Everything here came from the audited code (file names, handler names, source lines), so
each string is made storable (no NUL, no lone surrogates from undecodable file names) and
cut to a bound before it reaches the database.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from controlplane.clock import utcnow
from controlplane.migrations_audit import Endpoint, Evidence, Report
from controlplane.models import AuditFinding, AuditRun

MAX_SKIPPED_STORED = 1000
MAX_EVIDENCE = 50  # per endpoint
MAX_CALL = 500
MAX_PATH = 1000
MAX_VIA = 30
BATCH = 500


def clean(value: Any, limit: int) -> str:
    """`value` as text a database accepts, at most `limit` characters."""
    text = str(value)
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    text = text.replace("\x00", "")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # surrogate escapes of an undecodable file name: show U+FFFD
        try:
            text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        except UnicodeEncodeError:  # a lone surrogate of another kind
            text = text.encode("utf-8", "replace").decode("utf-8")
    return text


def evidence_json(items: tuple[Evidence, ...]) -> str:
    return json.dumps([
        {
            "file": clean(e.file, MAX_PATH),
            "line": int(e.line),
            "kind": clean(e.kind, 64),
            "call": clean(e.call, MAX_CALL),
            "via": [clean(step, MAX_PATH) for step in e.via[:MAX_VIA]],
            **({"queue_system": clean(e.queue_system, 32)} if e.queue_system else {}),
        }
        for e in items[:MAX_EVIDENCE]
    ])  # fmt: skip


def finding_row(run_id: int, endpoint: Endpoint) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "feature": clean(endpoint.feature, 255),
        "file": clean(endpoint.file, MAX_PATH),
        "line": int(endpoint.line),
        "handler": clean(endpoint.handler, 255),
        "framework": clean(endpoint.framework, 32),
        "methods": clean(",".join(endpoint.methods), 255),
        "route": clean(endpoint.route, MAX_PATH),
        "status": endpoint.status,
        "heavy": bool(endpoint.heavy),
        "evidence": evidence_json(endpoint.evidence),
    }


def store_report(session: Session, run_id: int, report: Report) -> None:
    """Findings in batches, then the run's figures, in the caller's transaction."""
    rows = [finding_row(run_id, endpoint) for endpoint in report.endpoints]
    for start in range(0, len(rows), BATCH):
        session.execute(insert(AuditFinding), rows[start : start + BATCH])
    summary = report.summary
    skipped = [
        {"file": clean(s.file, MAX_PATH), "reason": clean(s.reason, MAX_CALL)}
        for s in report.skipped[:MAX_SKIPPED_STORED]
    ]
    session.execute(
        update(AuditRun)
        .where(AuditRun.id == run_id)
        .values(
            status="done",
            finished_at=utcnow(),
            root=clean(report.root, 4000),
            endpoints=summary.endpoints,
            offloaded=summary.offloaded,
            inline=summary.inline,
            inline_heavy=summary.inline_heavy,
            inprocess_background=summary.inprocess_background,
            coverage=summary.coverage,
            files=report.files,
            files_done=report.files,
            lines=report.lines,
            skipped_files=len(report.skipped),
            skipped=json.dumps(skipped),
        )
    )
