"""Audits of configured projects in the console: run them, store them, read them back.

The analyser (`controlplane.migrations_audit`) is a pure function of a source tree; this
package is the service layer around it for the console, the JSON API, the scheduler and the
metrics: which trees may be audited (`projects`), running one at a time per project in the
background (`runner`), storing the report (`store`), reading runs and the latest coverage per
project (`history`), and comparing two runs (`diff`).
"""

from controlplane.audit_runs.diff import Change, RunDiff, diff_runs
from controlplane.audit_runs.runner import (
    execute_run,
    run_audit,
    start_audit,
    start_in_background,
)
from controlplane.audit_runs.runs import (
    FeatureRow,
    FindingView,
    ProjectSummary,
    RunView,
    coverage_trend,
    feature_table,
    findings,
    get_run,
    latest_summaries,
    list_runs,
    project_names,
    skipped_files,
)

__all__ = [
    "Change",
    "FeatureRow",
    "FindingView",
    "ProjectSummary",
    "RunDiff",
    "RunView",
    "coverage_trend",
    "diff_runs",
    "execute_run",
    "feature_table",
    "findings",
    "get_run",
    "latest_summaries",
    "list_runs",
    "project_names",
    "run_audit",
    "skipped_files",
    "start_audit",
    "start_in_background",
]
