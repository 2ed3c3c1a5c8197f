-- Work: approvals and votes, the run journal, rate-limit uses, scheduler
-- and alarm state, follow-ups.

CREATE TABLE runs (
	seq         INTEGER PRIMARY KEY AUTOINCREMENT,
	state       TEXT NOT NULL CHECK (state IN
	            ('requested','queued','running','succeeded','failed','interrupted','cancelled')),
	app         TEXT NOT NULL,
	task        TEXT NOT NULL,
	params      TEXT NOT NULL,    -- JSON object
	principal   TEXT NOT NULL,
	handle      TEXT NOT NULL,
	platform    TEXT NOT NULL,
	channel     TEXT NOT NULL,
	effect      TEXT NOT NULL,
	rule_id     TEXT NOT NULL,
	reason      TEXT NOT NULL,
	approvers   TEXT NOT NULL,    -- JSON array of principals who approved
	approval_id TEXT NOT NULL DEFAULT '',
	dry_run     INTEGER NOT NULL DEFAULT 0,
	request     BLOB,
	summary     TEXT NOT NULL DEFAULT '',
	result      TEXT NOT NULL DEFAULT '',
	message_ref TEXT NOT NULL DEFAULT '',
	created_at  INTEGER NOT NULL,
	started_at  INTEGER,
	finished_at INTEGER,
	updated_at  INTEGER NOT NULL
);
CREATE INDEX runs_state ON runs(state);
CREATE INDEX runs_app ON runs(app, seq);

CREATE TABLE approvals (
	id               TEXT PRIMARY KEY,
	state            TEXT NOT NULL CHECK (state IN
	                 ('pending','approved','denied','expired','cancelled')),
	app              TEXT NOT NULL,
	task             TEXT NOT NULL,
	params           TEXT NOT NULL,   -- JSON object
	params_hash      TEXT NOT NULL,
	requester        TEXT NOT NULL,
	requester_handle TEXT NOT NULL,
	channel          TEXT NOT NULL,
	platform         TEXT NOT NULL,
	rule_id          TEXT NOT NULL,
	approvers        TEXT NOT NULL,   -- JSON array: who may approve
	quorum           INTEGER NOT NULL CHECK (quorum >= 1),
	request          BLOB,
	message_ref      TEXT NOT NULL DEFAULT '',
	run_id           TEXT NOT NULL DEFAULT '',
	created_at       INTEGER NOT NULL,
	expires_at       INTEGER NOT NULL,
	decided_at       INTEGER,
	decided_by       TEXT NOT NULL DEFAULT ''
);
CREATE INDEX approvals_pending ON approvals(state, expires_at);

CREATE TABLE approval_votes (
	approval_id TEXT NOT NULL REFERENCES approvals(id),
	voter       TEXT NOT NULL,
	voter_key   TEXT NOT NULL,   -- handle if known, else principal: one vote per person
	approve     INTEGER NOT NULL,
	at          INTEGER NOT NULL,
	PRIMARY KEY (approval_id, voter_key)
);

CREATE TABLE rule_uses (
	rule_id   TEXT NOT NULL,
	principal TEXT NOT NULL,
	at        INTEGER NOT NULL
);
CREATE INDEX rule_uses_principal ON rule_uses(principal, at);

CREATE TABLE schedule_state (
	key      TEXT PRIMARY KEY,
	last_run INTEGER NOT NULL
);

CREATE TABLE alarm_state (
	alarm       TEXT PRIMARY KEY,
	state       TEXT NOT NULL,
	message_ref TEXT NOT NULL,
	updated_at  INTEGER NOT NULL
);

CREATE TABLE follow_ups (
	id         INTEGER PRIMARY KEY AUTOINCREMENT,
	app        TEXT NOT NULL,
	action     TEXT NOT NULL,
	vals       TEXT NOT NULL,    -- JSON
	reason     TEXT NOT NULL,
	due_at     INTEGER NOT NULL,
	run_id     TEXT NOT NULL,
	created_at INTEGER NOT NULL,
	claimed_at INTEGER
);
CREATE INDEX follow_ups_due ON follow_ups(claimed_at, due_at);
