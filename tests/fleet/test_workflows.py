"""Workflow graphs from real canvases run by a real worker: chains, groups and chords.

The ids come from the event ingester (root_id, parent_id) and the result backend (group_id,
children); the expected shapes come from the canvas the test built, never from the console.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from celery import chain, chord, group
from flask.testing import FlaskClient
from sqlalchemy import func, select

from controlplane.fleet.workflow import workflow_of, workflow_summaries
from controlplane.models import Task
from controlplane.services import Services
from tests.conftest import WorkerProcess, wait_for

ADD = "worker_tasks.tasks.add"
TOTAL = "worker_tasks.tasks.total"


@pytest.fixture
def queue(worker_factory: Callable[..., WorkerProcess], unique: str) -> str:
    name = f"wf-{unique}"
    worker_factory((name,), concurrency=2)
    return name


def ingested(services: Services, ids: list[str]) -> None:
    """Wait until the ingester wrote every task as finished."""

    def done() -> bool:
        with services.transaction() as session:
            finished = session.scalar(
                select(func.count()).where(Task.task_id.in_(ids), Task.state == "SUCCESS")
            )
        return finished == len(ids)

    wait_for(done, timeout=30, what=f"{len(ids)} tasks ingested as SUCCESS")


def edges_of(services: Services, task_id: str) -> set[tuple[str, str, str]]:
    found = workflow_of(services, task_id)
    assert found is not None
    return {(e.source, e.target, e.kind) for e in found.edges}


def test_a_chain_is_drawn_step_after_step_from_any_of_its_tasks(
    services: Services, ingesting: Any, queue: str
) -> None:
    sig = services.celery.signature
    result = chain(sig(ADD, args=(1, 1), queue=queue), sig(ADD, args=(2,), queue=queue),
                   sig(ADD, args=(3,), queue=queue)).apply_async()  # fmt: skip
    assert result.get(timeout=20) == 7
    third, second, first = result.id, result.parent.id, result.parent.parent.id
    ingested(services, [first, second, third])
    expected = {(first, second, "then"), (second, third, "then")}
    assert edges_of(services, third) == expected
    assert edges_of(services, first) == expected
    found = workflow_of(services, second)
    assert found is not None and found.root_id == first and found.summary.done == 3
    assert found.groups == {}


def test_a_chord_draws_every_header_member_into_its_callback(
    services: Services, ingesting: Any, queue: str
) -> None:
    sig = services.celery.signature
    header = [sig(ADD, args=(n, n), queue=queue) for n in (1, 2, 3)]
    result = chord(header, sig(TOTAL, queue=queue)).apply_async()
    assert result.get(timeout=30) == 12
    members = [child.id for child in result.parent.results]
    ingested(services, [*members, result.id])

    expected = {(member, result.id, "chord") for member in members}
    assert edges_of(services, result.id) == expected
    # From a header member that did not send the callback: the group is found all the same.
    for member in members:
        found = workflow_of(services, member)
        assert found is not None
        assert {n.task_id for n in found.nodes} == {*members, result.id}
        assert {(e.source, e.target, e.kind) for e in found.edges} == expected
        assert set(found.groups) == {result.parent.id}
        assert sorted(found.groups[result.parent.id]) == sorted(members)


def test_a_group_links_its_members_and_says_how_it_found_them(
    services: Services, ingesting: Any, queue: str
) -> None:
    sig = services.celery.signature
    result = group(sig(ADD, args=(n, 1), queue=queue) for n in range(4)).apply_async()
    assert result.get(timeout=20) == [1, 2, 3, 4]
    members = [child.id for child in result.results]
    ingested(services, members)
    found = workflow_of(services, members[2])
    assert found is not None
    assert {n.task_id for n in found.nodes} == set(members) and found.edges == ()
    assert sorted(found.groups[result.id]) == sorted(members)
    assert any("looked for among tasks first seen within" in note for note in found.notes)

    saved = group(sig(ADD, args=(n, 2), queue=queue) for n in range(2)).apply_async()
    saved.save()  # a saved group result lists its members: no search needed
    saved.get(timeout=20)
    ingested(services, [c.id for c in saved.results])
    found = workflow_of(services, saved.results[0].id)
    assert found is not None and {n.task_id for n in found.nodes} == {c.id for c in saved.results}
    assert not any("looked for" in note for note in found.notes)


def test_a_chain_into_a_chord_and_the_pages_draw_it(
    services: Services, ingesting: Any, queue: str, client: FlaskClient,
    token_for: Callable[[str], str], logged_in_client: FlaskClient,
) -> None:  # fmt: skip
    sig = services.celery.signature
    canvas = chain(
        sig(ADD, args=(1, 1), queue=queue),
        chord([sig(ADD, args=(10,), queue=queue), sig(ADD, args=(20,), queue=queue)],
              sig(TOTAL, queue=queue)),
    )  # fmt: skip
    result = canvas.apply_async()
    assert result.get(timeout=30) == 34

    def whole() -> Any:
        found = workflow_of(services, result.id)
        return found if found and found.summary.done == 4 else None

    found = wait_for(whole, timeout=30, what="the 4 tasks ingested")
    root = found.root_id
    assert root != result.id  # the chain's first task is the root, not the callback
    members = [n.task_id for n in found.nodes if n.group_id]
    assert len(members) == 2
    assert {(e.source, e.target, e.kind) for e in found.edges} == {
        (root, members[0], "then"), (root, members[1], "then"),
        (members[0], result.id, "chord"), (members[1], result.id, "chord"),
    }  # fmt: skip

    page = logged_in_client.get(f"/tasks/{members[0]}").get_data(as_text=True)
    assert page.count('class="wf-link"') == 4
    for node in found.nodes:
        assert f'href="/tasks/{node.task_id}"' in page
    assert "4 tasks: 4 done · 0 failed" in page and 'id="workflow-notes"' in page

    listed = logged_in_client.get("/tasks?roots=1").get_data(as_text=True)
    assert f"task-{root}" in listed and f"task-{members[0]}" not in listed
    assert "workflow of 4: 4 done · 0 failed · 0 running" in listed
    assert workflow_summaries(services, [root])[root].done == 4

    api = client.get(f"/api/v1/tasks/{result.id}/workflow",
                     headers={"Authorization": f"Bearer {token_for('viewer')}"})  # fmt: skip
    body = api.get_json()
    assert api.status_code == 200 and body["summary"]["total"] == 4
    assert len([e for e in body["edges"] if e["kind"] == "chord"]) == 2


def test_with_the_worker_hook_group_ids_are_ingested_and_drawn_without_the_result_backend(
    services: Services, ingesting: Any, worker_factory: Callable[..., WorkerProcess],
    monkeypatch: pytest.MonkeyPatch, unique: str,
) -> None:  # fmt: skip
    """Celery's events carry no group id; the hook's controlplane-task-group event does. Once
    stored, a chord and a group are drawn even after their results are gone from the backend."""
    monkeypatch.setenv("CONTROLPLANE_WORKER_HOOK", "1")
    queue = f"wfg-{unique}"
    worker_factory((queue,), concurrency=2)
    sig = services.celery.signature
    chorded = chord([sig(ADD, args=(n, n), queue=queue) for n in (1, 2, 3)],
                    sig(TOTAL, queue=queue)).apply_async()  # fmt: skip
    assert chorded.get(timeout=30) == 12
    grouped = group(sig(ADD, args=(n, 5), queue=queue) for n in range(3)).apply_async()
    assert grouped.get(timeout=30) == [5, 6, 7]
    members = [child.id for child in chorded.parent.results]
    lone = [child.id for child in grouped.results]
    everything = [*members, chorded.id, *lone]
    ingested(services, everything)

    def stored_groups() -> dict[str, str | None]:
        with services.transaction() as session:
            rows = session.execute(select(Task.task_id, Task.group_id).where(
                Task.task_id.in_(everything))).all()  # fmt: skip
        return {task_id: gid for task_id, gid in rows}

    wait_for(lambda: all(stored_groups().values()), timeout=30, what="group ids ingested")
    groups = stored_groups()
    assert {groups[m] for m in members} == {chorded.parent.id}
    assert groups[chorded.id] == chorded.parent.id  # Celery freezes the callback in the group
    assert {groups[m] for m in lone} == {grouped.id}
    for task_id in everything:  # the result backend no longer knows any of them
        services.celery.backend.forget(task_id)

    found = workflow_of(services, members[1])
    assert found is not None
    assert {n.task_id for n in found.nodes} == {*members, chorded.id}
    assert {(e.source, e.target, e.kind) for e in found.edges} == {
        (m, chorded.id, "chord") for m in members
    }
    assert sorted(found.groups[chorded.parent.id]) == sorted(members)
    assert any("worker_hook" in note for note in found.notes)

    found = workflow_of(services, lone[0])
    assert found is not None and {n.task_id for n in found.nodes} == set(lone)
    assert sorted(found.groups[grouped.id]) == sorted(lone) and found.edges == ()
    assert not any("looked for" in note for note in found.notes)
