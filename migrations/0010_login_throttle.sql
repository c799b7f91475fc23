-- Login throttling that slows guessing without locking the owner out (docs/production.md, "Login
-- throttling"). Replaces login_failures, whose fixed lock let anyone keep a person out of their account.
DROP TABLE login_failures;

-- One row per throttled key: an email and client network together, a client network, or an email.
-- After a key's free failures each new failure doubles its delay up to a cap; an attempt before
-- not_before answers 429 without looking at the password and without counting. Shared by every API
-- process; a key is forgotten once it has had no failure for the window.
CREATE TABLE login_throttle (
    key             text PRIMARY KEY,
    failures        integer NOT NULL CHECK (failures > 0),
    last_failure_at timestamptz NOT NULL,
    not_before      timestamptz NOT NULL
);
CREATE INDEX login_throttle_stale_idx ON login_throttle (last_failure_at);

-- Client networks (an IPv4 address, an IPv6 /64) a user has logged in from: from these, the limits per
-- network and per email do not apply to that user, so an attacker elsewhere cannot keep them out.
CREATE TABLE login_known_networks (
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    network       text NOT NULL,
    last_login_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, network)
);
