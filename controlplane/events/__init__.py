"""Celery events into the database: idempotent, bounded, fast, and honest about gaps.

`Ingester(settings, on_worker_online=...)` runs it (`controlplane events`, or a thread of
`controlplane up`); `IngestStats` holds the counters the metrics read; `stats_from_database`
rebuilds them after a restart. The modules, in the order an event meets them:
redis_source / amqp_source (receive), buffer (bounded, spills to disk), resp + decode (bytes
to dicts), validate + redact (dicts to rows), merge (the join of rows), processor (batches,
gaps) with liveness (heartbeats, LOST) and holdback (unfinished rows wait a moment, so most
tasks are written once), writer + store (SQL; merge_sql is merge's rules as one PostgreSQL
statement), reconcile (after a gap), stats (counters), lock (one ingester per SQLite file).
"""

from controlplane.events.ingester import Ingester
from controlplane.events.merge import LOST, UNKNOWN, TaskRow, WorkerRow
from controlplane.events.stats import IngestSnapshot, IngestStats, stats_from_database

__all__ = [
    "LOST",
    "UNKNOWN",
    "IngestSnapshot",
    "IngestStats",
    "Ingester",
    "TaskRow",
    "WorkerRow",
    "stats_from_database",
]
