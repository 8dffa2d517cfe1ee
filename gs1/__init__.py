"""GS1 identifiers and EPCIS 2.0 processing for TraceGraph; pure Python (no Flask, no Neo4j).

Modules: ``keys`` (check digits, AI 10/21 values), ``digital_link`` (GS1 Digital Link URIs), ``identifiers``
(EPC URN / Digital Link -> ``Ref`` with a graph business key), ``epcis`` (document -> ``NormalizedEvent``),
``event_hash`` (CBV 2.0 event hash ID), ``schema`` (EPCIS JSON schema validation), ``errors``.
"""
