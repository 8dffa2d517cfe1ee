// EPCIS query subscriptions (graph/subscriptions.py, docs/subscriptions.md): one Subscription per subscriber and
// named query, found by its ID; the worker claims scheduled ones by when they are due. A SubscriptionFeed is written
// in a capture's own transaction while any stream subscription exists (the captured eventIDs), and deleted once the
// worker has written the stream documents it gives rise to into the outbox (Notification with channel 'epcis').
CREATE CONSTRAINT subscription_id IF NOT EXISTS FOR (s:Subscription) REQUIRE s.subscription_id IS UNIQUE;
CREATE INDEX subscription_due IF NOT EXISTS FOR (s:Subscription) ON (s.stream, s.next_run);
CREATE CONSTRAINT subscription_feed_id IF NOT EXISTS FOR (f:SubscriptionFeed) REQUIRE f.feed_id IS UNIQUE;
CREATE INDEX subscription_feed_created IF NOT EXISTS FOR (f:SubscriptionFeed) ON (f.created_at);
CREATE INDEX notification_subscription IF NOT EXISTS FOR (n:Notification) ON (n.subscription_id);
CREATE INDEX subscription_token IF NOT EXISTS FOR (s:Subscription) ON (s.token_id);
