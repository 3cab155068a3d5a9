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
from controlplane.migrations_audit import AuditConfig, Skipped, SourceError, load_config
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


OUTSIDE = "symlink to a file outside the project root: not read"
PYPROJECT = "pyproject.toml"  # the audit settings: read from the root, contained like .py files
UNDECODABLE = "name is not valid UTF-8: not read"


@dataclass(frozen=True)
class Target:
    """A project's root as it will be read: resolved, with the paths left out of the audit."""

    root: Path
    left_out: tuple[tuple[str, str], ...] = ()  # (relative path, reason)

    def confine(self, config: AuditConfig) -> AuditConfig:
        """`config` with the left-out paths excluded (escaped: a name may hold `[` or `*`)."""
        if not self.left_out:
            return config
        patterns = tuple(glob.escape(path) for path, _ in self.left_out)
        return dataclasses.replace(config, exclude=config.exclude + patterns)

    def skipped(self) -> list[Skipped]:
        return [Skipped(path, reason) for path, reason in self.left_out]

    def config(self) -> AuditConfig:
        """The project's audit settings from its pyproject.toml (the defaults when that is a
        symlink out of the root: not read, as for .py files), confined."""
        if any(path == PYPROJECT for path, _ in self.left_out):
            return self.confine(AuditConfig())
        return self.confine(load_config(self.root))


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
    return Target(resolved, tuple(_left_out(resolved)))


def _left_out(root: Path) -> list[tuple[str, str]]:
    """Paths under `root` the audit must not read: Python files (and the root's
    pyproject.toml) that are symlinks to somewhere outside it, and names that are not UTF-8
    (which the analyser cannot key).

    Directory symlinks need no check: the analyser does not follow them. Hidden and
    excluded directories are skipped here as the analyser skips them.
    """
    found = []
    for directory, dirnames, filenames in os.walk(root):
        rel_dir = Path(directory).relative_to(root)
        kept = []
        for name in sorted(dirnames):
            if name.startswith(".") or name in EXCLUDED_DIRS:
                continue
            if _undecodable(name):
                found.append(((rel_dir / name).as_posix(), UNDECODABLE))
            else:
                kept.append(name)
        dirnames[:] = kept
        for name in filenames:
            if not name.endswith(".py") and not (directory == str(root) and name == PYPROJECT):
                continue
            relpath = (rel_dir / name).as_posix()
            if _undecodable(name):
                found.append((relpath, UNDECODABLE))
                continue
            path = os.path.join(directory, name)
            if os.path.islink(path):
                real = Path(os.path.realpath(path))
                if real != root and root not in real.parents:
                    found.append((relpath, OUTSIDE))
    return sorted(found)


def _undecodable(name: str) -> bool:
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:  # os.walk hands undecodable bytes back as lone surrogates
        return True
    return False
