// EPCIS named queries (GET/POST /epcis/queries): one name per repository, as the REST binding addresses them.
CREATE CONSTRAINT named_query_name IF NOT EXISTS FOR (n:NamedQuery) REQUIRE n.name IS UNIQUE;
