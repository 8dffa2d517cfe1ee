// The cases list (GET /api/v1/recalls): newest first, by opening time; a party's own cases by who opened them.
CREATE INDEX recall_opened_at IF NOT EXISTS FOR (n:Recall) ON (n.opened_at);
CREATE INDEX recall_opened_by_party IF NOT EXISTS FOR (n:Recall) ON (n.opened_by_party);
