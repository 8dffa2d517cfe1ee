"""GS1 identifiers and EPCIS 2.0 processing for TraceGraph; pure Python (no Flask, no Neo4j).

The one home of identifiers: every layer builds keys and links here. Modules: ``keys`` (check digits, AI 10/21
values), ``digital_link`` (the GS1 base, building and parsing Digital Link URIs, element strings),
``identifiers`` (EPC URN / Digital Link -> ``Ref``; the graph's business keys: ``lot_key``, ``item_key``, ...),
``epcis`` (document -> ``NormalizedEvent``), ``structure`` (EPCIS 2.0 JSON structure), ``event_hash`` (CBV 2.0
event hash ID), ``schema`` (EPCIS JSON schema validation), ``timezones`` (China's UTC+8), ``errors``.
"""
