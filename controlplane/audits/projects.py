"""Which trees the console may audit: configured project roots only, symlinks resolved.

A run never reads a path given by a request: the request names a configured project, and the
run reads that project's root. A symlink inside the root that leads out of it is left out of
the audit and reported as skipped, so a checkout cannot make the console read other files.
"""

from __future__ import annotations

import dataclasses
import glob
import os
from dataclasses import dataclass
from pathlib import Path

from controlplane.config import AuditProject, Settings
from controlplane.errors import AuditRefused
from controlplane.migrations_audit import AuditConfig, Skipped, SourceError
from controlplane.migrations_audit.scan import EXCLUDED_DIRS

MAX_NAME_SHOWN = 100


def configured_project(settings: Settings, name: str) -> AuditProject:
    """The configured project called `name`; anything else (a path, an unknown name) is refused."""
    project = settings.audit_project(name) if isinstance(name, str) else None
    if project is None:
        known = ", ".join(p.name for p in settings.audit_projects) or "none configured"
        shown = repr(name)[:MAX_NAME_SHOWN]
        raise AuditRefused(f"no audit project called {shown} (known: {known})", status=404)
    return project


@dataclass(frozen=True)
class Target:
    """A project's root as it will be read: resolved, with the links that lead out of it."""

    root: Path
    outside: tuple[str, ...]  # relative paths of .py symlinks that resolve outside `root`

    def confine(self, config: AuditConfig) -> AuditConfig:
        """`config` with the outside links excluded (escaped: a name may hold `[` or `*`)."""
        if not self.outside:
            return config
        patterns = tuple(glob.escape(path) for path in self.outside)
        return dataclasses.replace(config, exclude=config.exclude + patterns)

    def skipped(self) -> list[Skipped]:
        return [Skipped(path, "symlink to a file outside the project root: not read")
                for path in self.outside]  # fmt: skip


def resolve_target(root: str) -> Target:
    """Resolve a configured root (it must be an absolute directory without `..`)."""
    path = Path(root)
    if not path.is_absolute() or ".." in path.parts:
        raise SourceError(f"refused: {root} is not an absolute path without '..'")
    try:
        resolved = path.resolve(strict=True)
    except (OSError, RuntimeError) as exc:
        raise SourceError(f"project root {root} cannot be read: {exc}") from None
    if not resolved.is_dir():
        raise SourceError(f"project root {root} is not a directory")
    return Target(resolved, tuple(_links_outside(resolved)))


def _links_outside(root: Path) -> list[str]:
    """Python files under `root` that are symlinks to somewhere outside it.

    Directory symlinks need no check: the analyser does not follow them. Hidden and
    excluded directories are skipped here as the analyser skips them.
    """
    found = []
    for directory, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if not d.startswith(".") and d not in EXCLUDED_DIRS]
        for name in filenames:
            if not name.endswith(".py"):
                continue
            path = os.path.join(directory, name)
            if not os.path.islink(path):
                continue
            real = Path(os.path.realpath(path))
            if real != root and root not in real.parents:
                found.append(Path(path).relative_to(root).as_posix())
    return sorted(found)
