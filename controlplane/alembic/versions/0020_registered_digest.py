"""issue 19 item 5: a digest beside each worker's registered task list

Revision ID: 0020_registered_digest
Revises: 0019_pg_pages

Every scrape needs the task names the workers registered. `SELECT DISTINCT registered FROM
workers` read and compared every worker's whole list (200 workers x 300 names: 2 MB of text,
3.6-9 ms in PostgreSQL's server each scrape). `registered_digest` (sha1 of the text) lets a
scrape read the distinct digests and only the lists it has not seen. Existing rows are
digested here; a row a writer leaves without one is read as before.

A writer that changes `registered` without its digest (a plain UPDATE: the ORM and the
scheduler's inspection write both) must not leave the old digest standing: a trigger on
UPDATE OF registered clears the digest when the list changed and the digest did not, so that
row is read whole. Heartbeat updates do not name `registered` and do not fire it.
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0020_registered_digest"
down_revision = "0019_pg_pages"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("workers", sa.Column("registered_digest", sa.String(40), nullable=True))
    # the digests are read from the index alone (SQLite stores the column after the list)
    op.create_index("ix_workers_registered_digest", "workers", ["registered_digest"])
    bind = op.get_bind()
    rows = bind.execute(
        sa.text("SELECT hostname, registered FROM workers WHERE registered IS NOT NULL")
    ).all()
    for hostname, registered in rows:  # a fleet's workers: hundreds of rows at most
        digest = hashlib.sha1(registered.encode(), usedforsecurity=False).hexdigest()
        bind.execute(
            sa.text("UPDATE workers SET registered_digest = :digest WHERE hostname = :hostname"),
            {"digest": digest, "hostname": hostname},
        )
    if bind.dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        op.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON workers")
        op.execute(PG_TRIGGER)
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {TRIGGER}")
        op.execute(SQLITE_TRIGGER)


TRIGGER = "workers_registered_digest"  # the name is spelled out in the statements below
PG_FUNCTION = """
CREATE OR REPLACE FUNCTION workers_registered_digest() RETURNS trigger AS $$
BEGIN
    IF NEW.registered_digest IS NOT DISTINCT FROM OLD.registered_digest
            AND NEW.registered IS DISTINCT FROM OLD.registered THEN
        NEW.registered_digest := NULL;
    END IF;
    RETURN NEW;
END
$$ LANGUAGE plpgsql
"""
PG_TRIGGER = """
CREATE TRIGGER workers_registered_digest BEFORE UPDATE OF registered ON workers
FOR EACH ROW EXECUTE FUNCTION workers_registered_digest()
"""
SQLITE_TRIGGER = """
CREATE TRIGGER workers_registered_digest AFTER UPDATE OF registered ON workers FOR EACH ROW
WHEN NEW.registered_digest IS OLD.registered_digest AND NEW.registered IS NOT OLD.registered
BEGIN
    UPDATE workers SET registered_digest = NULL WHERE hostname = NEW.hostname;
END
"""


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON workers")
        op.execute("DROP FUNCTION IF EXISTS workers_registered_digest()")
    else:
        op.execute(f"DROP TRIGGER IF EXISTS {TRIGGER}")
    op.drop_index("ix_workers_registered_digest", table_name="workers")
    with op.batch_alter_table("workers") as batch:
        batch.drop_column("registered_digest")
