// Recall cases (the recall_id constraint is in V0001): acknowledgements by ID, open cases by status.
CREATE CONSTRAINT recall_ack_id IF NOT EXISTS FOR (n:RecallAck) REQUIRE n.ack_id IS UNIQUE;
CREATE INDEX recall_status IF NOT EXISTS FOR (n:Recall) ON (n.status);
