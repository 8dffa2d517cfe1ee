"""承诺达标合格证: commitment certificates a producer issues for its own lots of edible farm products.

A certificate is a record of its own (``CommitmentCertificate``, numbered HGZ-yyyymmdd-nnnn from one counter per
issue day, the number unique by constraint V0010) linked to its lot (``FOR_LOT``), to the inspection its test basis
cites (``BASED_ON``), to the certificates of a mixed lot's inputs (``CITES``) and to its issuer (``ISSUED``).
Certificates are never changed or deleted here: the measures ask producers to keep them at least six months.

The rules (pure, unit-tested without a database in tests/web/test_commitments.py's rule tests):
- only the lot's owner issues (an admin may, for corrections);
- a commissioned test (委托检测) must cite a passing inspection of THAT lot from the lab records (graph/quality.py);
  a self-test (自我检测) must say what was tested and the result; internal quality control needs neither;
- a lot made by mixing (the output of a transformation) cites every certificate of its input lots, and is refused
  while an input of an edible farm product (every product category but ``other``) has none: the measures ask for a
  new certificate for a mixed lot, which can vouch only for inputs that were vouched for.
"""

from __future__ import annotations

import json
from datetime import date
from typing import LiteralString

from graph import audit as audit_trail
from graph import credit
from graph.driver import Graph, tx_rows
from graph.errors import Forbidden, NotFound, RuleViolation
from gs1.identifiers import lot_key

BASES = ("commissioned_test", "self_test", "quality_control")
# Product categories (app/schemas/products.py) that are edible farm products; "other" may be packaging or anything.
EDIBLE_CATEGORIES = frozenset({"ginseng", "rice", "paddy", "beef", "cattle", "deer_antler", "fungi"})
COMMITMENTS = (
    "不使用禁用农药兽药、停用兽药和非法添加物",
    "常规农药兽药残留不超标",
    "对承诺的真实性负责",
)
MAX_DETAIL = 200

_LOT_FACTS: LiteralString = """
MATCH (l:Lot {key: $key})
OPTIONAL MATCH (l)-[:OF_PRODUCT]->(p:Product)
OPTIONAL MATCH (owner:Party {gln: l.owner_gln})
OPTIONAL MATCH (owner)-[h:HOLDS]->(l)
CALL (l) {
    OPTIONAL MATCH (l)<-[:OF_LOT]-(i:Inspection)
    OPTIONAL MATCH (lab:Party)-[:PERFORMED]->(i)
    WITH i, lab ORDER BY i.date DESC
    RETURN collect(CASE WHEN i IS NULL THEN null ELSE
        {key: i.key, report_no: i.report_no, date: toString(i.date), verdict: i.verdict, standard: i.standard,
         lab_zh: lab.name_zh, lab_en: lab.name_en} END) AS inspections
}
CALL (l) {
    OPTIONAL MATCH (src)-[:TRANSFORMED_INTO]->(l)
    OPTIONAL MATCH (of:Lot)-[:HAS_ITEM]->(src) WHERE src:Item
    WITH DISTINCT coalesce(of, src) AS input
    WHERE input:Lot
    OPTIONAL MATCH (input)-[:OF_PRODUCT]->(ip:Product)
    OPTIONAL MATCH (c:CommitmentCertificate)-[:FOR_LOT]->(input)
    WITH input, ip, c ORDER BY c.number
    WITH input, ip, collect(c.number) AS numbers
    RETURN collect({key: input.key, gtin: input.gtin, lot: input.lot, category: ip.category,
                    name_zh: ip.name_zh, name_en: ip.name_en, certificates: numbers}) AS inputs
}
CALL (l) {
    OPTIONAL MATCH (c:CommitmentCertificate)-[:FOR_LOT]->(l)
    WITH c ORDER BY c.number DESC
    RETURN collect(CASE WHEN c IS NULL THEN null ELSE
        {number: c.number, issued_on: toString(c.issued_on), basis: c.basis, quantity: c.quantity,
         unit: c.unit} END) AS certificates
}
RETURN l.gtin AS gtin, l.lot AS lot, l.owner_gln AS owner_gln, l.unit AS unit, l.quantity AS lot_quantity,
       p.name_zh AS name_zh, p.name_en AS name_en, p.category AS category,
       owner.name_zh AS owner_zh, owner.name_en AS owner_en, owner.contact_phone AS contact,
       owner.region_zh AS owner_region, h.quantity AS held, coalesce(h.unit, l.unit) AS held_unit,
       inspections, inputs, certificates
"""

_NEXT_NUMBER: LiteralString = """
MERGE (k:CommitmentCounter {day: $day})
ON CREATE SET k.n = 0
SET k.n = k.n + 1
RETURN k.n AS n
"""

_CREATE: LiteralString = """
MATCH (l:Lot {key: $key})
OPTIONAL MATCH (issuer:Party {gln: $c.issuer_gln})
CREATE (c:CommitmentCertificate {
    number: $c.number, issued_on: date($c.issued_on), gtin: l.gtin, lot: l.lot, product_name: $c.product_name,
    quantity: $c.quantity, unit: $c.unit, origin: $c.origin, producer_gln: $c.issuer_gln,
    producer_name: $c.producer_name, producer_contact: $c.producer_contact, basis: $c.basis,
    basis_detail: $c.basis_detail, inspection_key: $c.inspection_key, report_no: $c.report_no,
    inputs: $c.inputs, commitments: $c.commitments, created_at: datetime(), created_by: $c.created_by})
CREATE (c)-[:FOR_LOT]->(l)
WITH c, issuer
CALL (c, issuer) {
    WITH c, issuer WHERE issuer IS NOT NULL
    CREATE (issuer)-[:ISSUED]->(c)
}
CALL (c) {
    MATCH (i:Inspection {key: $c.inspection_key})
    CREATE (c)-[:BASED_ON]->(i)
}
CALL (c) {
    UNWIND $c.inputs AS number
    MATCH (cited:CommitmentCertificate {number: number})
    CREATE (c)-[:CITES]->(cited)
}
RETURN c.number AS number
"""

_GET: LiteralString = """
MATCH (c:CommitmentCertificate {number: $number})-[:FOR_LOT]->(l:Lot)
OPTIONAL MATCH (c)-[:BASED_ON]->(i:Inspection)
OPTIONAL MATCH (lab:Party)-[:PERFORMED]->(i)
RETURN c {.*, issued_on: toString(c.issued_on), created_at: toString(c.created_at)} AS c, l.key AS lot_key,
       l.owner_gln AS owner_gln, toString(i.date) AS inspection_date, lab.name_zh AS lab_zh
"""


def lot_facts(graph: Graph, gtin: str, lot: str) -> dict:
    """Return what a certificate of a lot is made from: product, owner, holding, inspections, inputs, certificates.

    Args:
        graph: the database.
        gtin: GTIN-14 of the lot.
        lot: the lot number.

    Returns:
        {"gtin", "lot", "owner_gln", "name_zh", "name_en", "category", "owner_zh", "owner_en", "contact",
         "owner_region", "held", "held_unit", "inspections": [...], "inputs": [...], "certificates": [...]}.

    Raises:
        NotFound: no such lot.
    """
    rows = graph.query(_LOT_FACTS, read=True, key=lot_key(gtin, lot))
    if not rows:
        raise NotFound(f"no lot {lot} of GTIN {gtin}", field="lot")
    return dict(rows[0])


def check_issue(request: dict, facts: dict, actor_gln: str | None, admin: bool = False) -> dict:
    """Apply the issuing rules to a request against a lot's facts; return what the certificate cites.

    Args:
        request: basis, inspection_key (a test's), basis_detail (a self-test's record), quantity.
        facts: the lot's facts (:func:`lot_facts`).
        actor_gln: the issuing party.
        admin: an admin issues for any lot.

    Returns:
        {"inspection": the cited inspection or None, "inputs": the inputs' certificate numbers}.

    Raises:
        Forbidden: the party does not own the lot.
        RuleViolation: an unknown basis, a test without a passing inspection of this lot, a self-test without its
            record, a quantity not above zero, or an edible input without a certificate.
    """
    if not admin and (actor_gln is None or actor_gln != facts["owner_gln"]):
        raise Forbidden("only the lot's owner issues its commitment certificate", field="lot")
    basis = request.get("basis")
    if basis not in BASES:
        raise RuleViolation(f"basis must be one of {', '.join(BASES)}", field="basis")
    if not (request.get("quantity") or 0) > 0:
        raise RuleViolation("quantity must be more than 0", field="quantity")
    inspection = None
    if basis == "commissioned_test":
        inspection = next((i for i in facts["inspections"] if i["key"] == request.get("inspection_key")), None)
        if inspection is None:
            raise RuleViolation("a commissioned test must cite an inspection of this lot", field="inspection_key")
        if inspection["verdict"] != "pass":
            raise RuleViolation(f"inspection {inspection['report_no']} did not pass", field="inspection_key")
    elif request.get("inspection_key"):
        raise RuleViolation("only a commissioned test cites an inspection", field="inspection_key")
    detail = (request.get("basis_detail") or "").strip()
    if basis == "self_test" and not detail:
        raise RuleViolation("a self-test must say what was tested and the result", field="basis_detail")
    if len(detail) > MAX_DETAIL:
        raise RuleViolation(f"at most {MAX_DETAIL} characters", field="basis_detail")
    missing = [i for i in facts["inputs"] if i["category"] in EDIBLE_CATEGORIES and not i["certificates"]]
    if missing:
        raise RuleViolation("a mixed lot cites its inputs' certificates; none for input lot(s) "
                            + ", ".join(i["lot"] for i in missing), field="inputs")
    return {"inspection": inspection, "inputs": sorted({n for i in facts["inputs"] for n in i["certificates"]})}


def number_of(day: date, n: int) -> str:
    """The certificate number of the n-th certificate issued on a day: HGZ-20260301-0001."""
    return f"HGZ-{day:%Y%m%d}-{n:04d}"


def issue(graph: Graph, gtin: str, lot: str, request: dict, actor: dict,
          audit: tuple[dict, bytes] | None = None) -> dict:
    """Issue a commitment certificate for a lot, in one transaction with its audit entry.

    Args:
        graph: the database.
        gtin: GTIN-14 of the lot.
        lot: the lot number.
        request: basis, inspection_key, basis_detail, quantity (number), unit, product_name, origin,
            producer_name, producer_contact, issued_on (date).
        actor: {"id": principal id, "gln": party GLN or None, "admin": bool}.
        audit: the request's audit entry and key (app/audit.transaction_entry), appended in the same transaction.

    Returns:
        The certificate's fields (number, issued_on ISO, inputs, inspection, ...) and ``audit_seq``.

    Raises:
        NotFound: no such lot.
        Forbidden: the party does not own the lot.
        RuleViolation: see :func:`check_issue`.
    """
    key = lot_key(gtin, lot)
    day: date = request["issued_on"]

    def work(tx):
        rows = tx_rows(tx, _LOT_FACTS, key=key)
        if not rows:
            raise NotFound(f"no lot {lot} of GTIN {gtin}", field="lot")
        cited = check_issue(request, rows[0], actor["gln"], actor["admin"])
        credit.ensure_permitted(tx, rows[0]["owner_gln"], "certificates")  # blacklisted: approval needed
        n = tx_rows(tx, _NEXT_NUMBER, day=f"{day:%Y%m%d}")[0]["n"]
        inspection = cited["inspection"]
        cert = {
            "number": number_of(day, n), "issued_on": day.isoformat(), "issuer_gln": rows[0]["owner_gln"],
            "product_name": request["product_name"], "quantity": float(request["quantity"]),
            "unit": request["unit"], "origin": request["origin"], "producer_name": request["producer_name"],
            "producer_contact": request["producer_contact"], "basis": request["basis"],
            "basis_detail": (request.get("basis_detail") or "").strip() or None,
            "inspection_key": inspection["key"] if inspection else None,
            "report_no": inspection["report_no"] if inspection else None,
            "inputs": cited["inputs"], "commitments": list(COMMITMENTS), "created_by": actor["id"],
        }
        tx_rows(tx, _CREATE, key=key, c=cert)
        seq = None
        if audit is not None:
            entry, audit_key = audit
            detail = json.dumps({"certificate": cert["number"]})
            seq = audit_trail.append_tx(tx, {**entry, "detail": detail}, audit_key)
        return {**cert, "inspection": inspection, "audit_seq": seq}

    return graph.write(work)


def get(graph: Graph, number: str) -> dict:
    """Return one certificate by number with its lot's key and owner.

    Args:
        graph: the database.
        number: the certificate number.

    Raises:
        NotFound: no such certificate.
    """
    rows = graph.lookup(_GET, number=number)  # shown right after it is issued, maybe by another worker
    if not rows:
        raise NotFound(f"no certificate {number}", field="number")
    row = rows[0]
    return {**row["c"], "lot_key": row["lot_key"], "owner_gln": row["owner_gln"],
            "inspection_date": row["inspection_date"], "lab_zh": row["lab_zh"]}
