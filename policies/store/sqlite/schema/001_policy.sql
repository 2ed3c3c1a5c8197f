-- Policy: rules, identities, groups, freezes and the audit log.

-- meta holds counters; policy_version is bumped by every change to rules,
-- users or groups so that every process sharing the file can tell cheaply
-- whether its compiled rule set is stale.
CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value INTEGER NOT NULL
);
INSERT INTO meta (key, value) VALUES ('policy_version', 0);

-- One row per rule; the body is the JSON of policies.Rule so the store does
-- not depend on the rule's fields.
CREATE TABLE rules (
	id         TEXT PRIMARY KEY,
	position   INTEGER NOT NULL,
	body       TEXT NOT NULL,
	created_by TEXT NOT NULL,
	updated_at INTEGER NOT NULL
);

-- users maps a person's handle to their chat identities (principals).
CREATE TABLE users (
	handle TEXT PRIMARY KEY
);
CREATE TABLE user_principals (
	principal TEXT PRIMARY KEY,
	handle    TEXT NOT NULL REFERENCES users(handle) ON DELETE CASCADE,
	position  INTEGER NOT NULL
);
CREATE INDEX user_principals_handle ON user_principals(handle, position);

CREATE TABLE groups (
	name TEXT PRIMARY KEY
);
CREATE TABLE group_members (
	grp      TEXT NOT NULL REFERENCES groups(name) ON DELETE CASCADE,
	member   TEXT NOT NULL,
	position INTEGER NOT NULL,
	PRIMARY KEY (grp, member)
);
CREATE INDEX group_members_member ON group_members(member);

CREATE TABLE freezes (
	app        TEXT PRIMARY KEY,
	frozen_by  TEXT NOT NULL,
	reason     TEXT NOT NULL,
	until      INTEGER,          -- unix nanoseconds; NULL: until unfrozen
	created_at INTEGER NOT NULL
);

-- The audit log is append-only: the triggers refuse UPDATE and DELETE so no
-- code path, present or future, can rewrite history.
CREATE TABLE audit (
	seq    INTEGER PRIMARY KEY AUTOINCREMENT,
	at     INTEGER NOT NULL,
	actor  TEXT NOT NULL,
	kind   TEXT NOT NULL,
	app    TEXT NOT NULL DEFAULT '',
	task   TEXT NOT NULL DEFAULT '',
	run_id TEXT NOT NULL DEFAULT '',
	detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_app ON audit(app, seq);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN
	SELECT RAISE(ABORT, 'audit log is append-only');
END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN
	SELECT RAISE(ABORT, 'audit log is append-only');
END;
