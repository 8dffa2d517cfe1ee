// Capture: the EPCIS query filters and capture job listings that do not match a key.
CREATE INDEX event_type IF NOT EXISTS FOR (n:Event) ON (n.type);
CREATE INDEX event_disposition IF NOT EXISTS FOR (n:Event) ON (n.disposition);
CREATE INDEX event_read_point IF NOT EXISTS FOR (n:Event) ON (n.read_point);
CREATE INDEX event_biz_location IF NOT EXISTS FOR (n:Event) ON (n.biz_location);
CREATE INDEX event_capture IF NOT EXISTS FOR (n:Event) ON (n.capture_id);
CREATE INDEX capture_created IF NOT EXISTS FOR (n:Capture) ON (n.created_at);
CREATE INDEX capture_warning_count IF NOT EXISTS FOR (n:Capture) ON (n.warning_count);
CREATE INDEX item_lot IF NOT EXISTS FOR (n:Item) ON (n.lot);
