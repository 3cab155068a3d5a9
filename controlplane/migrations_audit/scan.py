"""Find the Python files of a tree and get their facts: from the cache, or by parsing them,
in worker processes when there are many. A file that cannot be read or parsed is skipped
with the reason; it never stops the audit."""

from __future__ import annotations

import fnmatch
import gc
import json
import multiprocessing
import os
import re
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from .cache import FactsCache, cache_key, loads
from .extract import extract
from .facts import ModuleFacts
from .report import Skipped

# Directories that hold no endpoints of the project itself (or only tests of it).
EXCLUDED_DIRS = frozenset(
    {
        "node_modules",
        "__pycache__",
        "site-packages",
        "build",
        "dist",
        "venv",
        "env",
        "migrations",
        "tests",
        "test",
        "htmlcov",
    }
)
# Output and environment directories, skipped unless they are a package of the project
# (``features/build/api.py``): a build output (build/lib/...) or a virtualenv (bin/, lib/)
# has no Python file at its top.
PACKAGE_NAMES_KEPT = frozenset({"build", "dist", "env"})
# migration modules: Django's (0001_initial.py), Alembic's revisions (3b1f9a2c4d5e_add.py)
_NUMBERED = re.compile(r"\d{3,}_|[0-9a-f]{12}_")
PARALLEL_MIN_FILES = 64
DEEP_RECURSION = 12_000
CHUNK = 48
NOT_UTF8 = "file name is not valid UTF-8"

Progress = Callable[[int, int], None]


@dataclass(slots=True)
class ScanResult:
    modules: list[ModuleFacts] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    files: int = 0
    lines: int = 0


def _holds_python(directory: str) -> bool:
    try:
        return any(name.endswith(".py") for name in os.listdir(directory))
    except OSError:
        return False


def _code_not_migrations(directory: str) -> bool:
    """A folder named ``migrations`` that is a package of code (importers a route runs),
    not database migrations: Python files, none named like a migration (Django's
    ``0001_initial``, an Alembic revision), no Alembic ``env.py`` or ``versions/``
    (PATTERNS.md item 122)."""
    try:
        names = os.listdir(directory)
    except OSError:
        return False
    if "env.py" in names or "versions" in names:
        return False
    modules = [n for n in names if n.endswith(".py")]
    return any(n != "__init__.py" for n in modules) and not any(_NUMBERED.match(n) for n in modules)


def is_test_file(name: str) -> bool:
    """pytest's own names: never production code. ``*_test.py`` is pytest's too, but a
    project may route one (``retrieval_test.py``): those are read, and kept when the
    project imports them (``engine.imported_test_modules``)."""
    return name.startswith("test_") or name == "conftest.py"


def named_like_test(relpath: str) -> bool:
    return relpath.endswith("_test.py")


def excluded(relpath: str, patterns: tuple[str, ...]) -> bool:
    """A pattern matches the path, one of its directories, or (without a slash) a segment."""
    if not patterns:
        return False
    parts = relpath.split("/")
    prefixes = ["/".join(parts[:i]) for i in range(1, len(parts))]
    for pattern in patterns:
        pattern = pattern.strip("/")
        if fnmatch.fnmatchcase(relpath, pattern):
            return True
        if any(fnmatch.fnmatchcase(p, pattern) for p in prefixes):
            return True
        if "/" not in pattern and any(fnmatch.fnmatchcase(p, pattern) for p in parts):
            return True
    return False


def discover(root: Path, patterns: tuple[str, ...] = ()) -> list[str]:
    """Relative paths of the Python files to audit, sorted."""
    found: list[str] = []
    for directory, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(
            d
            for d in dirnames
            if not d.startswith(".")
            and (
                d not in EXCLUDED_DIRS
                or (d in PACKAGE_NAMES_KEPT and _holds_python(os.path.join(directory, d)))
                or (d == "migrations" and _code_not_migrations(os.path.join(directory, d)))
            )
        )
        rel_dir = os.path.relpath(directory, root)
        for name in filenames:
            if not name.endswith(".py") or is_test_file(name):
                continue
            relpath = name if rel_dir == "." else f"{rel_dir}/{name}".replace(os.sep, "/")
            if not excluded(relpath, patterns):
                found.append(relpath)
    found.sort()
    return found


@contextmanager
def no_gc() -> Iterator[None]:
    """The audit makes millions of small objects (syntax trees, facts) and few reference
    cycles: the cyclic collector would only rescan them, for seconds on large trees."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


AUDIT_FAILED = "not read: the audit failed on this file (please report it)"


def _extract_one(root: str, relpath: str, cache_dir: str | None) -> tuple[str, str, str]:
    """(relpath, facts as JSON or "", skip reason or "")."""
    try:
        data = Path(root, relpath).read_bytes()
    except OSError as exc:
        return relpath, "", f"unreadable: {exc.strerror or exc}"
    try:
        facts = extract(data, relpath)
    except SyntaxError as exc:
        return relpath, "", f"syntax error: {exc.msg} (line {exc.lineno})"
    except (ValueError, RecursionError, MemoryError) as exc:
        return relpath, "", f"cannot parse: {type(exc).__name__}: {exc}"
    except Exception as exc:  # a defect of the audit on one file
        # costs that file, said in the report, not the whole run
        return relpath, "", f"{AUDIT_FAILED}: {type(exc).__name__}: {exc}"
    text = json.dumps(facts.to_json(), separators=(",", ":"))
    if cache_dir is not None:
        FactsCache(Path(cache_dir)).put(cache_key(relpath, data), text)
    return relpath, text, ""


def _extract_chunk(
    root: str, relpaths: list[str], cache_dir: str | None
) -> list[tuple[str, str, str]]:
    with no_gc(), deep_recursion():
        return [_extract_one(root, relpath, cache_dir) for relpath in relpaths]


@contextmanager
def deep_recursion(limit: int = DEEP_RECURSION) -> Iterator[None]:
    """Generated code chains thousands of ``+`` terms; building and walking that tree
    recurses once per term, past Python's default limit of 1000."""
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(max(previous, limit))
    try:
        yield
    finally:
        sys.setrecursionlimit(previous)


def _is_utf8(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def content_keys(root: Path, relpaths: list[str]) -> dict[str, str | None]:
    """Each file's facts-cache key (its path, content and the analyser); None when the file
    cannot be read, ``NOT_UTF8`` when its name cannot be shown."""
    base = str(root)
    keys: dict[str, str | None] = {}
    for relpath in relpaths:
        if not _is_utf8(relpath):
            keys[relpath] = NOT_UTF8
            continue
        try:
            with open(f"{base}/{relpath}", "rb") as handle:
                keys[relpath] = cache_key(relpath, handle.read())
        except OSError:
            keys[relpath] = None
    return keys


def scan(
    root: Path,
    relpaths: list[str],
    cache: FactsCache | None = None,
    jobs: int = 1,
    progress: Progress | None = None,
    keys: dict[str, str | None] | None = None,
) -> ScanResult:
    """Facts for every file; cached ones first, the rest parsed (in parallel when many).

    ``keys`` are the files' cache keys when the caller has already read them
    (``content_keys``)."""
    result = ScanResult(files=len(relpaths))
    todo: list[str] = []
    total = len(relpaths)
    done = 0
    with no_gc():
        if cache is not None and keys is None:
            keys = content_keys(root, relpaths)
        for relpath in relpaths:
            if not _is_utf8(relpath):  # reports are UTF-8 text: such a name cannot be shown
                shown = relpath.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                result.skipped.append(Skipped(shown, NOT_UTF8))
                done += 1
                continue
            key = keys.get(relpath) if cache is not None and keys is not None else None
            facts = cache.get(key, relpath) if cache is not None and key is not None else None
            if facts is None:
                todo.append(relpath)
            else:
                result.modules.append(facts)
                done += 1
                if progress is not None and done % 200 == 0:
                    progress(done, total)
        cache_dir = str(cache.directory.parent) if cache is not None else None
        for relpath, text, reason in _run(str(root), todo, cache_dir, jobs):
            done += 1
            if progress is not None and (done % 50 == 0 or done == total):
                progress(done, total)
            if reason:
                result.skipped.append(Skipped(relpath, reason))
            else:
                result.modules.append(ModuleFacts.from_json(loads(text)))
    result.lines = sum(m.lines for m in result.modules)
    result.modules.sort(key=lambda m: m.relpath)
    result.skipped.sort(key=lambda s: s.file)
    return result


def _context() -> multiprocessing.context.BaseContext:
    """Fork when this process has one thread (fast); spawn when it has more (a web server,
    a scheduler), since forking a threaded process can deadlock the child."""
    if threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def _run(
    root: str, todo: list[str], cache_dir: str | None, jobs: int
) -> Iterator[tuple[str, str, str]]:
    if jobs <= 1 or len(todo) < PARALLEL_MIN_FILES:
        for relpath in todo:
            with deep_recursion():
                result = _extract_one(root, relpath, cache_dir)
            yield result
        return
    chunks = [todo[i : i + CHUNK] for i in range(0, len(todo), CHUNK)]
    with ProcessPoolExecutor(max_workers=jobs, mp_context=_context()) as pool:
        futures = [pool.submit(_extract_chunk, root, chunk, cache_dir) for chunk in chunks]
        for chunk, future in zip(chunks, futures, strict=True):
            try:
                results = future.result()
            except BrokenProcessPool:
                # a worker died (e.g. the parser overflowed the C stack on one file): redo
                # this chunk here, one file at a time
                with deep_recursion():
                    results = [_extract_one(root, relpath, cache_dir) for relpath in chunk]
            yield from results
