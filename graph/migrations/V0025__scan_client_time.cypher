// A client's last scan of a code is looked up by client and time: the scan writer asks only for the last 30 minutes
// (a repeat window), so a composite index (fp, time) reads that client's recent scans alone, where the fp index read
// every scan the client ever made (a shop's Wi-Fi or an office proxy is one client to us, for months). It serves a
// lookup by fp alone as well, so the older index goes.
CREATE INDEX scan_fp_time IF NOT EXISTS FOR (n:Scan) ON (n.fp, n.time);
DROP INDEX scan_fp IF EXISTS;
