"""Quality records: lab inspections of lots (with their EPCIS inspecting event) and certificates."""

from __future__ import annotations

import json
from typing import LiteralString

from graph import audit as audit_trail
from graph import events, risk
from graph.alert_rules import HAZARD_CLUSTER_DAYS, HAZARD_CLUSTER_N, failed_hazards
from graph.driver import Graph, tx_rows
from graph.errors import NotFound, RuleViolation
from graph.supervision_rules import classify
from gs1.epcis import NormalizedEvent
from gs1.identifiers import lot_key

CERTIFICATE_TYPES = ("green_food", "organic", "gi", "gap", "climate_quality")


_INSPECTION_FACTS: LiteralString = """
OPTIONAL MATCH (l:Lot {key: $lot_key})
OPTIONAL MATCH (lab:Party {gln: $lab_gln})
OPTIONAL MATCH (p:Product {gtin: l.gtin})
OPTIONAL MATCH (o:Party {gln: l.owner_gln})
RETURN l IS NOT NULL AS lot_found, lab IS NOT NULL AS lab_found, p.category AS category, l.owner_gln AS owner_gln,
       o.region_code AS owner_region
"""

_CREATE_INSPECTION: LiteralString = """
MATCH (l:Lot {key: $p.lot_key})
MATCH (lab:Party {gln: $p.lab_gln})
CREATE (i:Inspection {key: $p.key, report_no: $p.report_no, sample_id: $p.sample_id, date: date($p.date),
                      standard: $p.standard, verdict: $p.verdict, results: $p.results,
                      report_sha256: $p.report_sha256, event_id: $event_id, created_at: datetime(),
                      lab_gln: $p.lab_gln, failed_hazards: $failed_hazards})
SET i += $c
CREATE (i)-[:OF_LOT]->(l)
CREATE (lab)-[:PERFORMED]->(i)
RETURN i.key AS key
"""


def record_inspection(graph: Graph, inspection: dict, event: NormalizedEvent, policy: events.Policy,
                      rules: dict | None = None) -> dict:
    """Store an inspection of a lot and its EPCIS inspecting event in one transaction, with the rules it triggers.

    The inspection is classified as it is stored (supervision_rules.classify: programme, sampling body, hazard,
    product category, region codes at three levels, the lot's owner). A failed inspection holds the lot and its
    downstream lots and raises its alerts in the same transaction (graph/risk.on_failed_inspection): the record
    never shows a failure that did not hold its lots.

    Args:
        graph: the database.
        inspection: lab_gln, gtin, lot, report_no, sample_id, date (ISO), standard, verdict, results (list), and
            optionally report_sha256 (the report PDF's SHA-256, stored outside the database by its hash),
            programme, sampling_body, region_code, hazard, category.
        event: the normalised inspecting ObjectEvent (event_id set).
        policy: the lab's write rules.
        rules: hazard_cluster_n and hazard_cluster_days (graph/alert_rules.py's defaults otherwise).

    Returns:
        The inspection as sent, with key, event_id, its classification and, when it failed, ``held`` (the lots
        newly held) and ``alerts`` (the alert IDs raised or found).

    Raises:
        NotFound: the lot or the lab does not exist.
        Conflict: the lab recorded this report number already.
        RuleViolation: the event breaks a rule of the record.
        Forbidden: the token may not record the event.
    """
    params = {"report_sha256": None, **inspection, "key": f"{inspection['lab_gln']}:{inspection['report_no']}",
              "lot_key": lot_key(inspection["gtin"], inspection["lot"]),
              "results": json.dumps(inspection["results"], ensure_ascii=False)}
    params = {k: v for k, v in params.items()
              if k not in ("programme", "sampling_body", "region_code", "hazard", "category")}
    failed = failed_hazards(inspection["results"], inspection.get("hazard")) if inspection["verdict"] == "fail" \
        else []
    rules = rules or {}

    def work(tx):
        facts = tx_rows(tx, _INSPECTION_FACTS, lot_key=params["lot_key"], lab_gln=inspection["lab_gln"])[0]
        if not facts["lot_found"] or not facts["lab_found"]:
            return facts, None, None
        classified = classify(inspection, facts)
        tx_rows(tx, _CREATE_INSPECTION, p=params, c={k: v for k, v in classified.items() if v is not None},
                event_id=event.event_id, failed_hazards=failed)
        job = events.CaptureJob(events.new_capture_id(), event_count=1)
        events.capture_tx(tx, [(0, event)], policy, job)
        events.raise_first_error(job)
        outcome = None
        if inspection["verdict"] == "fail":
            outcome = risk.on_failed_inspection(
                tx, {"key": params["key"], "report_no": inspection["report_no"], "lab_gln": inspection["lab_gln"],
                     "lot_key": params["lot_key"], "date": inspection["date"], "failed_hazards": failed,
                     "county_code": classified["county_code"], "region_code": classified["region_code"]},
                cluster_n=rules.get("hazard_cluster_n", HAZARD_CLUSTER_N),
                cluster_days=rules.get("hazard_cluster_days", HAZARD_CLUSTER_DAYS))
        return facts, classified, outcome

    facts, classified, outcome = graph.write(work)
    if classified is None:
        if not facts["lot_found"]:
            raise NotFound(f"no lot {inspection['lot']} of GTIN {inspection['gtin']}", field="lot")
        raise NotFound(f"no lab party with GLN {inspection['lab_gln']}", field="lab_gln")
    out = {**inspection, **classified, "key": params["key"], "event_id": event.event_id, "failed_hazards": failed}
    if outcome is not None:
        out["held"], out["alerts"] = outcome["held"], outcome["alerts"]
    return out


def report_referenced(graph: Graph, sha256: str) -> bool:
    """Return whether an inspection cites the report PDF with this SHA-256 (only those are served)."""
    rows = graph.query("RETURN EXISTS { MATCH (i:Inspection {report_sha256: $sha}) } AS found", read=True,
                       sha=sha256)
    return bool(rows and rows[0]["found"])


def lab_inspections(graph: Graph, lab_gln: str, limit: int = 20) -> list[dict]:
    """Return a lab's latest inspections (newest first): report, date, verdict, lot and report PDF hash.

    Args:
        graph: the database.
        lab_gln: the lab.
        limit: at most this many.
    """
    return graph.query(
        """
        MATCH (:Party {gln: $gln})-[:PERFORMED]->(i:Inspection)-[:OF_LOT]->(l:Lot)
        OPTIONAL MATCH (l)-[:OF_PRODUCT]->(p:Product)
        RETURN i.report_no AS report_no, toString(i.date) AS date, i.verdict AS verdict, l.gtin AS gtin,
               l.lot AS lot, i.report_sha256 AS report_sha256, p.name_zh AS name_zh, p.name_en AS name_en
        ORDER BY i.created_at DESC LIMIT $limit
        """,
        read=True, gln=lab_gln, limit=limit,
    )


def party_roles(graph: Graph, gln: str) -> list[str] | None:
    """Return a party's roles, or None when there is no such party."""
    rows = graph.query("MATCH (p:Party {gln: $gln}) RETURN p.roles AS roles", read=True, gln=gln)
    return (rows[0]["roles"] or []) if rows else None


def record_certificate(graph: Graph, certificate: dict) -> dict:
    """Store a certificate issued to a party, a product or a lot.

    Args:
        graph: the database.
        certificate: type, number, issuer_gln, valid_from, valid_until (ISO dates) and the subject: party_gln,
            or gtin (product), or gtin and lot.

    Raises:
        NotFound: the subject or the issuer does not exist.
        Conflict: the issuer recorded this certificate number already.
        RuleViolation: valid_until before valid_from.
    """
    if certificate["valid_until"] < certificate["valid_from"]:
        raise RuleViolation("valid_until is before valid_from", field="valid_until")
    params = {**certificate, "key": f"{certificate['issuer_gln']}:{certificate['number']}",
              "lot_key": lot_key(certificate.get("gtin"), certificate["lot"]) if certificate.get("lot") else None}
    rows = graph.query(
        """
        OPTIONAL MATCH (issuer:Party {gln: $p.issuer_gln})
        CALL () {
            OPTIONAL MATCH (s:Lot {key: $p.lot_key}) WHERE $p.lot_key IS NOT NULL RETURN s
            UNION
            OPTIONAL MATCH (s:Product {gtin: $p.gtin}) WHERE $p.lot_key IS NULL AND $p.gtin IS NOT NULL RETURN s
            UNION
            OPTIONAL MATCH (s:Party {gln: $p.party_gln}) WHERE $p.party_gln IS NOT NULL RETURN s
        }
        WITH issuer, s WHERE s IS NOT NULL
        CALL (issuer, s) {
            WITH issuer, s WHERE issuer IS NOT NULL
            CREATE (c:Certificate {key: $p.key, type: $p.type, number: $p.number, issuer: $p.issuer_gln,
                                   valid_from: date($p.valid_from), valid_until: date($p.valid_until),
                                   created_at: datetime()})
            CREATE (c)-[:CERTIFIES]->(s)
            RETURN c
        }
        RETURN issuer IS NOT NULL AS issuer_found, c.key AS key
        """,
        p=params,
    )
    if not rows:
        raise NotFound("the certified party, product or lot does not exist", field="subject")
    if not rows[0]["issuer_found"]:
        raise NotFound(f"no party with GLN {certificate['issuer_gln']}", field="issuer_gln")
    return {**certificate, "key": params["key"]}


_RECLASSIFY_FACTS: LiteralString = """
MATCH (i:Inspection {key: $key})-[:OF_LOT]->(l:Lot)
OPTIONAL MATCH (p:Product {gtin: l.gtin})
OPTIONAL MATCH (o:Party {gln: l.owner_gln})
RETURN i.verdict AS verdict, i.results AS results, i.report_no AS report_no, i.lab_gln AS lab_gln,
       toString(i.date) AS date, l.key AS lot_key, p.category AS category, l.owner_gln AS owner_gln,
       o.region_code AS owner_region
"""

_RECLASSIFY: LiteralString = """
MATCH (i:Inspection {key: $key})
SET i += $c, i.failed_hazards = $failed_hazards
"""


def classify_inspection(graph: Graph, key: str, classification: dict, by: str, rules: dict | None = None,
                        audit: tuple[dict, bytes] | None = None) -> dict:
    """Give a recorded inspection its programme, sampling body, region and hazard (a correction), with its audit entry.

    Inspections recorded before they carried a classification, or recorded without one, are put right here; a
    failed one then gets what a failure gets when it is recorded (holds and alerts, each at most once: the alert's
    dedupe key is the inspection's).

    Args:
        graph: the database.
        key: the inspection's key (lab GLN:report number).
        classification: programme, sampling_body, region_code, hazard (as InspectionIn takes them).
        by: who (principal id), kept in the audit entry's detail (the inspection keeps what it is, not who
            classified it: the trail does).
        rules: hazard_cluster_n and hazard_cluster_days.
        audit: the request's audit entry and key, appended in the same transaction.

    Returns:
        The classification stored, and ``held``/``alerts`` for a failed inspection.

    Raises:
        NotFound: no such inspection.
    """
    rules = rules or {}

    def work(tx):
        rows = tx_rows(tx, _RECLASSIFY_FACTS, key=key)
        if not rows:
            raise NotFound(f"no inspection {key}", field="key")
        facts = rows[0]
        classified = classify(classification, facts)
        results = json.loads(facts["results"]) if facts["results"] else []
        failed = failed_hazards(results, classification.get("hazard")) if facts["verdict"] == "fail" else []
        tx_rows(tx, _RECLASSIFY, key=key, c={k: v for k, v in classified.items() if v is not None},
                failed_hazards=failed)
        out = {**classified, "key": key, "verdict": facts["verdict"], "failed_hazards": failed}
        if facts["verdict"] == "fail":
            outcome = risk.on_failed_inspection(
                tx, {"key": key, "report_no": facts["report_no"], "lab_gln": facts["lab_gln"],
                     "lot_key": facts["lot_key"], "date": facts["date"], "failed_hazards": failed,
                     "county_code": classified["county_code"], "region_code": classified["region_code"]},
                cluster_n=rules.get("hazard_cluster_n", HAZARD_CLUSTER_N),
                cluster_days=rules.get("hazard_cluster_days", HAZARD_CLUSTER_DAYS))
            out["held"], out["alerts"] = outcome["held"], outcome["alerts"]
        if audit is not None:
            entry, audit_key = audit
            out["audit_seq"] = audit_trail.append_tx(
                tx, {**entry, "detail": json.dumps({"inspection": key, "by": by})}, audit_key)
        return out

    return graph.write(work)
