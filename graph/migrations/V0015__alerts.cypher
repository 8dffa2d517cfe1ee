// Risk warnings (graph/alerts.py): an alert is found by its ID; a rule raises at most one alert per dedupe key
// (MERGE on this constraint is what makes raising idempotent and safe when two writers race). Lists filter by
// state and sort by when the alert was raised.
CREATE CONSTRAINT alert_id IF NOT EXISTS FOR (n:Alert) REQUIRE n.alert_id IS UNIQUE;
CREATE CONSTRAINT alert_dedupe_key IF NOT EXISTS FOR (n:Alert) REQUIRE n.dedupe_key IS UNIQUE;
CREATE INDEX alert_state_raised IF NOT EXISTS FOR (n:Alert) ON (n.state, n.raised_at);
CREATE INDEX alert_raised IF NOT EXISTS FOR (n:Alert) ON (n.raised_at);
// each change of an alert's state or owner, found by its ID when a backup is restored
CREATE CONSTRAINT alert_change_id IF NOT EXISTS FOR (n:AlertChange) REQUIRE n.change_id IS UNIQUE;
