// Scans are found by client (HMAC of address and User-Agent): a reload or language switch by the client that scanned
// the same code minutes before is not a new scan, and checking that reads only that client's few scans.
CREATE INDEX scan_fp IF NOT EXISTS FOR (n:Scan) ON (n.fp);
