"""Writes that do not come over HTTP reach the audit trail too: `flask epcis import`, `flask tokens`, the demo
load, `flask restore` and copy flags raised by the scan writer.

Each test finds its own entry by a marker (the chain is shared with tests running at the same time).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

from app import demo
from app.audit import audit_key
from graph import audit
from tests.factories import lot_code
from tests.scan import arrange


def _entries(graph, kind: str, marker: str) -> list[dict]:
    rows = graph.query(
        "MATCH (a:AuditEntry) WHERE a.kind = $kind AND (a.body CONTAINS $m OR a.detail CONTAINS $m "
        "OR a.token_id = $m OR a.path CONTAINS $m) RETURN a {.*} AS a ORDER BY a.seq", read=True, kind=kind, m=marker)
    return [r["a"] for r in rows]


def test_an_epcis_import_records_each_chunk_with_its_document(app, graph, factory, tmp_path):
    farm = factory.party()
    product = factory.product(farm["gln"])
    lot = lot_code()
    event_ids = [f"urn:uuid:{uuid.uuid4()}" for _ in range(3)]
    where = {"id": f"https://id.gs1.org/414/{farm['gln']}"}
    events = [{"type": "ObjectEvent", "eventID": eid, "eventTime": "2026-09-20T08:00:00+08:00",
               "eventTimeZoneOffset": "+08:00", "action": "ADD", "bizStep": "commissioning", "disposition": "active",
               "quantityList": [{"epcClass": f"https://id.gs1.org/01/{product['gtin']}/10/{lot}{i}",
                                 "quantity": 10, "uom": "KGM"}], "readPoint": where, "bizLocation": where}
              for i, eid in enumerate(event_ids)]
    path = tmp_path / "import.json"
    path.write_text(json.dumps({"@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"],
                                "type": "EPCISDocument", "schemaVersion": "2.0",
                                "creationDate": "2026-09-20T08:00:00Z", "epcisBody": {"eventList": events}}))
    result = app.test_cli_runner().invoke(args=["epcis", "import", str(path), "--chunk", "2"])
    assert result.exit_code == 0, result.output
    entries = _entries(graph, "cli.epcis_import", str(path))
    assert len(entries) == 2 and all(e["actor"].startswith("cli:") and e["outcome"] == "done" for e in entries)
    kept = [ev["eventID"] for e in entries for ev in json.loads(e["body"])["epcisBody"]["eventList"]]
    assert kept == event_ids  # the documents as captured, so the change can be reconstructed
    details = [json.loads(e["detail"]) for e in entries]
    assert [d["captured"] for d in details] == [2, 1] and all(d["captureID"].startswith("cap-") for d in details)
    assert audit.verify(graph, audit_key(app))["ok"]


def test_tokens_made_and_revoked_by_the_cli_are_recorded_without_their_secret(app, graph, factory):
    party = factory.party()
    runner = app.test_cli_runner()
    made = runner.invoke(args=["tokens", "create", "--role", "lab", "--party", party["gln"], "--label", "qa lab"])
    assert made.exit_code == 0, made.output
    token = made.output.strip()
    token_id = token.split("_")[1]
    created = _entries(graph, "cli.tokens.create", token_id)
    assert len(created) == 1 and (created[0]["role"], created[0]["party_gln"]) == ("lab", party["gln"])
    assert token.split("_", 2)[2] not in str(created[0])
    assert runner.invoke(args=["tokens", "revoke", token_id]).exit_code == 0
    assert len(_entries(graph, "cli.tokens.revoke", token_id)) == 1


def test_the_demo_load_records_its_direct_writes(app, graph):
    summary = demo.load(app)
    made = {t.split("_")[1] for t in summary["tokens"].values()}
    # another test may load the demo at the same time: this load's entry is the one naming its tokens
    entries = [e for e in _entries(graph, "demo.load", next(iter(made)))
               if {t["token_id"] for t in json.loads(e["detail"])["tokens"]} == made]
    assert len(entries) == 1
    entry = entries[0]
    parties = json.loads(entry["body"])["parties"]
    assert {p["gln"] for p in parties} == {p["gln"] for p in demo.P.values()}
    assert all(t.split("_", 2)[2] not in str(entry) for t in summary["tokens"].values())
    # what the demo sends through the API is recorded as the API requests of its admin token
    admin_id = summary["tokens"]["admin:-"].split("_")[1]
    http = graph.query("MATCH (a:AuditEntry) WHERE a.token_id = $t RETURN a.path AS path", read=True, t=admin_id)
    assert "/epcis/capture" in {r["path"] for r in http}


def test_a_restore_refused_by_a_non_empty_database_is_recorded(app, graph, tmp_path):
    folder = tmp_path / f"backup-{uuid.uuid4().hex}"
    folder.mkdir()
    manifest = {"format": "tracegraph-backup", "version": 1, "created_at": "2026-12-01T00:00:00Z", "events": 0,
                "event_files": [], "counts": {"nodes": {}, "relationships": {}}}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    result = app.test_cli_runner().invoke(args=["restore", str(folder)])
    assert result.exit_code != 0 and "not empty" in result.output
    entries = _entries(graph, "restore", folder.name)
    assert len(entries) == 1 and entries[0]["outcome"] == "refused" and "not empty" in entries[0]["message"]
    assert json.loads(entries[0]["body"]) == manifest


def test_a_copy_flag_raised_by_scans_is_recorded(app, graph):
    chain = arrange.ginseng_chain(graph, app.config["SECRET_KEY"])
    buffer = app.extensions["scan_buffer"]
    start = datetime(2026, 11, 10, tzinfo=UTC)  # after the box's sale
    scans = [{"scan_id": str(uuid.uuid4()), "time": start + timedelta(hours=6 * i), "gtin": chain.box_gtin,
              "lot": chain.box_lot, "serial": chain.sold_serial, "verdict": "genuine", "fp": f"{i:016x}",
              "lat": None, "lon": None, "region": None} for i in range(12)]
    for s in scans:
        buffer.add(s)
    buffer.flush()
    flagged = graph.query("MATCH (i:Item {gtin: $g, serial: $s}) RETURN i.suspect_reason AS r", read=True,
                          g=chain.box_gtin, s=chain.sold_serial)[0]["r"]
    assert flagged  # the scans raised a flag (the rule that did is graph/scan.py's business)
    entries = _entries(graph, "scan.copy_flag", f"/21/{chain.sold_serial}")
    assert len(entries) == 1
    entry = entries[0]
    assert entry["message"] == flagged and entry["outcome"] == "flagged"
    detail = json.loads(entry["detail"])
    assert detail["scan_id"] in {s["scan_id"] for s in scans} and detail["lot"] == chain.box_lot
    assert entry["actor"] == f"scan-client:{next(s['fp'] for s in scans if s['scan_id'] == detail['scan_id'])}"
