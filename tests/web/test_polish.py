"""The issue's polish list: charts that do not overlap or lie, a sparkline that is not a hairline
in the first hour, a readable action log, and an HTML audit report that reads well."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from flask.testing import FlaskClient

from controlplane.control.alerts import acknowledge_alert
from controlplane.migrations_audit import audit
from controlplane.migrations_audit.formatters import get_formatter
from controlplane.services import Services
from controlplane.web.charts import WIDTH, bar_chart, sparkline_points
from controlplane.web.pages.insights import MAX_QUEUES_PLOTTED
from tests.audit.audit_support import write_shop

CSS = (Path(__file__).resolve().parents[2] / "controlplane/web/static/app.css").read_text()


def test_the_empty_runtime_chart_has_no_axis_under_its_sentence() -> None:
    empty = bar_chart("Runtime", [])
    assert empty.scale_ticks == [] and empty.height >= 60
    one = bar_chart("Runtime", [("t.add (3)", [("p50", 0.1), ("p95", 0.2), ("p99", 0.3)])])
    assert len(one.scale_ticks) == 3


def test_every_queue_colour_the_depth_chart_draws_has_its_legend_colour() -> None:
    for index in range(MAX_QUEUES_PLOTTED):
        line = re.search(rf"\.line\.series-{index}\b[^{{]*\{{([^}}]*)\}}", CSS)
        legend = re.search(rf"\.legend\.series-{index}\b[^{{]*\{{([^}}]*)\}}", CSS)
        assert line and legend, index
        stroke = re.search(r"stroke:(#[0-9a-f]{6})", line.group(1))
        color = re.search(r"color:(#[0-9a-f]{6})", legend.group(1))
        assert stroke and color and stroke.group(1) == color.group(1), index


def test_the_hour_sparkline_spans_its_box_in_the_first_hour() -> None:
    first_minutes = [None] * 57 + [3, 5, 4]
    xs = [float(point.split(",")[0]) for point in sparkline_points(first_minutes).split()]
    assert xs[0] == 0 and xs[-1] == WIDTH
    assert sparkline_points([None] * 59 + [4]) == ""  # one point: nothing to draw


def test_the_action_log_keeps_its_time_on_one_line_and_lists_details(
    services: Services, client_as: Callable[[str], FlaskClient]
) -> None:
    acknowledge_alert(services, "alice", "task_stuck", "<b>t1</b>")
    page = client_as("viewer").get("/actions").get_data(as_text=True)
    row = page[page.index("alert_ack") - 400 : page.index("alert_ack") + 900]
    assert '<td class="when">' in row and re.search(
        r"#action-table td\.when \{ white-space:nowrap", CSS
    )
    assert '<dl class="kv"><dt>alert</dt><dd>task_stuck</dd><dt>subject</dt>' in row
    assert "&lt;b&gt;t1&lt;/b&gt;" in row and "<b>t1" not in row
    assert '{"alert"' not in row  # no raw JSON


def test_the_html_report_counts_evidence_in_words_and_its_summary_is_not_full_width(
    tmp_path: Path,
) -> None:
    report = audit(write_shop(tmp_path / "shop"), cache_dir=tmp_path / "cache")
    page = get_formatter("html")(report)
    assert re.search(r"evidence \(\d+ places?\)", page) and " evidence</summary>" not in page
    assert "table.summary{width:auto}" in page
