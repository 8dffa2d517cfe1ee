"""Everything that talks to Neo4j: the driver, migrations and one named function per query.

No Flask here: the app calls these functions and maps graph.errors to HTTP.
"""
