"""``audit()``: source tree and config in, Report out. Never imports or runs the audited code."""

from __future__ import annotations

import os
import re
from pathlib import Path

from .cache import FactsCache
from .callgraph import CallGraph
from .classify import Classifier
from .config import AuditConfig
from .django_urls import DjangoRoutes
from .errors import SourceError
from .facts import ModuleFacts, module_name
from .features import feature_of
from .live_connections import is_command_module
from .markers import EAGER_MODE, Markers
from .project import Project
from .report import Endpoint, Evidence, Report, Suppressed
from .routes import EndpointDecl, RouteFinder
from .run_cache import RunCache
from .scan import Progress, ScanResult, content_keys, discover, named_like_test, no_gc, scan
from .source_lines import SourceLines
from .trace_pool import trace_all

# test settings: settings/test.py, test_settings.py, settings/pytest.py (item 250)
_TESTISH = re.compile(r"(^|_)(py)?(tests?|testing)(_|$)")


def audit(
    root: Path,
    config: AuditConfig | None = None,
    *,
    cache_dir: Path | None = None,
    jobs: int | None = None,
    progress: Progress | None = None,
) -> Report:
    """Audit every endpoint under ``root`` (a directory, or a single Python file).

    ``cache_dir`` enables the per-file facts cache there, and the run cache: the last
    report of this tree, returned while no file changed in a way the analysis can see
    (``run_cache.py``); ``jobs`` is the number of worker processes for parsing (default: the
    CPU count); ``progress(done, total)`` is called as files are read.
    """
    config = config or AuditConfig()
    with no_gc():
        return _audit(Path(root), config, cache_dir, jobs, progress)


def _audit(
    root: Path,
    config: AuditConfig,
    cache_dir: Path | None,
    jobs: int | None,
    progress: Progress | None,
) -> Report:
    if root.is_file() and root.suffix == ".py":
        base, relpaths = root.parent.resolve(), [root.name]
    elif root.is_dir():
        base = root.resolve()
        relpaths = discover(base, config.exclude)
    else:
        raise SourceError(f"not a directory or Python file: {root}")
    cache = FactsCache(cache_dir) if cache_dir is not None else None
    workers = jobs if jobs is not None else (os.cpu_count() or 1)
    if cache is None:
        scanned = scan(base, relpaths, jobs=workers, progress=progress)
        return _analyse(base, config, scanned, workers)[0]
    keys = content_keys(base, relpaths)
    runs = RunCache(cache, base, config)

    def facts_of(changed: list[str]) -> list[ModuleFacts] | None:
        found = scan(base, changed, cache=cache, jobs=1, keys=keys)
        return None if found.skipped else found.modules

    reused = runs.reuse(keys, facts_of)
    if reused is not None:
        if progress is not None:
            progress(len(relpaths), len(relpaths))
        return reused
    scanned = scan(base, relpaths, cache=cache, jobs=workers, progress=progress, keys=keys)
    report, lines, documents = _analyse(base, config, scanned, workers)
    runs.store(keys, report, lines.quoted, documents)
    return report


def _analyse(
    base: Path, config: AuditConfig, scanned: ScanResult, jobs: int = 1
) -> tuple[Report, SourceLines, dict[str, str | None]]:
    """Routes, traces and statuses from the files' facts; the lines quoted and the content
    keys of the documents read besides Python files (connexion's OpenAPI documents) come
    back too. The endpoints are traced in ``jobs`` processes when there are many
    (``trace_pool``)."""
    unreadable = [module_name(s.file)[0] for s in scanned.skipped if s.file.endswith(".py")]
    project = Project(imported_test_modules(scanned.modules), package_name(base), unreadable)
    lines = SourceLines(base)
    graph = CallGraph(project, Markers(config), lines.line)
    finder = RouteFinder(project, base)
    finder.run()
    DjangoRoutes(finder).run()
    classifier = Classifier(graph, eager_settings(project), config.max_depth)

    def trace(decl: EndpointDecl) -> Endpoint:
        return classifier.endpoint(decl, feature_of(decl.file, config.feature_root))

    endpoints: list[Endpoint] = []
    suppressed: list[Suppressed] = []
    for endpoint in trace_all(finder.declared(), trace, lines, jobs):
        rule = next(
            (s for s in config.suppressions if s.matches(endpoint.file, endpoint.handler)), None
        )
        if rule is None:
            endpoints.append(endpoint)
        else:
            suppressed.append(Suppressed(endpoint, rule.reason))
    report = Report(
        root=str(base),
        endpoints=endpoints,
        skipped=scanned.skipped,
        suppressed=suppressed,
        files=scanned.files,
        lines=scanned.lines,
        unrecognized=sorted(finder.unrecognized.values(), key=lambda u: (u.file, u.line)),
    )
    return report, lines, finder.documents


def package_name(base: Path) -> str:
    """The dotted name of the audited directory when it is a package itself (``src/dispatch``
    with an ``__init__.py``, its code importing ``dispatch.x``); "" otherwise."""
    parts: list[str] = []
    directory = base
    while (directory / "__init__.py").is_file() and directory.name.isidentifier():
        parts.append(directory.name)
        directory = directory.parent
    return ".".join(reversed(parts))


def imported_test_modules(modules: list[ModuleFacts]) -> list[ModuleFacts]:
    """The modules, less those named like pytest files (``*_test.py``) that no other module
    imports: a test module nobody imports is a test; one the project imports is code it
    runs (PATTERNS.md item 72)."""
    tests = {m.module for m in modules if named_like_test(m.relpath)}
    if not tests:
        return modules
    imported: set[str] = set()
    for facts in modules:
        if facts.module in tests:
            continue
        for target in facts.imports.values():
            dotted = f".{target}."
            imported.update(t for t in tests if f".{t}." in dotted)
    return [m for m in modules if m.module not in tests or m.module in imported]


def eager_settings(project: Project) -> list[Evidence]:
    """Settings that make Celery run tasks inline, outside test settings."""
    out = []
    for facts in project.modules.values():
        stems = [p.removesuffix(".py") for p in facts.relpath.split("/")]
        if any(_TESTISH.search(stem) for stem in stems) or is_command_module(facts.relpath):
            continue
        for setting in facts.eager:
            if setting.value:
                out.append(
                    Evidence(facts.relpath, setting.line, EAGER_MODE, f"{setting.name} = True", ())
                )
    return sorted(out, key=lambda e: (e.file, e.line))
