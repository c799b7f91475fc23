-- One row per committed ingest batch: the keys of the readings it stored, and the transaction that
-- stored them. Consumers in any process (the detector) read batches in commit-safe order by xid.
CREATE TABLE ingest_batches (
    xid          xid8 NOT NULL DEFAULT pg_current_xact_id(),
    id           bigserial,
    committed_at timestamptz NOT NULL DEFAULT now(),
    device_ids   uuid[] NOT NULL,
    seqs         bigint[] NOT NULL,
    times        timestamptz[] NOT NULL,
    PRIMARY KEY (xid, id)
);
CREATE INDEX ingest_batches_committed_idx ON ingest_batches (committed_at);
