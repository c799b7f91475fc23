-- The streaming detector: where it is in the committed logs, each home's state, its day models, and the
-- windows in which a carer is with the resident.
CREATE TABLE detector_cursors (
    name        text PRIMARY KEY,
    batch_low   bigint NOT NULL DEFAULT 0,      -- ingest_batches, as ingest.handoff.BatchCursor
    batch_seen  bigint[] NOT NULL DEFAULT '{}',
    health_low  bigint NOT NULL DEFAULT 0,      -- device_health_events, by the same xid technique
    health_seen bigint[] NOT NULL DEFAULT '{}',
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per watched home: the live picture (changes with every reading) and what it has learned
-- (changes once a day). Written in the same transaction as the alerts it led to and the cursor.
CREATE TABLE detector_homes (
    home_id      uuid PRIMARY KEY REFERENCES homes (id) ON DELETE CASCADE,
    mode         text NOT NULL CHECK (mode IN ('defaults', 'learned')),
    learned_days integer NOT NULL DEFAULT 0,
    live         jsonb NOT NULL,
    baseline     jsonb NOT NULL DEFAULT '{}',
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- Each home's model of its normal days, every version kept.
CREATE TABLE detector_models (
    home_id    uuid NOT NULL REFERENCES homes (id) ON DELETE CASCADE,
    version    integer NOT NULL,
    trained_at timestamptz NOT NULL DEFAULT now(),
    n_days     integer NOT NULL,
    features   text[] NOT NULL,
    threshold  double precision NOT NULL,
    model      bytea NOT NULL,
    PRIMARY KEY (home_id, version)
);

-- A carer is with the resident: left out of the resident's baseline, and no alert their presence causes.
CREATE TABLE carer_windows (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    home_id    uuid NOT NULL REFERENCES homes (id) ON DELETE CASCADE,
    starts_at  timestamptz NOT NULL,
    ends_at    timestamptz NOT NULL CHECK (ends_at > starts_at),
    source     text NOT NULL DEFAULT 'api' CHECK (length(source) BETWEEN 1 AND 40),
    note       text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX carer_windows_home_idx ON carer_windows (home_id, ends_at);
