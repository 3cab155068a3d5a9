"""Accuracy of the migration audit against hand-made labels of real projects.

Runs ``controlplane.migrations_audit.audit(Path, config)`` on each labelled project under
``--sources DIR`` (one subdirectory per project name, see
tests/audit/real_projects/README.md for how to materialise them), matches each labelled
endpoint to a reported one by (file, handler), falling back to the same file and a handler
line within ``--line-tolerance`` lines, and prints one JSON line per figure:

    {"bench": "audit_accuracy", "case": "<project>|all", "metric": "recall_offloaded", ...}

Labels come from labels.csv and labels/*.csv; split.csv assigns each project to the tuning or
the test set (``--set tuning|test|all`` picks the projects run). Cases are each project,
``set:tuning``, ``set:test`` (when run) and ``all``; every line carries its ``set``.

Metrics per case: precision_offloaded, recall_offloaded, precision_inline, recall_inline,
matched, unmatched, found_pct (matched / labels, in %), unresolved (matched endpoints the
audit reported as unresolved: counted as misses, never as right), labels. Precision is over
matched endpoints (reported X and labelled X / reported X); recall is over all labelled
endpoints, so a labelled endpoint the audit did not report counts as missed. Mismatches
(label vs reported, with the audit's evidence) and unmatched labels go to stderr so a
developer can fix the analyser, followed by a table of the figures per project and overall.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
CORPUS = REPO_ROOT / "tests" / "audit" / "real_projects"
DEFAULT_LABELS = (CORPUS / "labels.csv", *sorted((CORPUS / "labels").glob("*.csv")))
DEFAULT_SPLIT = CORPUS / "split.csv"
DEFAULT_CONFIGS = CORPUS / "configs"
SETS = ("tuning", "test")
STATUSES = ("offloaded", "inline", "inprocess_background")


@dataclass(frozen=True)
class Label:
    project: str
    repo: str
    commit: str
    file: str
    line: int
    handler: str
    methods: str
    route: str
    status: str
    reason: str


@dataclass(frozen=True)
class Reported:
    file: str
    line: int
    handler: str
    status: str
    heavy: bool
    evidence: tuple[str, ...]


@dataclass
class Outcome:
    """Pairs of (label status, reported status or None when unmatched)."""

    pairs: list[tuple[Label, Reported | None]] = field(default_factory=list)

    def extend(self, other: Outcome) -> None:
        self.pairs.extend(other.pairs)


def norm_path(path: str) -> str:
    text = str(path).replace("\\", "/")
    while text.startswith("./"):
        text = text[2:]
    return str(PurePosixPath(text))


def load_labels(path: Path) -> list[Label]:
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    labels: list[Label] = []
    for row in rows:
        status = row["status"].strip()
        if status not in STATUSES:
            raise SystemExit(f"{path}: unknown status {status!r} for {row['handler']}")
        labels.append(
            Label(
                project=row["project"].strip(),
                repo=row["repo"].strip(),
                commit=row["commit"].strip(),
                file=norm_path(row["file"].strip()),
                line=int(row["line"]),
                handler=row["handler"].strip(),
                methods=row["methods"].strip(),
                route=row["route"].strip(),
                status=status,
                reason=row["reason"].strip(),
            )
        )
    return labels


def load_split(path: Path) -> dict[str, str]:
    """project -> "tuning" | "test", as committed before any tuning (never edited)."""
    with path.open(newline="", encoding="utf-8") as fh:
        split = {row["project"].strip(): row["set"].strip() for row in csv.DictReader(fh)}
    bad = {name: kind for name, kind in split.items() if kind not in SETS}
    if bad:
        raise SystemExit(f"{path}: unknown set for {bad}")
    return split


def _evidence_text(item: Any) -> str:
    def get(name: str) -> Any:
        if isinstance(item, dict):
            return item.get(name)
        return getattr(item, name, None)

    kind, call, file, line, via = (get(k) for k in ("kind", "call", "file", "line", "via"))
    text = f"{kind or '?'} {call or ''} at {file or '?'}:{line or '?'}"
    if via:
        chain = " -> ".join(str(v) for v in via) if isinstance(via, list | tuple) else str(via)
        text += f" via {chain}"
    return text


def to_reported(endpoint: Any) -> Reported:
    status = getattr(endpoint, "status", "")
    status = getattr(status, "value", status)  # tolerate an Enum
    evidence = getattr(endpoint, "evidence", None) or ()
    return Reported(
        file=norm_path(str(getattr(endpoint, "file", ""))),
        line=int(getattr(endpoint, "line", 0) or 0),
        handler=str(getattr(endpoint, "handler", "")),
        status=str(status),
        heavy=bool(getattr(endpoint, "heavy", False)),
        evidence=tuple(_evidence_text(e) for e in list(evidence)[:3]),
    )


def make_config(root: Path, config_file: Path | None) -> Any:
    """The project's TOML under --configs when there is one, else the defaults.

    The audited project's own pyproject.toml is deliberately not read: the labels were made
    for the defaults plus what configs/<project>.toml says.
    """
    from controlplane.migrations_audit import AuditConfig, load_config

    if config_file is not None:
        return load_config(root, config_file)
    return AuditConfig()


def run_audit(root: Path, config: Any) -> list[Reported]:
    from controlplane.migrations_audit import audit

    report = audit(root, config)
    return [to_reported(e) for e in report.endpoints]


def match(labels: Sequence[Label], reported: Sequence[Reported], tolerance: int) -> Outcome:
    by_key: dict[tuple[str, str], Reported] = {}
    by_file: dict[str, list[Reported]] = {}
    for r in reported:
        by_key.setdefault((r.file, r.handler), r)
        by_file.setdefault(r.file, []).append(r)
    outcome = Outcome()
    for label in labels:
        hit = by_key.get((label.file, label.handler))
        if hit is None:
            near = [r for r in by_file.get(label.file, []) if abs(r.line - label.line) <= tolerance]
            if near:
                hit = min(near, key=lambda r: abs(r.line - label.line))
        outcome.pairs.append((label, hit))
    return outcome


def ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def metrics(outcome: Outcome) -> dict[str, float | int | None]:
    matched = [(lab, rep) for lab, rep in outcome.pairs if rep is not None]
    result: dict[str, float | int | None] = {}
    for status in ("offloaded", "inline"):
        true_pos = sum(1 for lab, rep in matched if lab.status == status and rep.status == status)
        predicted = sum(1 for _, rep in matched if rep.status == status)
        actual = sum(1 for lab, _ in outcome.pairs if lab.status == status)
        result[f"precision_{status}"] = ratio(true_pos, predicted)
        result[f"recall_{status}"] = ratio(true_pos, actual)
    result["matched"] = len(matched)
    result["unmatched"] = len(outcome.pairs) - len(matched)
    result["found_pct"] = ratio(100 * len(matched), len(outcome.pairs))
    result["unresolved"] = sum(1 for _, rep in matched if rep.status == "unresolved")
    result["labels"] = len(outcome.pairs)
    return result


def emit(case: str, values: dict[str, float | int | None], set_name: str) -> None:
    order = (
        "precision_offloaded",
        "recall_offloaded",
        "precision_inline",
        "recall_inline",
        "matched",
        "unmatched",
        "found_pct",
        "unresolved",
        "labels",
    )
    for metric in order:
        line = {
            "bench": "audit_accuracy",
            "case": case,
            "set": set_name,
            "metric": metric,
            "value": values[metric],
            "unit": "",
        }
        print(json.dumps(line), flush=True)


def report_problems(project: str, outcome: Outcome) -> Counter[tuple[str, str]]:
    kinds: Counter[tuple[str, str]] = Counter()
    for label, rep in outcome.pairs:
        where = f"{project} {label.file}:{label.line} {label.handler} [{label.methods}]"
        if rep is None:
            kinds[(label.status, "unmatched")] += 1
            print(f"UNMATCHED {where} label={label.status}", file=sys.stderr)
            continue
        if rep.status == label.status:
            continue
        kinds[(label.status, rep.status)] += 1
        print(
            f"MISMATCH  {where} label={label.status} reported={rep.status}"
            f"{' heavy' if rep.heavy else ''} (reported as {rep.handler} line {rep.line})",
            file=sys.stderr,
        )
        print(f"    label reason: {label.reason}", file=sys.stderr)
        for ev in rep.evidence:
            print(f"    audit evidence: {ev}", file=sys.stderr)
    return kinds


def print_table(rows: list[tuple[str, dict[str, float | int | None]]]) -> None:
    """The same figures as a table on stderr, per project and overall, for people."""
    columns = (
        "precision_offloaded",
        "recall_offloaded",
        "precision_inline",
        "recall_inline",
        "matched",
        "unmatched",
        "found_pct",
        "unresolved",
    )
    heads = (
        "project",
        "P(offloaded)",
        "R(offloaded)",
        "P(inline)",
        "R(inline)",
        "matched",
        "unmatched",
        "found %",
        "unresolved",
    )
    lines = [heads]
    for case, values in rows:
        cells = [case]
        for column in columns:
            value = values[column]
            cells.append(
                "-"
                if value is None
                else (f"{value:.2f}" if isinstance(value, float) else str(value))
            )
        lines.append(tuple(cells))
    widths = [max(len(line[i]) for line in lines) for i in range(len(heads))]
    for line in lines:
        print(
            "  ".join(
                cell.rjust(width) if index else cell.ljust(width)
                for index, (cell, width) in enumerate(zip(line, widths, strict=True))
            ),
            file=sys.stderr,
        )


def markdown_table(rows: list[tuple[str, dict[str, float | int | None]]]) -> str:
    """The per-project table as Markdown, for the README's audit section."""
    out = [
        "| project | P(offloaded) | R(offloaded) | P(inline) | R(inline) | found | unresolved |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for case, values in rows:

        def cell(name: str, values: dict[str, float | int | None] = values) -> str:
            value = values[name]
            return "-" if value is None else f"{value:.2f}"

        found = f"{values['matched']}/{values['labels']} ({values['found_pct'] or 0:.0f}%)"
        out.append(
            f"| {case} | {cell('precision_offloaded')} | {cell('recall_offloaded')} | "
            f"{cell('precision_inline')} | {cell('recall_inline')} | {found} | "
            f"{values['unresolved']} |"
        )
    return "\n".join(out) + "\n"


def parse_args(argv: Iterable[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sources",
        type=Path,
        required=True,
        help="directory with one checkout per project name (lemur, open-assistant, ...)",
    )
    parser.add_argument(
        "--labels",
        type=Path,
        action="append",
        default=[],
        help="labels CSV (repeatable); default: labels.csv and every labels/*.csv",
    )
    parser.add_argument("--split", type=Path, default=DEFAULT_SPLIT)
    parser.add_argument(
        "--set",
        choices=("tuning", "test", "all"),
        default="all",
        help="only the projects of this set of split.csv (figures are always given per set)",
    )
    parser.add_argument("--configs", type=Path, default=DEFAULT_CONFIGS)
    parser.add_argument(
        "--project",
        action="append",
        default=[],
        help="only these projects (repeatable); default: every project in the labels",
    )
    parser.add_argument("--line-tolerance", type=int, default=5)
    parser.add_argument(
        "--markdown", type=Path, help="also write the per-project table as Markdown to FILE"
    )
    return parser.parse_args(list(argv) if argv is not None else None)


def main(argv: Iterable[str] | None = None) -> int:
    args = parse_args(argv)
    labels = [lab for path in (args.labels or DEFAULT_LABELS) for lab in load_labels(path)]
    split = load_split(args.split)
    unsplit = sorted({lab.project for lab in labels} - set(split))
    if unsplit:
        print(f"projects labelled but not in {args.split}: {unsplit}", file=sys.stderr)
        return 2
    projects = sorted(
        {lab.project for lab in labels}, key=lambda name: (SETS.index(split[name]), name)
    )
    if args.set != "all":
        projects = [p for p in projects if split[p] == args.set]
    if args.project:
        unknown = set(args.project) - set(projects)
        if unknown:
            print(f"no labels for {sorted(unknown)}", file=sys.stderr)
            return 2
        projects = [p for p in projects if p in args.project]
    try:
        import controlplane.migrations_audit  # noqa: F401
    except ImportError as exc:
        print(f"cannot import controlplane.migrations_audit: {exc}", file=sys.stderr)
        return 2

    total = Outcome()
    per_set = {name: Outcome() for name in SETS}
    all_kinds: Counter[tuple[str, str]] = Counter()
    table: list[tuple[str, dict[str, float | int | None]]] = []
    for project in projects:
        mine = [lab for lab in labels if lab.project == project]
        root = args.sources / project
        if not root.is_dir():
            print(
                f"{project}: no sources at {root}; every label counts as unmatched", file=sys.stderr
            )
            reported: list[Reported] = []
        else:
            config_file = args.configs / f"{project}.toml"
            config = make_config(root, config_file if config_file.is_file() else None)
            started = time.perf_counter()
            reported = run_audit(root, config)
            elapsed = time.perf_counter() - started
            print(
                f"{project}: {len(reported)} endpoints reported in {elapsed:.1f} s "
                f"(commit labelled: {mine[0].commit})",
                file=sys.stderr,
            )
        outcome = match(mine, reported, args.line_tolerance)
        all_kinds += report_problems(project, outcome)
        figures = metrics(outcome)
        emit(project, figures, split[project])
        table.append((f"{project} [{split[project]}]", figures))
        total.extend(outcome)
        per_set[split[project]].extend(outcome)
    for set_name, outcome in per_set.items():
        if outcome.pairs:
            figures = metrics(outcome)
            emit(f"set:{set_name}", figures, set_name)
            table.append((f"{set_name} set", figures))
    figures = metrics(total)
    emit("all", figures, args.set)
    table.append(("all", figures))
    print_table(table)
    if args.markdown is not None:
        args.markdown.write_text(markdown_table(table), encoding="utf-8")
    if all_kinds:
        print("mismatch categories (label -> reported):", file=sys.stderr)
        for (label_status, rep_status), count in all_kinds.most_common():
            print(f"  {label_status} -> {rep_status}: {count}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
