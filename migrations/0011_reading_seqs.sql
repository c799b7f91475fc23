-- The contract identifies a message by (device_id, seq), but the readings' own key must include the
-- time (a hypertable's unique keys, and a range-partitioned table's, must hold the partitioning
-- column). This small table, neither partitioned nor a hypertable, holds one row per (device_id, seq)
-- ingest has stored: the writer claims the key here in the same statement that stores the reading,
-- so a second message with the same seq and another ts is never stored again (ingest/queries.py).
-- Rows are pruned by first_at (ingest.queries.prune_reading_seqs, from the maintenance loop); BRIN
-- because first_at only grows with insertion, which keeps the index tiny and cheap to write.
CREATE TABLE reading_seqs (
    device_id uuid NOT NULL,
    seq       bigint NOT NULL,
    time      timestamptz NOT NULL,
    first_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (device_id, seq)
);
CREATE INDEX reading_seqs_first_at_idx ON reading_seqs USING brin (first_at);

INSERT INTO reading_seqs (device_id, seq, time, first_at)
SELECT DISTINCT ON (device_id, seq) device_id, seq, time, stored_at
FROM readings
ORDER BY device_id, seq, stored_at, time;
