"""``controlplane audit PATH``: the audit as a command, with formats and a CI gate.

Exit codes: 0 ok, 1 the gate failed, 2 bad input (path, config, baseline, output).
The lead registers it with ``group.add_command(audit_command, name="audit")``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from .cache import default_cache_dir
from .config import load_config
from .engine import audit
from .errors import AuditError
from .formatters import FORMATTERS
from .gate import evaluate, load_baseline
from .progress import ProgressBar

BAD_INPUT = 2
GATE_FAILED = 1


@click.command("audit")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(list(FORMATTERS)),
    default="text",
    show_default=True,
    help="Report format.",
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report here instead of stdout.",
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="TOML file with the audit settings (default: PATH/pyproject.toml).",
)
@click.option(
    "--fail-under",
    type=click.FloatRange(0, 100),
    metavar="PCT",
    help="Exit 1 when coverage is below PCT percent.",
)
@click.option(
    "--baseline",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A previous JSON report: exit 1 if an endpoint became inline since.",
)
@click.option(
    "--cache-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help=(
        "Cache directory: per-file facts and each tree's last report "
        f"(default: {default_cache_dir()})."
    ),
)
@click.option("--no-cache", is_flag=True, help="Parse every file; read and write no cache.")
@click.option("--jobs", "-j", type=click.IntRange(min=1), help="Parser processes.")
def audit_command(
    path: Path,
    fmt: str,
    output: Path | None,
    config_file: Path | None,
    fail_under: float | None,
    baseline: Path | None,
    cache_dir: Path | None,
    no_cache: bool,
    jobs: int | None,
) -> None:
    """Report, for every HTTP endpoint under PATH, whether its work goes to Celery."""
    root = path if path.is_dir() else path.parent
    progress = ProgressBar.for_stream(sys.stderr)
    try:
        config = load_config(root, config_file)
        previous = load_baseline(baseline) if baseline is not None else None
        report = audit(
            path,
            config,
            cache_dir=None if no_cache else (cache_dir or default_cache_dir()),
            jobs=jobs,
            progress=progress,
        )
    except AuditError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(BAD_INPUT)
    finally:
        if progress is not None:
            progress.close()
    text = FORMATTERS[fmt](report)
    if output is None:
        click.echo(text, nl=False)
    else:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            click.echo(f"error: cannot write {output}: {exc.strerror or exc}", err=True)
            sys.exit(BAD_INPUT)
    result = evaluate(report, fail_under, previous)
    for message in result.messages:
        click.echo(message, err=True)
    sys.exit(0 if result.ok else GATE_FAILED)
