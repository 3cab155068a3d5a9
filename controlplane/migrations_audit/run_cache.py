"""The last report of a tree, reused while no file changed in a way the analysis can see.

The analysis after parsing (routes, call graph, classification) is a pure function of the
config, the files' facts and the source lines its evidence quotes; ``lines`` (a file's line
count) feeds only the report's total. One entry per (root, config) records the fingerprint
of the analyser that wrote it (``cache.analyser_fingerprint``: its own source), every file's
content key (``cache.cache_key``), the lines the report quoted, and the whole report.

A warm run whose files all still have their recorded keys returns the stored report. When
a few files changed, their new facts are compared with the facts cached for their old
content, line counts left out, and the quoted lines of those files are read again: when
both are equal the analysis would compute the same report, so the stored one is returned
with the new line total (a comment, a blank line, a reworded string in a call the analysis
does not read). Anything else (a file added, removed, unreadable, or skipped; different
facts; a missing old entry) is a miss, and the caller runs the whole analysis.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson

from .cache import FactsCache, analyser_fingerprint, loads, write_atomically
from .config import AuditConfig
from .facts import ModuleFacts
from .openapi_docs import fingerprint
from .report import Report
from .report_codec import encode, report_from_json
from .source_lines import SourceLines

MAX_CHANGED = 32  # beyond this many changed files, comparing costs about what analysing does
Keys = dict[str, str | None]
FactsOf = Callable[[list[str]], list[ModuleFacts] | None]


def facts_without_line_count(facts: ModuleFacts) -> bytes:
    """The facts as the analysis sees them: everything but the file's line count."""
    raw = facts.to_json()
    raw["lines"] = 0
    try:
        return orjson.dumps(raw)
    except TypeError:  # lone surrogates in an undecodable name: orjson refuses them
        return repr(raw).encode("utf-8", "surrogateescape")


class RunCache:
    """One JSON entry per (root, config), written atomically; an entry of another analyser,
    or a bad one, is a miss."""

    def __init__(self, facts: FactsCache, root: Path, config: AuditConfig) -> None:
        self.facts = facts
        self.root = root
        # one file per tree and config, whichever analyser wrote it: entries do not pile up
        # as the analyser changes; the analyser's fingerprint inside must match
        digest = hashlib.sha256(f"{root}\0{config!r}".encode("utf-8", "surrogateescape"))
        self.path = facts.directory / "runs" / f"{digest.hexdigest()}.json"

    def reuse(self, keys: Keys, facts_of: FactsOf) -> Report | None:
        """The stored report when it is still what the analysis would compute, else None.

        ``facts_of(relpaths)`` gives the current facts of the changed files (None when one
        of them cannot be parsed)."""
        entry = self._load()
        if entry is None or None in keys.values():
            return None
        stored: dict[str, str | None] = entry["keys"]
        if stored.keys() != keys.keys():
            return None
        changed = [relpath for relpath, key in keys.items() if stored[relpath] != key]
        if len(changed) > MAX_CHANGED:
            return None
        delta = 0
        if changed:
            found = self._same_analysis(changed, stored, entry["quoted"], facts_of)
            if found is None:
                return None
            delta = found
        documents: dict[str, str | None] = entry.get("documents", {})
        if any(fingerprint(self.root / relpath) != key for relpath, key in documents.items()):
            return None  # an OpenAPI document the routes were read from changed
        try:
            report = report_from_json(entry["report"])
        except (KeyError, TypeError, ValueError):
            return None
        if changed:
            report.lines += delta
            self.store(keys, report, entry["quoted"], documents)
        return report

    def _same_analysis(
        self,
        changed: list[str],
        stored: dict[str, str | None],
        quoted: dict[str, dict[str, str]],
        facts_of: FactsOf,
    ) -> int | None:
        """The change of the line total when the changed files look the same to the
        analysis, else None."""
        old: list[ModuleFacts] = []
        for relpath in changed:
            key = stored[relpath]
            before = self.facts.get(key, relpath) if key else None
            if before is None:
                return None
            old.append(before)
        new = facts_of(changed)
        if new is None or len(new) != len(old):
            return None
        for before, after in zip(old, new, strict=True):
            if before.relpath != after.relpath:
                return None
            if facts_without_line_count(before) != facts_without_line_count(after):
                return None
        lines = SourceLines(self.root)
        for relpath in changed:
            for number, text in quoted.get(relpath, {}).items():
                if lines.line(relpath, int(number)) != text:
                    return None
        return sum(a.lines for a in new) - sum(b.lines for b in old)

    def store(
        self,
        keys: Keys,
        report: Report,
        quoted: dict[Any, dict[Any, str]],
        documents: dict[str, str | None] | None = None,
    ) -> None:
        """Write the entry; a report the codec cannot carry, or a cache that cannot be
        written, only makes the next run slower. ``documents``: the content keys of the
        files besides Python the routes were read from (None: looked for, not there)."""
        if None in keys.values():
            return
        document = encode(report)
        # a field the codec cannot carry (a set, a new record type) must not come back
        # as something else: JSON itself refuses what is not a list, dict or scalar
        if report_from_json(document) != report:
            return
        entry = {
            "analyser": analyser_fingerprint(),
            "keys": keys,
            "quoted": {f: {str(n): t for n, t in lines.items()} for f, lines in quoted.items()},
            "documents": documents or {},
            "report": document,
        }
        try:
            data = orjson.dumps(entry)
        except TypeError:  # lone surrogates: not worth a slower encoder
            return
        write_atomically(self.path, data)

    def _load(self) -> dict[str, Any] | None:
        try:
            with open(self.path, "rb") as handle:
                entry = loads(handle.read())
        except (OSError, ValueError):
            return None
        if (
            not isinstance(entry, dict)
            or entry.get("analyser") != analyser_fingerprint()
            or not isinstance(entry.get("keys"), dict)
            or not isinstance(entry.get("quoted"), dict)
            or not isinstance(entry.get("documents", {}), dict)
            or "report" not in entry
        ):
            return None
        return entry
