-- Readings on plain PostgreSQL: range-partitioned by day. The maintenance task creates partitions
-- ahead, splits late or early rows out of the default partition, drops partitions past retention
-- and keeps the hourly rollup.
CREATE TABLE readings (
    time          timestamptz NOT NULL,
    received_at   timestamptz NOT NULL,
    stored_at     timestamptz NOT NULL DEFAULT now(),
    home_id       uuid NOT NULL,
    device_id     uuid NOT NULL,
    seq           bigint NOT NULL,
    kind          text NOT NULL,
    value         double precision,
    payload       jsonb NOT NULL,
    clock_suspect boolean NOT NULL DEFAULT false,
    PRIMARY KEY (device_id, seq, time)
) PARTITION BY RANGE (time);
CREATE INDEX readings_home_time_idx ON readings (home_id, time DESC);

-- Whatever no daily partition covers yet lands here instead of failing; maintenance moves it out.
CREATE TABLE readings_default PARTITION OF readings DEFAULT;

CREATE TABLE readings_hourly (
    bucket    timestamptz NOT NULL,
    home_id   uuid NOT NULL,
    device_id uuid NOT NULL,
    kind      text NOT NULL,
    n         bigint NOT NULL,
    active    bigint NOT NULL,
    value_avg double precision,
    value_min double precision,
    value_max double precision,
    PRIMARY KEY (home_id, bucket, device_id, kind)
);
