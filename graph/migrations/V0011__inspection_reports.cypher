// Labs' report PDFs are stored outside Neo4j by their SHA-256 (app/web/reports.py); the public route serves a file
// only when an inspection cites its hash: that lookup is by this index, not a scan of every inspection.
CREATE INDEX inspection_report_sha256 IF NOT EXISTS FOR (n:Inspection) ON (n.report_sha256);
