"""Recommended workers: hand-computed cases, bad inputs, and the scale-down window."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from controlplane.autoscale.policy import (
    Autoscaler,
    QueueLoad,
    ScaleDownWindow,
    Targets,
    concurrency_for,
    recommend,
    targets_for,
    wait_target_slots,
)
from controlplane.config import load_settings
from controlplane.errors import AutoscaleError, SettingsError

# drain 30 s, wait 30 s at p95, utilisation 0.9, 1..50 workers, 30 s start-up
DEFAULT = Targets()


def load(
    rate: float | None,
    service: float | None,
    backlog: float | None,
    concurrency: int = 4,
    completed: float | None = None,
) -> QueueLoad:
    return QueueLoad(
        arrival_rate=rate,
        service_time=service,
        backlog=backlog,
        concurrency=concurrency,
        completion_rate=completed,
    )


def test_no_traffic_and_no_backlog_gives_the_minimum() -> None:
    result = recommend(load(0.0, 1.0, 0), DEFAULT)
    assert result.workers == 1 and result.unclamped == 0
    assert result.reason == (
        "backlog 0, 0.0/min in, 1 s per task, concurrency 4 -> 1 worker (the minimum; the load "
        "needs 0)"
    )
    assert recommend(load(0.0, 1.0, 0), Targets(min_workers=0)).workers == 0


def test_a_pure_backlog_is_drained_within_the_drain_target() -> None:
    # 1,200 tasks * 0.5 s = 600 slot-seconds; in 30 s that is 20 slots = 5 workers of 4.
    result = recommend(load(0.0, 0.5, 1200), DEFAULT)
    assert result.slots == pytest.approx(20.0)
    assert result.workers == 5
    assert result.reason == "backlog 1,200, 0.0/min in, 500 ms per task, concurrency 4 -> 5 workers"


def test_the_example_from_the_issue() -> None:
    # a = 35 * 0.8 = 28 slots; drain 4,200 * 0.8 / 120 = 28 more: 56 slots = 14 workers.
    result = recommend(load(35.0, 0.8, 4200), Targets(drain_seconds=120))
    assert result.workers == 14
    assert (
        result.reason
        == "backlog 4,200, 2100.0/min in, 800 ms per task, concurrency 4 -> 14 workers"
    )


def test_steady_rate_keeps_the_target_utilisation() -> None:
    # a = 20 * 1.5 = 30 busy slots; at 90% that is 33.3 slots -> 9 workers (M/M/k needs only
    # 31 slots for a 30 s wait with 1.5 s tasks, so the utilisation target decides).
    result = recommend(load(20.0, 1.5, 0), DEFAULT)
    assert wait_target_slots(30.0, 1.5, 30.0, 0.95, 1000) == 31
    assert result.slots == pytest.approx(30 / 0.9)
    assert result.workers == 9


def test_a_tight_wait_target_is_decided_by_erlang_c() -> None:
    # 2 tasks/s of 10 s tasks (a = 20) that must start within 1 s at p95.
    k = wait_target_slots(20.0, 10.0, 1.0, 0.95, 1000)
    assert erlang_c_tail(k, 20.0, 10.0, 1.0) <= 0.05 < erlang_c_tail(k - 1, 20.0, 10.0, 1.0)
    result = recommend(load(2.0, 10.0, 0), Targets(target_wait_seconds=1.0, target_utilisation=1))
    assert result.slots == k and result.workers == math.ceil(k / 4)


def test_a_growing_backlog_is_projected_over_the_start_up_time() -> None:
    # 10/s in, 6/s done: +4/s for the 30 s a new worker takes -> 100 + 120 = 220 waiting;
    # 10 + 220 * 1 / 30 = 17.3 slots -> 5 workers.
    result = recommend(load(10.0, 1.0, 100, completed=6.0), DEFAULT)
    assert result.slots == pytest.approx(10 + 220 / 30)
    assert result.workers == 5
    assert result.reason == (
        "backlog 100 (about 220 by the time new workers start), 600.0/min in, 360.0/min done, "
        "1 s per task, concurrency 4 -> 5 workers"
    )


def test_clamped_to_the_maximum_and_says_so() -> None:
    result = recommend(load(35.0, 0.8, 4200), Targets(max_workers=10))
    assert result.workers == 10 and result.unclamped == 35
    assert result.reason.endswith("-> 10 workers (the maximum; the load needs 35)")


def test_work_without_a_service_time_assumes_the_default_and_covers_the_backlog() -> None:
    # The issue's queue: 40 waiting, nothing finished yet. With 10 s assumed per task the
    # backlog needs 40 * 10 / 30 = 13.3 slots within the 30 s drain target: 4 workers of 4.
    result = recommend(load(0.0, None, 40), Targets(min_workers=0))
    assert result.slots == pytest.approx(40 * 10 / 30) and result.workers == 4
    assert "no runtime measured yet, assuming 10 s per task" in result.reason
    quick = recommend(load(0.0, None, 40), Targets(min_workers=0, default_service_seconds=0.5))
    assert quick.workers == 1 and "assuming 500 ms per task" in quick.reason
    assert recommend(load(0.0, None, 0), Targets(min_workers=0)).workers == 0  # nothing to do


def test_the_reason_uses_the_queue_pages_units_and_reads_small_durations() -> None:
    reason = recommend(load(0.2167, 0.00022, 40, completed=0.2), DEFAULT).reason
    assert "13.0/min in, 12.0/min done, 0.2 ms per task" in reason
    assert "/s" not in reason and "e-" not in reason


@pytest.mark.parametrize("bad", [math.nan, math.inf, -1.0, None, "12", True])
def test_garbage_measurements_are_unknown_not_a_crash(bad: object) -> None:
    rate_unknown = recommend(load(bad, 1.0, 0), Targets(min_workers=0))  # type: ignore[arg-type]
    assert rate_unknown.workers == 0
    assert "arrival rate unknown" in rate_unknown.reason
    service_unknown = recommend(load(2.0, bad, 10), DEFAULT)  # type: ignore[arg-type]
    assert "assuming 10 s per task" in service_unknown.reason
    backlog_unknown = recommend(load(0.0, 1.0, bad), Targets(min_workers=0))  # type: ignore[arg-type]
    assert backlog_unknown.workers == 0 and "backlog unknown" in backlog_unknown.reason


def test_zero_service_time_counts_as_unknown() -> None:
    assert "no runtime measured yet" in recommend(load(2.0, 0.0, 10), DEFAULT).reason


@pytest.mark.parametrize("concurrency", [0, -4, 2.5, True, math.nan])
def test_concurrency_must_be_a_positive_integer(concurrency: object) -> None:
    with pytest.raises(AutoscaleError, match="concurrency"):
        recommend(load(1.0, 1.0, 0, concurrency=concurrency), DEFAULT)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"min_workers": 5, "max_workers": 4},
        {"max_workers": 0},
        {"drain_seconds": 0},
        {"target_wait_seconds": math.nan},
        {"target_utilisation": 1.5},
        {"wait_quantile": 1.0},
        {"startup_seconds": -1},
    ],
)
def test_targets_that_make_no_sense_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(AutoscaleError):
        Targets(**kwargs)  # type: ignore[arg-type]


def test_a_huge_load_stops_at_the_maximum_without_looping_forever() -> None:
    assert wait_target_slots(1e9, 1.0, 1.0, 0.95, 200) == 201
    assert recommend(load(1e9, 1.0, 1e12), DEFAULT).workers == 50


def test_scale_down_waits_for_the_window_then_releases() -> None:
    autoscaler = Autoscaler(lambda queue: DEFAULT, window_seconds=60)
    busy, idle = load(35.0, 0.8, 4200), load(0.0, 0.8, 0)
    assert autoscaler.recommend("q", busy, now=0).workers == 35
    held = autoscaler.recommend("q", idle, now=15)
    assert held.workers == 35
    assert held.reason == (
        "backlog 0, 0.0/min in, 800 ms per task, concurrency 4 -> 1 worker (the minimum; the load "
        "needs 0); holding 35 workers for the 60 s scale-down window"
    )
    assert autoscaler.recommend("q", idle, now=60).workers == 35  # 60 s old: still in
    released = autoscaler.recommend("q", idle, now=61)
    assert released.workers == 1 and "holding" not in released.reason
    assert autoscaler.recommend("q", busy, now=62).workers == 35  # scaling up is immediate
    assert autoscaler.recommend("other", idle, now=62).workers == 1  # queues are separate


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 20), st.integers(0, 50)), max_size=40))
def test_the_window_holds_the_highest_recent_value(steps: list[tuple[int, int]]) -> None:
    window, seen, now = ScaleDownWindow(30), [], 0
    for gap, workers in steps:
        now += gap
        seen.append((now, workers))
        expected = max(w for t, w in seen if t >= now - 30)
        assert window.apply("q", now, workers) == expected


figures = st.tuples(
    st.sampled_from(["a", "b"]),
    st.integers(0, 40),  # seconds since the last answer
    st.sampled_from([None, 0.0, 0.5, 3.0, 40.0]),  # arrivals/s
    st.sampled_from([None, 0.2, 2.0]),  # service time
    st.sampled_from([0.0, 7.0, 400.0, 5000.0]),  # backlog
    st.sampled_from([1, 4]),  # concurrency
    st.sampled_from([None, 0.0, 1.0]),  # completions/s
)


@settings(max_examples=200, deadline=None)
@given(st.lists(figures, max_size=30))
def test_the_scrape_s_counts_are_the_recommendations_counts_through_the_window(
    steps: list[tuple[str, int, float | None, float | None, float, int, float | None]],
) -> None:
    """`workers_measured` (what /metrics shows, no sentence) answers what `recommend_measured`
    does, figures seen before (its kept answers) or not, held by the same window."""
    pages = Autoscaler(lambda queue: DEFAULT, window_seconds=30)
    scrape = Autoscaler(lambda queue: DEFAULT, window_seconds=30)
    now = 0.0
    for queue, gap, *load in steps:
        now += gap
        expected = pages.recommend_measured(queue, now, *load).workers  # type: ignore[arg-type]
        assert scrape.workers_measured(queue, now, *load) == expected  # type: ignore[arg-type]


def test_a_scrape_s_kept_count_is_not_shown_for_other_figures() -> None:
    """The counts kept per figures answer only those figures: another backlog, another count."""
    autoscaler = Autoscaler(lambda queue: DEFAULT, window_seconds=0)
    assert autoscaler.workers_measured("q", 0.0, 35.0, 0.8, 4200.0, 4, None) == 35
    assert autoscaler.workers_measured("q", 1.0, 35.0, 0.8, 0.0, 4, None) == 8
    assert autoscaler.workers_measured("q", 2.0, 35.0, 0.8, 4200.0, 4, None) == 35


def test_settings_feed_the_targets_with_per_queue_overrides(tmp_path: Path) -> None:
    config = tmp_path / "cp.toml"
    config.write_text(
        "[controlplane]\nautoscale_max_workers = 20\n"
        "[controlplane.autoscale_queues.reports]\nmin_workers = 0\nmax_workers = 5\n"
        "concurrency = 8\ndrain_seconds = 600\n"
    )
    settings_ = load_settings(
        {"CONTROLPLANE_AUTOSCALE_TARGET_WAIT_SECONDS": "10"}, config_file=config
    )
    reports, default = targets_for(settings_, "reports"), targets_for(settings_, "default")
    assert (reports.min_workers, reports.max_workers, reports.drain_seconds) == (0, 5, 600)
    assert reports.target_wait_seconds == default.target_wait_seconds == 10
    assert (default.min_workers, default.max_workers, default.drain_seconds) == (1, 20, 30)
    assert concurrency_for(settings_, "reports", measured=2) == 8
    assert concurrency_for(settings_, "default", measured=2) == 2
    assert concurrency_for(settings_, "default", measured=None) == 4
    autoscaler = Autoscaler.from_settings(settings_)
    assert autoscaler.recommend("reports", load(35.0, 0.8, 4200), now=0).workers == 5


def test_per_queue_overrides_from_the_environment_as_json() -> None:
    settings_ = load_settings({"CONTROLPLANE_AUTOSCALE_QUEUES": '{"slow": {"max_workers": 3}}'})
    assert targets_for(settings_, "slow").max_workers == 3


@pytest.mark.parametrize(
    ("environ", "words"),
    [
        ({"CONTROLPLANE_AUTOSCALE_QUEUES": "{nope"}, "JSON object"),
        ({"CONTROLPLANE_AUTOSCALE_QUEUES": '{"q": {"max": 3}}'}, "unknown key 'max'"),
        ({"CONTROLPLANE_AUTOSCALE_QUEUES": '{"q": {"max_workers": 0}}'}, "max_workers"),
        (
            {"CONTROLPLANE_AUTOSCALE_QUEUES": '{"q": {"min_workers": 9, "max_workers": 3}}'},
            "above max_workers",
        ),
        (
            {"CONTROLPLANE_AUTOSCALE_MIN_WORKERS": "9", "CONTROLPLANE_AUTOSCALE_MAX_WORKERS": "3"},
            "autoscale_min_workers",
        ),
        ({"CONTROLPLANE_AUTOSCALE_TARGET_UTILISATION": "1.2"}, "at most 1"),
        ({"CONTROLPLANE_AUTOSCALE_SCALE_DOWN_WINDOW_SECONDS": "-1"}, ">= 0"),
    ],
)
def test_bad_autoscale_settings_name_themselves(environ: dict[str, str], words: str) -> None:
    with pytest.raises(SettingsError, match=words):
        load_settings(environ)


def erlang_c_tail(k: int, a: float, service: float, wait: float) -> float:
    """P(wait > `wait`) in M/M/k from the textbook sum, to check the recurrence against."""
    if k <= a:
        return 1.0
    top = a**k / math.factorial(k) * k / (k - a)
    erlang_c = top / (sum(a**i / math.factorial(i) for i in range(k)) + top)
    return erlang_c * math.exp(-(k - a) * wait / service)
