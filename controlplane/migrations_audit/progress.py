"""A progress bar on stderr for large trees, only when stderr is a terminal."""

from __future__ import annotations

from typing import TextIO

MIN_FILES = 500


class ProgressBar:
    """Callable as ``progress(done, total)``; draws in place, then clears its line."""

    def __init__(self, stream: TextIO, width: int = 30) -> None:
        self.stream = stream
        self.width = width
        self.shown = False

    @classmethod
    def for_stream(cls, stream: TextIO) -> ProgressBar | None:
        return cls(stream) if stream.isatty() else None

    def __call__(self, done: int, total: int) -> None:
        if total < MIN_FILES:
            return
        filled = self.width * done // max(total, 1)
        bar = "#" * filled + "." * (self.width - filled)
        self.stream.write(f"\raudit [{bar}] {done}/{total} files")
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            self.stream.write("\r" + " " * (self.width + 40) + "\r")
            self.stream.flush()
