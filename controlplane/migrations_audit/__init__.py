"""Migration audit: for every HTTP endpoint of a Python web codebase, does it hand its work
to Celery, push it to a background thread/task in the same process, or run it inline?

``audit(root, config)`` is a pure function of the source tree (parsed with ``ast``, never
imported or run) and returns a ``Report``; formatters, the gate and the CLI read that.
"""

from __future__ import annotations

from .config import AuditConfig, Suppression, load_config
from .engine import audit
from .errors import AuditError, BaselineError, ConfigError, SourceError
from .facts import ANALYSER_VERSION
from .report import Endpoint, Evidence, Report, Skipped, Summary, Suppressed

__all__ = [
    "ANALYSER_VERSION",
    "AuditConfig",
    "AuditError",
    "BaselineError",
    "ConfigError",
    "Endpoint",
    "Evidence",
    "Report",
    "Skipped",
    "SourceError",
    "Summary",
    "Suppressed",
    "Suppression",
    "audit",
    "load_config",
]
