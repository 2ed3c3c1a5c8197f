-- Seen requests: the replay memory of the chat adapters. A signed request
-- (a Slack signature, a Discord interaction id) is remembered until its
-- timestamp can no longer pass the freshness check, so a captured request
-- replayed within that window is refused even after a restart, and one
-- delivered to several replicas is served by one.

CREATE TABLE seen_requests (
	key   TEXT PRIMARY KEY,
	until BIGINT NOT NULL
);

CREATE INDEX seen_requests_until ON seen_requests (until);
