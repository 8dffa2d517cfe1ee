"""Every graph/ function runs in the access mode its work needs: reads in read transactions, writes in write ones.

In a cluster (`neo4j://`, docs/scaling.md "Graph tier") the driver sends a read transaction to a reader (a follower
or a secondary) and a write transaction to the leader, so the consumer page, traces, queries and exports scale out
with readers while writes keep one place. Here the real driver talks to the real test server; a wrapper around it
only notes the access mode of every transaction a function opens (nothing is faked: the server answers each).

MODES lists every public function of every graph/ module that takes the graph: a function added without a row
fails the test, as a route without a row fails tests/hardening/test_authorization.py.

- "read": every transaction it opens is a read one. The server refuses a write in a read transaction
  (test_the_server_refuses_a_write_in_a_read_transaction), so a function listed "read" cannot write either.
- "write": it opens a write transaction (it may read back what it wrote afterwards: the Graph's sessions share one
  bookmark manager, so that read sees the write even on a reader).
- "lookup": a read by key that a client makes right after creating the record, maybe through another process
  (the page a POST redirects to, a capture job): a miss on a reader is asked again of the leader (Graph.lookup), so
  the table calls it with a key nobody has and expects a read, then a write-routed read.
- "autocommit": schema statements and `CALL {} IN TRANSACTIONS`, which only run in an auto-commit transaction of a
  write session.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import threading
import uuid
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from neo4j import READ_ACCESS, RoutingControl
from neo4j.exceptions import ClientError

import graph as graph_package
from app.audit import audit_key
from graph import (
    alerts,
    audit,
    backup,
    batches,
    bulk,
    captures,
    closure,
    cold_chain,
    commitments,
    console,
    consumer_reports,
    credit,
    epcis_query,
    epcis_resources,
    events,
    fingerprint,
    fsma,
    history_import,
    imports,
    key_data,
    lots,
    master_data,
    migrate,
    outbox,
    parties,
    products,
    quality,
    recall_cases,
    recalls,
    report_rules,
    risk,
    samples,
    sampling_plans,
    scan,
    scan_log,
    serials,
    subscriptions,
    supervision,
    tokens,
    trace,
    users,
    warm,
    workbench,
)
from graph.driver import Graph
from graph.errors import GraphError
from gs1.master_data import Element
from tests.factories import gln, gtin, lot_code

KEY = b"access-mode-test-key-" + b"k" * 16  # a notify key (webhook secrets, acknowledgement links): never stored
# backup.mark_existing labels every node of the database (only a restore into an empty one runs it): on the shared
# test database its mode is checked from its source instead (it calls graph.run_autocommit and nothing else).
SOURCE_ONLY = {"backup.mark_existing": "autocommit"}

MODES = {
    "alerts.raise_alert": "write",
    "alerts.list_alerts": "read",
    "alerts.get_alert": "read",
    "alerts.set_state": "write",
    "audit.append": "write",
    "audit.write_audited": "write",
    "audit.flags_raised": "read",
    "audit.verify": "read",
    "backup.export": "read",
    "backup.counts": "read",
    "backup.assert_empty": "read",
    "backup.prepare": "autocommit",
    "backup.create_nodes": "write",
    "backup.merge_nodes": "write",
    "backup.mark_existing": "autocommit",
    "backup.restore_relationships": "write",
    "backup.restore_provenance": "write",
    "backup.finish": "autocommit",
    "batches.origin": "read",
    "batches.dispute": "write",
    "batches.disputes": "read",
    "batches.disputed": "read",
    "bulk.load_master": "write",
    "bulk.upsert_inspections": "write",
    "bulk.upsert_certificates": "write",
    "bulk.capture_events": "write",
    "bulk.census": "read",
    "bulk.closure": "read",
    "history_import.dump": "read",
    "history_import.finish_online": "write",
    "captures.get": "lookup",
    "captures.page": "read",
    "closure.closure": "read",
    "closure.reach": "read",
    "cold_chain.lot_warnings": "read",
    "commitments.lot_facts": "read",
    "commitments.issue": "write",
    "commitments.get": "lookup",
    "console.overview": "read",
    "console.page": "read",
    "console.account_names": "read",
    "console.regulator_accounts": "read",
    "consumer_reports.file_report": "write",
    "consumer_reports.public_status": "lookup",
    "consumer_reports.list_reports": "read",
    "consumer_reports.get_report": "read",
    "consumer_reports.update_report": "write",
    "credit.change_status": "write",
    "credit.appeal": "write",
    "credit.decide_appeal": "write",
    "credit.grant_approval": "write",
    "credit.record_of": "read",
    "credit.list_parties": "read",
    "credit.scan_warnings": "read",
    "epcis_query.page": "read",
    "epcis_query.prefixes_of": "read",
    "epcis_query.has_events": "read",
    "epcis_query.get": "read",
    "epcis_resources.create_query": "write",
    "epcis_resources.list_queries": "read",
    "epcis_resources.get_query": "read",
    "epcis_resources.delete_query": "write",
    "epcis_resources.epc_keys": "read",
    "epcis_resources.place_keys": "read",
    "events.capture": "write",
    "fingerprint.snapshot": "read",
    "fsma.location_descriptions": "read",
    "fsma.harvest_fields": "read",
    "imports.known": "read",
    "imports.parties": "read",
    "key_data.events_in_period": "read",
    "key_data.key_data_rows": "read",
    "key_data.period_key_data_rows": "read",
    "key_data.recall_key_data_rows": "read",
    "lots.create": "write",
    "lots.get": "read",
    "master_data.product_owners": "read",
    "master_data.store": "write",
    "master_data.descendants": "read",
    "master_data.vocabularies_for": "read",
    "migrate.pending": "read",
    "migrate.migrate": "autocommit",  # its statements; with nothing pending it only reads what was applied
    "outbox.claim": "write",
    "outbox.finish": "write",
    "outbox.of_case": "read",
    "outbox.set_webhook": "write",
    "outbox.rotate_secret": "write",
    "outbox.get_webhook": "read",
    "outbox.find_link": "read",
    "parties.create": "write",
    "parties.upsert_many": "write",
    "parties.get": "read",
    "products.create": "write",
    "products.upsert_many": "write",
    "products.get": "read",
    "products.set_facts": "write",
    "products.set_licensees": "write",
    "quality.record_inspection": "write",
    "quality.report_referenced": "read",
    "quality.lab_inspections": "read",
    "quality.party_roles": "read",
    "quality.record_certificate": "write",
    "quality.classify_inspection": "write",
    "recall_cases.list_cases": "read",
    "recall_cases.public_notice": "read",
    "recall_cases.escalate": "write",
    "recall_cases.deliveries": "read",
    "recall_cases.acknowledge_by_link": "write",
    "recall_cases.change": "write",
    "recall_cases.opened_by_party": "read",
    "recalls.open_case": "write",
    "recalls.implicating": "read",
    "recalls.get": "read",
    "recalls.acknowledge": "write",
    "recalls.close": "write",
    "recalls.set_hold": "write",
    "recalls.export_rows": "read",
    "risk.sweep": "write",  # reads on a reader, then raises what it found in one write transaction
    "samples.sample_codes": "read",
    "samples.sample_starts": "read",
    "sampling_plans.create_plan": "write",
    "sampling_plans.set_employment": "write",
    "sampling_plans.draw": "write",
    "sampling_plans.record_results": "write",
    "sampling_plans.get_plan": "lookup",
    "sampling_plans.list_plans": "read",
    "scan.code": "read",
    "scan.page": "read",
    "scan.page_profile": "read",
    "scan_log.record_scans": "write",
    "scan_log.suspected_copies": "read",
    "serials.label_facts": "read",
    "serials.create_run": "write",
    "serials.item_in_lot": "read",
    "serials.runs": "read",
    "serials.run_serials": "read",
    "subscriptions.create": "write",
    "subscriptions.list_for": "read",
    "subscriptions.get": "read",
    "subscriptions.delete": "write",
    "subscriptions.claim_feeds": "write",
    "subscriptions.stream_subscriptions": "read",
    "subscriptions.claim_due": "write",
    "subscriptions.finish_run": "write",
    "subscriptions.finish_feeds": "write",
    "subscriptions.mark_notified": "write",
    "supervision.list_inspections": "read",
    "supervision.pass_rates": "read",
    "tokens.create": "write",
    "tokens.lookup": "read",
    "tokens.revoke": "write",
    "trace.trace": "read",
    "trace.common_source": "read",
    "users.create": "write",
    "users.find_for_login": "read",
    "users.for_session": "read",
    "users.record_failure": "write",
    "users.record_login": "write",
    "users.set_password": "write",
    "users.set_disabled": "write",
    "users.end_sessions": "write",
    "users.list_all": "read",
    "users.existing_usernames": "read",
    # plans the hot writes in write transactions it always rolls back (tests/graph/test_warm.py), then reads
    "warm.warm": "write",
    "workbench.home": "read",
    "workbench.lot": "read",
    "workbench.receivers": "read",
    "workbench.products": "read",
    "workbench.parties": "read",
}


class _Session:
    """A real session; notes the access mode of each transaction it runs."""

    def __init__(self, session, mode: str, log: list[str]):
        self._session, self._mode, self._log = session, mode, log

    def __enter__(self):
        self._session.__enter__()
        return self

    def __exit__(self, *exc):
        return self._session.__exit__(*exc)

    def execute_read(self, work, *args, **kwargs):
        self._log.append("read")
        return self._session.execute_read(work, *args, **kwargs)

    def execute_write(self, work, *args, **kwargs):
        self._log.append("write")
        return self._session.execute_write(work, *args, **kwargs)

    def run(self, *args, **kwargs):
        self._log.append("read" if self._mode == READ_ACCESS else "autocommit")
        return self._session.run(*args, **kwargs)

    def begin_transaction(self, *args, **kwargs):
        self._log.append("read" if self._mode == READ_ACCESS else "write")
        return self._session.begin_transaction(*args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._session, name)


class _Driver:
    """The real driver; notes the access mode of every transaction opened through it."""

    def __init__(self, driver):
        self._driver = driver
        self._local = threading.local()
        self.log: list[str] = []
        self.managers: list = []  # the bookmark manager each session was opened with

    def execute_query(self, *args, routing_=RoutingControl.WRITE, **kwargs):
        self.log.append("read" if routing_ == RoutingControl.READ else "write")
        return self._driver.execute_query(*args, routing_=routing_, **kwargs)

    def session(self, **config):
        self.managers.append(config.get("bookmark_manager"))
        return _Session(self._driver.session(**config), config.get("default_access_mode", "WRITE"), self.log)

    def __getattr__(self, name):
        return getattr(self._driver, name)


class RecordingGraph(Graph):
    """A Graph on the test server whose driver notes access modes."""

    def __init__(self, uri: str):
        super().__init__(uri)
        self.driver = _Driver(self.driver)

    def modes(self, call) -> set[str]:
        """Run a call; return the access modes of the transactions it opened (refusals of its input allowed)."""
        self.driver.log.clear()
        try:
            call()
        except GraphError:
            pass  # NotFound & co.: the function answered after asking the database, which is all we look at
        return set(self.driver.log)


def _public_graph_functions() -> dict[str, object]:
    """Every public function of every graph/ module whose first parameter is the graph."""
    found = {}
    for info in pkgutil.iter_modules(graph_package.__path__):
        module = importlib.import_module(f"graph.{info.name}")
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("_") or fn.__module__ != module.__name__:
                continue
            params = list(inspect.signature(fn).parameters)
            if params and params[0] == "graph":
                found[f"{info.name}.{name}"] = fn
    return found


@pytest.fixture(scope="module")
def rec(neo4j_uri):
    g = RecordingGraph(neo4j_uri)
    yield g
    g.close()


@pytest.fixture(scope="module")
def ctx(app, graph, admin_token):
    """A party with a product and a lot of its own, and keys nobody uses."""
    from tests.factories import Factory

    f = Factory(graph, admin_token)
    owner = f.party(roles=("farm",))
    product = f.product(owner["gln"])
    lot = f.lot(product["gtin"], owner["gln"])
    c = {"gln": owner["gln"], "gtin": product["gtin"], "lot": lot["lot"],
         "lot_key": f"lot:{product['gtin']}:{lot['lot']}", "nope": "AM-" + uuid.uuid4().hex,
         "day": date(2026, 9, 20), "now": datetime.now(UTC)}
    c["audit_key"] = audit_key(app)
    c["element"] = Element("urn:epcglobal:epcis:vtype:BusinessLocation", f"urn:epc:id:sgln:{c['gln']}.0",
                           f"loc:{c['gln']}", (("name", "access modes"),), ())
    c["scans"] = [{"scan_id": c["nope"], "time": c["now"], "gtin": c["gtin"], "lot": c["lot"], "serial": None,
                   "verdict": "genuine", "fp": "access-modes", "net": "access-modes", "lat": None, "lon": None,
                   "region": None}]
    # A certificate ending in 2091: risk.sweep run "then" finds it alone and raises its alert (its write).
    c["certificate"] = {"type": "organic", "number": c["nope"], "issuer_gln": c["gln"], "party_gln": c["gln"],
                        "valid_from": "2091-01-01", "valid_until": "2091-03-20"}
    bulk.upsert_certificates(graph, [c["certificate"]])
    return c


@pytest.fixture(scope="module")
def calls(rec, ctx):
    return _calls(rec, ctx)


def _stop(*_):
    raise _Stopped("stopped by the test")


class _Stopped(GraphError):
    """Raised by a callback to end a whole-store read after its transaction opened (nothing more is read)."""


def _calls(g, c) -> dict:
    """One call per function, on this test's own keys (writes touch only records made for it, or nothing)."""
    nope, lk, gt, lt, pg = c["nope"], c["lot_key"], c["gtin"], c["lot"], c["gln"]
    period = (datetime(2091, 3, 1, tzinfo=UTC), datetime(2091, 3, 2, tzinfo=UTC))
    actor = {"id": "access-modes", "gln": pg, "admin": False}
    inspection = {"lab_gln": gln(), "report_no": nope, "sample_id": "S", "date": "2026-09-21", "standard": "GB",
                  "verdict": "pass", "results": [], "gtin": gtin(), "lot": lot_code()}
    return {
        "alerts.raise_alert": lambda: alerts.raise_alert(
            g, kind="certificate_expiring", subject_keys=[lk], summary="access modes", details={}, region=None,
            dedupe_key=f"access-modes:{nope}", parties=[pg]),
        "alerts.list_alerts": lambda: alerts.list_alerts(g, subject=lk),
        "alerts.get_alert": lambda: alerts.get_alert(g, nope),
        "alerts.set_state": lambda: alerts.set_state(g, nope, "acknowledged", None, "access-modes"),
        # the test database's one chain: its entries are keyed with the key every test app shares (tests/conftest.py)
        "audit.append": lambda: audit.append(g, {"action": "access-modes"}, c["audit_key"]),
        "audit.write_audited": lambda: audit.write_audited(g, c["audit_key"], lambda tx: None,
                                                           {"action": "access-modes"}),
        "audit.flags_raised": lambda: audit.flags_raised(g, [{"scan_id": nope, "key": f"item:{gt}:X",
                                                              "time": c["now"]}]),
        "audit.verify": lambda: audit.verify(g, None, batch=1),
        "backup.export": lambda: backup.export(g, _stop, _stop, _stop, _stop),
        "backup.counts": lambda: backup.counts(g),
        "backup.assert_empty": lambda: backup.assert_empty(g),
        "backup.prepare": lambda: backup.prepare(g),
        "backup.create_nodes": lambda: backup.create_nodes(g, "Party", []),
        "backup.merge_nodes": lambda: backup.merge_nodes(g, "Lot", []),
        "backup.restore_relationships": lambda: backup.restore_relationships(g, []),
        "backup.restore_provenance": lambda: backup.restore_provenance(g, []),
        "backup.finish": lambda: backup.finish(g),
        "batches.origin": lambda: batches.origin(g, gt, lt),
        "batches.dispute": lambda: batches.dispute(g, gt, nope, pg, pg, 1.0, "KGM", "access modes", "t"),
        "batches.disputes": lambda: batches.disputes(g, gt, lt, pg),
        "batches.disputed": lambda: batches.disputed(g, pg),
        "bulk.load_master": lambda: bulk.load_master(g, {"parties": [{"gln": gln(), "roles": ["farm"]}],
                                                         "products": []}),
        "bulk.upsert_inspections": lambda: bulk.upsert_inspections(g, [inspection]),
        "bulk.upsert_certificates": lambda: bulk.upsert_certificates(g, [c["certificate"]]),
        "bulk.capture_events": lambda: bulk.capture_events(
            g, {"@context": [], "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-09-20T00:00:00Z",
                "epcisBody": {"eventList": []}}),
        "bulk.census": lambda: bulk.census(g, "69999999"),
        "bulk.closure": lambda: bulk.closure(g, lk),
        "history_import.dump": lambda: history_import.dump(g, "69999"),
        "history_import.finish_online": lambda: history_import.finish_online(g, history_import.Prepared(
            folder=Path("."), empty_lists=[{"label": "Party", "key": nope, "props": {}}])),
        "captures.get": lambda: captures.get(g, nope),
        "captures.page": lambda: captures.page(g, pg, 5, None),
        "closure.closure": lambda: closure.closure(g, lk, "back"),
        "closure.reach": lambda: closure.reach(g, lk),
        "cold_chain.lot_warnings": lambda: cold_chain.lot_warnings(g, lk, pg, 5),
        "commitments.lot_facts": lambda: commitments.lot_facts(g, gt, lt),
        "commitments.issue": lambda: commitments.issue(g, gt, nope, {"issued_on": c["day"]}, actor),
        "commitments.get": lambda: commitments.get(g, nope),
        "console.overview": lambda: console.overview(g, (date(2091, 3, 1), date(2091, 3, 2)), region="22062199"),
        "console.page": lambda: console.page(g, "recalls", {}, "opened_at", True, 0, 5),
        "console.account_names": lambda: console.account_names(g, [nope]),
        "console.regulator_accounts": lambda: console.regulator_accounts(g, 5),
        "consumer_reports.file_report": lambda: consumer_reports.file_report(
            g, {"code": f"01{gt}10{lt}", "subject_key": lk, "text": "access modes", "phone": "13900000000"}, nope),
        "consumer_reports.public_status": lambda: consumer_reports.public_status(
            g, report_rules.new_number("20260920")),
        "consumer_reports.list_reports": lambda: consumer_reports.list_reports(g, per_page=5),
        "consumer_reports.get_report": lambda: consumer_reports.get_report(g, nope),
        "consumer_reports.update_report": lambda: consumer_reports.update_report(g, nope, "closed", None, None, "t"),
        "credit.change_status": lambda: credit.change_status(g, gln(), "watch", "violation", "access modes", "t"),
        "credit.appeal": lambda: credit.appeal(g, nope, "access modes", pg, "t"),
        "credit.decide_appeal": lambda: credit.decide_appeal(g, nope, "upheld", "access modes", "t"),
        "credit.grant_approval": lambda: credit.grant_approval(g, gln(), "labels", "access modes", 1, "t"),
        "credit.record_of": lambda: credit.record_of(g, pg),
        "credit.list_parties": lambda: credit.list_parties(g, per_page=5),
        "credit.scan_warnings": lambda: credit.scan_warnings(g, gt, lk),
        "epcis_query.page": lambda: epcis_query.page(g, {}, 5),
        "epcis_query.prefixes_of": lambda: epcis_query.prefixes_of(g, [nope]),
        "epcis_query.has_events": lambda: epcis_query.has_events(g),
        "epcis_query.get": lambda: epcis_query.get(g, nope, pg),
        "epcis_resources.create_query": lambda: epcis_resources.create_query(
            g, f"am{uuid.uuid4().hex[:12]}", {"EQ_bizStep": ["shipping"]}, pg, "t"),
        "epcis_resources.list_queries": lambda: epcis_resources.list_queries(g, pg, 5),
        "epcis_resources.get_query": lambda: epcis_resources.get_query(g, nope, pg),
        "epcis_resources.delete_query": lambda: epcis_resources.delete_query(g, nope, pg),
        "epcis_resources.epc_keys": lambda: epcis_resources.epc_keys(g, pg, 5),
        "epcis_resources.place_keys": lambda: epcis_resources.place_keys(g, "bizLocations", pg, 5),
        "events.capture": lambda: events.capture(g, [], events.Policy(role="admin"),
                                                 events.CaptureJob(events.new_capture_id()), record=False),
        "fingerprint.snapshot": lambda: fingerprint.snapshot(g, lots=[lk]),
        "fsma.location_descriptions": lambda: fsma.location_descriptions(g, [pg]),
        "fsma.harvest_fields": lambda: fsma.harvest_fields(g, [nope]),
        "imports.known": lambda: imports.known(g, [nope], [lk], [nope]),
        "imports.parties": lambda: imports.parties(g, [pg]),
        "key_data.events_in_period": lambda: key_data.events_in_period(g, period, 5),
        "key_data.key_data_rows": lambda: key_data.key_data_rows(g, [lk], 10),
        "key_data.period_key_data_rows": lambda: key_data.period_key_data_rows(g, period, pg, 10),
        "key_data.recall_key_data_rows": lambda: key_data.recall_key_data_rows(g, nope, None, 10),
        "lots.create": lambda: lots.create(g, {"gtin": gt, "lot": lot_code(), "quantity": 1.0, "unit": "KGM",
                                               "production_date": "2026-09-20", "expiry_date": None,
                                               "owner_gln": pg}),
        "lots.get": lambda: lots.get(g, gt, lt),
        "master_data.product_owners": lambda: master_data.product_owners(g, [gt]),
        "master_data.store": lambda: master_data.store(g, [c["element"]], pg),
        "master_data.descendants": lambda: master_data.descendants(g, [nope]),
        "master_data.vocabularies_for": lambda: master_data.vocabularies_for(g, [nope]),
        "migrate.pending": lambda: migrate.pending(g),
        "migrate.migrate": lambda: migrate.migrate(g),
        "outbox.claim": lambda: outbox.claim(g, nope, 5, 60, recall_id=nope),
        "outbox.finish": lambda: outbox.finish(g, nope, [{"delivery_id": nope, "state": "delivered"}]),
        "outbox.of_case": lambda: outbox.of_case(g, nope),
        "outbox.set_webhook": lambda: outbox.set_webhook(g, KEY, gln(), "http://127.0.0.1:9/hook"),
        "outbox.rotate_secret": lambda: outbox.rotate_secret(g, KEY, gln()),
        "outbox.get_webhook": lambda: outbox.get_webhook(g, pg),
        "outbox.find_link": lambda: outbox.find_link(g, nope),
        "parties.create": lambda: parties.create(g, {"gln": gln(), "name_zh": "模式", "roles": ["farm"]}),
        "parties.upsert_many": lambda: parties.upsert_many(g, [{"gln": gln(), "roles": ["farm"]}]),
        "parties.get": lambda: parties.get(g, pg),
        "products.create": lambda: products.create(g, {"gtin": gtin(), "name_zh": "模式", "category": "ginseng",
                                                       "unit": "KGM", "owner_gln": pg}),
        "products.upsert_many": lambda: products.upsert_many(g, [{"gtin": gtin(), "name_zh": "模式",
                                                                  "owner_gln": pg}]),
        "products.get": lambda: products.get(g, gt),
        "products.set_facts": lambda: products.set_facts(g, gtin(), {"name_en": "modes"}),
        "products.set_licensees": lambda: products.set_licensees(g, gtin(), [pg]),
        "quality.record_inspection": lambda: quality.record_inspection(g, inspection, None,
                                                                       events.Policy(role="admin")),
        "quality.report_referenced": lambda: quality.report_referenced(g, "0" * 64),
        "quality.lab_inspections": lambda: quality.lab_inspections(g, pg, 5),
        "quality.party_roles": lambda: quality.party_roles(g, pg),
        "quality.record_certificate": lambda: quality.record_certificate(g, c["certificate"]),
        "quality.classify_inspection": lambda: quality.classify_inspection(g, nope, {"programme": "routine"}, "t"),
        "recall_cases.list_cases": lambda: recall_cases.list_cases(g, {}, pg, 5),
        "recall_cases.public_notice": lambda: recall_cases.public_notice(g, nope),
        "recall_cases.escalate": lambda: recall_cases.escalate(g, KEY, nope),
        "recall_cases.deliveries": lambda: recall_cases.deliveries(g, nope),
        "recall_cases.acknowledge_by_link": lambda: recall_cases.acknowledge_by_link(
            g, nope, {"quantity": 1.0, "unit": "KGM", "action": "quarantined", "note": None}),
        "recall_cases.change": lambda: recall_cases.change(g, nope, 2, "access modes", "t"),
        "recall_cases.opened_by_party": lambda: recall_cases.opened_by_party(g, nope),
        "recalls.open_case": lambda: recalls.open_case(g, [f"lot:{gtin()}:{lot_code()}"], 3, "access modes",
                                                       opened_by="t"),
        "recalls.implicating": lambda: recalls.implicating(g, lk),
        "recalls.get": lambda: recalls.get(g, nope),
        "recalls.acknowledge": lambda: recalls.acknowledge(
            g, nope, {"party_gln": pg, "quantity": 1.0, "unit": "KGM", "action": "quarantined"}),
        "recalls.close": lambda: recalls.close(g, nope, "t"),
        "recalls.set_hold": lambda: recalls.set_hold(g, f"lot:{gtin()}:{lot_code()}", True, "access modes"),
        "recalls.export_rows": lambda: recalls.export_rows(g, nope),
        # 2091: only this test's certificate (ctx) ends then, so only its alert is raised
        "risk.sweep": lambda: risk.sweep(g, today=date(2091, 3, 10), now=datetime(2091, 3, 10, tzinfo=UTC)),
        "samples.sample_codes": lambda: samples.sample_codes(g, 5),
        "samples.sample_starts": lambda: samples.sample_starts(g, "origin", 2),
        "sampling_plans.create_plan": lambda: sampling_plans.create_plan(
            g, {"title": "模式", "categories": ["rice"], "region_code": "220283", "target_count": 1, "per_target": 1,
                "inspector_ids": [nope]}, "t"),
        "sampling_plans.set_employment": lambda: sampling_plans.set_employment(g, nope, [pg]),
        "sampling_plans.draw": lambda: sampling_plans.draw(g, nope, "seed", "t"),
        "sampling_plans.record_results": lambda: sampling_plans.record_results(g, nope, [], "t"),
        "sampling_plans.get_plan": lambda: sampling_plans.get_plan(g, nope),
        "sampling_plans.list_plans": lambda: sampling_plans.list_plans(g, per_page=5),
        "scan.code": lambda: scan.code(g, gt, lt),
        "scan.page": lambda: scan.page(g, gt, lt),
        "scan.page_profile": lambda: scan.page_profile(g, gt, lt),
        "scan_log.record_scans": lambda: scan_log.record_scans(g, c["scans"]),
        "scan_log.suspected_copies": lambda: scan_log.suspected_copies(g, gt, 5),
        "serials.label_facts": lambda: serials.label_facts(g, gt, lt),
        "serials.create_run": lambda: serials.create_run(g, gt, nope, 1, lambda: uuid.uuid4().hex[:12]),
        "serials.item_in_lot": lambda: serials.item_in_lot(g, gt, lt, "X1"),
        "serials.runs": lambda: serials.runs(g, gt, lt, 5),
        "serials.run_serials": lambda: serials.run_serials(g, gt, lt, nope),
        "subscriptions.create": lambda: subscriptions.create(g, {"query_name": nope}, 10),
        "subscriptions.list_for": lambda: subscriptions.list_for(g, nope, pg, 5, None),
        "subscriptions.get": lambda: subscriptions.get(g, nope, nope, pg),
        "subscriptions.delete": lambda: subscriptions.delete(g, nope, nope, pg),
        # batch 0: opens the write transaction, leases nothing (other tests' workers keep theirs)
        "subscriptions.claim_feeds": lambda: subscriptions.claim_feeds(g, nope, 60, batch=0),
        "subscriptions.stream_subscriptions": lambda: subscriptions.stream_subscriptions(g),
        "subscriptions.claim_due": lambda: subscriptions.claim_due(g, nope, 60, batch=0),
        "subscriptions.finish_run": lambda: subscriptions.finish_run(g, nope, nope, [], c["now"].isoformat(), None,
                                                                     None),
        "subscriptions.finish_feeds": lambda: subscriptions.finish_feeds(g, nope, [nope], []),
        "subscriptions.mark_notified": lambda: subscriptions.mark_notified(g, nope),
        "supervision.list_inspections": lambda: supervision.list_inspections(g, {"lab_gln": pg}, per_page=5),
        "supervision.pass_rates": lambda: supervision.pass_rates(g, "category", {"region_code": "22062199"}),
        "tokens.create": lambda: tokens.create(g, "producer", pg, "access modes"),
        "tokens.lookup": lambda: tokens.lookup(g, "tg_" + nope),
        "tokens.revoke": lambda: tokens.revoke(g, nope),
        "trace.trace": lambda: trace.trace(g, lk),
        "trace.common_source": lambda: trace.common_source(g, [lk, nope]),
        "users.create": lambda: users.create(g, {"username": f"am{uuid.uuid4().hex[:12]}", "role": "regulator"}, "h"),
        "users.find_for_login": lambda: users.find_for_login(g, nope),
        "users.for_session": lambda: users.for_session(g, nope),
        "users.record_failure": lambda: users.record_failure(g, nope, 5, 15),
        "users.record_login": lambda: users.record_login(g, nope),
        "users.set_password": lambda: users.set_password(g, nope, "h"),
        "users.set_disabled": lambda: users.set_disabled(g, nope, True),
        "users.end_sessions": lambda: users.end_sessions(g, nope),
        "users.list_all": lambda: users.list_all(g, 5),
        "users.existing_usernames": lambda: users.existing_usernames(g, [nope]),
        "warm.warm": lambda: warm.warm(g, seconds=0.5, codes=1),
        "workbench.home": lambda: workbench.home(g, pg, 5),
        "workbench.lot": lambda: workbench.lot(g, pg, gt, lt),
        "workbench.receivers": lambda: workbench.receivers(g, pg, 5),
        "workbench.products": lambda: workbench.products(g, pg),
        "workbench.parties": lambda: workbench.parties(g, 5),
    }


def test_every_public_graph_function_has_an_access_mode():
    found = set(_public_graph_functions())
    assert sorted(found - set(MODES)) == [], "give each new graph/ function its access mode in MODES"
    assert sorted(set(MODES) - found) == [], "MODES names a function graph/ no longer has"


def test_the_table_calls_every_function_it_lists(calls):
    assert sorted(set(MODES) - set(calls) - set(SOURCE_ONLY)) == []


@pytest.mark.parametrize("name", sorted(set(MODES) - set(SOURCE_ONLY)))
def test_each_graph_function_runs_in_its_access_mode(name, rec, calls, graph):
    expected = MODES[name]
    if name == "migrate.migrate" and not migrate.pending(graph):
        expected = "read"  # nothing to apply: it only reads which migrations were applied
    seen = rec.modes(calls[name])
    assert seen, "it opened no transaction: give it arguments that reach the database"
    if expected == "read":
        assert seen == {"read"}
    elif expected == "lookup":
        assert rec.driver.log == ["read", "write"]
    else:
        assert expected in seen


def test_whole_store_restore_step_is_autocommit():
    source = inspect.getsource(backup.mark_existing)
    assert "graph.run_autocommit(" in source
    assert "graph.query(" not in source and "graph.write(" not in source and "graph.read(" not in source


def test_the_server_refuses_a_write_in_a_read_transaction(graph):
    """Why "read" in MODES also means "never writes": the server itself refuses a read transaction's write."""
    with pytest.raises(ClientError, match="(?i)read"):
        graph.query("MERGE (p:AccessModeProbe {id: $id}) RETURN p.id AS id", read=True, id=uuid.uuid4().hex)
    with pytest.raises(ClientError, match="(?i)read"):
        graph.read(lambda tx: tx.run("CREATE (p:AccessModeProbe {id: $id})", id=uuid.uuid4().hex).consume())


def test_reads_and_writes_of_one_process_are_chained_by_one_bookmark_manager(rec, ctx):
    """query() (execute_query) and the sessions of read(), write() and run_autocommit() share one bookmark manager,
    so a read on a cluster's reader waits until the reader has this process's last write (docs/scaling.md)."""
    rec.driver.managers.clear()
    before = set(rec.bookmarks.get_bookmarks())
    audit.append(rec, {"action": "access-modes"}, ctx["audit_key"])  # graph.write
    assert set(rec.bookmarks.get_bookmarks()) != before  # the write's bookmark is the next call's start
    trace.trace(rec, ctx["lot_key"])  # graph.read
    backup.finish(rec)  # graph.run_autocommit
    assert len(rec.driver.managers) >= 3
    assert all(m is rec.bookmarks for m in rec.driver.managers)
    assert rec.bookmarks is rec.driver.execute_query_bookmark_manager  # what query() uses by default
