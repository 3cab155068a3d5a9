"""Start and run audits of configured projects, one run per project at a time.

`start_audit` claims a run (a `running` row; a partial unique index keeps it to one per
project across every replica) and writes the action log; `execute_run` does the analysis and
finishes the row as `done` or `failed`. The console and the API start runs in a background
thread (`start_in_background`); the scheduler runs them in its own thread (`run_audit`).
Nothing the audited code contains can make a run raise: it ends as a failed run, or as a
skipped file inside a done one.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from controlplane import control
from controlplane.audit_runs.projects import configured_project, resolve_target
from controlplane.audit_runs.runs import RunView
from controlplane.audit_runs.store import store_report
from controlplane.clock import as_utc, utcnow
from controlplane.control.action_log import ActionResult
from controlplane.errors import AuditRefused
from controlplane.migrations_audit import ANALYSER_VERSION, AuditError, audit
from controlplane.migrations_audit.cache import default_cache_dir
from controlplane.models import Action, AuditRun
from controlplane.services import Services, process_identity

log = logging.getLogger(__name__)

ACTION = "audit_run"
RUNNING, DONE, FAILED = "running", "done", "failed"
# A running row nobody finished within this long belongs to a process that died elsewhere.
STALE_AFTER = timedelta(hours=2)
PROGRESS_EVERY = 1.0  # seconds between progress writes
MAX_ERROR = 2000


def start_audit(
    services: Services, project: str, actor: str, idempotency_key: str | None = None
) -> ActionResult:
    """Claim a run of `project` (202 with `run_id`), or refuse it (404, 409); both are logged."""

    def claim(session: Session) -> tuple[int, dict[str, Any]]:
        return 202, _claim(services, session, project, actor)

    target = str(project)[:255]
    return control.run_action(
        services, actor, ACTION, target, {"project": target}, claim, idempotency_key
    )


def start_in_background(
    services: Services, project: str, actor: str, idempotency_key: str | None = None
) -> ActionResult:
    """`start_audit`, then the analysis in a daemon thread; the answer comes back at once."""
    result = start_audit(services, project, actor, idempotency_key)
    if result.ok and not result.body.get("idempotent_replay"):
        thread = threading.Thread(
            target=execute_run,
            args=(services, int(result.body["run_id"]), result.action_id),
            name=f"audit-{project}",
            daemon=True,
        )
        thread.start()
    return result


def run_audit(services: Services, project: str, actor: str) -> RunView:
    """Audit `project` in this thread and return the finished run (done or failed).

    Raises AuditRefused when the run may not start (unknown project, one already running).
    """
    result = start_audit(services, project, actor)
    if not result.ok:
        raise AuditRefused(str(result.body.get("error", "refused")), status=result.status)
    run_id = int(result.body["run_id"])
    execute_run(services, run_id, result.action_id)
    with services.transaction() as session:
        run = session.get(AuditRun, run_id)
        assert run is not None
        return RunView.of(run)


def execute_run(services: Services, run_id: int, action_id: int | None = None) -> None:
    """Analyse the claimed run's project and finish its row; never raises."""
    here = _running_here(services)
    here.add(run_id)
    try:
        with services.transaction() as session:
            run = session.get(AuditRun, run_id)
            if run is None or run.status != RUNNING:
                return
            project, root = run.project, run.root
        error = _analyse(services, run_id, root)
        if error is None:
            return
        log.warning("audit of %s (run %d) failed: %s", project, run_id, error)
        _finish_failed(services, run_id, action_id, error)
    except Exception:
        log.exception("audit run %d could not be finished", run_id)
    finally:
        here.discard(run_id)


def _analyse(services: Services, run_id: int, root: str) -> str | None:
    """Run the analyser and store its report; the error message when the run failed."""
    try:
        target = resolve_target(root)
        config = target.config()
        cache = services.settings.audit_cache_dir
        report = audit(
            target.root,
            config,
            cache_dir=Path(cache) if cache else default_cache_dir(),
            progress=_ProgressWriter(services, run_id),
        )
        report.skipped = sorted([*report.skipped, *target.skipped()], key=lambda s: s.file)
    except AuditError as exc:
        return str(exc)[:MAX_ERROR]
    except Exception as exc:
        log.exception("the analyser failed on run %d", run_id)
        return f"analyser error: {type(exc).__name__}: {exc}"[:MAX_ERROR]
    with services.transaction() as session:
        store_report(session, run_id, report)
    summary = report.summary
    log.info(
        "audit run %d done: %d endpoints, coverage %.1f%%, %d file(s) skipped",
        run_id, summary.endpoints, summary.coverage, len(report.skipped),
    )  # fmt: skip
    return None


def _finish_failed(services: Services, run_id: int, action_id: int | None, error: str) -> None:
    with services.transaction() as session:
        session.execute(
            update(AuditRun)
            .where(AuditRun.id == run_id, AuditRun.status == RUNNING)
            .values(status=FAILED, error=error, finished_at=utcnow())
        )
        if action_id is not None:  # the log says the audit failed, not just that it started
            session.execute(
                update(Action).where(Action.id == action_id).values(outcome="error", error=error)
            )


def _claim(services: Services, session: Session, name: str, actor: str) -> dict[str, Any]:
    project = configured_project(services.settings, name)
    _expire_abandoned(services, session, project.name)
    busy = session.scalar(
        select(AuditRun.id).where(AuditRun.project == project.name, AuditRun.status == RUNNING)
    )
    if busy is not None:
        raise AuditRefused(f"an audit of {project.name} is already running (run {busy})", 409)
    run = AuditRun(
        project=project.name,
        root=project.root,
        started_at=utcnow(),
        status=RUNNING,
        actor=actor[:64],
        owner=process_identity(),
        analyser_version=ANALYSER_VERSION,
    )
    session.add(run)
    try:
        session.flush()
    except IntegrityError:  # another replica claimed it between our check and our insert
        raise AuditRefused(f"an audit of {project.name} is already running", 409) from None
    # Ours from now on: a second claim in this process must not take it for abandoned
    # before its thread has started.
    _running_here(services).add(run.id)
    return {"run_id": run.id, "project": project.name, "status": RUNNING}


def _expire_abandoned(services: Services, session: Session, project: str) -> None:
    """Fail `running` rows whose process is gone, so a crash does not block the project."""
    now = utcnow()
    rows = session.scalars(
        select(AuditRun).where(AuditRun.project == project, AuditRun.status == RUNNING)
    ).all()
    for run in rows:
        if _abandoned(services, run, now):
            run.status = FAILED
            run.finished_at = now
            run.error = f"abandoned: the process running it ({run.owner}) stopped"
            log.warning("audit run %d of %s was abandoned by %s", run.id, project, run.owner)
    session.flush()


def _abandoned(services: Services, run: AuditRun, now: datetime) -> bool:
    started = as_utc(run.started_at)
    if started is not None and now - started > STALE_AFTER:
        return True
    if run.owner == process_identity():
        return run.id not in _running_here(services)
    host, _, pid = (run.owner or "").rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        return not _alive(int(pid))
    return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _running_here(services: Services) -> set[int]:
    """Ids of the runs this process is executing right now."""
    return services.state.audit_runs_here


class _ProgressWriter:
    """The analyser's `progress(done, total)`: written to the run row at most once a second,
    so a progress fragment served by any replica can show it."""

    def __init__(self, services: Services, run_id: int) -> None:
        self.services = services
        self.run_id = run_id
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last < PROGRESS_EVERY and done < total:
            return
        self.last = now
        try:
            with self.services.transaction() as session:
                session.execute(
                    update(AuditRun)
                    .where(AuditRun.id == self.run_id)
                    .values(files=total, files_done=done)
                )
        except Exception as exc:
            log.debug("audit run %d: progress not written: %s", self.run_id, exc)
