// The console's overview counts inspections of a period across every programme (graph/console.py OVERVIEW):
// a range on the date alone, which V0016's (programme, date) index does not serve.
CREATE INDEX inspection_date IF NOT EXISTS FOR (n:Inspection) ON (n.date);
