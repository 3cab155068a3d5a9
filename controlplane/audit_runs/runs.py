"""Reading stored audits: runs per project, a run's features and endpoints, summaries.

Pages, the JSON API, the dashboard and the metrics collector read audits only through here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, func, select
from sqlalchemy.orm import Session

from controlplane.clock import as_utc
from controlplane.migrations_audit import Summary
from controlplane.models import AuditFinding, AuditRun

if TYPE_CHECKING:
    from controlplane.services import Services

STATUS_LABELS = {
    "offloaded": "offloaded",
    "inprocess_background": "in-process background",
    "inline": "inline",
}


def _iso(moment: datetime | None) -> str | None:
    value = as_utc(moment)
    return value.isoformat() if value else None


@dataclass(frozen=True)
class RunView:
    """One audit run as pages and the API show it."""

    id: int
    project: str
    root: str
    status: str  # running | done | failed
    error: str | None
    actor: str | None
    started_at: datetime | None
    finished_at: datetime | None
    endpoints: int
    offloaded: int
    inline: int
    inline_heavy: int
    inprocess_background: int
    coverage: float | None
    files: int
    files_done: int
    lines: int
    skipped_files: int
    analyser_version: str | None

    @classmethod
    def of(cls, run: AuditRun | Row[Any]) -> RunView:
        """From the entity, or a row of its columns (read through Core)."""
        return cls(
            id=run.id, project=run.project, root=run.root, status=run.status, error=run.error,
            actor=run.actor, started_at=as_utc(run.started_at),
            finished_at=as_utc(run.finished_at), endpoints=run.endpoints or 0,
            offloaded=run.offloaded or 0, inline=run.inline or 0,
            inline_heavy=run.inline_heavy or 0,
            inprocess_background=run.inprocess_background or 0, coverage=run.coverage,
            files=run.files or 0, files_done=run.files_done or 0, lines=run.lines or 0,
            skipped_files=run.skipped_files or 0, analyser_version=run.analyser_version,
        )  # fmt: skip

    @property
    def running(self) -> bool:
        return self.status == "running"

    @property
    def inline_light(self) -> int:
        return self.inline - self.inline_heavy

    @property
    def seconds(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return max(0.0, (self.finished_at - self.started_at).total_seconds())

    @property
    def percent_done(self) -> float | None:
        """Share of the files parsed so far, while running (None before the count is known)."""
        if not self.files:
            return None
        return round(min(100.0, 100.0 * self.files_done / self.files), 1)

    def summary(self) -> dict[str, Any]:
        """The `summary` of the audit JSON report (ARCHITECTURE.md), plus inline_heavy."""
        return {
            "endpoints": self.endpoints, "offloaded": self.offloaded, "inline": self.inline,
            "inline_heavy": self.inline_heavy,
            "inprocess_background": self.inprocess_background, "coverage": self.coverage,
        }  # fmt: skip

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "project": self.project, "root": self.root, "status": self.status,
            "error": self.error, "actor": self.actor, "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at), "summary": self.summary(),
            "files": self.files, "files_done": self.files_done, "lines": self.lines,
            "skipped_files": self.skipped_files, "analyser_version": self.analyser_version,
        }  # fmt: skip


@dataclass(frozen=True)
class EvidenceView:
    file: str
    line: int
    kind: str
    call: str
    via: tuple[str, ...]
    queue_system: str = ""  # celery, rq, dramatiq, ... on a dispatch (kept from the analyser)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"file": self.file, "line": self.line, "kind": self.kind,
                               "call": self.call, "via": list(self.via)}  # fmt: skip
        if self.queue_system:
            out["queue_system"] = self.queue_system
        return out


@dataclass(frozen=True)
class FindingView:
    """One endpoint of a stored run, with its evidence."""

    file: str
    line: int
    handler: str
    framework: str
    methods: tuple[str, ...]
    route: str
    status: str
    heavy: bool
    feature: str
    evidence: tuple[EvidenceView, ...] = ()

    @classmethod
    def of(cls, row: AuditFinding) -> FindingView:
        return cls(
            file=row.file, line=row.line, handler=row.handler, framework=row.framework or "",
            methods=tuple(m for m in (row.methods or "").split(",") if m),
            route=row.route or "", status=row.status, heavy=bool(row.heavy),
            feature=row.feature or "", evidence=_evidence(row.evidence),
        )  # fmt: skip

    @property
    def key(self) -> tuple[str, str, tuple[str, ...], str]:
        """Identity across runs (as the analyser's baseline ratchet has it)."""
        return (self.file, self.handler, self.methods, self.route)

    @property
    def label(self) -> str:
        if self.status == "inline" and self.heavy:
            return "inline, heavy"
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def css(self) -> str:
        """Badge class: offloaded ok, gaps bad, light inline muted."""
        if self.status == "offloaded":
            return "ok"
        if self.status == "inprocess_background" or self.heavy:
            return "bad"
        return "muted"

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file, "line": self.line, "handler": self.handler,
            "framework": self.framework, "methods": list(self.methods), "route": self.route,
            "status": self.status, "heavy": self.heavy, "feature": self.feature,
            "evidence": [e.as_dict() for e in self.evidence],
        }  # fmt: skip


def _evidence(raw: str | None) -> tuple[EvidenceView, ...]:
    try:
        items = json.loads(raw or "[]")
        return tuple(
            EvidenceView(str(e["file"]), int(e["line"]), str(e["kind"]), str(e["call"]),
                         tuple(str(v) for v in e.get("via", ())),
                         str(e.get("queue_system", "")))
            for e in items
        )  # fmt: skip
    except (ValueError, TypeError, KeyError, AttributeError):
        return ()


@dataclass(frozen=True)
class FeatureRow:
    feature: str
    summary: Summary

    @property
    def inline_light(self) -> int:
        return self.summary.inline - self.summary.inline_heavy


# ---- queries: services own their transaction; the `_` helpers run inside one ------------------


def get_run(services: Services, run_id: int) -> RunView | None:
    with services.transaction() as session:
        return _get_run(session, run_id)


def project_names(services: Services) -> list[str]:
    """Every project that has a stored run."""
    with services.transaction() as session:
        return list(session.scalars(select(AuditRun.project).distinct().order_by(AuditRun.project)))


def list_runs(services: Services, project: str, limit: int = 50) -> list[RunView]:
    """A project's runs, newest first."""
    with services.transaction() as session:
        return _list_runs(session, project, limit)


def coverage_trend(services: Services, project: str, limit: int = 30) -> list[RunView]:
    """The last `limit` finished runs of a project, oldest first, for the trend chart."""
    with services.transaction() as session:
        rows = session.scalars(
            select(AuditRun)
            .where(AuditRun.project == project, AuditRun.status == "done")
            .order_by(AuditRun.started_at.desc(), AuditRun.id.desc())
            .limit(limit)
        ).all()
        return [RunView.of(run) for run in reversed(rows)]


def findings(
    services: Services, run_id: int, status: str | None = None, feature: str | None = None,
    limit: int | None = None,
) -> list[FindingView]:  # fmt: skip
    """A run's endpoints in file order; `status` may be a status or `gap` (heavy or in-process)."""
    with services.transaction() as session:
        return _findings(session, run_id, status, feature, limit)


def feature_table(services: Services, run_id: int) -> list[FeatureRow]:
    """Per feature: offloaded, inline-heavy, inline and in-process counts, and coverage."""
    counts: dict[str, dict[str, int]] = {}
    with services.transaction() as session:
        rows = session.execute(
            select(AuditFinding.feature, AuditFinding.status, AuditFinding.heavy, func.count())
            .where(AuditFinding.run_id == run_id)
            .group_by(AuditFinding.feature, AuditFinding.status, AuditFinding.heavy)
        ).all()
    for feature, status, heavy, count in rows:
        slot = counts.setdefault(feature or "", {"offloaded": 0, "inline": 0, "heavy": 0,
                                                 "inprocess_background": 0})  # fmt: skip
        slot[status] = slot.get(status, 0) + count
        if status == "inline" and heavy:
            slot["heavy"] += count
    return [
        FeatureRow(name, Summary(
            endpoints=c["offloaded"] + c["inline"] + c["inprocess_background"],
            offloaded=c["offloaded"], inline=c["inline"], inline_heavy=c["heavy"],
            inprocess_background=c["inprocess_background"]))
        for name, c in sorted(counts.items())
    ]  # fmt: skip


def skipped_files(services: Services, run_id: int) -> list[dict[str, str]]:
    """Files the run could not read or parse, with the reason (the first 1000 stored)."""
    with services.transaction() as session:
        raw = session.scalar(select(AuditRun.skipped).where(AuditRun.id == run_id))
    try:
        items = json.loads(raw or "[]")
        return [{"file": str(i["file"]), "reason": str(i["reason"])} for i in items]
    except (ValueError, TypeError, KeyError):
        return []


def _get_run(session: Session, run_id: int) -> RunView | None:
    run = session.get(AuditRun, run_id)
    return RunView.of(run) if run is not None else None


def _list_runs(session: Session, project: str, limit: int) -> list[RunView]:
    rows = session.scalars(
        select(AuditRun)
        .where(AuditRun.project == project)
        .order_by(AuditRun.started_at.desc(), AuditRun.id.desc())
        .limit(limit)
    )
    return [RunView.of(run) for run in rows]


def _findings(
    session: Session, run_id: int, status: str | None = None, feature: str | None = None,
    limit: int | None = None,
) -> list[FindingView]:  # fmt: skip
    query = select(AuditFinding).where(AuditFinding.run_id == run_id)
    if status == "gap":
        query = query.where(
            (AuditFinding.status == "inprocess_background")
            | ((AuditFinding.status == "inline") & AuditFinding.heavy.is_(True))
        )
    elif status:
        query = query.where(AuditFinding.status == status)
    if feature is not None:
        query = query.where(AuditFinding.feature == feature)
    query = query.order_by(AuditFinding.file, AuditFinding.line, AuditFinding.id)
    if limit is not None:
        query = query.limit(limit)
    return [FindingView.of(row) for row in session.scalars(query)]


# ---- summaries ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProjectSummary:
    """A project's latest finished audit, and its latest run of any status."""

    project: str
    last_run: RunView  # newest run, whatever its status
    latest: RunView | None  # newest finished (done) run

    @property
    def coverage(self) -> float | None:
        return self.latest.coverage if self.latest else None

    @property
    def inline(self) -> int | None:
        return self.latest.inline if self.latest else None

    @property
    def inline_heavy(self) -> int | None:
        return self.latest.inline_heavy if self.latest else None


def latest_summaries(services: Services) -> list[ProjectSummary]:
    """Per project (in name order): the latest coverage and inline counts.

    For the dashboard and the metrics collector: two grouped queries, whatever the history.
    """
    with services.transaction() as session:
        return _latest_summaries(session)


# Rows of the columns through Core, not entities, and both statements built once: every
# scrape reads these (a statement built per call costs SQLAlchemy its cache key each time).
_NEWEST = select(*AuditRun.__table__.columns).where(
    AuditRun.id.in_(select(func.max(AuditRun.id)).group_by(AuditRun.project))
)
_NEWEST_DONE = select(*AuditRun.__table__.columns).where(
    AuditRun.id.in_(
        select(func.max(AuditRun.id)).where(AuditRun.status == "done").group_by(AuditRun.project)
    )
)


def _latest_summaries(session: Session) -> list[ProjectSummary]:
    connection = session.connection()
    last = {r.project: RunView.of(r) for r in connection.execute(_NEWEST).all()}
    done = {r.project: RunView.of(r) for r in connection.execute(_NEWEST_DONE).all()}
    return [ProjectSummary(name, last[name], done.get(name)) for name in sorted(last)]
