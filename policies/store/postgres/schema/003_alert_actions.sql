-- Alert actions: the remediations offered on one alert, with their
-- prefilled parameters.

CREATE TABLE alert_actions (
	id         TEXT PRIMARY KEY,
	app        TEXT NOT NULL,
	alarm      TEXT NOT NULL,
	actions    TEXT NOT NULL,
	created_at BIGINT NOT NULL
);
