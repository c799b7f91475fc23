-- Fleet scale (issue 17): a million devices each have their last_seen_at rewritten every few minutes.
-- No index holds last_seen_at any more, and pages keep room, so those updates are HOT (made in place on
-- the row's page, with no new index entry in every index of the table). The heartbeat check judged
-- each online row against its type's interval anyway, so the dropped index saved it little.
-- fillfactor applies to pages written from now on (VACUUM FULL rewrites an existing table).
DROP INDEX IF EXISTS device_health_online_idx;
ALTER TABLE device_health SET (fillfactor = 70);
