-- Rostering (issue 18): what the solver needs to know about a carer, and the rosters it proposes.

-- A carer's standing attributes for rostering (their skills are visits' carer_skills).
CREATE TABLE carer_profiles (
    user_id           uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    organisation_id   uuid NOT NULL REFERENCES organisations (id),
    home_latitude     double precision NOT NULL CHECK (home_latitude BETWEEN -90 AND 90),
    home_longitude    double precision NOT NULL CHECK (home_longitude BETWEEN -180 AND 180),
    travel_mode       text NOT NULL DEFAULT 'car'
                      CHECK (travel_mode IN ('car', 'bicycle', 'walk', 'public_transport')),
    max_week_minutes  integer NOT NULL DEFAULT 2400 CHECK (max_week_minutes BETWEEN 0 AND 10080),
    -- Working hours per ISO weekday in the carer's time zone: {"1": [["07:00", "15:00"]], ...}.
    working_hours     jsonb NOT NULL DEFAULT '{}'::jsonb CHECK (jsonb_typeof(working_hours) = 'object'),
    timezone          text NOT NULL DEFAULT 'Europe/London',
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX carer_profiles_organisation_idx ON carer_profiles (organisation_id);

-- A proposed roster for a date range: the job's progress while it runs, then its figures.
CREATE TABLE rosters (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organisation_id uuid NOT NULL REFERENCES organisations (id),
    period_start    date NOT NULL,
    period_end      date NOT NULL CHECK (period_end >= period_start),
    status          text NOT NULL DEFAULT 'running'
                    CHECK (status IN ('running', 'ready', 'failed', 'accepted')),
    progress        real NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 1),
    message         text NOT NULL DEFAULT '',
    weights         jsonb NOT NULL,
    figures         jsonb,
    solver          text NOT NULL DEFAULT 'pyvrp',
    based_on        uuid REFERENCES rosters (id) ON DELETE SET NULL,  -- a re-plan's original
    created_by      uuid REFERENCES users (id),
    created_at      timestamptz NOT NULL DEFAULT now(),
    finished_at     timestamptz,
    accepted_by     uuid REFERENCES users (id),
    accepted_at     timestamptz
);
CREATE INDEX rosters_organisation_idx ON rosters (organisation_id, created_at);

-- Each visit's carers in a roster, with the reasons the solver gives.
CREATE TABLE roster_assignments (
    roster_id  uuid NOT NULL REFERENCES rosters (id) ON DELETE CASCADE,
    visit_id   text NOT NULL,
    carer_ids  uuid[] NOT NULL CHECK (cardinality(carer_ids) BETWEEN 1 AND 4),
    starts_at  timestamptz NOT NULL,
    late_s     integer NOT NULL DEFAULT 0,
    reasons    text[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (roster_id, visit_id)
);

-- Each carer's round of a day, in order (stops: visit ids with times, and the break).
CREATE TABLE roster_rounds (
    roster_id  uuid NOT NULL REFERENCES rosters (id) ON DELETE CASCADE,
    carer_id   uuid NOT NULL REFERENCES users (id),
    day        date NOT NULL,
    depart_at  timestamptz NOT NULL,
    back_at    timestamptz NOT NULL,
    travel_s   integer NOT NULL,
    stops      jsonb NOT NULL,
    PRIMARY KEY (roster_id, carer_id, day)
);

-- Visits nobody could take, and why (never silently dropped).
CREATE TABLE roster_uncovered (
    roster_id  uuid NOT NULL REFERENCES rosters (id) ON DELETE CASCADE,
    visit_id   text NOT NULL,
    reason     text NOT NULL,
    PRIMARY KEY (roster_id, visit_id)
);
