// Capture: the EPCIS query filters and capture job listings that do not match a key. Few on Event on purpose:
// every index there is paid for by every captured event.
CREATE INDEX event_read_point IF NOT EXISTS FOR (n:Event) ON (n.read_point);
CREATE INDEX event_biz_location IF NOT EXISTS FOR (n:Event) ON (n.biz_location);
CREATE INDEX capture_created IF NOT EXISTS FOR (n:Capture) ON (n.created_at);
CREATE INDEX capture_warning_count IF NOT EXISTS FOR (n:Capture) ON (n.warning_count);
CREATE INDEX item_lot IF NOT EXISTS FOR (n:Item) ON (n.lot);
