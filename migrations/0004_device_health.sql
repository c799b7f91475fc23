-- Device health, kept current by the ingest worker as messages arrive and by the heartbeat monitor.
CREATE TABLE device_health (
    device_id         uuid PRIMARY KEY REFERENCES devices (id),
    home_id           uuid NOT NULL REFERENCES homes (id),
    last_seen_at      timestamptz,               -- arrival time of the latest message (our clock)
    last_event_at     timestamptz,               -- the device's own time of that message
    battery_pct       smallint,
    rssi_dbm          smallint,
    firmware          text,
    uptime_s          bigint,
    online            boolean NOT NULL DEFAULT false,
    online_changed_at timestamptz,
    offline_reason    text,                      -- 'last_will', 'missed_heartbeats', 'announced'
    low_battery       boolean NOT NULL DEFAULT false,
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX device_health_home_idx ON device_health (home_id);
CREATE INDEX device_health_online_idx ON device_health (online, last_seen_at);

-- What changed in a device's health: the detector turns these into alerts.
CREATE TABLE device_health_events (
    id         bigserial PRIMARY KEY,
    device_id  uuid NOT NULL REFERENCES devices (id),
    home_id    uuid NOT NULL REFERENCES homes (id),
    kind       text NOT NULL CHECK (kind IN ('online', 'offline', 'low_battery', 'battery_ok')),
    at         timestamptz NOT NULL,
    detail     jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    -- The writing transaction: consumers read events in commit-safe order (see ingest/handoff.py).
    xid        xid8 NOT NULL DEFAULT pg_current_xact_id()
);
CREATE INDEX device_health_events_xid_idx ON device_health_events (xid);
CREATE INDEX device_health_events_home_idx ON device_health_events (home_id, at DESC);
CREATE INDEX device_health_events_device_idx ON device_health_events (device_id, at DESC);
