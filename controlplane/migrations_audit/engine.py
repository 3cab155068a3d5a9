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
from .features import feature_of
from .markers import EAGER_MODE, Markers
from .project import Project
from .report import Endpoint, Evidence, Report, Suppressed
from .routes import RouteFinder
from .scan import Progress, discover, no_gc, scan

_TESTISH = re.compile(r"(^|_)(tests?|testing)(_|$)")


def audit(
    root: Path,
    config: AuditConfig | None = None,
    *,
    cache_dir: Path | None = None,
    jobs: int | None = None,
    progress: Progress | None = None,
) -> Report:
    """Audit every endpoint under ``root`` (a directory, or a single Python file).

    ``cache_dir`` enables the per-file facts cache there; ``jobs`` is the number of worker
    processes for parsing (default: the CPU count); ``progress(done, total)`` is called as
    files are read.
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
    scanned = scan(base, relpaths, cache=cache, jobs=workers, progress=progress)

    project = Project(scanned.modules)
    lines = _SourceLines(base)
    graph = CallGraph(project, Markers(config), lines.line)
    finder = RouteFinder(project)
    finder.run()
    DjangoRoutes(finder).run()
    classifier = Classifier(graph, eager_settings(project), config.max_depth)

    endpoints: list[Endpoint] = []
    suppressed: list[Suppressed] = []
    for decl in sorted(finder.found.values(), key=lambda d: (d.file, d.line, d.handler)):
        endpoint = classifier.endpoint(decl, feature_of(decl.file, config.feature_root))
        rule = next(
            (s for s in config.suppressions if s.matches(endpoint.file, endpoint.handler)), None
        )
        if rule is None:
            endpoints.append(endpoint)
        else:
            suppressed.append(Suppressed(endpoint, rule.reason))
    return Report(
        root=str(base),
        endpoints=endpoints,
        skipped=scanned.skipped,
        suppressed=suppressed,
        files=scanned.files,
        lines=scanned.lines,
        unrecognized=sorted(finder.unrecognized.values(), key=lambda u: (u.file, u.line)),
    )


def eager_settings(project: Project) -> list[Evidence]:
    """Settings that make Celery run tasks inline, outside test settings."""
    out = []
    for facts in project.modules.values():
        stems = [p.removesuffix(".py") for p in facts.relpath.split("/")]
        if any(_TESTISH.search(stem) for stem in stems):
            continue
        for setting in facts.eager:
            if setting.value:
                out.append(
                    Evidence(facts.relpath, setting.line, EAGER_MODE, f"{setting.name} = True", ())
                )
    return sorted(out, key=lambda e: (e.file, e.line))


class _SourceLines:
    """Lines of source files, read on demand, for showing calls as written."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files: dict[str, list[str]] = {}

    def line(self, relpath: str, number: int) -> str:
        lines = self.files.get(relpath)
        if lines is None:
            try:
                text = (self.root / relpath).read_text(encoding="utf-8", errors="replace")
            except OSError:
                text = ""
            lines = self.files[relpath] = text.splitlines()
        return lines[number - 1] if 0 < number <= len(lines) else ""
