"""Label production: GS1 Digital Link URIs, signed serials and QR label rendering.

Pure data -> bytes in memory; imports neither Flask nor Neo4j.
"""
