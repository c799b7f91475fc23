-- Carer visits (issue 14): care plans and their recurrence, the visits materialised from them, who is
-- assigned, check-ins and check-outs by tag, phone or a coordinator's hand, the tasks done, and the
-- verification log the home's sensors corroborate. The home's location and geofence radius are the
-- registry's (homes.latitude, homes.longitude, homes.geofence_m).

-- The skills a carer has (a plan's visit may require some: "medication", "hoist", ...).
CREATE TABLE carer_skills (
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    skill      text NOT NULL CHECK (length(skill) BETWEEN 1 AND 64),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, skill)
);

-- A carer's NFC/RFID tags: the contract's `tag` reading carries the tag_id a door reader read.
-- A tag id names at most one carer at a time; a lost tag is revoked and kept for the history.
CREATE TABLE carer_tags (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tag_id          text NOT NULL CHECK (length(tag_id) BETWEEN 1 AND 64),
    user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    organisation_id uuid NOT NULL REFERENCES organisations (id),
    issued_at       timestamptz NOT NULL DEFAULT now(),
    revoked_at      timestamptz
);
CREATE UNIQUE INDEX carer_tags_live_key ON carer_tags (tag_id) WHERE revoked_at IS NULL;
CREATE INDEX carer_tags_user_idx ON carer_tags (user_id);

-- A home's care plan: what it is for, when it runs, and how its visits' alerts are tuned.
CREATE TABLE care_plans (
    id                        uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    home_id                   uuid NOT NULL REFERENCES homes (id) ON DELETE CASCADE,
    -- Denormalised from the home so that a provider's listing is one index range.
    organisation_id           uuid NOT NULL REFERENCES organisations (id),
    name                      text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    -- The electronic-visit-verification "type of service" (e.g. personal_care, companionship).
    service_type              text NOT NULL DEFAULT 'personal_care' CHECK (length(service_type) BETWEEN 1 AND 64),
    starts_on                 date NOT NULL,            -- the home's local dates, inclusive
    ends_on                   date CHECK (ends_on IS NULL OR ends_on >= starts_on),
    active                    boolean NOT NULL DEFAULT true,
    -- The alert rules, per plan (defaults from the issue): late N minutes after the planned start;
    -- missed when nobody checked in N minutes after the planned start (NULL: by the planned end);
    -- short below N % of the planned minutes; no check-out N minutes after the planned end.
    late_after_minutes        integer NOT NULL DEFAULT 15 CHECK (late_after_minutes BETWEEN 1 AND 720),
    missed_after_minutes      integer CHECK (missed_after_minutes BETWEEN 1 AND 1440),
    short_below_percent       integer NOT NULL DEFAULT 75 CHECK (short_below_percent BETWEEN 1 AND 100),
    no_checkout_after_minutes integer NOT NULL DEFAULT 60 CHECK (no_checkout_after_minutes BETWEEN 1 AND 1440),
    -- Rules switched off for this plan (visit alert kinds, see alert_kinds below).
    alerts_off                text[] NOT NULL DEFAULT '{}',
    created_by                uuid,
    created_at                timestamptz NOT NULL DEFAULT now(),
    updated_at                timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX care_plans_home_idx ON care_plans (home_id);
CREATE INDEX care_plans_organisation_idx ON care_plans (organisation_id, created_at, id);

-- A plan's recurring visit: on these weekdays (ISO: 1 Monday .. 7 Sunday), every N weeks, at this local
-- wall-clock time in the home's zone, for so many minutes, with these tasks, carers and skills.
CREATE TABLE care_plan_visits (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    plan_id         uuid NOT NULL REFERENCES care_plans (id) ON DELETE CASCADE,
    label           text NOT NULL DEFAULT '' CHECK (length(label) <= 100),
    weekdays        smallint[] NOT NULL CHECK (cardinality(weekdays) BETWEEN 1 AND 7
                                               AND weekdays <@ ARRAY[1, 2, 3, 4, 5, 6, 7]::smallint[]),
    interval_weeks  smallint NOT NULL DEFAULT 1 CHECK (interval_weeks BETWEEN 1 AND 8),
    start_time      time NOT NULL,
    planned_minutes integer NOT NULL CHECK (planned_minutes BETWEEN 5 AND 1440),
    tasks           text[] NOT NULL DEFAULT '{}',
    carers_required smallint NOT NULL DEFAULT 1 CHECK (carers_required BETWEEN 1 AND 4),
    required_skills text[] NOT NULL DEFAULT '{}',
    -- The standing assignment: carers given each new visit when it is materialised.
    carer_ids       uuid[] NOT NULL DEFAULT '{}',
    active          boolean NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX care_plan_visits_plan_idx ON care_plan_visits (plan_id);

-- One-off changes to a plan: an occurrence cancelled or moved, an extra visit, or a pause (a hospital
-- stay: every occurrence from paused_from to paused_until, inclusive, local dates).
CREATE TABLE care_plan_changes (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    plan_id         uuid NOT NULL REFERENCES care_plans (id) ON DELETE CASCADE,
    kind            text NOT NULL CHECK (kind IN ('cancel', 'move', 'extra', 'pause')),
    -- cancel / move: the occurrence, by its plan visit and local date.
    plan_visit_id   uuid REFERENCES care_plan_visits (id) ON DELETE CASCADE,
    occurrence_date date,
    -- move / extra: the new local date and time, and (optionally) the minutes and tasks.
    local_date      date,
    start_time      time,
    planned_minutes integer CHECK (planned_minutes BETWEEN 5 AND 1440),
    tasks           text[],
    -- pause
    paused_from     date,
    paused_until    date CHECK (paused_until IS NULL OR paused_until >= paused_from),
    reason          text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
    created_by      uuid,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (kind NOT IN ('cancel', 'move') OR (plan_visit_id IS NOT NULL AND occurrence_date IS NOT NULL)),
    CHECK (kind NOT IN ('move', 'extra') OR (local_date IS NOT NULL AND start_time IS NOT NULL)),
    CHECK (kind <> 'extra' OR planned_minutes IS NOT NULL),
    CHECK (kind <> 'pause' OR (paused_from IS NOT NULL AND paused_until IS NOT NULL))
);
CREATE INDEX care_plan_changes_plan_idx ON care_plan_changes (plan_id);

-- The visits, materialised from the plans for a rolling horizon (and never rewritten once under way).
-- planned_start/planned_end are UTC instants; local_date is the home's own date of the visit.
CREATE TABLE visits (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organisation_id uuid NOT NULL REFERENCES organisations (id),
    home_id         uuid NOT NULL REFERENCES homes (id) ON DELETE CASCADE,
    plan_id         uuid REFERENCES care_plans (id) ON DELETE SET NULL,
    plan_visit_id   uuid REFERENCES care_plan_visits (id) ON DELETE SET NULL,
    -- What the visit materialises: the recurrence's occurrence (its local date) or a plan change.
    occurrence_date date,
    change_id       uuid REFERENCES care_plan_changes (id) ON DELETE SET NULL,
    service_type    text NOT NULL DEFAULT 'personal_care',
    local_date      date NOT NULL,
    planned_start   timestamptz NOT NULL,
    planned_end     timestamptz NOT NULL CHECK (planned_end > planned_start),
    carers_required smallint NOT NULL DEFAULT 1 CHECK (carers_required BETWEEN 1 AND 4),
    required_skills text[] NOT NULL DEFAULT '{}',
    -- planned, in_progress (checked in), completed (checked out), missed, cancelled.
    status          text NOT NULL DEFAULT 'planned'
                    CHECK (status IN ('planned', 'in_progress', 'completed', 'missed', 'cancelled')),
    status_reason   text NOT NULL DEFAULT '',
    -- The accepted check-in and check-out: event time (when it happened) as the visit counts it.
    checked_in_at   timestamptz,
    checked_out_at  timestamptz,
    check_in_method  text CHECK (check_in_method IN ('tag', 'phone', 'manual')),
    check_out_method text CHECK (check_out_method IN ('tag', 'phone', 'manual')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (checked_out_at IS NULL OR checked_in_at IS NOT NULL)
);
CREATE UNIQUE INDEX visits_occurrence_key ON visits (plan_visit_id, occurrence_date)
    WHERE change_id IS NULL AND plan_visit_id IS NOT NULL;
CREATE UNIQUE INDEX visits_change_key ON visits (change_id) WHERE change_id IS NOT NULL;
CREATE INDEX visits_organisation_start_idx ON visits (organisation_id, planned_start, id);
CREATE INDEX visits_home_start_idx ON visits (home_id, planned_start);
-- The rules' working set: visits not yet finished one way or another.
CREATE INDEX visits_open_idx ON visits (planned_start) WHERE status IN ('planned', 'in_progress');

-- The tasks of a visit, each marked done or not done with a note.
CREATE TABLE visit_tasks (
    visit_id    uuid NOT NULL REFERENCES visits (id) ON DELETE CASCADE,
    position    smallint NOT NULL,
    task        text NOT NULL CHECK (length(task) BETWEEN 1 AND 64),
    status      text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'not_done')),
    note        text NOT NULL DEFAULT '' CHECK (length(note) <= 2000),
    recorded_at timestamptz,
    recorded_by uuid,
    PRIMARY KEY (visit_id, task)
);

-- Who is assigned to a visit now.
CREATE TABLE visit_assignments (
    visit_id    uuid NOT NULL REFERENCES visits (id) ON DELETE CASCADE,
    carer_id    uuid NOT NULL REFERENCES users (id),
    assigned_at timestamptz NOT NULL DEFAULT now(),
    assigned_by uuid,
    PRIMARY KEY (visit_id, carer_id)
);
CREATE INDEX visit_assignments_carer_idx ON visit_assignments (carer_id, visit_id);

-- Every change to a visit's assignment, by whom and why (the audit log has the request's side).
CREATE TABLE visit_assignment_changes (
    id         bigserial PRIMARY KEY,
    visit_id   uuid NOT NULL REFERENCES visits (id) ON DELETE CASCADE,
    action     text NOT NULL CHECK (action IN ('assigned', 'unassigned')),
    carer_id   uuid NOT NULL,
    actor_kind text NOT NULL CHECK (actor_kind IN ('user', 'api_key', 'system')),
    actor_id   uuid,
    actor_name text NOT NULL DEFAULT '',
    reason     text NOT NULL DEFAULT '',
    at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX visit_assignment_changes_visit_idx ON visit_assignment_changes (visit_id, id);

-- Every check-in and check-out, accepted or not: a tag tapped at the door reader, a carer's phone, or a
-- coordinator's manual entry. Nothing is dropped: a tag of nobody, a tap at a home the carer is not
-- assigned to, a phone outside the geofence are all kept, flagged. event_time is when it happened (the
-- reader's or phone's clock), arrival_time when this backend heard of it (an offline phone sends late).
CREATE TABLE visit_events (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    visit_id        uuid REFERENCES visits (id) ON DELETE CASCADE,   -- NULL: matched no visit
    home_id         uuid NOT NULL REFERENCES homes (id) ON DELETE CASCADE,
    organisation_id uuid NOT NULL REFERENCES organisations (id),
    carer_id        uuid REFERENCES users (id),                       -- NULL: a tag of nobody
    kind            text NOT NULL CHECK (kind IN ('check_in', 'check_out')),
    method          text NOT NULL CHECK (method IN ('tag', 'phone', 'manual')),
    event_time      timestamptz NOT NULL,
    arrival_time    timestamptz NOT NULL,
    -- A phone's fix, taken only at check-in and check-out (never a trail), and its distance to the home.
    latitude        double precision CHECK (latitude BETWEEN -90 AND 90),
    longitude       double precision CHECK (longitude BETWEEN -180 AND 180),
    accuracy_m      double precision CHECK (accuracy_m >= 0),
    distance_m      double precision,
    flags           text[] NOT NULL DEFAULT '{}' CHECK (flags <@ ARRAY[
                        'wrong_home', 'outside_geofence', 'manual', 'late_arrival', 'unknown_tag',
                        'no_visit', 'not_assigned', 'no_fix', 'poor_accuracy', 'superseded']),
    -- Whether it counts as the visit's check-in or check-out (visits.checked_in_at / checked_out_at).
    accepted        boolean NOT NULL,
    reason          text NOT NULL DEFAULT '' CHECK (length(reason) <= 500),   -- a manual entry's reason
    -- A tag: the reading it came from (one event per reading, however often it is read again).
    tag_id          text,
    device_id       uuid,
    reading_seq     bigint,
    actor_kind      text NOT NULL CHECK (actor_kind IN ('user', 'api_key', 'system', 'device')),
    actor_id        uuid,
    actor_name      text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX visit_events_reading_key ON visit_events (device_id, reading_seq)
    WHERE device_id IS NOT NULL;
CREATE INDEX visit_events_visit_idx ON visit_events (visit_id, event_time);
CREATE INDEX visit_events_home_time_idx ON visit_events (home_id, event_time);
CREATE INDEX visit_events_carer_time_idx ON visit_events (carer_id, event_time);

-- The verification log's verdict per visit (computed by the verification job from the home's sensors).
CREATE TABLE visit_verifications (
    visit_id    uuid PRIMARY KEY REFERENCES visits (id) ON DELETE CASCADE,
    verdict     text NOT NULL CHECK (verdict IN ('verified', 'verified_with_exceptions', 'unverified', 'missed')),
    reasons     jsonb NOT NULL DEFAULT '[]',     -- plain words, one string per reason
    evidence    jsonb NOT NULL DEFAULT '{}',     -- what the home saw, and what it could not
    computed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX visit_verifications_verdict_idx ON visit_verifications (verdict, visit_id);

-- Where the visits' jobs are in the ingest batch log (ingest.handoff.BatchCursor), by job name.
CREATE TABLE visit_cursors (
    name       text PRIMARY KEY,
    batch_low  bigint NOT NULL DEFAULT 0,
    batch_seen bigint[] NOT NULL DEFAULT '{}',
    updated_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO alert_kinds (kind, default_severity, description) VALUES
    ('visit_late',        'medium', 'nobody has checked in to a visit some minutes after its planned start'),
    ('visit_missed',      'high',   'nobody checked in to a visit by the end of its window'),
    ('visit_short',       'medium', 'a visit was checked out well short of its planned time'),
    ('visit_no_checkout', 'medium', 'a carer is still checked in long after the visit''s planned end'),
    ('visit_wrong_home',  'high',   'a carer checked in at a home they are not assigned to'),
    ('visit_outside_geofence', 'medium', 'a phone check-in or check-out was made away from the home'),
    ('carer_two_homes',   'high',   'one carer is checked in at two homes at once'),
    ('visit_unverified',  'high',   'the home''s sensors contradict a visit''s check-in');
