-- Seen requests: the replay memory of the chat adapters. A signed request
-- (a Slack signature, a Discord interaction id) is remembered until its
-- timestamp can no longer pass the freshness check, so a captured request
-- replayed within that window is refused even after a restart.

CREATE TABLE seen_requests (
	key   TEXT PRIMARY KEY,
	until INTEGER NOT NULL  -- unix nanoseconds; the row may go after this
) WITHOUT ROWID;

CREATE INDEX seen_requests_until ON seen_requests (until);
