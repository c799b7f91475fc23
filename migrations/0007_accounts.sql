-- Accounts, roles and tenancy: who may see which homes, how they log in, and what they changed.
CREATE TABLE users (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email           text NOT NULL CHECK (email = lower(email) AND length(email) BETWEEN 3 AND 320),
    name            text NOT NULL DEFAULT '' CHECK (length(name) <= 200),
    role            text NOT NULL CHECK (role IN ('platform_admin', 'coordinator', 'carer', 'family')),
    -- A provider's people belong to it; a family member may have been invited by one (or none).
    organisation_id uuid REFERENCES organisations (id),
    -- NULL until an invitation is accepted: nobody can log in as this user yet.
    password_hash   text,
    active          boolean NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (role NOT IN ('coordinator', 'carer') OR organisation_id IS NOT NULL),
    CHECK (role <> 'platform_admin' OR organisation_id IS NULL)
);
CREATE UNIQUE INDEX users_email_key ON users (email);
CREATE INDEX users_organisation_idx ON users (organisation_id, created_at, id);

-- A carer sees the homes they are assigned to.
CREATE TABLE carer_assignments (
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    home_id    uuid NOT NULL REFERENCES homes (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, home_id)
);
CREATE INDEX carer_assignments_home_idx ON carer_assignments (home_id);

-- A family member sees the homes of their circle of care.
CREATE TABLE care_circles (
    home_id         uuid NOT NULL REFERENCES homes (id) ON DELETE CASCADE,
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    relationship    text NOT NULL CHECK (length(relationship) BETWEEN 1 AND 100),
    receives_alerts boolean NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (home_id, user_id)
);
CREATE INDEX care_circles_user_idx ON care_circles (user_id);

-- Opaque refresh tokens, stored as SHA-256; each use replaces the token by a new one of the same family,
-- and presenting a replaced token again revokes the whole family (it was stolen, or replayed).
CREATE TABLE refresh_tokens (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id   uuid NOT NULL,
    token_hash  bytea NOT NULL UNIQUE,
    issued_at   timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz,
    revoked_at  timestamptz
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);

CREATE TABLE invitations (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash  bytea NOT NULL UNIQUE,
    created_by  uuid REFERENCES users (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    accepted_at timestamptz
);
CREATE INDEX invitations_user_idx ON invitations (user_id);

-- Keys for integrations, stored as SHA-256 (they are long random strings, so a fast hash is enough).
CREATE TABLE api_keys (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organisation_id uuid NOT NULL REFERENCES organisations (id),
    name            text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    prefix          text NOT NULL,
    key_hash        bytea NOT NULL UNIQUE,
    created_by      uuid REFERENCES users (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    revoked_at      timestamptz
);
CREATE INDEX api_keys_organisation_idx ON api_keys (organisation_id, created_at);

-- Failed logins, shared by every API process; pruned as they age out of the window.
CREATE TABLE login_failures (
    id         bigserial PRIMARY KEY,
    key        text NOT NULL,
    at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_key_idx ON login_failures (key, at);

-- Every change a person (or integration) made through the API: who, what, when, from where.
CREATE TABLE audit_log (
    id              bigserial PRIMARY KEY,
    at              timestamptz NOT NULL DEFAULT now(),
    actor_kind      text NOT NULL CHECK (actor_kind IN ('user', 'api_key', 'system')),
    actor_id        uuid,
    actor_name      text NOT NULL DEFAULT '',
    organisation_id uuid,
    action          text NOT NULL,
    target_type     text NOT NULL,
    target_id       text NOT NULL,
    detail          jsonb NOT NULL DEFAULT '{}',
    client_addr     text,
    user_agent      text
);
CREATE INDEX audit_log_organisation_idx ON audit_log (organisation_id, id DESC);
