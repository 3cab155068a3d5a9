"""The tree stays the picture docs/ARCHITECTURE.md draws, and the records stay the tables."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from controlplane.fleet.task_history import TaskRecord
from controlplane.models import Task

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "controlplane"
ARCHITECTURE = ROOT / "docs" / "ARCHITECTURE.md"


def packages() -> list[str]:
    """Every package under controlplane/, as a path relative to it ("web/api")."""
    return sorted(
        str(init.parent.relative_to(PACKAGE))
        for init in PACKAGE.rglob("__init__.py")
        if init.parent != PACKAGE
    )


def test_architecture_names_every_package() -> None:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    missing = [p for p in packages() if f"{p.rsplit('/', 1)[-1]}/" not in text]
    assert not missing, f"docs/ARCHITECTURE.md does not name: {', '.join(missing)}"


def test_the_top_level_holds_at_most_ten_modules() -> None:
    modules = [p.name for p in PACKAGE.glob("*.py") if p.name != "__init__.py"]
    assert len(modules) <= 10, sorted(modules)


def test_task_records_carry_every_column_of_the_tasks_table() -> None:
    fields = [f.name for f in dataclasses.fields(TaskRecord)]
    assert fields == [column.key for column in Task.__table__.columns]
