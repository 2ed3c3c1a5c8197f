-- Alert actions: the remediations offered on one alert, with their
-- prefilled parameters. A button names them by the short id and an index,
-- since the values (alarm names up to 255 bytes) do not fit a button id.

CREATE TABLE alert_actions (
	id         TEXT PRIMARY KEY,
	app        TEXT NOT NULL,
	alarm      TEXT NOT NULL,
	actions    TEXT NOT NULL,    -- JSON array of {"task", "params"}
	created_at INTEGER NOT NULL
);
