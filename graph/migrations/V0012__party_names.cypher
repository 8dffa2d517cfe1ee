// The workbench's ship page lists receivers by Chinese name, the first few hundred (graph/workbench.RECEIVERS):
// in name order from this index, the list stops after them instead of sorting every party of the province.
CREATE INDEX party_name_zh IF NOT EXISTS FOR (n:Party) ON (n.name_zh);
