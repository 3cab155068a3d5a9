"""The progress bar draws only on a terminal and only for large trees."""

from __future__ import annotations

import io

from controlplane.migrations_audit.progress import MIN_FILES, ProgressBar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_no_bar_when_stderr_is_not_a_terminal():
    assert ProgressBar.for_stream(io.StringIO()) is None


def test_bar_draws_in_place_on_a_terminal_and_clears_itself():
    stream = Terminal()
    bar = ProgressBar.for_stream(stream)
    assert bar is not None
    bar(MIN_FILES // 2, MIN_FILES)
    assert stream.getvalue() == f"\raudit [{'#' * 15}{'.' * 15}] {MIN_FILES // 2}/{MIN_FILES} files"
    bar.close()
    assert stream.getvalue().endswith("\r")


def test_small_trees_get_no_bar():
    stream = Terminal()
    bar = ProgressBar(stream)
    bar(10, MIN_FILES - 1)
    bar.close()
    assert stream.getvalue() == ""
