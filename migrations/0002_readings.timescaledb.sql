-- Readings on TimescaleDB: a hypertable of 1-day chunks, compressed after 7 days, with an hourly
-- continuous aggregate. Retention comes from settings and is applied at start.
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
);
SELECT create_hypertable('readings', 'time', chunk_time_interval => INTERVAL '1 day');
CREATE INDEX readings_home_time_idx ON readings (home_id, time DESC);

ALTER TABLE readings SET (
    timescaledb.compress,
    timescaledb.compress_segmentby = 'home_id, device_id',
    timescaledb.compress_orderby = 'time DESC, seq DESC'
);
SELECT add_compression_policy('readings', INTERVAL '7 days');

CREATE MATERIALIZED VIEW readings_hourly
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT time_bucket(INTERVAL '1 hour', time) AS bucket,
       home_id,
       device_id,
       kind,
       count(*) AS n,
       count(*) FILTER (WHERE value > 0) AS active,
       avg(value) AS value_avg,
       min(value) AS value_min,
       max(value) AS value_max
FROM readings
GROUP BY bucket, home_id, device_id, kind
WITH NO DATA;

SELECT add_continuous_aggregate_policy('readings_hourly',
    start_offset => INTERVAL '3 days',
    end_offset => INTERVAL '1 hour',
    schedule_interval => INTERVAL '15 minutes');
