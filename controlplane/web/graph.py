"""The task page's workflow graph: a layered layout of a Workflow, drawn as server-side SVG.

Layers follow the longest path from the tasks nothing points to, so a chord's callback sits
one column after its slowest member, and every edge points right. Plain geometry for the
template; no text is placed here unescaped (the template autoescapes).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace

from controlplane.fleet.workflow import Workflow, WorkflowNode

NODE_WIDTH, NODE_HEIGHT = 168, 34
COLUMN_GAP, ROW_GAP, MARGIN = 44, 12, 10


@dataclass(frozen=True)
class PlacedNode:
    node: WorkflowNode
    x: float
    y: float
    label: str
    focus: bool


@dataclass(frozen=True)
class PlacedEdge:
    path: str  # SVG path data
    kind: str


@dataclass(frozen=True)
class Graph:
    width: float
    height: float
    nodes: list[PlacedNode]
    edges: list[PlacedEdge]
    node_width: int = NODE_WIDTH
    node_height: int = NODE_HEIGHT


def short_label(name: str | None, limit: int = 24) -> str:
    """`proj.tasks.send_invoice` -> `tasks.send_invoice`, cut to fit a node."""
    text = ".".join((name or "unknown").split(".")[-2:])
    return text if len(text) <= limit else text[: limit - 1] + "…"


def layers(workflow: Workflow) -> dict[str, int]:
    """Column of each node: the longest chain of edges leading to it."""
    incoming: dict[str, list[str]] = defaultdict(list)
    for edge in workflow.edges:
        incoming[edge.target].append(edge.source)
    depth: dict[str, int] = {}

    def column(task_id: str, visiting: frozenset[str] = frozenset()) -> int:
        if task_id in depth:
            return depth[task_id]
        if task_id in visiting:  # a cycle cannot happen in Celery's ids; never loop on one
            return 0
        sources = incoming.get(task_id, [])
        value = 1 + max((column(s, visiting | {task_id}) for s in sources), default=-1)
        depth[task_id] = value
        return value

    for node in workflow.nodes:
        column(node.task_id)
    return depth


def layout(workflow: Workflow) -> Graph:
    columns = layers(workflow)
    by_column: dict[int, list[WorkflowNode]] = defaultdict(list)
    for node in workflow.nodes:
        by_column[columns[node.task_id]].append(node)
    placed: dict[str, PlacedNode] = {}
    for column, members in sorted(by_column.items()):
        members.sort(key=lambda n: (n.group_id or "", n.first_seen_at is None,
                                    n.first_seen_at or 0, n.task_id))  # fmt: skip
        for row, node in enumerate(members):
            placed[node.task_id] = PlacedNode(
                node=node,
                x=MARGIN + column * (NODE_WIDTH + COLUMN_GAP),
                y=MARGIN + row * (NODE_HEIGHT + ROW_GAP),
                label=short_label(node.name) if node.seen else "not seen",
                focus=node.task_id == workflow.focus,
            )
    sources: dict[str, list[str]] = defaultdict(list)
    for edge in workflow.edges:
        sources[edge.target].append(edge.source)
    for members in by_column.values():
        if len(members) == 1 and sources.get(members[0].task_id):
            # A lone node (a chain step, a chord's callback) sits level with what feeds it.
            alone = placed[members[0].task_id]
            ys = [placed[s].y for s in sources[alone.node.task_id] if s in placed]
            if ys:
                placed[alone.node.task_id] = replace(alone, y=sum(ys) / len(ys))
    edges = []
    for edge in workflow.edges:
        a, b = placed.get(edge.source), placed.get(edge.target)
        if a is None or b is None:
            continue
        x1, y1 = a.x + NODE_WIDTH, a.y + NODE_HEIGHT / 2
        x2, y2 = b.x, b.y + NODE_HEIGHT / 2
        bend = (x2 - x1) / 2
        path = (
            f"M{x1:.1f},{y1:.1f} C{x1 + bend:.1f},{y1:.1f} "
            f"{x2 - bend:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"
        )
        edges.append(PlacedEdge(path, edge.kind))
    width = MARGIN * 2 + (max(columns.values(), default=0) + 1) * (NODE_WIDTH + COLUMN_GAP)
    rows = max((len(m) for m in by_column.values()), default=1)
    height = MARGIN * 2 + rows * (NODE_HEIGHT + ROW_GAP)
    return Graph(width - COLUMN_GAP, height - ROW_GAP, list(placed.values()), edges)
