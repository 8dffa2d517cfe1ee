// Consumer reports (graph/consumer_reports.py): found by number; the queue filters by state and sorts by arrival;
// the per-phone and per-code daily limits count reports by keyed phone hash and by code since a time.
CREATE CONSTRAINT consumer_report_no IF NOT EXISTS FOR (n:ConsumerReport) REQUIRE n.report_no IS UNIQUE;
CREATE INDEX consumer_report_state_created IF NOT EXISTS FOR (n:ConsumerReport) ON (n.state, n.created_at);
CREATE INDEX consumer_report_phone IF NOT EXISTS FOR (n:ConsumerReport) ON (n.phone_digest, n.created_at);
CREATE INDEX consumer_report_code IF NOT EXISTS FOR (n:ConsumerReport) ON (n.code, n.created_at);
