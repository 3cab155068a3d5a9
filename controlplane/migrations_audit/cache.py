"""Per-file facts cache, keyed by the file's path and content hash and the analyser itself.

A warm run reads each file, hashes it and loads its facts instead of parsing it. Entries are
plain JSON written atomically, so a corrupt or foreign entry is simply a miss. The key covers
a hash of the analyser's own source besides ``ANALYSER_VERSION``: an edited analyser whose
version was not bumped must not read facts (or reports, ``run_cache.py``) of the old one.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

import orjson

from .facts import ANALYSER_VERSION, ModuleFacts

CACHE_DIRNAME = ".controlplane-audit-cache"
_PACKAGE = Path(__file__).resolve().parent
_fingerprint: list[str] = []


def analyser_fingerprint() -> str:
    """``ANALYSER_VERSION``, the Python version (its parser and its list of standard modules
    shape the facts) and a hash of every source file of this package, once a process."""
    if not _fingerprint:
        python = "{}.{}".format(*sys.version_info[:2])
        digest = hashlib.sha256(f"{ANALYSER_VERSION}\0{python}".encode())
        for path in sorted(_PACKAGE.rglob("*.py")):
            digest.update(str(path.relative_to(_PACKAGE)).encode("utf-8", "surrogateescape"))
            try:
                digest.update(path.read_bytes())
            except OSError:
                digest.update(b"\0unreadable")
        _fingerprint.append(digest.hexdigest())
    return _fingerprint[0]


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/.controlplane-audit-cache`` (``~/.cache/...`` without the variable)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / CACHE_DIRNAME


def loads(data: bytes | str) -> Any:
    """JSON text to Python: orjson (a warm run decodes every file's facts), falling back to
    the standard parser for what orjson refuses (lone surrogates of undecodable names)."""
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError:
        return json.loads(data)


def cache_key(relpath: str, data: bytes) -> str:
    digest = hashlib.sha256()
    # surrogateescape: a file name that is not valid UTF-8 still gets a key (and no crash)
    digest.update(f"{analyser_fingerprint()}\0{relpath}\0".encode("utf-8", "surrogateescape"))
    digest.update(data)
    return digest.hexdigest()


class FactsCache:
    """A directory of ``<key>.json`` files, sharded by the key's first two characters."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory / f"v{ANALYSER_VERSION}"
        self._base = str(self.directory)

    def path(self, key: str) -> Path:
        return Path(self._path(key))

    def _path(self, key: str) -> str:
        # plain strings: on a warm run of thousands of files pathlib's overhead shows
        return f"{self._base}/{key[:2]}/{key}.json"

    def get(self, key: str, relpath: str) -> ModuleFacts | None:
        try:
            with open(self._path(key), "rb") as handle:
                raw = loads(handle.read())
            facts = ModuleFacts.from_json(raw)
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            return None
        return facts if facts.relpath == relpath else None

    def put(self, key: str, text: str) -> None:
        """Store an entry (JSON text, ASCII as ``json.dumps`` writes it)."""
        write_atomically(self.path(key), text.encode("utf-8"))


def write_atomically(target: Path, data: bytes) -> None:
    """Write through a temporary file and a rename, so a reader sees the old entry or the
    new one; a cache that cannot be written only makes the next run slower."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError:
        return
