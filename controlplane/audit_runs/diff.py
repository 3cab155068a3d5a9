"""What changed between two runs of a project, endpoint by endpoint."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from controlplane.audit_runs.runs import FindingView, RunView, _findings, _get_run
from controlplane.errors import AuditRefused

if TYPE_CHECKING:
    from controlplane.services import Services


@dataclass(frozen=True)
class Change:
    before: FindingView | None
    after: FindingView | None

    @property
    def finding(self) -> FindingView:
        found = self.after or self.before
        assert found is not None
        return found


@dataclass(frozen=True)
class RunDiff:
    """What changed from run `a` to run `b` of the same project, endpoint by endpoint."""

    a: RunView
    b: RunView
    became_inline: list[Change] = field(default_factory=list)  # offloaded in a, not in b
    became_offloaded: list[Change] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)  # other status or heavy changes
    new: list[Change] = field(default_factory=list)
    removed: list[Change] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.became_inline or self.became_offloaded or self.changed or self.new
                    or self.removed)  # fmt: skip

    def as_dict(self) -> dict[str, Any]:
        def changes(items: list[Change]) -> list[dict[str, Any]]:
            return [
                {
                    "before": c.before.as_dict() if c.before else None,
                    "after": c.after.as_dict() if c.after else None,
                }
                for c in items
            ]

        return {
            "a": self.a.as_dict(), "b": self.b.as_dict(),
            "became_inline": changes(self.became_inline),
            "became_offloaded": changes(self.became_offloaded),
            "changed": changes(self.changed), "new": changes(self.new),
            "removed": changes(self.removed),
        }  # fmt: skip


def diff_runs(services: Services, a: int, b: int) -> RunDiff:
    """Endpoints that became inline or offloaded, other changes, new and removed ones.

    Endpoints are matched by file, handler and methods (a moved line is the same endpoint).
    Both runs must be finished runs of one project.
    """
    with services.transaction() as session:
        run_a, run_b = _get_run(session, a), _get_run(session, b)
        before = {f.key: f for f in _findings(session, a)}
        after = {f.key: f for f in _findings(session, b)}
    if run_a is None or run_b is None:
        raise AuditRefused(f"no audit run {a if run_a is None else b}", status=404)
    if run_a.project != run_b.project:
        raise AuditRefused("only runs of the same project can be compared")
    for run in (run_a, run_b):
        if run.status != "done":
            raise AuditRefused(f"run {run.id} is {run.status}: only finished runs are compared")
    diff = RunDiff(run_a, run_b)
    for key, new in after.items():
        old = before.get(key)
        if old is None:
            diff.new.append(Change(None, new))
        elif old.status == "offloaded" and new.status != "offloaded":
            diff.became_inline.append(Change(old, new))
        elif old.status != "offloaded" and new.status == "offloaded":
            diff.became_offloaded.append(Change(old, new))
        elif (old.status, old.heavy) != (new.status, new.heavy):
            diff.changed.append(Change(old, new))
    diff.removed.extend(Change(old, None) for key, old in before.items() if key not in after)
    return diff
