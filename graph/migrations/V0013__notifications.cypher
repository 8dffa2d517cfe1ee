// Recall notifications (graph/outbox.py): one Notification per holder, channel and notice, keyed by its delivery ID
// (the ID a receiver de-duplicates on: the same on every retry). The worker claims what is due by state and time.
CREATE CONSTRAINT notification_delivery_id IF NOT EXISTS FOR (n:Notification) REQUIRE n.delivery_id IS UNIQUE;
CREATE INDEX notification_due IF NOT EXISTS FOR (n:Notification) ON (n.state, n.next_at);
CREATE INDEX notification_recall IF NOT EXISTS FOR (n:Notification) ON (n.recall_id);
// One-time acknowledgement links: found by the SHA-256 of the token the message carries (the token is not stored).
CREATE CONSTRAINT ack_link_hash IF NOT EXISTS FOR (n:AckLink) REQUIRE n.token_hash IS UNIQUE;
CREATE CONSTRAINT ack_link_id IF NOT EXISTS FOR (n:AckLink) REQUIRE n.link_id IS UNIQUE;
// A party's webhook endpoint (at most one per party).
CREATE CONSTRAINT webhook_party IF NOT EXISTS FOR (n:Webhook) REQUIRE n.party_gln IS UNIQUE;
