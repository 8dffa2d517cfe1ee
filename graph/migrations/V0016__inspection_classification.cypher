// Inspections carry their classification (graph/supervision_rules.classify, issue 15): programme, product category,
// region codes at three levels, the lot owner and the lab. Lists and pass rates filter on them; the hazard-cluster
// rule counts failures by county; a party's own view filters by owner or lab.
CREATE INDEX inspection_date IF NOT EXISTS FOR (n:Inspection) ON (n.date);
CREATE INDEX inspection_programme_date IF NOT EXISTS FOR (n:Inspection) ON (n.programme, n.date);
CREATE INDEX inspection_county_verdict IF NOT EXISTS FOR (n:Inspection) ON (n.county_code, n.verdict);
CREATE INDEX inspection_region IF NOT EXISTS FOR (n:Inspection) ON (n.region_code);
CREATE INDEX inspection_owner IF NOT EXISTS FOR (n:Inspection) ON (n.owner_gln);
CREATE INDEX inspection_lab IF NOT EXISTS FOR (n:Inspection) ON (n.lab_gln);
// Inspections recorded before: a lab's own test (no programme was asked for), the product's category, the lot
// owner's region. Their failed hazards are not derived (the results are JSON text); the cluster rule skips them.
MATCH (lab:Party)-[:PERFORMED]->(i:Inspection)-[:OF_LOT]->(l:Lot)
WHERE i.programme IS NULL
OPTIONAL MATCH (p:Product {gtin: l.gtin})
OPTIONAL MATCH (o:Party {gln: l.owner_gln})
WITH i, lab, l, p, CASE WHEN o.region_code =~ '[0-9]{6}' THEN o.region_code END AS code
SET i.programme = 'commissioned_test', i.lab_gln = lab.gln, i.owner_gln = l.owner_gln,
    i.category = coalesce(p.category, 'other'), i.region_code = code,
    i.province_code = CASE WHEN code IS NOT NULL THEN left(code, 2) + '0000' END,
    i.city_code = CASE WHEN code IS NOT NULL AND substring(code, 2, 2) <> '00' THEN left(code, 4) + '00' END,
    i.county_code = CASE WHEN code IS NOT NULL AND substring(code, 4, 2) <> '00' THEN code END;
