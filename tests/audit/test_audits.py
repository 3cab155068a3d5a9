"""Audits from the console: the service stores runs, refuses other paths, one run per project,
diffs runs, summarises projects; the nightly job; the Audit pages and the JSON API."""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from controlplane import audit_runs, db
from controlplane.clock import utcnow
from controlplane.config import Settings, load_settings
from controlplane.errors import AuditRefused, SettingsError
from controlplane.models import Action, AuditFinding, AuditRun
from controlplane.processes.leader import LocalLeaderLock
from controlplane.processes.scheduler import FleetScheduler
from controlplane.services import Services, build_services, process_identity
from tests.audit.audit_support import make_inline, with_projects, write, write_shop
from tests.conftest import wait_for


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    return write_shop(tmp_path / "shop", hostile=True)


@pytest.fixture
def settings(settings: Settings, shop: Path, tmp_path: Path) -> Settings:
    return with_projects(settings, tmp_path / "audit-cache", shop=shop,
                         ghost=tmp_path / "does-not-exist")  # fmt: skip


def _actions(services: Services) -> list[Action]:
    with services.transaction() as session:
        return list(session.scalars(select(Action).where(Action.action == "audit_run")))


def _findings(services: Services, run_id: int) -> dict[str, AuditFinding]:
    with services.transaction() as session:
        rows = session.scalars(select(AuditFinding).where(AuditFinding.run_id == run_id))
        return {row.handler: row for row in rows}


def _check_shop_run(services: Services, run: audit_runs.RunView) -> None:
    assert run.status == "done", run.error
    # offloaded: order_report; gaps: order_invoice and hostile (http); health is light
    assert (run.endpoints, run.offloaded, run.inline_heavy) == (4, 1, 2)
    assert run.coverage == round(100 / 3, 1)
    rows = _findings(services, run.id)
    assert set(rows) == {"order_report", "order_invoice", "health", "hostile"}
    report = rows["order_report"]
    assert (report.status, report.heavy, report.methods) == ("offloaded", False, "POST")
    (evidence,) = json.loads(report.evidence or "[]")
    assert evidence["call"] == "build_report.delay(order_id)"
    assert evidence["file"] == "app/routes.py" and evidence["kind"] == "dispatch"
    assert evidence["queue_system"] == "celery"
    assert (rows["order_invoice"].status, rows["order_invoice"].heavy) == ("inline", True)
    skipped = audit_runs.skipped_files(services, run.id)
    assert [s["file"] for s in skipped] == ["app/broken.py"]
    assert "syntax error" in skipped[0]["reason"]


# ---- the service -------------------------------------------------------------------------------


def test_a_run_stores_its_findings_coverage_and_an_action(services: Services) -> None:
    run = audit_runs.run_audit(services, "shop", "alice")
    _check_shop_run(services, run)
    assert run.actor == "alice" and run.files == 5 and run.skipped_files == 1
    (action,) = _actions(services)
    assert (action.actor, action.target, action.outcome) == ("alice", "shop", "ok")


@pytest.mark.postgres
def test_a_run_is_stored_in_postgresql_too(settings: Settings, postgres_url: str) -> None:
    services = build_services(dataclasses.replace(settings, database_url=postgres_url))
    try:
        db.upgrade(services.engine)
        _check_shop_run(services, audit_runs.run_audit(services, "shop", "alice"))
        with pytest.raises(IntegrityError), services.transaction() as session:
            for _ in range(2):  # the partial unique index: one running run per project
                session.add(AuditRun(project="p", root="/", started_at=utcnow(),
                                     status="running"))  # fmt: skip
                session.flush()
    finally:
        services.close()


def test_only_configured_projects_are_audited(services: Services, shop: Path) -> None:
    for name in ("/etc", str(shop), "../shop", "shop/..", "nope"):
        with pytest.raises(AuditRefused) as refused:
            audit_runs.run_audit(services, name, "mallory")
        assert refused.value.status == 404
    assert {a.outcome for a in _actions(services)} == {"refused"}
    with services.transaction() as session:
        assert session.scalar(select(func.count()).select_from(AuditRun)) == 0
    for bad in ("x=relative/path", "x=/srv/../etc", "x y=/srv"):
        with pytest.raises(SettingsError):
            load_settings({"CONTROLPLANE_AUDIT_PROJECTS": bad})


def test_symlinks_are_resolved_and_never_lead_out_of_the_root(
    services: Services, settings: Settings, shop: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    write(outside, "secret.py", """
        from flask import Flask
        import requests
        app = Flask(__name__)

        @app.get("/secret")
        def secret_view():
            return requests.get("https://token=hunter2")
    """)  # fmt: skip
    (shop / "app" / "leak.py").symlink_to(outside / "secret.py")
    link = tmp_path / "shop-link"
    link.symlink_to(shop)
    services.settings = with_projects(settings, tmp_path / "cache2", shop=link)
    run = audit_runs.run_audit(services, "shop", "alice")
    assert run.status == "done" and run.root == str(shop.resolve())
    assert "secret_view" not in _findings(services, run.id)
    skipped = {s["file"]: s["reason"] for s in audit_runs.skipped_files(services, run.id)}
    assert "outside the project root" in skipped["app/leak.py"]


def test_a_missing_root_or_a_bad_config_is_a_failed_run_not_a_crash(
    services: Services, shop: Path
) -> None:
    ghost = audit_runs.run_audit(services, "ghost", "alice")
    assert ghost.status == "failed" and "does-not-exist" in (ghost.error or "")
    write(shop, "pyproject.toml", "[tool.controlplane.audit]\nmax_depth = 'deep'\n")
    bad = audit_runs.run_audit(services, "shop", "alice")
    assert bad.status == "failed" and "max_depth" in (bad.error or "")
    assert [a.outcome for a in _actions(services)] == ["error", "error"]


def test_odd_names_and_huge_lines_never_break_a_run(services: Services, shop: Path) -> None:
    long_url = "https://x.example/" + "a" * 20000
    write(shop, "app/wide.py", f"""
        from flask import Flask
        import requests
        app = Flask(__name__)

        @app.get("/wide")
        def wide():
            return requests.get("{long_url}")
    """)  # fmt: skip
    (shop / "app").joinpath(os.fsdecode(b"caf\xe9.py")).write_text("x = 1\n")
    (shop / os.fsdecode(b"d\xe9j\xe0")).mkdir()
    run = audit_runs.run_audit(services, "shop", "alice")
    assert run.status == "done", run.error
    (evidence,) = json.loads(_findings(services, run.id)["wide"].evidence or "[]")
    assert evidence["kind"] == "http" and len(evidence["call"]) <= 500
    skipped = {s["file"]: s["reason"] for s in audit_runs.skipped_files(services, run.id)}
    assert "not valid UTF-8" in skipped["app/caf\ufffd.py"]
    assert "not valid UTF-8" in skipped["d\ufffdj\ufffd"]


def test_one_run_per_project_and_abandoned_runs_are_failed(services: Services) -> None:
    with services.transaction() as session:
        elsewhere = AuditRun(project="shop", root="/", started_at=utcnow(), status="running",
                             owner="another-host:1")  # fmt: skip
        session.add(elsewhere)
    refused = audit_runs.start_audit(services, "shop", "alice")
    assert refused.status == 409 and f"run {elsewhere.id}" in refused.body["error"]
    with services.transaction() as session:
        row = session.get(AuditRun, elsewhere.id)
        assert row is not None
        row.owner = process_identity()  # ours, but no thread of ours runs it: the process crashed
    run = audit_runs.run_audit(services, "shop", "alice")
    assert run.status == "done"
    with services.transaction() as session:
        old = session.get(AuditRun, elsewhere.id)
        assert old is not None and old.status == "failed" and "abandoned" in (old.error or "")


def test_diff_after_an_endpoint_became_inline(services: Services, shop: Path) -> None:
    first = audit_runs.run_audit(services, "shop", "alice")
    make_inline(shop)
    second = audit_runs.run_audit(services, "shop", "alice")
    diff = audit_runs.diff_runs(services, first.id, second.id)
    summaries = audit_runs.latest_summaries(services)
    with pytest.raises(AuditRefused):
        audit_runs.diff_runs(services, first.id, 10_000)
    assert [c.finding.handler for c in diff.became_inline] == ["order_report"]
    assert diff.became_inline[0].after is not None
    assert diff.became_inline[0].after.label == "inline, heavy"
    assert [c.finding.handler for c in diff.new] == ["order_receipt"]
    assert [c.finding.handler for c in diff.removed] == ["health"]
    assert not diff.became_offloaded and not diff.changed
    (summary,) = summaries
    assert summary.project == "shop" and summary.latest is not None
    assert summary.latest.id == second.id and summary.coverage == second.coverage


# ---- the scheduler -----------------------------------------------------------------------------


def test_the_nightly_job_audits_every_project_and_survives_a_failing_one(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    scheduler = FleetScheduler(services, lock=LocalLeaderLock("test"))
    scheduler.run_audits()
    with services.transaction() as session:
        runs = {r.project: r.status for r in session.scalars(select(AuditRun))}
    assert runs == {"shop": "done", "ghost": "failed"}
    assert "nightly audit of ghost failed" in caplog.text
    scheduler.lock.release()  # a standby runs nothing
    scheduler.run_audits()
    with services.transaction() as session:
        assert session.scalar(select(func.count()).select_from(AuditRun)) == 2


def test_the_real_scheduler_runs_the_audit_job(services: Services) -> None:
    scheduler = FleetScheduler(services, lock=LocalLeaderLock("test")).start()
    try:
        job = scheduler.scheduler.get_job("audits")
        assert (job.next_run_time.hour, job.next_run_time.minute) == (3, 0)
        job.modify(next_run_time=utcnow())
        wait_for(lambda: len(_finished_runs(services)) == 2, timeout=20, what="nightly audits")
    finally:
        scheduler.stop()


def _finished_runs(services: Services) -> list[str]:
    with services.transaction() as session:
        return list(session.scalars(select(AuditRun.status).where(AuditRun.status != "running")))


# ---- the console -------------------------------------------------------------------------------


def _start(client: FlaskClient, project: str = "shop") -> tuple[int, str]:
    response = client.post(
        f"/audit/projects/{project}/run",
        headers={"X-CSRFToken": client.csrf_token, "HX-Request": "true"},
    )  # type: ignore[attr-defined]
    return response.status_code, response.get_data(as_text=True)


def test_admin_runs_an_audit_from_the_console_and_watches_it_finish(
    client_as: Callable[[str], FlaskClient], services: Services
) -> None:
    admin = client_as("admin")
    page = admin.get("/audit").get_data(as_text=True)
    assert 'id="run-audit-shop"' in page and "No finished run yet" in page
    status, fragment = _start(admin)
    assert status == 202 and 'hx-trigger="every 1s"' in fragment
    with services.transaction() as session:
        run_id = session.scalar(select(AuditRun.id).where(AuditRun.project == "shop"))

    def finished() -> FlaskClient | None:
        response = admin.get(f"/audit/runs/{run_id}/status", headers={"HX-Request": "true"})
        return response if "HX-Retarget" in response.headers else None

    final = wait_for(finished, timeout=20, what="the run to finish")
    assert final.headers["HX-Retarget"] == "#audit-project-shop"
    body = final.get_data(as_text=True)
    assert "every 1s" not in body  # polling stops with the run
    assert f"Run {run_id} finished" in body and "coverage 33.3%" in body
    assert 'id="audit-trend-shop"' in body and "<circle" in body

    run_page = admin.get(f"/audit/runs/{run_id}").get_data(as_text=True)
    assert 'id="feature-table"' in run_page and "build_report.delay(order_id)" in run_page
    assert "app/broken.py" in run_page and "syntax error" in run_page
    # text from the audited code is escaped and sits inside hx-disable
    assert "&lt;img src=x onerror=alert(1)&gt;" in run_page
    assert "<img src=x" not in run_page and "<script>alert" not in run_page
    table = run_page.index('id="endpoint-table"')
    assert run_page.rfind("<div hx-disable>", 0, table) > run_page.rfind("</div>", 0, table)
    gaps = admin.get(f"/audit/runs/{run_id}?status=gap").get_data(as_text=True)
    assert 'data-handler="order_invoice"' in gaps and 'data-handler="order_report"' not in gaps

    (action,) = _actions(services)
    assert action.actor == admin.username and action.outcome == "ok"  # type: ignore[attr-defined]
    dashboard = admin.get("/").get_data(as_text=True)
    assert 'id="audit-card"' in dashboard and "33.3%" in dashboard


def test_a_second_start_while_running_is_refused_and_keeps_the_progress(
    client_as: Callable[[str], FlaskClient], services: Services
) -> None:
    with services.transaction() as session:
        session.add(AuditRun(project="shop", root="/", started_at=utcnow(), status="running",
                             owner="another-host:1", files=40, files_done=10))  # fmt: skip
    admin = client_as("admin")
    status, body = _start(admin)
    assert status == 409 and "already running" in body
    assert 'hx-trigger="every 1s"' in body and "10 / 40 files read" in body


def test_the_status_fragment_polls_only_while_the_run_runs(
    client_as: Callable[[str], FlaskClient], services: Services
) -> None:
    with services.transaction() as session:
        running = AuditRun(project="shop", root="/", started_at=utcnow(), status="running",
                           owner="another-host:1")  # fmt: skip
        session.add(running)
    viewer = client_as("viewer")
    htmx = {"HX-Request": "true"}
    live = viewer.get(f"/audit/runs/{running.id}/status", headers=htmx).get_data(as_text=True)
    assert 'hx-trigger="every 1s"' in live and "reading the source tree" in live
    assert 'hx-trigger="every 1s"' in viewer.get("/audit").get_data(as_text=True)
    with services.transaction() as session:
        row = session.get(AuditRun, running.id)
        assert row is not None
        row.status, row.error, row.finished_at = "failed", "<b>boom</b>", utcnow()
    card = viewer.get(f"/audit/runs/{running.id}/status", headers=htmx)
    body = card.get_data(as_text=True)
    assert card.headers["HX-Reswap"] == "outerHTML" and "every 1s" not in body
    assert "failed: &lt;b&gt;boom&lt;/b&gt;" in body
    on_run_page = viewer.get(f"/audit/runs/{running.id}/status?view=run", headers=htmx)
    assert on_run_page.headers["HX-Refresh"] == "true"
    assert viewer.get("/audit/runs/12345/status").status_code == 404


def test_viewer_sees_runs_but_cannot_start_one(
    client_as: Callable[[str], FlaskClient], services: Services, shop: Path
) -> None:
    first = audit_runs.run_audit(services, "shop", "alice")
    make_inline(shop)
    second = audit_runs.run_audit(services, "shop", "alice")
    viewer = client_as("viewer")
    page = viewer.get("/audit").get_data(as_text=True)
    assert "Run audit now" not in page and f"#{second.id}" in page
    assert _start(viewer)[0] == 403
    no_token = viewer.post("/audit/projects/shop/run")
    assert no_token.status_code in (400, 403)
    diff = viewer.get(f"/audit/diff?a={second.id}&b={first.id}").get_data(as_text=True)
    became_inline = diff[diff.index('id="became-inline"') : diff.index('id="became-offloaded"')]
    assert 'data-handler="order_report"' in became_inline
    assert viewer.get("/audit/diff?a=x").status_code == 400
    with services.transaction() as session:
        assert session.scalar(select(func.count()).select_from(AuditRun)) == 2


# ---- the JSON API ------------------------------------------------------------------------------


def test_api_starts_lists_and_reads_runs_and_refuses_a_viewer(
    client: FlaskClient, token_for: Callable[[str], str], services: Services
) -> None:
    admin = {"Authorization": f"Bearer {token_for('admin')}"}
    viewer = {"Authorization": f"Bearer {token_for('viewer')}"}
    assert client.post("/api/v1/audit/runs", json={"project": "shop"},
                       headers=viewer).status_code == 403  # fmt: skip
    assert client.post("/api/v1/audit/runs", json={"project": "/etc"},
                       headers=admin).status_code == 404  # fmt: skip
    assert client.post("/api/v1/audit/runs", json=["shop"], headers=admin).status_code == 400
    assert client.post("/api/v1/audit/runs", data="project=shop",
                       headers=admin).status_code == 415  # fmt: skip
    started = client.post("/api/v1/audit/runs", json={"project": "shop"}, headers=admin)
    assert started.status_code == 202, started.get_json()
    run_id = started.get_json()["run_id"]

    def done() -> dict[str, object] | None:
        body = client.get(f"/api/v1/audit/runs/{run_id}", headers=viewer).get_json()
        return body if body["status"] != "running" else None

    body = wait_for(done, timeout=20, what="the API run to finish")
    assert body["status"] == "done" and body["summary"]["coverage"] == 33.3
    handlers = {e["handler"]: e for e in body["endpoints"]}
    assert handlers["order_report"]["evidence"][0]["call"] == "build_report.delay(order_id)"
    assert handlers["order_report"]["evidence"][0]["queue_system"] == "celery"
    assert body["skipped"][0]["file"] == "app/broken.py"
    listing = client.get("/api/v1/audit/runs", headers=viewer).get_json()["projects"]
    assert [(p["project"], len(p["runs"])) for p in listing] == [("shop", 1), ("ghost", 0)]
    assert client.get("/api/v1/audit/runs/999", headers=viewer).status_code == 404
    assert client.get("/api/v1/audit/runs?limit=0", headers=viewer).status_code == 400
    outcomes = sorted(a.outcome for a in _actions(services))
    assert outcomes == ["ok", "refused", "refused", "refused"]


def test_settings_read_projects_and_schedule_from_toml_and_env(tmp_path: Path) -> None:
    config = tmp_path / "controlplane.toml"
    config.write_text('[controlplane]\naudit_schedule = "4:30"\n'
                      '[controlplane.audit_projects]\nshop = "/srv/shop"\n')  # fmt: skip
    loaded = load_settings({}, config_file=config)
    assert loaded.audit_schedule == "04:30"
    assert [(p.name, p.root) for p in loaded.audit_projects] == [("shop", "/srv/shop")]
    env = load_settings({"CONTROLPLANE_AUDIT_PROJECTS": "a=/x, b=/y",
                         "CONTROLPLANE_AUDIT_SCHEDULE": "off"})  # fmt: skip
    assert [p.name for p in env.audit_projects] == ["a", "b"] and env.audit_schedule is None
    with pytest.raises(SettingsError):
        load_settings({"CONTROLPLANE_AUDIT_SCHEDULE": "25:00"})
