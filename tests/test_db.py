"""Schema migrations are idempotent and reversible on SQLite and PostgreSQL."""

from __future__ import annotations

from sqlalchemy import inspect

from controlplane import db

TABLES = {
    "tasks", "workers", "queue_samples", "actions", "revocations",
    "audit_runs", "audit_findings", "users", "api_tokens", "event_gaps",
}  # fmt: skip


def test_upgrade_twice_is_a_no_op(database_url: str) -> None:
    engine = db.make_engine(database_url)
    try:
        db.upgrade(engine)
        first = set(inspect(engine).get_table_names())
        db.upgrade(engine)
        assert set(inspect(engine).get_table_names()) == first
        assert first >= TABLES
        assert db.current_revision(engine) is not None
        indexes = {index["name"] for index in inspect(engine).get_indexes("tasks")}
        assert {"ix_tasks_state_time", "ix_tasks_name_time", "ix_tasks_queue_state"} <= indexes
    finally:
        engine.dispose()


def test_downgrade_then_upgrade_round_trip(database_url: str) -> None:
    engine = db.make_engine(database_url)
    try:
        db.upgrade(engine)
        db.downgrade(engine, "base")
        assert not TABLES & set(inspect(engine).get_table_names())
        assert db.current_revision(engine) is None
        db.upgrade(engine)
        assert set(inspect(engine).get_table_names()) >= TABLES
    finally:
        engine.dispose()


def test_a_sqlite_connection_reads_its_file_through_a_memory_map(sqlite_url: str) -> None:
    """Every pooled SQLite connection maps the file (page reads without a read() and a copy
    each: a replica's scrape reads a thousand scattered task rows after every write)."""
    engine = db.make_engine(sqlite_url)
    try:
        db.upgrade(engine)
        with engine.connect() as connection:
            mapped = connection.exec_driver_sql("PRAGMA mmap_size").scalar()
            journal = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
        assert (mapped, journal) == (db.SQLITE_MMAP_BYTES, "wal")
    finally:
        engine.dispose()
