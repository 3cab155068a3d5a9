"""A task's whole canvas (chain, group, chord) as nodes and edges, and what cannot be known.

What links a canvas, and where each link comes from:

- `root_id` and `parent_id`, carried by Celery's task events and kept in the `tasks` rows: a
  chain's steps, and tasks sent by a running task, hang off their parent; all of them share
  the root's id.
- Group membership is in none of Celery's events, only in the task message's headers. With
  `controlplane.worker_hook` installed the worker says it in a `controlplane-task-group` event,
  stored as `tasks.group_id`: read first. Otherwise (or for tasks without one) the result
  backend has it: each task's result meta carries `group_id` once the task started
  (task_track_started) or finished, and `children` (what it sent while running, its chain
  continuation included). A chord's callback is sent by the last member to finish, after it
  returned: its parent is that member, and it is missing from the member's `children`, which
  tells it apart from a task the member sent itself (with stored group ids alone: a task in
  its parent's group is the callback, since a task a running member sends does not inherit
  the group).
- Members of a group sent from outside any task are each their own root: nothing links them
  but the group id: the stored ids find them at once; else a saved group result (chords with
  nested headers, `GroupResult.save()`) lists them; otherwise they are looked for among tasks
  first seen within SIBLING_WINDOW of the task, keeping only those whose result meta names
  the same group.

Each gap is written into `Workflow.notes`, and the task page shows them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from controlplane.clock import as_utc
from controlplane.models import Task
from controlplane.services import Services

log = logging.getLogger(__name__)

MAX_NODES = 300  # tasks drawn per workflow
SIBLING_WINDOW = timedelta(seconds=10)
MAX_CANDIDATES = 500  # tasks whose result meta is read while looking for group members
DONE_STATES = ("SUCCESS",)
FAILED_STATES = ("FAILURE", "LOST", "REJECTED", "REVOKED")
RUNNING_STATES = ("RECEIVED", "STARTED", "PROGRESS", "RETRY")

EdgeKind = Literal["then", "chord"]


@dataclass(frozen=True)
class WorkflowNode:
    task_id: str
    name: str | None
    state: str
    parent_id: str | None
    group_id: str | None
    first_seen_at: datetime | None
    seen: bool = True  # False: listed by a saved group result, never seen in events


@dataclass(frozen=True)
class WorkflowEdge:
    source: str
    target: str
    kind: EdgeKind  # "then": sent by or after its parent; "chord": a group's callback


@dataclass(frozen=True)
class WorkflowSummary:
    total: int = 0
    done: int = 0
    failed: int = 0
    running: int = 0
    waiting: int = 0

    @classmethod
    def of(cls, states: Iterable[str]) -> WorkflowSummary:
        counts = {"done": 0, "failed": 0, "running": 0, "waiting": 0}
        total = 0
        for state in states:
            total += 1
            counts[_bucket(state)] += 1
        return cls(total=total, **counts)


@dataclass(frozen=True)
class Workflow:
    root_id: str
    focus: str
    nodes: tuple[WorkflowNode, ...]
    edges: tuple[WorkflowEdge, ...]
    groups: dict[str, tuple[str, ...]] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    truncated: bool = False

    @property
    def is_canvas(self) -> bool:
        return len(self.nodes) > 1 or bool(self.groups)

    @property
    def summary(self) -> WorkflowSummary:
        return WorkflowSummary.of(node.state for node in self.nodes)


def _bucket(state: str) -> str:
    if state in DONE_STATES:
        return "done"
    if state in FAILED_STATES:
        return "failed"
    if state in RUNNING_STATES:
        return "running"
    return "waiting"


# ---- reading ---------------------------------------------------------------------------------


def _node(row: Task, group_id: str | None = None) -> WorkflowNode:
    return WorkflowNode(
        row.task_id, row.name, row.state, row.parent_id, group_id, as_utc(row.first_seen_at)
    )


def _trees(session: Session, roots: Iterable[str], limit: int) -> list[Task]:
    """Every task of the given roots (the roots included), oldest first."""
    ids = list(dict.fromkeys(roots))
    query = (
        select(Task)
        .where(or_(Task.root_id.in_(ids), Task.task_id.in_(ids)))
        .order_by(Task.first_seen_at, Task.task_id)
        .limit(limit)
    )
    return list(session.scalars(query))


def _candidates(session: Session, around: datetime, exclude: set[str]) -> list[str]:
    """Root tasks first seen near `around`: where lone group members sent with it are."""
    query = (
        select(Task.task_id)
        .where(
            Task.first_seen_at >= around - SIBLING_WINDOW,
            Task.first_seen_at <= around + SIBLING_WINDOW,
            or_(Task.root_id.is_(None), Task.root_id == Task.task_id),
        )
        .order_by(Task.first_seen_at)
        .limit(MAX_CANDIDATES + len(exclude))
    )
    return [task_id for task_id in session.scalars(query) if task_id not in exclude][
        :MAX_CANDIDATES
    ]


class ResultMetas:
    """Result metas read from the backend in one round trip per batch; None where unknown."""

    def __init__(self, services: Services) -> None:
        self.services = services
        self.error: str | None = None
        self.cache: dict[str, dict[str, Any] | None] = {}

    def read(self, task_ids: Iterable[str]) -> dict[str, dict[str, Any] | None]:
        wanted = [task_id for task_id in dict.fromkeys(task_ids) if task_id not in self.cache]
        if wanted and self.error is None:
            backend = self._backend()
            if backend is not None:
                keys = [backend.get_key_for_task(task_id) for task_id in wanted]
                for task_id, raw in zip(wanted, self._mget(backend, keys), strict=True):
                    self.cache[task_id] = self._decode(backend, raw)
        return {task_id: self.cache.get(task_id) for task_id in task_ids}

    def saved_group(self, group_id: str) -> list[str] | None:
        """Member ids of a saved group result (None: not saved, or unreadable)."""
        backend = self._backend()
        if backend is None:
            return None
        [raw] = self._mget(backend, [backend.get_key_for_group(group_id)])
        meta = self._decode(backend, raw)
        result = meta.get("result") if meta else None
        try:  # GroupResult.as_tuple(): ((group_id, parent), [((task_id, parent), None), ...])
            return [str(item[0][0]) for item in result[1]] if result else None
        except (TypeError, IndexError, KeyError):
            return None

    def _backend(self) -> Any:
        if self.error is not None:
            return None
        if not self.services.settings.effective_result_backend:
            self.error = "no result backend is configured"
            return None
        backend = self.services.celery.backend
        if not hasattr(backend, "mget") or not hasattr(backend, "get_key_for_task"):
            self.error = f"the result backend ({type(backend).__name__}) cannot be read in bulk"
            return None
        return backend

    def _mget(self, backend: Any, keys: list[Any]) -> list[Any]:
        try:
            return list(backend.mget(keys))
        except Exception as exc:
            self.error = f"the result backend did not answer: {type(exc).__name__}"
            log.warning("workflow: result backend unreadable: %s", exc)
            return [None] * len(keys)

    @staticmethod
    def _decode(backend: Any, raw: Any) -> dict[str, Any] | None:
        if raw is None:
            return None
        try:
            meta = backend.decode(raw)  # JSON only: the console accepts no other content type
        except Exception:
            return None
        return meta if isinstance(meta, dict) else None


def _group_of(meta: dict[str, Any] | None) -> str | None:
    value = meta.get("group_id") if meta else None
    return str(value)[:155] if isinstance(value, str) and value else None


def _children_of(meta: dict[str, Any] | None) -> set[str] | None:
    """Ids the task sent while running (its `children`); None when the meta is unknown."""
    if meta is None:
        return None
    found: set[str] = set()
    for child in meta.get("children") or []:
        try:  # AsyncResult.as_tuple(): ((task_id, parent), None)
            found.add(str(child[0][0]))
        except (TypeError, IndexError, KeyError):
            continue
    return found


def workflow_of(services: Services, task_id: str) -> Workflow | None:
    """The canvas `task_id` belongs to, or None when the task is not in history."""
    metas = ResultMetas(services)
    notes: list[str] = []
    with services.transaction() as session:
        task = session.get(Task, task_id)
        if task is None:
            return None
        root = task.root_id or task.task_id
        rows = {row.task_id: row for row in _trees(session, [root], MAX_NODES + 1)}
        rows.setdefault(task.task_id, task)
        groups, callbacks = _groups(metas, rows)
        lone = [
            gid for gid, members in groups.items()
            if any((rows[m].root_id or m) == m for m in members)
        ]  # fmt: skip
        unseen: dict[str, str] = {}  # member id -> group, from saved group results
        searched = False
        for gid in lone:
            stored = _stored_members(session, gid, set(rows))
            saved = stored or metas.saved_group(gid)
            if stored:
                siblings = stored
            elif saved is None:
                searched = True
                seen = [as_utc(rows[m].first_seen_at) for m in groups[gid]]
                first = min((t for t in seen if t is not None), default=None)
                found = _candidates(session, first, set(rows)) if first else []
                siblings = [c for c, m in metas.read(found).items() if _group_of(m) == gid]
            else:
                siblings = [m for m in saved if m not in rows]
            if siblings:
                for row in _trees(session, siblings, MAX_NODES + 1 - len(rows)):
                    rows.setdefault(row.task_id, row)
            unseen.update({m: gid for m in siblings if m not in rows})
        if lone:
            groups, callbacks = _groups(metas, rows)
    truncated = len(rows) > MAX_NODES
    if truncated:
        notes.append(f"Only the first {MAX_NODES} tasks of this workflow are drawn.")
    kept = dict(list(rows.items())[:MAX_NODES])
    kept.setdefault(task.task_id, task)
    group_by_task = {m: gid for gid, members in groups.items() for m in members}
    nodes = [_node(row, group_by_task.get(tid)) for tid, row in kept.items()]
    nodes += [
        WorkflowNode(m, None, "PENDING", None, gid, None, seen=False) for m, gid in unseen.items()
    ]
    edges = _edges(kept, group_by_task, groups, callbacks)
    from_events = any(row.group_id for row in kept.values())
    notes += _notes(metas, groups, searched, unseen, from_events)
    return Workflow(
        root_id=root,
        focus=task.task_id,
        nodes=tuple(nodes),
        edges=tuple(edges),
        groups={gid: tuple(members) for gid, members in groups.items()},
        notes=tuple(notes),
        truncated=truncated,
    )


def _stored_members(session: Session, group_id: str, known: set[str]) -> list[str]:
    """Tasks stored with this group id (from the worker hook's events) not yet in `known`."""
    query = select(Task.task_id).where(Task.group_id == group_id).limit(MAX_NODES + 1)
    return [task_id for task_id in session.scalars(query) if task_id not in known]


def _groups(
    metas: ResultMetas, rows: dict[str, Task]
) -> tuple[dict[str, tuple[str, ...]], dict[str, str]]:
    """(group id -> its members among `rows`, chord callback id -> its header's group).

    A task's group is its stored `group_id` (the worker hook's event), else the one in its
    result meta. A chord's callback carries its header's group id too (Celery freezes it
    so): it is the task whose parent is in the same group and did not send it while running
    (the parent's `children`; when those are unknown, being in its parent's group is enough:
    a task a running member sends does not inherit the group).
    """
    unknown = [task_id for task_id, row in rows.items() if not row.group_id]
    read = metas.read(unknown) if unknown else {}
    group_of = {
        task_id: row.group_id or _group_of(read.get(task_id)) for task_id, row in rows.items()
    }
    found: dict[str, list[str]] = {}
    callbacks: dict[str, str] = {}
    for task_id, gid in group_of.items():
        if not gid:
            continue
        parent = rows[task_id].parent_id
        if parent in rows and parent != task_id and group_of.get(parent) == gid:
            sent = _children_of(metas.read([parent])[parent])
            if sent is None or task_id not in sent:
                callbacks[task_id] = gid
                continue
        found.setdefault(gid, []).append(task_id)
    return {gid: tuple(members) for gid, members in found.items()}, callbacks


def _edges(
    rows: dict[str, Task],
    group_by_task: dict[str, str],
    groups: dict[str, tuple[str, ...]],
    callbacks: dict[str, str],
) -> list[WorkflowEdge]:
    edges: list[WorkflowEdge] = []
    for task_id, row in rows.items():
        parent = row.parent_id
        if not parent or parent not in rows or parent == task_id:
            continue  # (rows ingested before autoretries' self-parent was dropped)
        gid = callbacks.get(task_id)
        if gid and group_by_task.get(parent) == gid:
            # Sent after the parent returned, by the group's last member: the chord callback.
            edges += [WorkflowEdge(m, task_id, "chord") for m in groups[gid] if m in rows]
        else:
            edges.append(WorkflowEdge(parent, task_id, "then"))
    return edges


def _notes(
    metas: ResultMetas,
    groups: dict[str, tuple[str, ...]],
    searched: bool,
    unseen: dict[str, str],
    from_events: bool,
) -> list[str]:
    notes = []
    if from_events:
        notes.append(
            "Group membership comes from the group id each task's worker reported "
            "(controlplane.worker_hook); tasks without one are placed from the result backend."
        )
    elif metas.error:
        notes.append(
            f"Groups and chords cannot be drawn: {metas.error}. Only the links Celery's events "
            "carry (root and parent ids) are shown."
        )
    else:
        notes.append(
            "Group membership comes from the result backend (each task's group_id): a member "
            "that has not started yet, ignores its result or whose result expired cannot be "
            "placed in its group. A chord's callback appears once the last member has finished."
        )
    if searched:
        notes.append(
            "Members of a group sent from outside a task are linked by no id Celery's events "
            f"carry, and this group's result was not saved: its other members were looked for "
            f"among tasks first seen within {SIBLING_WINDOW.seconds} s of it."
        )
    if unseen:
        notes.append(
            f"{len(unseen)} member(s) listed by the saved group result were never seen in "
            "events (drawn dashed)."
        )
    return notes


def workflow_summaries(services: Services, root_ids: Iterable[str]) -> dict[str, WorkflowSummary]:
    """For the Tasks list: per root, its workflow's tasks by outcome (roots of one task omitted)."""
    ids = list(dict.fromkeys(root_ids))
    if not ids:
        return {}
    query = (
        select(Task.root_id, Task.state, func.count())
        .where(Task.root_id.in_(ids))
        .group_by(Task.root_id, Task.state)
    )
    counts: dict[str, dict[str, int]] = {}
    with services.transaction() as session:
        for root, state, count in session.execute(query):
            bucket = counts.setdefault(str(root), {})
            bucket[_bucket(state)] = bucket.get(_bucket(state), 0) + int(count)
    return {
        root: WorkflowSummary(total=sum(found.values()), **found)
        for root, found in counts.items()
        if sum(found.values()) > 1
    }
