"""Lines of the audited files, read on demand for quoting calls as written, and remembered:
a report reused from the run cache is valid only while the lines it quotes are unchanged."""

from __future__ import annotations

from pathlib import Path


class SourceLines:
    """``line(relpath, number)``: the text of one line ("" past the end or when unreadable)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files: dict[str, list[str]] = {}
        self.quoted: dict[str, dict[int, str]] = {}  # relpath -> line number -> text given

    def line(self, relpath: str, number: int) -> str:
        lines = self.files.get(relpath)
        if lines is None:
            try:
                text = (self.root / relpath).read_text(encoding="utf-8", errors="replace")
            except OSError:
                text = ""
            lines = self.files[relpath] = text.splitlines()
        found = lines[number - 1] if 0 < number <= len(lines) else ""
        self.quoted.setdefault(relpath, {})[number] = found
        return found
