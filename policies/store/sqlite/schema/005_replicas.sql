-- Replicas: each serve process has a random id and beats its heart here;
-- a run records the replica that runs it (owner). The lease holder marks
-- interrupted only the runs whose owner stopped beating, so a replica never
-- interrupts what a live one is executing. A queued run's owner is the
-- replica whose worker will take it; others take it over once that owner
-- is gone or the run has waited too long.

ALTER TABLE runs ADD COLUMN owner TEXT NOT NULL DEFAULT '';

CREATE TABLE replicas (
	id           TEXT PRIMARY KEY,
	started_at   INTEGER NOT NULL, -- unix nanoseconds
	heartbeat_at INTEGER NOT NULL
) WITHOUT ROWID;
