"""Label production: what a printed GS1 label adds to a Digital Link, signed serials and QR label rendering.

Pure data -> bytes in memory; imports neither Flask nor Neo4j. URIs and element strings are built by gs1/.
"""
