// Uniqueness on every business key. Community edition: property uniqueness only
// (existence and node-key constraints are Enterprise; the app validates presence).
CREATE CONSTRAINT party_gln IF NOT EXISTS FOR (n:Party) REQUIRE n.gln IS UNIQUE;
CREATE CONSTRAINT location_key IF NOT EXISTS FOR (n:Location) REQUIRE n.key IS UNIQUE;
CREATE CONSTRAINT product_gtin IF NOT EXISTS FOR (n:Product) REQUIRE n.gtin IS UNIQUE;
CREATE CONSTRAINT lot_key IF NOT EXISTS FOR (n:Lot) REQUIRE n.key IS UNIQUE;
CREATE CONSTRAINT item_key IF NOT EXISTS FOR (n:Item) REQUIRE n.key IS UNIQUE;
CREATE CONSTRAINT logistic_unit_key IF NOT EXISTS FOR (n:LogisticUnit) REQUIRE n.key IS UNIQUE;
CREATE CONSTRAINT other_object_key IF NOT EXISTS FOR (n:OtherObject) REQUIRE n.key IS UNIQUE;
CREATE CONSTRAINT event_id IF NOT EXISTS FOR (n:Event) REQUIRE n.event_id IS UNIQUE;
CREATE CONSTRAINT capture_id IF NOT EXISTS FOR (n:Capture) REQUIRE n.capture_id IS UNIQUE;
CREATE CONSTRAINT inspection_key IF NOT EXISTS FOR (n:Inspection) REQUIRE n.key IS UNIQUE;
CREATE CONSTRAINT certificate_key IF NOT EXISTS FOR (n:Certificate) REQUIRE n.key IS UNIQUE;
CREATE CONSTRAINT token_id IF NOT EXISTS FOR (n:Token) REQUIRE n.token_id IS UNIQUE;
CREATE CONSTRAINT token_hash IF NOT EXISTS FOR (n:Token) REQUIRE n.hash IS UNIQUE;
CREATE CONSTRAINT recall_id IF NOT EXISTS FOR (n:Recall) REQUIRE n.recall_id IS UNIQUE;
CREATE CONSTRAINT migration_version IF NOT EXISTS FOR (n:Migration) REQUIRE n.version IS UNIQUE;
// Lookups that filter rather than match a key.
CREATE INDEX event_time IF NOT EXISTS FOR (n:Event) ON (n.event_time);
CREATE INDEX event_record_time IF NOT EXISTS FOR (n:Event) ON (n.record_time);
CREATE INDEX event_biz_step IF NOT EXISTS FOR (n:Event) ON (n.biz_step);
CREATE INDEX lot_gtin IF NOT EXISTS FOR (n:Lot) ON (n.gtin);
CREATE INDEX lot_status IF NOT EXISTS FOR (n:Lot) ON (n.status);
CREATE INDEX item_gtin IF NOT EXISTS FOR (n:Item) ON (n.gtin);
