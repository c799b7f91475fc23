-- What a device tells the detector beyond its type and room (issue 13): an explicit role (a replay
-- mapping's "front_door" for a contact in the porch; '' = implied by type and room), and whether it
-- sends only events. An event-only device declares no heartbeat, so its silence never takes it offline.
ALTER TABLE devices ADD COLUMN role text NOT NULL DEFAULT '';
ALTER TABLE devices ADD COLUMN event_only boolean NOT NULL DEFAULT false;
