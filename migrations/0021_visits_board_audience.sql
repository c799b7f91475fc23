-- Today's board in pages (issue 14): an organisation's visits of one local date in planned order, read a
-- page at a time from this index (the keyset is planned_start, id) and counted by live status from it
-- alone (status, planned_end and plan_id included), instead of sorting a window of planned starts.
-- It also gives the reports their range of local dates.
CREATE INDEX visits_organisation_day_idx ON visits (organisation_id, local_date, planned_start, id)
    INCLUDE (status, planned_end, plan_id);

-- Who each alert kind is for (issue 14: "coordinators get them; families get missed visits"): the
-- provider's people see every kind of their homes; a resident's family sees the kinds for everyone, which
-- of the visit alerts is only the missed visit (late, short, no check-out, wrong home, geofence, two
-- homes and unverified are the provider's working alerts about its carers).
ALTER TABLE alert_kinds ADD COLUMN audience text NOT NULL DEFAULT 'everyone'
    CHECK (audience IN ('everyone', 'provider'));
UPDATE alert_kinds SET audience = 'provider'
WHERE kind IN ('visit_late', 'visit_short', 'visit_no_checkout', 'visit_wrong_home', 'visit_outside_geofence',
               'carer_two_homes', 'visit_unverified');

-- What the reports read of a visit's accepted check-ins and check-outs, kept on the visit when its events
-- settle (visits.checkins.settle) so that a month's report is one pass over its visits instead of a
-- lookup of each visit's events: every flag they carry, and who checked in.
ALTER TABLE visits ADD COLUMN event_flags text[] NOT NULL DEFAULT '{}',
                   ADD COLUMN checked_in_by uuid[] NOT NULL DEFAULT '{}';
UPDATE visits v SET event_flags = COALESCE(e.flags, '{}'), checked_in_by = COALESCE(e.carers, '{}')
FROM (
    SELECT e.visit_id,
           array_agg(DISTINCT f) FILTER (WHERE f IS NOT NULL) AS flags,
           array_agg(DISTINCT e.carer_id) FILTER (WHERE e.kind = 'check_in' AND e.carer_id IS NOT NULL) AS carers
    FROM visit_events e LEFT JOIN LATERAL unnest(e.flags) f ON true
    WHERE e.accepted AND e.visit_id IS NOT NULL
    GROUP BY e.visit_id
) e
WHERE e.visit_id = v.id;

-- The flags of a visit's events, as every visit listing shows them: most events carry none, so the
-- flagged ones are a small index of their own.
CREATE INDEX visit_events_flagged_idx ON visit_events (visit_id) INCLUDE (flags) WHERE flags <> '{}';
