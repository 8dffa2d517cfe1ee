// 承诺达标合格证 (graph/commitments.py): each certificate is found by its number, unique across the service; numbers
// are drawn from one counter per issue day (HGZ-yyyymmdd-n), itself unique by day so two first issues of a day
// cannot make two counters.
CREATE CONSTRAINT commitment_number IF NOT EXISTS FOR (n:CommitmentCertificate) REQUIRE n.number IS UNIQUE;
CREATE CONSTRAINT commitment_counter_day IF NOT EXISTS FOR (n:CommitmentCounter) REQUIRE n.day IS UNIQUE;
