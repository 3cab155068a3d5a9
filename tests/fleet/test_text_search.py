"""Text search on both stores: substrings of six columns, answered from the index (#19)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import delete, func, select, text, update

from controlplane import db
from controlplane.broker.embedded import EmbeddedRedis
from controlplane.clock import utcnow
from controlplane.config import Settings
from controlplane.events.merge import TaskRow
from controlplane.events.store import EventStore
from controlplane.fleet import text_search
from controlplane.fleet.task_history import BadFilter, TaskFilter, list_tasks
from controlplane.models import Task
from controlplane.services import Services, build_services

ROWS = {
    "a1b2c3d4-0000-4e5f-9abc-1234567890ab": dict(name="shop.orders.ship", args="('ORD-77812',)"),
    "b2": dict(name="shop.mail.send", kwargs="{'to': 'Alice.Smith@example.com'}"),
    "c3": dict(name="shop.billing.charge", exception="CardDeclined('insufficient funds')"),
    "d4": dict(name="shop.reports.build", result="'report-2026-q3.pdf'"),
    "e5": dict(name="shop.orders.refund", args="('100%_off', 'x')", kwargs="{'note': 'end'}"),
}


@pytest.fixture
def search_services(database_url: str, redis_server: EmbeddedRedis) -> Iterator[Services]:
    services = build_services(
        Settings(broker_url=redis_server.url, database_url=database_url, secret_key="t")
    )
    db.upgrade(services.engine)
    now = utcnow()
    with services.transaction() as session:
        for index, (task_id, columns) in enumerate(ROWS.items()):
            when = now - timedelta(seconds=index)
            session.add(
                Task(task_id=task_id, state="SUCCESS", first_seen_at=when, updated_at=when,
                     **columns)
            )  # fmt: skip
    yield services
    services.close()


def found(services: Services, needle: str) -> set[str]:
    return {row.task_id for row in list_tasks(services, TaskFilter(text=needle)).tasks}


def test_search_finds_substrings_of_every_indexed_column(search_services: Services) -> None:
    services = search_services
    assert found(services, "4e5f-9abc") == {"a1b2c3d4-0000-4e5f-9abc-1234567890ab"}  # id part
    assert found(services, "77812") == {"a1b2c3d4-0000-4e5f-9abc-1234567890ab"}  # order no.
    assert found(services, "alice.smith@EXAMPLE") == {"b2"}  # an email, any case
    assert found(services, "insufficient") == {"c3"}  # exception
    assert found(services, "q3.pdf") == {"d4"}  # result
    assert found(services, "billing.ch") == {"c3"}  # name
    assert found(services, "shop.orders") == {"a1b2c3d4-0000-4e5f-9abc-1234567890ab", "e5"}
    # LIKE's wildcards and FTS5's syntax are plain characters in a search
    assert found(services, "100%_off") == {"e5"}
    assert found(services, "0%_o") == {"e5"}
    assert found(services, '" OR "') == set()
    assert found(services, "%%%") == set()
    # one column at a time: the end of args and the start of kwargs are not one substring
    assert found(services, "x') {'note") == set()
    assert found(services, "nothing like this") == set()
    with pytest.raises(BadFilter, match="at least 3"):
        TaskFilter.from_mapping({"text": "ab"})


def test_index_follows_updates_and_deletes(search_services: Services) -> None:
    services = search_services
    with services.transaction() as session:
        session.execute(
            update(Task).where(Task.task_id == "c3").values(exception="Timeout('gateway')")
        )
        session.execute(update(Task).where(Task.task_id == "b2").values(state="FAILURE"))
        session.execute(delete(Task).where(Task.task_id == "d4"))
    assert found(services, "insufficient") == set()
    assert found(services, "gateway") == {"c3"}
    assert found(services, "alice.smith") == {"b2"}  # a change elsewhere keeps its text found
    assert found(services, "q3.pdf") == set()
    if services.engine.dialect.name == "sqlite":  # the FTS table agrees with its content
        with services.engine.begin() as connection:
            check = "INSERT INTO tasks_fts(tasks_fts, rank) VALUES ('integrity-check', 1)"
            connection.execute(text(check))


def test_search_is_answered_by_the_index(search_services: Services) -> None:
    query = TaskFilter(text="77812").apply(select(func.count()).select_from(Task))
    with search_services.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL enable_seqscan = off"))
            compiled = query.compile(connection, compile_kwargs={"literal_binds": True})
            plan = " ".join(str(row[0]) for row in connection.execute(text(f"EXPLAIN {compiled}")))
            assert "ix_tasks_text_trgm" in plan, plan
        else:
            compiled = query.compile(connection, compile_kwargs={"literal_binds": True})
            rows = connection.execute(text(f"EXPLAIN QUERY PLAN {compiled}")).all()
            plan = " ".join(str(row[-1]) for row in rows)
            assert "VIRTUAL TABLE INDEX" in plan and "tasks_fts" in plan, plan
        assert connection.execute(query).scalar_one() == 1


def test_upgrade_indexes_rows_already_there(database_url: str) -> None:
    """A store upgraded with history in it finds that history (on PostgreSQL a table this
    large is indexed CONCURRENTLY, outside the migration's transaction)."""
    engine = db.make_engine(database_url)
    try:
        db.upgrade(engine, "0017_failure_groups")
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                connection.execute(
                    text(
                        "INSERT INTO tasks (task_id, state, args, args_incomplete, retries, "
                        "first_seen_at, updated_at) "
                        "SELECT 'id-' || n, 'SUCCESS', '(' || n || ',)', false, 0, now(), now() "
                        "FROM generate_series(1, 100500) AS n"
                    )
                )
                connection.execute(text("ANALYZE tasks"))
            connection.execute(
                text(
                    "INSERT INTO tasks (task_id, state, kwargs, args_incomplete, retries, "
                    "first_seen_at, updated_at) VALUES ('old-one', 'SUCCESS', "
                    "'{''email'': ''bob@example.org''}', false, 0, "
                    "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )
        db.upgrade(engine)
        query = TaskFilter(text="bob@example").apply(select(Task.task_id))
        with engine.connect() as connection:
            assert connection.execute(query).scalars().all() == ["old-one"]
            if engine.dialect.name == "postgresql":
                valid = connection.execute(
                    text(
                        "SELECT i.indisvalid FROM pg_index i JOIN pg_class c "
                        "ON c.oid = i.indexrelid WHERE c.relname = 'ix_tasks_text_trgm' "
                        "AND c.relnamespace = current_schema()::regnamespace"
                    )
                ).scalar_one()
                assert valid is True
        db.downgrade(engine, "0017_failure_groups")
        db.upgrade(engine)
    finally:
        engine.dispose()


def test_rows_the_ingester_writes_and_rewrites_are_found(search_services: Services) -> None:
    """The ingester's own write path (an upsert per batch) keeps the index in step."""
    services = search_services
    store = EventStore(services.engine)
    now = time.time()
    first = TaskRow("ingested-1", "STARTED", now)
    first.name, first.args = "shop.orders.ship", "('ORD-55501',)"
    with services.engine.begin() as connection:
        store.merge_tasks(connection, {first.task_id: first}, now)
    assert found(services, "ORD-55501") == {"ingested-1"}
    done = TaskRow("ingested-1", "FAILURE", now + 1)
    done.exception, done.finished_at = "KeyError('warehouse-9')", now + 1
    with services.engine.begin() as connection:
        store.merge_tasks(connection, {done.task_id: done}, now + 1)
    assert found(services, "warehouse-9") == {"ingested-1"}
    assert found(services, "ORD-55501") == {"ingested-1"}
    if services.engine.dialect.name == "sqlite":
        with services.engine.begin() as connection:
            check = "INSERT INTO tasks_fts(tasks_fts, rank) VALUES ('integrity-check', 1)"
            connection.execute(text(check))


def test_common_and_rare_searches_page_newest_first(
    search_services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A search matching more than FEW tasks walks the newest first (SQLite's other plan);
    pages continue by cursor either way."""
    monkeypatch.setattr(text_search, "FEW", 2)
    services = search_services
    now = utcnow()
    with services.transaction() as session:
        for n in range(7):
            when = now - timedelta(minutes=10 + n)
            session.add(
                Task(task_id=f"bulk-{n}", state="SUCCESS", args=f"('common-term', {n})",
                     first_seen_at=when, updated_at=when)
            )  # fmt: skip
    for needle, expected in (("common-term", 7), ("shop.orders", 2)):
        seen: list[str] = []
        cursor = None
        while True:
            page = list_tasks(services, TaskFilter(text=needle), cursor=cursor, limit=3)
            seen += [row.task_id for row in page.tasks]
            cursor = page.next_cursor
            if cursor is None:
                break
        assert len(seen) == len(set(seen)) == expected
    assert seen == ["a1b2c3d4-0000-4e5f-9abc-1234567890ab", "e5"]  # newest first
    first = list_tasks(services, TaskFilter(text="common-term"), limit=3).tasks
    assert [row.task_id for row in first] == ["bulk-0", "bulk-1", "bulk-2"]


def test_rarest_part_is_the_word_fewest_rows_hold_with_its_separators() -> None:
    sample = [f"proj.mail.send\n('customer-{n}@example.com',)" for n in range(50)]
    assert text_search.rarest_part("customer-4242@example", sample) == "-4242@"
    assert text_search.rarest_part("ORD-123456'", ["('ORD-1',)", "('ORD-2',)"]) == "-123456'"
    # one word, no sample, or a part too short to look up: the needle itself
    assert text_search.rarest_part("ValueError", sample) == "ValueError"
    assert text_search.rarest_part("customer-4242@example", []) == "customer-4242@example"
    assert text_search.rarest_part("ab.c", ["ab", "ab"]) == "ab.c"  # ".c" is too short


@pytest.mark.parametrize("few", [1000, 0])
def test_a_search_looked_up_by_its_rare_part_still_matches_the_whole_text(
    search_services: Services, monkeypatch: pytest.MonkeyPatch, few: int
) -> None:
    """Rows holding the rare part but not the whole needle are not found, on either SQLite
    plan (candidates by rowid, or walking the newest) and on PostgreSQL."""
    monkeypatch.setattr(text_search, "FEW", few)
    services = search_services
    now = utcnow()
    with services.transaction() as session:
        for n in range(40):  # the common words of the needle, everywhere
            when = now - timedelta(minutes=5, seconds=n)
            session.add(
                Task(task_id=f"mail-{n}", state="SUCCESS", name="shop.mail.send",
                     args=f"('customer-{n}@example.com',)", first_seen_at=when, updated_at=when)
            )  # fmt: skip
        for task_id, args in (
            ("target", "('customer-4242@example.com',)"),
            ("decoy-domain", "('customer-4242@elsewhere.org',)"),
            ("decoy-prefix", "('supplier-4242@example.com',)"),
        ):
            session.add(
                Task(task_id=task_id, state="SUCCESS", name="shop.mail.send", args=args,
                     first_seen_at=now, updated_at=now)
            )  # fmt: skip
    services.state.text_sample.clear()
    with services.transaction() as session:
        sample = text_search.sample_documents(session)
    assert text_search.rarest_part("customer-4242@example", sample) == "-4242@"
    assert found(services, "customer-4242@example") == {"target"}
    assert found(services, "CUSTOMER-4242@") == {"target", "decoy-domain"}
    assert found(services, "-4242@") == {"target", "decoy-domain", "decoy-prefix"}
