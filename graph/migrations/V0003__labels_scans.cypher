// Labels and scans: print runs of signed item serials, and the consumer scans of printed codes.
CREATE CONSTRAINT print_run_id IF NOT EXISTS FOR (n:PrintRun) REQUIRE n.run_id IS UNIQUE;
CREATE CONSTRAINT scan_id IF NOT EXISTS FOR (n:Scan) REQUIRE n.scan_id IS UNIQUE;
// The brand owner's report looks up forged-serial scans and flagged items of one product.
CREATE INDEX scan_gtin_verdict IF NOT EXISTS FOR (n:Scan) ON (n.gtin, n.verdict);
CREATE INDEX scan_time IF NOT EXISTS FOR (n:Scan) ON (n.time);
CREATE INDEX item_suspect IF NOT EXISTS FOR (n:Item) ON (n.gtin, n.suspect_reason);
