"""The tally itself: it must be able to fail, or a 0/0/0 means nothing."""

from __future__ import annotations

from tests.faults.tally import ConsoleRow, Run, tally


def test_the_tally_counts_lost_duplicated_and_unexpected_runs() -> None:
    runs = [
        Run("ok", 1, "start"), Run("ok", 1, "end"),
        Run("twice", 1, "start"), Run("twice", 2, "start"), Run("twice", 2, "end"),
        Run("shown-twice", 1, "start"), Run("shown-twice", 2, "start"),
        Run("shown-twice", 2, "end"),
        Run("stranger", 3, "start"), Run("stranger", 3, "end"),
        Run("revoked", 4, "start"),
    ]  # fmt: skip
    console = {
        "silent": ConsoleRow("STARTED", None, None),
        "reported": ConsoleRow("LOST", "worker died", None),
        "shown-twice": ConsoleRow("SUCCESS", None, 2),
    }
    triggered = {"ok", "twice", "shown-twice", "silent", "reported", "revoked", "never-ran"}
    result = tally(triggered, runs, console, revoked={"revoked"})
    assert result.lost == ["never-ran", "silent"]
    assert result.duplicated == ["twice"]
    assert sorted(result.unexpected) == ["revoked", "stranger"]
    assert result.counts == (2, 1, 2)
