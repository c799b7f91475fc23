-- Alerts: one row per continuing condition in a home, with the full history of who did what.
CREATE TABLE alert_kinds (
    kind             text PRIMARY KEY,
    default_severity text NOT NULL CHECK (default_severity IN ('critical', 'high', 'medium', 'low')),
    description      text NOT NULL
);
INSERT INTO alert_kinds (kind, default_severity, description) VALUES
    ('alarm_pressed',     'critical', 'the resident pressed their alarm button'),
    ('fall',              'critical', 'a fall was detected'),
    ('smoke',             'critical', 'a smoke detector is sounding'),
    ('water_leak',        'critical', 'water was detected on the floor'),
    ('inactivity',        'high',     'the home has been quiet for longer than is normal at this time'),
    ('not_up',            'high',     'the resident is not up by their usual time'),
    ('night_wandering',   'high',     'the front door or unusual activity at night'),
    ('bathroom_too_long', 'high',     'longer in the bathroom than is normal'),
    ('unusual_day',       'medium',   'a day unlike this person''s normal days'),
    ('cold_home',         'high',     'a room has been below 16 °C for a sustained time'),
    ('hot_home',          'medium',   'a room has been too hot for a sustained time'),
    ('device_offline',    'medium',   'a device has stopped reporting'),
    ('low_battery',       'low',      'a device''s battery is low');

CREATE TABLE alerts (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    home_id          uuid NOT NULL REFERENCES homes (id),
    -- Denormalised from the home so that a provider's listing is one index range.
    organisation_id  uuid NOT NULL REFERENCES organisations (id),
    kind             text NOT NULL REFERENCES alert_kinds (kind),
    severity         text NOT NULL CHECK (severity IN ('critical', 'high', 'medium', 'low')),
    status           text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'acknowledged', 'resolved')),
    -- Folds a continuing condition into one alert: at most one unresolved alert per home and key.
    dedupe_key       text NOT NULL CHECK (length(dedupe_key) BETWEEN 1 AND 200),
    device_id        uuid REFERENCES devices (id),
    room             text,
    title            text NOT NULL,
    explanation      text NOT NULL,
    evidence         jsonb NOT NULL DEFAULT '[]',
    triggered_at     timestamptz NOT NULL,          -- event time of what raised it
    last_seen_at     timestamptz NOT NULL,          -- event time of the latest sign of the condition
    occurrences      integer NOT NULL DEFAULT 1,
    assigned_to      uuid,
    acknowledged_at  timestamptz,
    acknowledged_by  uuid,
    resolved_at      timestamptz,
    resolved_by      uuid,
    resolution       text CHECK (resolution IN ('cleared', 'cancelled', 'handled', 'false_alarm')),
    resolution_note  text,
    source           text NOT NULL DEFAULT 'detector',
    version          integer NOT NULL DEFAULT 1,   -- bumped on every change; the live stream carries it
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'resolved') = (resolved_at IS NOT NULL))
);
CREATE UNIQUE INDEX alerts_open_key ON alerts (home_id, dedupe_key) WHERE status <> 'resolved';
CREATE INDEX alerts_org_time_idx ON alerts (organisation_id, triggered_at DESC, id DESC);
CREATE INDEX alerts_home_time_idx ON alerts (home_id, triggered_at DESC, id DESC);
CREATE INDEX alerts_unresolved_idx ON alerts (organisation_id, severity) WHERE status <> 'resolved';

-- Everything that happened to an alert, by whom: the detector, a person, an integration.
CREATE TABLE alert_events (
    id         bigserial PRIMARY KEY,
    alert_id   uuid NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    at         timestamptz NOT NULL DEFAULT now(),
    action     text NOT NULL CHECK (action IN
                   ('raised', 'updated', 'escalated', 'acknowledged', 'assigned', 'resolved', 'noted')),
    actor_kind text NOT NULL CHECK (actor_kind IN ('detector', 'user', 'api_key', 'system')),
    actor_id   uuid,
    actor_name text NOT NULL DEFAULT '',
    detail     jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX alert_events_alert_idx ON alert_events (alert_id, id);
