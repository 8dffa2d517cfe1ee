// EPCIS master data from capture documents' headers (epcisHeader.epcisMasterData): one node per vocabulary type and
// element id (uid), found by business key when a query answer's events name it.
CREATE CONSTRAINT master_data_uid IF NOT EXISTS FOR (n:MasterData) REQUIRE n.uid IS UNIQUE;
CREATE INDEX master_data_key IF NOT EXISTS FOR (n:MasterData) ON (n.key);
