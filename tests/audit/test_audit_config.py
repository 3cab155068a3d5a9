"""Config loading and what each setting changes: features, exclusions, suppressions."""

from __future__ import annotations

import re

import pytest

from controlplane.errors import ControlplaneError
from controlplane.migrations_audit import (
    AuditConfig,
    ConfigError,
    Suppression,
    audit,
    load_config,
)
from controlplane.migrations_audit.features import feature_of

SLOW_VIEW = """
    import time
    from flask import Blueprint

    bp = Blueprint("b", __name__)

    @bp.route("/{name}")
    def {name}():
        time.sleep(1)
"""


def slow(name: str) -> str:
    return SLOW_VIEW.replace("{name}", name)


def test_pyproject_table_is_read(tmp_path):
    (tmp_path / "pyproject.toml").write_text("""
[project]
name = "x"

[tool.controlplane.audit]
feature_root = "app/features/"
dispatch_wrappers = ["celery_task_client.submit_callable"]
task_names = ["jobs.run"]
heavy_calls = ["reports.render_pdf", {call = "*.crunch", kind = "dataframe"}]
exclude = ["legacy"]
max_depth = 4

[[tool.controlplane.audit.suppressions]]
file = "app/admin.py"
handler = "export"
reason = "admin only"
""")
    config = load_config(tmp_path)
    assert config.feature_root == "app/features"
    assert config.dispatch_wrappers == ("celery_task_client.submit_callable",)
    assert config.task_names == ("jobs.run",)
    assert config.heavy_calls == (("reports.render_pdf", "configured"), ("*.crunch", "dataframe"))
    assert config.exclude == ("legacy",)
    assert config.max_depth == 4
    assert config.suppressions[0].matches("app/admin.py", "export")
    assert not config.suppressions[0].matches("app/admin.py", "other")


def test_a_standalone_file_may_hold_the_settings_at_top_level(tmp_path):
    path = tmp_path / "audit.toml"
    path.write_text('feature_root = "src/features"\n')
    assert load_config(tmp_path, path) == AuditConfig(feature_root="src/features")
    path.write_text('[audit]\ntask_names = ["x"]\n')
    assert load_config(tmp_path, path).task_names == ("x",)


def test_no_config_means_defaults(tmp_path):
    assert load_config(tmp_path) == AuditConfig()
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    assert load_config(tmp_path) == AuditConfig()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("feature_rot = 'x'", "unknown audit setting(s): feature_rot"),
        ("task_names = 'x'", "task_names must be a list"),
        ("max_depth = 0", "max_depth must be a positive integer"),
        ("suppressions = [{file = 'a.py', reason = ' '}]", "needs a reason"),
        ("heavy_calls = [{kind = 'x'}]", "heavy_calls entries need call"),
        ("not toml at all [", "Expected"),
    ],
)
def test_bad_settings_are_config_errors(tmp_path, text, message):
    path = tmp_path / "audit.toml"
    path.write_text(text + "\n")
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(tmp_path, path)


def test_audit_errors_are_controlplane_errors(tmp_path):
    """One exception tree: whoever catches ControlplaneError also catches the audit's."""
    path = tmp_path / "audit.toml"
    path.write_text("max_depth = 0\n")
    with pytest.raises(ControlplaneError):
        load_config(tmp_path, path)
    with pytest.raises(ControlplaneError):
        audit(tmp_path / "missing")


@pytest.mark.parametrize(
    ("path", "root", "feature"),
    [
        ("TrinityBackendFastAPI/app/features/pivot_table/routes.py", "", "pivot_table"),
        ("app/features/chart_maker/endpoint.py", "app/features", "chart_maker"),
        ("src/modules/billing/api/views.py", "src/modules", "billing"),
        ("src/modules/single.py", "src/modules", "single"),
        ("shop/views.py", "", "shop"),
        ("app/api/v1/endpoints/planning.py", "", "app.api.v1.endpoints"),
        ("main.py", "", "(root)"),
        ("svc/*/x.py", "svc/*", "x"),
    ],
)
def test_features_are_packages_under_the_feature_root(path, root, feature):
    assert feature_of(path, root) == feature


def test_features_exclusions_and_suppressions_apply_to_the_report(tree):
    root = tree(
        {
            "app/features/upload/routes.py": slow("upload"),
            "app/features/chart/routes.py": slow("chart"),
            "legacy/old.py": slow("old"),
            "app/admin.py": slow("export"),
            "tests/test_routes.py": slow("in_tests"),
            "app/test_helpers.py": slow("helper_test"),
        }
    )
    config = AuditConfig(
        feature_root="app/features",
        exclude=("legacy",),
        suppressions=(Suppression("app/admin.py", "export", "admin only"),),
    )
    report = audit(root, config, jobs=1)
    assert [(e.handler, e.feature) for e in report.endpoints] == [
        ("chart", "chart"),
        ("upload", "upload"),
    ]
    assert [(s.endpoint.handler, s.reason) for s in report.suppressed] == [("export", "admin only")]
    assert report.summary.endpoints == 2
