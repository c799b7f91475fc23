-- The registry: who is served, where, by which devices.
CREATE TABLE organisations (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE homes (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organisation_id uuid NOT NULL REFERENCES organisations (id),
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    address         text NOT NULL DEFAULT '',
    timezone        text NOT NULL DEFAULT 'Europe/London',
    latitude        double precision CHECK (latitude BETWEEN -90 AND 90),
    longitude       double precision CHECK (longitude BETWEEN -180 AND 180),
    geofence_m      integer CHECK (geofence_m > 0),
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX homes_organisation_idx ON homes (organisation_id);

CREATE TABLE residents (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    home_id       uuid NOT NULL REFERENCES homes (id) ON DELETE CASCADE,
    display_name  text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 200),
    date_of_birth date,
    notes         text NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX residents_home_idx ON residents (home_id);

-- How often each type of device must be heard from before it counts as offline.
CREATE TABLE device_types (
    type                 text PRIMARY KEY,
    description          text NOT NULL,
    heartbeat_interval_s integer NOT NULL CHECK (heartbeat_interval_s > 0)
);
INSERT INTO device_types (type, description, heartbeat_interval_s) VALUES
    ('motion_sensor',      'passive infrared motion sensor',           3600),
    ('door_contact',       'door or window contact',                   3600),
    ('bed_sensor',         'bed occupancy pressure pad',               3600),
    ('chair_sensor',       'chair occupancy pressure pad',             3600),
    ('temperature_sensor', 'room temperature and humidity',             900),
    ('smart_plug',         'smart plug measuring power draw',           900),
    ('water_sensor',       'water leak sensor',                        3600),
    ('smoke_detector',     'smoke detector',                           3600),
    ('flush_sensor',       'toilet flush sensor',                      3600),
    ('pendant',            'wearable alarm button (pendant)',           300),
    ('wrist_wearable',     'wrist alarm with fall detection',           300),
    ('nfc_reader',         'NFC/RFID reader at the door for carers',   3600),
    ('hub',                'home hub / gateway',                         60);

CREATE TABLE devices (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    home_id           uuid NOT NULL REFERENCES homes (id),
    type              text NOT NULL REFERENCES device_types (type),
    model             text NOT NULL DEFAULT '',
    room              text NOT NULL DEFAULT '',
    installed_on      date NOT NULL DEFAULT current_date,
    firmware          text NOT NULL DEFAULT '',
    status            text NOT NULL DEFAULT 'active'
                      CHECK (status IN ('active', 'revoked', 'decommissioned')),
    created_at        timestamptz NOT NULL DEFAULT now(),
    decommissioned_at timestamptz
);
CREATE INDEX devices_home_idx ON devices (home_id);

-- The broker holds the password; we keep who the device is to the broker and the credential's history.
CREATE TABLE device_credentials (
    device_id     uuid PRIMARY KEY REFERENCES devices (id),
    mqtt_username text NOT NULL UNIQUE,
    issued_at     timestamptz NOT NULL DEFAULT now(),
    rotated_at    timestamptz,
    revoked_at    timestamptz
);
