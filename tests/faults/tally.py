"""The lost / duplicated / unexpected tally of a fault test, from ground truth.

Ground truth is the file `probe.record` appends to (id, pid, start/end): the console never
writes it. The console's rows are read only to see whether it *reported* what happened (a
task LOST or UNKNOWN with a reason, a delivery count above one).

- lost: triggered, never ended, and the console gives no LOST/UNKNOWN state with a reason;
- duplicated: started more than once while the console does not show more than one delivery;
- unexpected: ran though revoked, or ran without being triggered by the test.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, bindparam, text

from controlplane.events.attempts import decode, summary

REPORTED_STATES = ("LOST", "UNKNOWN")
READ_CHUNK = 500  # ids per query: row 24 reads 100,000, one query each would take minutes


@dataclass(frozen=True)
class Run:
    task_id: str
    pid: int
    event: str  # "start" | "end"


@dataclass(frozen=True)
class ConsoleRow:
    state: str
    reason: str | None
    deliveries: int | None  # None: no attempts record


def read_ground_truth(path: Path) -> list[Run]:
    if not path.exists():
        return []
    runs = []
    for line in path.read_text().splitlines():
        if line.strip():
            record = json.loads(line)
            runs.append(Run(record["id"], record["pid"], record["event"]))
    return runs


def read_console(engine: Engine, task_ids: set[str]) -> dict[str, ConsoleRow]:
    """What the console's database says about `task_ids`, with the deliveries its attempts
    record counts (events/attempts.py)."""
    rows: dict[str, ConsoleRow] = {}
    ordered = sorted(task_ids)
    query = text(
        "SELECT task_id, state, lost_reason, attempts FROM tasks WHERE task_id IN :ids"
    ).bindparams(bindparam("ids", expanding=True))
    with engine.connect() as connection:
        for start in range(0, len(ordered), READ_CHUNK):
            chunk = ordered[start : start + READ_CHUNK]
            for task_id, state, reason, attempts in connection.execute(query, {"ids": chunk}):
                deliveries = summary(decode(attempts)).deliveries if attempts else None
                rows[task_id] = ConsoleRow(state, reason, deliveries)
    return rows


@dataclass
class Tally:
    triggered: set[str]
    revoked: set[str] = field(default_factory=set)
    lost: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)

    @property
    def counts(self) -> tuple[int, int, int]:
        return len(self.lost), len(self.duplicated), len(self.unexpected)

    def line(self) -> str:
        lost, duplicated, unexpected = self.counts
        return (
            f"fault tally: {len(self.triggered)} triggered, {len(self.revoked)} revoked -> "
            f"lost {lost} / duplicated {duplicated} / unexpected {unexpected}"
        )

    def assert_clean(self) -> None:
        print(self.line())
        for detail in self.details:
            print("  " + detail)
        assert self.counts == (0, 0, 0), "\n".join([self.line(), *self.details])


def tally(
    triggered: set[str],
    runs: list[Run],
    console: dict[str, ConsoleRow],
    revoked: set[str] | None = None,
) -> Tally:
    revoked = revoked or set()
    result = Tally(set(triggered), set(revoked))
    starts: dict[str, int] = defaultdict(int)
    ended: set[str] = set()
    for run in runs:
        if run.event == "start":
            starts[run.task_id] += 1
        else:
            ended.add(run.task_id)
    for task_id in sorted(set(starts) - triggered):
        result.unexpected.append(task_id)
        result.details.append(f"{task_id}: ran but the test never triggered it")
    for task_id in sorted(triggered):
        row = console.get(task_id)
        if task_id in revoked:
            if starts[task_id]:
                result.unexpected.append(task_id)
                result.details.append(f"{task_id}: revoked, yet it started")
            continue
        if task_id not in ended and not _reported(row):
            result.lost.append(task_id)
            result.details.append(f"{task_id}: never ended; the console shows {_shown(row)}")
        if starts[task_id] > 1 and (row is None or (row.deliveries or 1) < starts[task_id]):
            result.duplicated.append(task_id)
            result.details.append(
                f"{task_id}: started {starts[task_id]} times; the console shows {_shown(row)}"
            )
    return result


def _reported(row: ConsoleRow | None) -> bool:
    return row is not None and row.state in REPORTED_STATES and bool(row.reason)


def _shown(row: ConsoleRow | None) -> Any:
    if row is None:
        return "no row"
    return f"{row.state} ({row.reason or 'no reason'}, deliveries {row.deliveries})"
