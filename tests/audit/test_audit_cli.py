"""The ``audit`` command: formats, output file, the gate and its exit codes (0, 1, 2)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from controlplane.migrations_audit.cli import audit_command

PROJECT = {
    "tasks.py": """
        from celery import shared_task

        @shared_task
        def crunch():
            return 1
    """,
    "app.py": """
        import time
        from flask import Flask
        from tasks import crunch

        app = Flask(__name__)

        @app.post("/offloaded")
        def offloaded():
            crunch.delay()

        @app.post("/slow")
        def slow():
            time.sleep(2)

        @app.get("/light")
        def light():
            return "ok"
    """,
}


@pytest.fixture
def project(tree):
    return tree(PROJECT)


@pytest.fixture
def invoke(tmp_path):
    cache = tmp_path / "cache"

    def run(*args: str):
        return CliRunner().invoke(audit_command, [*map(str, args), "--cache-dir", str(cache)])

    return run


def test_text_report_and_exit_0_without_a_gate(project, invoke):
    result = invoke(project)
    assert result.exit_code == 0, result.output
    assert (
        "3 endpoints: 1 offloaded, 2 inline (1 heavy), 0 in-process background; "
        "coverage 50.0%" in result.output
    )


@pytest.mark.parametrize("fmt", ["text", "markdown", "json", "sarif", "html"])
def test_every_format_writes_to_the_output_file(project, invoke, tmp_path, fmt):
    out = tmp_path / f"report.{fmt}"
    result = invoke(project, "--format", fmt, "--output", out)
    assert result.exit_code == 0, result.output
    assert result.output == ""
    assert out.read_text(encoding="utf-8").strip()


def test_fail_under_fails_the_gate_with_exit_1(project, invoke):
    assert invoke(project, "--fail-under", "50").exit_code == 0
    result = invoke(project, "--fail-under", "75")
    assert result.exit_code == 1
    assert "gate failed: coverage 50.0% is under 75%" in result.output


def test_baseline_fails_only_on_endpoints_that_became_inline(project, invoke, tmp_path):
    baseline = tmp_path / "baseline.json"
    assert invoke(project, "--format", "json", "--output", baseline).exit_code == 0
    assert invoke(project, "--baseline", baseline).exit_code == 0  # slow was already inline

    app = project / "app.py"
    app.write_text(app.read_text().replace("crunch.delay()", "crunch()"))
    result = invoke(project, "--baseline", baseline)
    assert result.exit_code == 1
    assert "1 endpoint(s) became inline or in-process since the baseline" in result.output
    assert "POST /offloaded offloaded (app.py:8): inline" in result.output


def test_a_new_heavy_endpoint_fails_the_ratchet(project, invoke, tmp_path):
    baseline = tmp_path / "baseline.json"
    invoke(project, "--format", "json", "--output", baseline)
    with (project / "app.py").open("a") as handle:
        handle.write("\n@app.post('/new')\ndef new():\n    time.sleep(1)\n")
    result = invoke(project, "--baseline", baseline)
    assert result.exit_code == 1
    assert "POST /new new (app.py:" in result.output


def test_the_ratchet_matches_a_handler_whose_route_reads_differently(project, invoke, tmp_path):
    """A baseline of an earlier analyser showed the route another way (or one route for a
    handler now reported under several): the handler's only endpoint there still stands for
    it, so a gap it already had is no regression, and a lost offload still is one."""
    baseline = tmp_path / "baseline.json"
    invoke(project, "--format", "json", "--output", baseline)
    document = json.loads(baseline.read_text())
    for endpoint in document["endpoints"]:
        endpoint["route"] = "/v0" + endpoint["route"]
    baseline.write_text(json.dumps(document))
    app = project / "app.py"
    app.write_text(
        app.read_text().replace('@app.post("/slow")', '@app.post("/slow")\n@app.post("/slower")')
    )
    assert invoke(project, "--baseline", baseline).exit_code == 0  # slow was a gap already

    app.write_text(app.read_text().replace("crunch.delay()", "crunch()"))
    result = invoke(project, "--baseline", baseline)
    assert result.exit_code == 1
    assert "1 endpoint(s) became inline or in-process since the baseline" in result.output
    assert "POST /offloaded offloaded (app.py:8): inline" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--baseline", "missing.json"], "cannot read baseline"),
        (["--config", "missing.toml"], "config file not found"),
    ],
)
def test_bad_input_exits_2(project, invoke, tmp_path, args, message):
    result = invoke(
        project, *[str(tmp_path / a) if a.endswith((".json", ".toml")) else a for a in args]
    )
    assert result.exit_code == 2
    assert message in result.output


def test_a_baseline_that_is_not_a_report_exits_2(project, invoke, tmp_path):
    baseline = tmp_path / "b.json"
    baseline.write_text(json.dumps({"version": 1, "endpoints": [{"file": "x"}]}))
    result = invoke(project, "--baseline", baseline)
    assert result.exit_code == 2
    assert "not an audit report" in result.output


def test_a_missing_path_or_bad_option_exits_2(invoke, tmp_path):
    assert invoke(tmp_path / "nope").exit_code == 2
    assert invoke(tmp_path, "--format", "pdf").exit_code == 2
    assert invoke(tmp_path, "--fail-under", "101").exit_code == 2


def test_an_invalid_config_exits_2(project, invoke):
    (project / "pyproject.toml").write_text(
        "[tool.controlplane.audit]\nsuppressions = [{file = 'app.py'}]\n"
    )
    result = invoke(project)
    assert result.exit_code == 2
    assert "suppression for app.py needs a reason" in result.output


def test_a_file_that_does_not_parse_is_skipped_not_fatal(project, invoke):
    (project / "broken.py").write_text("def broken(:\n    pass\n")
    (project / "latin1.py").write_bytes(b"x = '\xe9'\n")
    result = invoke(project, "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [s["file"] for s in data["skipped"]] == ["broken.py", "latin1.py"]
    assert data["skipped"][0]["reason"].startswith("syntax error:")
    assert data["summary"]["endpoints"] == 3


def test_a_warm_run_from_the_cache_gives_the_same_report(project, invoke, tmp_path):
    cold = invoke(project, "--format", "json").output
    assert list((tmp_path / "cache").rglob("*.json"))
    warm = invoke(project, "--format", "json").output
    assert warm == cold
    assert (
        CliRunner().invoke(audit_command, [str(project), "--no-cache", "--format", "json"]).output
        == cold
    )


def test_a_single_file_can_be_audited(project, invoke):
    result = invoke(project / "app.py", "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.output)["summary"]["endpoints"] == 3


def test_very_deep_expressions_are_parsed_not_skipped(project, invoke):
    terms = " + ".join(f"'{i}'" for i in range(4000))
    (project / "generated.py").write_text(f"TEXT = {terms}\n")
    result = invoke(project, "--format", "json", "--no-cache")
    assert json.loads(result.output)["skipped"] == []


def test_the_cli_starts_without_loading_the_console() -> None:
    """`controlplane audit` in CI runs on every push: importing the CLI must not load the web
    console, the database layer or Celery (about 1.4 s before; a warm audit takes 0.1 s)."""
    import subprocess
    import sys

    probe = (
        "import sys, controlplane.cli; "
        "print(sorted(m for m in ('controlplane.web', 'controlplane.services', "
        "'controlplane.control', 'sqlalchemy', 'celery', 'flask') if m in sys.modules))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()
    assert loaded == "[]", f"importing controlplane.cli loaded {loaded}"
