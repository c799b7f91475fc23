-- Notifications (issue 15): contact points, preferences, escalation policies, the outbox, the chains, the
-- deliveries with every attempt logged, and one-time acknowledgement links. See notifications/.

-- Where a person (or, for webhooks, an organisation) can be reached. Used only once verified by a code.
CREATE TABLE notification_contact_points (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id           uuid REFERENCES users (id) ON DELETE CASCADE,
    organisation_id   uuid REFERENCES organisations (id) ON DELETE CASCADE,
    channel           text NOT NULL CHECK (channel IN ('email', 'sms', 'webpush', 'webhook')),
    address           text NOT NULL CHECK (length(address) BETWEEN 3 AND 2000),
    label             text NOT NULL DEFAULT '' CHECK (length(label) <= 200),
    -- webpush: the subscription's keys (p256dh, auth); webhook: the signing secret.
    secret            jsonb NOT NULL DEFAULT '{}',
    verify_code_hash  bytea,
    verify_expires_at timestamptz,
    verify_attempts   integer NOT NULL DEFAULT 0,
    verified_at       timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    -- A person's points are theirs; an organisation's (an alarm receiving centre's webhook) have no person.
    CHECK ((user_id IS NULL) <> (organisation_id IS NULL)),
    CHECK (user_id IS NOT NULL OR channel = 'webhook')
);
CREATE INDEX notification_contact_points_user_idx ON notification_contact_points (user_id);
CREATE INDEX notification_contact_points_org_idx ON notification_contact_points (organisation_id);

-- What a person wants to hear about, how, and when not (their own time zone).
CREATE TABLE notification_preferences (
    user_id      uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    kinds        text[],                                  -- NULL: every kind
    min_severity text NOT NULL DEFAULT 'low' CHECK (min_severity IN ('critical', 'high', 'medium', 'low')),
    channels     text[] NOT NULL DEFAULT '{email,sms,webpush,webhook}',
    timezone     text,                                    -- NULL: the home's
    quiet_start  time,
    quiet_end    time,
    digest_low   boolean NOT NULL DEFAULT true,           -- low-severity alerts in the daily digest instead
    daily_digest boolean NOT NULL DEFAULT true,
    digest_hour  smallint NOT NULL DEFAULT 19 CHECK (digest_hour BETWEEN 0 AND 23),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CHECK ((quiet_start IS NULL) = (quiet_end IS NULL))
);

-- A home's escalation policy, or its organisation's default (home_id NULL). steps: see notifications/policy.py.
CREATE TABLE notification_policies (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organisation_id uuid NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    home_id         uuid REFERENCES homes (id) ON DELETE CASCADE,
    steps           jsonb NOT NULL,
    repeats         integer NOT NULL DEFAULT 0 CHECK (repeats BETWEEN 0 AND 10),
    noncritical_delay_s integer NOT NULL DEFAULT 0 CHECK (noncritical_delay_s BETWEEN 0 AND 86400),
    updated_by      uuid,
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX notification_policies_home_key ON notification_policies (home_id) WHERE home_id IS NOT NULL;
CREATE UNIQUE INDEX notification_policies_org_key ON notification_policies (organisation_id)
    WHERE home_id IS NULL;

-- The outbox: written by a trigger in the same transaction as the alert's history row that causes it, so
-- an alert change and its notification work commit together or not at all. The dispatcher takes rows
-- with FOR UPDATE SKIP LOCKED and deletes them once planned (in its own transaction with the plan).
CREATE TABLE notification_outbox (
    id             bigserial PRIMARY KEY,
    alert_event_id bigint NOT NULL,
    alert_id       uuid NOT NULL,
    action         text NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION notification_outbox_from_alert_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO notification_outbox (alert_event_id, alert_id, action)
    VALUES (NEW.id, NEW.alert_id, NEW.action);
    PERFORM pg_notify('telecare_notify', 'outbox');
    RETURN NULL;
END $$;

CREATE TRIGGER alert_events_notification_outbox AFTER INSERT ON alert_events
    FOR EACH ROW WHEN (NEW.action IN ('raised', 'escalated', 'acknowledged', 'resolved'))
    EXECUTE FUNCTION notification_outbox_from_alert_event();

-- One escalation chain per alert: the policy as it was when the alert was raised, and where it stands.
CREATE TABLE notification_chains (
    alert_id     uuid PRIMARY KEY REFERENCES alerts (id) ON DELETE CASCADE,
    home_id      uuid NOT NULL,
    policy       jsonb NOT NULL,
    round        integer NOT NULL DEFAULT 0,     -- 0, then 1.. for each repeat of the steps
    next_step    integer NOT NULL DEFAULT 0,     -- the step to send when next_at comes
    next_at      timestamptz,                    -- NULL once stopped or done
    state        text NOT NULL DEFAULT 'running' CHECK (state IN ('running', 'stopped', 'done')),
    reached_last boolean NOT NULL DEFAULT false,
    stop_reason  text,
    started_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notification_chains_due_idx ON notification_chains (next_at) WHERE state = 'running';

-- One message to one contact point. For alerts, at most one per (alert, round, step, recipient, channel):
-- the key that makes a delivery happen once however many dispatchers run and however often they restart.
CREATE TABLE notification_deliveries (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    purpose          text NOT NULL CHECK (purpose IN ('alert', 'verify', 'test', 'digest')),
    alert_id         uuid REFERENCES alerts (id) ON DELETE CASCADE,
    round            integer NOT NULL DEFAULT 0,
    step             integer NOT NULL DEFAULT 0,
    recipient        text NOT NULL,                 -- 'user:<id>' or 'org:<id>' (a webhook)
    user_id          uuid,
    contact_point_id uuid REFERENCES notification_contact_points (id) ON DELETE SET NULL,
    channel          text NOT NULL CHECK (channel IN ('email', 'sms', 'webpush', 'webhook')),
    address          text NOT NULL,
    payload          jsonb NOT NULL DEFAULT '{}',   -- what to say (verify code, digest day...)
    status           text NOT NULL DEFAULT 'queued' CHECK (status IN
                         ('queued', 'sent', 'delivered', 'failed', 'cancelled', 'digest')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL,
    deferred_reason  text,
    last_error       text,
    created_at       timestamptz NOT NULL,
    sent_at          timestamptz,
    digest_key       text                           -- 'user:<id>:<local date>' for digests
);
CREATE UNIQUE INDEX notification_deliveries_once ON notification_deliveries
    (alert_id, round, step, recipient, channel) WHERE purpose = 'alert';
CREATE UNIQUE INDEX notification_deliveries_digest_once ON notification_deliveries (digest_key)
    WHERE purpose = 'digest';
CREATE INDEX notification_deliveries_due_idx ON notification_deliveries (next_attempt_at)
    WHERE status = 'queued';
CREATE INDEX notification_deliveries_alert_idx ON notification_deliveries (alert_id, created_at);

CREATE FUNCTION notification_delivery_queued() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('telecare_notify', 'delivery');
    RETURN NULL;
END $$;

CREATE TRIGGER notification_deliveries_wake AFTER INSERT ON notification_deliveries
    FOR EACH STATEMENT EXECUTE FUNCTION notification_delivery_queued();

-- Every attempt: queued, deferred, sent, delivered, failed (with the reason), cancelled, acknowledged.
CREATE TABLE notification_attempts (
    id          bigserial PRIMARY KEY,
    delivery_id uuid NOT NULL REFERENCES notification_deliveries (id) ON DELETE CASCADE,
    at          timestamptz NOT NULL,
    event       text NOT NULL CHECK (event IN
                    ('queued', 'deferred', 'sent', 'delivered', 'failed', 'cancelled', 'acknowledged')),
    detail      text NOT NULL DEFAULT ''
);
CREATE INDEX notification_attempts_delivery_idx ON notification_attempts (delivery_id, id);

-- One-time acknowledgement links: the token's SHA-256, the one alert it acknowledges, to whom it was sent.
CREATE TABLE notification_ack_links (
    token_hash  bytea PRIMARY KEY,
    alert_id    uuid NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    delivery_id uuid NOT NULL REFERENCES notification_deliveries (id) ON DELETE CASCADE,
    user_id     uuid,
    sent_to     text NOT NULL,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    used_from   text
);
CREATE INDEX notification_ack_links_alert_idx ON notification_ack_links (alert_id);

-- Keys the notifier makes for itself on first start (the VAPID key pair of Web Push); never in the repo.
CREATE TABLE notification_keys (
    name       text PRIMARY KEY,
    value      text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
