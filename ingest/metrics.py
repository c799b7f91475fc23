"""Prometheus metrics of the ingest worker (served on /metrics)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

RECEIVED = Counter("telecare_ingest_received_total", "MQTT messages received by ingest")
STORED = Counter("telecare_ingest_stored_total", "Readings committed", ["path"])
DUPLICATES = Counter("telecare_ingest_duplicates_total", "Redelivered readings already stored")
DEAD_LETTERS = Counter("telecare_ingest_dead_letters_total", "Messages kept in dead_letters", ["reason"])
BATCH_SIZE = Histogram(
    "telecare_ingest_batch_size",
    "Messages per commit",
    buckets=(1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000),
)
COMMIT_SECONDS = Histogram(
    "telecare_ingest_commit_seconds",
    "Time to write and commit one batch",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
LAG_SECONDS = Histogram(
    "telecare_ingest_event_to_commit_seconds",
    "From the device's event time to our commit",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600, 86400),
)
DATABASE_DOWN = Gauge("telecare_ingest_database_unavailable", "1 while the database cannot be reached")
