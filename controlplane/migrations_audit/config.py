"""Audit settings: read once from ``[tool.controlplane.audit]`` or a TOML file, then frozen.

Example::

    [tool.controlplane.audit]
    feature_root = "app/features"
    dispatch_wrappers = ["celery_task_client.submit_callable"]
    task_names = ["app.jobs.run_job"]
    heavy_calls = ["app.reports.render_pdf", {call = "*.crunch", kind = "dataframe"}]
    exclude = ["legacy/**", "scripts"]
    max_depth = 8

    [[tool.controlplane.audit.suppressions]]
    file = "app/features/export/routes.py"
    handler = "export_all"
    reason = "admin-only, runs nightly with a 10 minute timeout"
"""

from __future__ import annotations

import fnmatch
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ConfigError

# calls from the handler a trace follows; at 8, 976 of 7084 tuning-set endpoints were cut
# short (netbox's DRF bulk updates reach their task 9 deep), at 16 four, for no CPU measured
# beyond run-to-run noise on netbox (250k lines): MEASUREMENTS.md, 2026-12-06
DEFAULT_MAX_DEPTH = 16
_KEYS = frozenset(
    {
        "feature_root",
        "dispatch_wrappers",
        "task_names",
        "heavy_calls",
        "exclude",
        "suppressions",
        "max_depth",
    }
)


@dataclass(frozen=True, slots=True)
class Suppression:
    """An endpoint the team has accepted as inline, and why."""

    file: str  # relative path or glob
    handler: str  # "" matches every handler in the file
    reason: str

    def matches(self, file: str, handler: str) -> bool:
        if not (file == self.file or fnmatch.fnmatchcase(file, self.file)):
            return False
        return (
            not self.handler
            or self.handler == handler
            or fnmatch.fnmatchcase(handler, self.handler)
        )


@dataclass(frozen=True, slots=True)
class AuditConfig:
    """What the audit needs to know about a project beyond its source."""

    feature_root: str = ""
    dispatch_wrappers: tuple[str, ...] = ()
    task_names: tuple[str, ...] = ()
    heavy_calls: tuple[tuple[str, str], ...] = ()  # (pattern, kind)
    exclude: tuple[str, ...] = ()
    suppressions: tuple[Suppression, ...] = ()
    max_depth: int = DEFAULT_MAX_DEPTH

    @classmethod
    def from_mapping(cls, data: dict[str, Any], source: str = "config") -> AuditConfig:
        """Build from a parsed TOML table; unknown keys and wrong types are errors."""
        unknown = set(data) - _KEYS
        if unknown:
            raise ConfigError(f"{source}: unknown audit setting(s): {', '.join(sorted(unknown))}")
        heavy: list[tuple[str, str]] = []
        for item in _list(data, "heavy_calls", source, (str, dict)):
            if isinstance(item, str):
                heavy.append((item, "configured"))
            else:
                call, kind = item.get("call"), item.get("kind", "configured")
                if not isinstance(call, str) or not isinstance(kind, str):
                    raise ConfigError(f'{source}: heavy_calls entries need call = "..."')
                heavy.append((call, kind))
        suppressions = []
        for item in _list(data, "suppressions", source, (dict,)):
            file, reason = item.get("file"), item.get("reason")
            handler = item.get("handler", "")
            if not isinstance(file, str) or not file:
                raise ConfigError(f'{source}: each suppression needs file = "..."')
            if not isinstance(reason, str) or not reason.strip():
                raise ConfigError(f"{source}: suppression for {file} needs a reason")
            if not isinstance(handler, str):
                raise ConfigError(f"{source}: suppression handler must be a string")
            suppressions.append(Suppression(file.strip("/"), handler, reason.strip()))
        feature_root = data.get("feature_root", "")
        if not isinstance(feature_root, str):
            raise ConfigError(f"{source}: feature_root must be a string")
        max_depth = data.get("max_depth", DEFAULT_MAX_DEPTH)
        if not isinstance(max_depth, int) or isinstance(max_depth, bool) or max_depth < 1:
            raise ConfigError(f"{source}: max_depth must be a positive integer")
        return cls(
            feature_root=feature_root.strip("/"),
            dispatch_wrappers=tuple(_list(data, "dispatch_wrappers", source, (str,))),
            task_names=tuple(_list(data, "task_names", source, (str,))),
            heavy_calls=tuple(heavy),
            exclude=tuple(_list(data, "exclude", source, (str,))),
            suppressions=tuple(suppressions),
            max_depth=max_depth,
        )


def _list(data: dict[str, Any], key: str, source: str, types: tuple[type, ...]) -> list[Any]:
    value = data.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, types) for v in value):
        raise ConfigError(f"{source}: {key} must be a list")
    return value


def load_config(root: Path, config_file: Path | None = None) -> AuditConfig:
    """Config for auditing ``root``: the given TOML file, else ``root/pyproject.toml``.

    A given file may hold the settings at top level, under ``[audit]`` or under
    ``[tool.controlplane.audit]``. No file, or no table, means the defaults.
    """
    if config_file is None:
        candidate = root / "pyproject.toml"
        if not candidate.is_file():
            return AuditConfig()
        return AuditConfig.from_mapping(_table(_read(candidate), strict=False), str(candidate))
    if not config_file.is_file():
        raise ConfigError(f"config file not found: {config_file}")
    return AuditConfig.from_mapping(_table(_read(config_file), strict=True), str(config_file))


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None


def _table(data: dict[str, Any], strict: bool) -> dict[str, Any]:
    table = data.get("tool", {}).get("controlplane", {}).get("audit")
    if table is None:
        table = data.get("audit")
    if table is None:
        # a standalone file holds the settings at top level; a pyproject without our table
        # simply has none
        pyproject = bool({"tool", "project", "build-system"} & set(data))
        table = data if strict and not pyproject else {}
    if not isinstance(table, dict):
        raise ConfigError("the audit settings must be a table")
    return table
