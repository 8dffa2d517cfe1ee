"""Every write endpoint x every role x own/other party -> the expected 2xx/401/403.

The endpoints come from /openapi.json, so a new write endpoint without a row here fails the test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from graph import recalls, serials, tokens
from labels.serials import make_serial
from tests.capture.helpers import commission, document
from tests.factories import auth, gln, gtin, lot_code
from tests.fingerprint import named_in, unchanged
from tests.hardening.test_hostile_input import refused

ROLES = ("none", "producer", "lab", "regulator", "admin")
WRITE_METHODS = ("post", "put", "patch", "delete")
TODAY = "2026-09-20"


@dataclass
class World:
    """One fresh party P (farm, lab, certifier, retailer) holding a lot, with what each endpoint needs."""

    p: dict
    other: dict
    product: dict
    lot: dict
    graph: object
    app: object
    client: object
    admin_token: str

    @property
    def lot_path(self) -> str:
        return f"{self.lot['gtin']}/{self.lot['lot']}"

    def items(self, n: int) -> list[str]:
        secret = self.app.config["SECRET_KEY"]
        run = serials.create_run(self.graph, self.lot["gtin"], self.lot["lot"], n,
                                 lambda: make_serial(secret, self.lot["gtin"], self.lot["lot"]), "matrix")
        # commissioned at P (admin capture), so P holds them and may pack them
        uris = [f"https://id.gs1.org/01/{self.lot['gtin']}/21/{s}" for s in run["serials"]]
        event = commission(self.p["gln"], self.lot["gtin"], self.lot["lot"], 1.0)
        event.pop("quantityList")
        event["epcList"] = uris
        answer = self.client.post("/epcis/capture", json=document(event), headers=auth(self.admin_token))
        assert answer.status_code == 202 and answer.get_json()["success"], answer.get_data(as_text=True)[:300]
        return run["serials"]

    def shipped_to_p(self) -> dict:
        """The other party ships P one unit of its lot; P may then receive it."""
        lot = self.lot["other_lot"]
        body = {"party_gln": self.other["gln"], "destination_gln": self.p["gln"],
                "lots": [{"gtin": lot["gtin"], "lot": lot["lot"], "quantity": 1, "unit": "KGM"}]}
        answer = self.client.post("/api/v1/shipments", json=body, headers=auth(self.admin_token))
        assert answer.status_code == 201, answer.get_data(as_text=True)[:300]
        return lot

    def webhook(self) -> str:
        """P registers a webhook endpoint (so it has a secret to rotate); answers P's GLN."""
        from app.notify import notify_key
        from graph import outbox

        outbox.set_webhook(self.graph, notify_key(self.app), self.p["gln"], "https://hooks.example.test/tracegraph")
        return self.p["gln"]

    def recall(self) -> str:
        case = recalls.open_case(self.graph, [f"lot:{self.lot['gtin']}:{self.lot['lot']}"], 3, "matrix test", None,
                                 opened_by="matrix")
        return case["recall_id"]


def _lots(w: World) -> list[dict]:
    return [{"gtin": w.lot["gtin"], "lot": w.lot["lot"], "quantity": 1, "unit": "KGM"}]


def _inspection(w: World) -> dict:
    return {"lab_gln": w.p["gln"], "gtin": w.lot["gtin"], "lot": w.lot["lot"], "report_no": lot_code(),
            "sample_id": "S1", "date": TODAY, "standard": "GB 2762-2022", "verdict": "pass",
            "results": [{"item": "cadmium", "value": 0.01, "limit": 0.1, "unit": "mg/kg", "pass": True}]}


def _recorded(w: World) -> str:
    """P (a lab) has an inspection on record; answers its report number."""
    return w.client.post("/api/v1/inspections", json=_inspection(w), headers=auth(w.admin_token)).json["report_no"]


def _raised_alert(w: World) -> str:
    """P's failed inspection of its lot raised an alert; answers its ID."""
    body = {**_inspection(w), "verdict": "fail", "results": [{"item": "Cd", "value": 1.0, "limit": 0.1, "pass": False}]}
    return w.client.post("/api/v1/inspections", json=body, headers=auth(w.admin_token)).json["alerts"][0]


def _inspector(w: World) -> str:
    """A regulator account (an inspector of a 双随机 pool); answers its user id."""
    from graph import users

    return users.create(w.graph, {"username": f"m{lot_code().lower()}", "role": "regulator"}, "h")["user_id"]


def _sampling_plan(w: World, drawn: bool = False) -> dict:
    """A plan over a fresh party of its own county and category (a small candidate set); drawn when asked."""
    from graph import parties, products, sampling_plans

    target = gln()
    parties.create(w.graph, {"gln": target, "name_zh": "矩阵", "roles": ["farm"], "region_code": "220802"})
    products.create(w.graph, {"gtin": gtin(), "name_zh": "矩阵牛", "category": "cattle", "unit": "KGM",
                              "owner_gln": target})
    plan = sampling_plans.create_plan(w.graph, {"title": "矩阵", "categories": ["cattle"], "region_code": "220802",
                                                "target_count": 1, "per_target": 1,
                                                "inspector_ids": [_inspector(w)]}, "matrix")
    return sampling_plans.draw(w.graph, plan["plan_id"], "matrix", "matrix") if drawn else plan


def _credit_change(w: World) -> str:
    """P was put on watch (by someone other than the caller); answers the change's ID."""
    from graph import credit

    return credit.change_status(w.graph, w.p["gln"], "watch", "failed_inspection", "matrix", "matrix")[
        "changes"][0]["change_id"]


def _credit_appeal(w: World) -> str:
    """P appealed its latest change; answers the appeal's ID."""
    from graph import credit

    return credit.appeal(w.graph, _credit_change(w), "matrix", w.p["gln"], "matrix-party")["appeal_id"]


def _consumer_report(w: World) -> str:
    """A consumer report about P's lot; answers its number."""
    from graph import consumer_reports

    code = f"https://id.gs1.org/01/{w.lot['gtin']}/10/{w.lot['lot']}"
    return consumer_reports.file_report(w.graph, {"code": code, "text": "矩阵", "phone": "13900000000"},
                                        f"matrix-{lot_code()}")["report_no"]


def _aggregation(w: World) -> dict:
    parent, *children = w.items(3)
    return {"party_gln": w.p["gln"], "action": "ADD", "parent": {"gtin": w.lot["gtin"], "serial": parent},
            "children": [{"gtin": w.lot["gtin"], "serial": s} for s in children]}


def _inspecting(w: World) -> dict:
    """An EPCIS inspecting event of P's lot at P: what a lab token may capture (and a producer too)."""
    event = commission(w.p["gln"], w.lot["gtin"], w.lot["lot"], 1.0)
    event.update(action="OBSERVE", bizStep="inspecting", disposition="conformant")
    event["quantityList"] = [{"epcClass": event["quantityList"][0]["epcClass"]}]
    return document(event)


@dataclass(frozen=True)
class Row:
    """Who may call an endpoint, whether the party in the request must be the caller's, and a valid request."""

    roles: tuple[str, ...]
    own_party_only: bool
    request: Callable[[World], tuple[str, dict]]
    method: str = "POST"


# path template -> row. A producer/lab "own" call names its party; "other" names a party it does not act for.
MATRIX: dict[str, Row] = {
    "/api/v1/parties": Row(("admin",), False, lambda w: (
        "/api/v1/parties", {"gln": gln(), "name_zh": "矩阵", "roles": ["retailer"]})),
    "/api/v1/tokens": Row(("admin",), False, lambda w: (
        "/api/v1/tokens", {"role": "producer", "party_gln": w.p["gln"], "label": "matrix"})),
    "/api/v1/products": Row(("producer", "admin"), True, lambda w: (
        "/api/v1/products", {"gtin": gtin(), "name_zh": "人参", "category": "ginseng", "unit": "KGM",
                             "owner_gln": w.p["gln"]})),
    "/api/v1/products/{gtin}": Row(("producer", "admin"), True, lambda w: (
        f"/api/v1/products/{w.product['gtin']}", {"variety": "稻花香2号"}), "PATCH"),
    "/api/v1/products/{gtin}/licensees": Row(("producer", "admin"), True, lambda w: (
        f"/api/v1/products/{w.product['gtin']}/licensees", {"glns": [w.other["gln"]]}), "PUT"),
    "/api/v1/lots": Row(("producer", "admin"), True, lambda w: (
        "/api/v1/lots", {"gtin": w.product["gtin"], "lot": lot_code(), "quantity": 5, "unit": "KGM",
                         "production_date": TODAY, "owner_gln": w.p["gln"]})),
    "/api/v1/lots/{gtin}/{lot}/print-runs": Row(("producer", "admin"), True, lambda w: (
        f"/api/v1/lots/{w.lot_path}/print-runs", {"count": 2})),
    "/epcis/capture": Row(("producer", "lab", "admin"), True, lambda w: ("/epcis/capture", _inspecting(w))),
    "/api/v1/transformations": Row(("producer", "admin"), True, lambda w: (
        "/api/v1/transformations", {"party_gln": w.p["gln"], "inputs": _lots(w),
                                    "outputs": [{"gtin": w.product["gtin"], "lot": lot_code(), "quantity": 1}]})),
    "/api/v1/aggregations": Row(("producer", "admin"), True, lambda w: ("/api/v1/aggregations", _aggregation(w))),
    "/api/v1/shipments": Row(("producer", "admin"), True, lambda w: (
        "/api/v1/shipments", {"party_gln": w.p["gln"], "destination_gln": w.other["gln"], "lots": _lots(w)})),
    "/api/v1/receipts": Row(("producer", "admin"), True, lambda w: (
        "/api/v1/receipts", {"party_gln": w.p["gln"], "source_gln": w.other["gln"], "lots": [
            {"gtin": (lot := w.shipped_to_p())["gtin"], "lot": lot["lot"], "quantity": 1, "unit": "KGM"}]})),
    "/api/v1/dispositions": Row(("producer", "admin"), True, lambda w: (
        "/api/v1/dispositions", {"party_gln": w.p["gln"], "kind": "sold", "lots": _lots(w)})),
    "/api/v1/inspections": Row(("lab", "admin"), True, lambda w: ("/api/v1/inspections", _inspection(w))),
    "/api/v1/certificates": Row(("producer", "admin"), True, lambda w: (
        "/api/v1/certificates", {"type": "organic", "number": lot_code(), "issuer_gln": w.p["gln"],
                                 "valid_from": TODAY, "valid_until": "2027-09-20", "gtin": w.product["gtin"]})),
    # EPCIS named queries: any reader names a query (owned by its party); only the owner's party (or a regulator or
    # admin) deletes one
    "/epcis/queries": Row(("producer", "lab", "regulator", "admin"), False, lambda w: (
        "/epcis/queries", {"name": f"matrix{lot_code()}", "query": {"EQ_bizStep": ["shipping"]}})),
    "/epcis/queries/{name}": Row(("producer", "lab", "regulator", "admin"), True, lambda w: (
        f"/epcis/queries/{_named_query(w)}", {}), "DELETE"),
    # EPCIS subscriptions (docs/subscriptions.md): whoever may read a named query subscribes to it; the subscriber's
    # party, a regulator or an admin unsubscribes (a schedule that first fires on 1 January sends nothing meanwhile)
    "/epcis/queries/{name}/subscriptions": Row(("producer", "lab", "regulator", "admin"), True, lambda w: (
        f"/epcis/queries/{_named_query(w)}/subscriptions", {"dest": "https://hooks.example.test/epcis", "schedule": {
            "month": "1", "dayOfMonth": "1", "hour": "0", "minute": "0"}})),
    "/epcis/queries/{name}/subscriptions/{subscription_id}": Row(("producer", "lab", "regulator", "admin"), True,
                                                                  lambda w: (_subscription(w), {}), "DELETE"),
    "/api/v1/trace/common-source": Row(("regulator", "admin"), False, lambda w: (
        "/api/v1/trace/common-source", {"lots": [{"gtin": w.lot["gtin"], "lot": w.lot["lot"]}] * 2})),
    # a producer recalls lots it owns (自主召回): P owns the world's lot, the other party does not
    "/api/v1/recalls": Row(("producer", "regulator", "admin"), True, lambda w: (
        "/api/v1/recalls", {"lots": [{"gtin": w.lot["gtin"], "lot": w.lot["lot"]}], "reason": "matrix test",
                            "level": 3})),
    "/api/v1/parties/{gln}/webhook": Row(("producer", "lab", "admin"), True, lambda w: (
        f"/api/v1/parties/{w.p['gln']}/webhook", {"url": "https://hooks.example.test/tracegraph"}), "PUT"),
    "/api/v1/parties/{gln}/webhook/rotate": Row(("producer", "lab", "admin"), True, lambda w: (
        f"/api/v1/parties/{w.webhook()}/webhook/rotate", {})),
    "/api/v1/recalls/{recall_id}/acknowledgements": Row(("producer", "regulator", "admin"), True, lambda w: (
        f"/api/v1/recalls/{w.recall()}/acknowledgements",
        {"party_gln": w.p["gln"], "quantity_removed": 1, "quantity_recovered": 0, "unit": "KGM"})),
    "/api/v1/recalls/{recall_id}": Row(("regulator", "admin"), False, lambda w: (
        f"/api/v1/recalls/{w.recall()}", {"level": 2}), "PATCH"),
    "/api/v1/recalls/{recall_id}/close": Row(("regulator", "admin"), False, lambda w: (
        f"/api/v1/recalls/{w.recall()}/close", {"note": "done"})),
    "/api/v1/lots/{gtin}/{lot}/hold": Row(("regulator", "admin"), False, lambda w: (
        f"/api/v1/lots/{w.lot_path}/hold", {"reason": "matrix"})),
    "/api/v1/lots/{gtin}/{lot}/release": Row(("regulator", "admin"), False, lambda w: (
        f"/api/v1/lots/{w.lot_path}/release", {})),
    # supervision (issue 15): a regulator, or the lab for its own report, classifies an inspection afterwards
    "/api/v1/inspections/{lab_gln}/{report_no}/classification": Row(("lab", "regulator", "admin"), True, lambda w: (
        f"/api/v1/inspections/{w.p['gln']}/{_recorded(w)}/classification",
        {"programme": "routine_monitoring", "region_code": "220283"}), "PUT"),
    # a failed inspection raises an alert; regulators move it on
    "/api/v1/alerts/{alert_id}/state": Row(("regulator", "admin"), False, lambda w: (
        f"/api/v1/alerts/{_raised_alert(w)}/state", {"state": "acknowledged"})),
    # the supervision loop (issue 15, docs/supervision_plans.md): regulators run 双随机 plans, decide credit and work
    # the report queue; a party appeals only its own record
    "/api/v1/sampling-plans": Row(("regulator", "admin"), False, lambda w: (
        "/api/v1/sampling-plans", {"title": "矩阵", "categories": ["cattle"], "region_code": "220802",
                                   "target_count": 1, "inspector_ids": [_inspector(w)]})),
    "/api/v1/sampling-plans/{plan_id}/draw": Row(("regulator", "admin"), False, lambda w: (
        f"/api/v1/sampling-plans/{_sampling_plan(w)['plan_id']}/draw", {})),
    "/api/v1/sampling-plans/{plan_id}/results": Row(("regulator", "admin"), False, lambda w: (
        lambda plan: (f"/api/v1/sampling-plans/{plan['plan_id']}/results", {"results": [
            {"party_gln": plan["assignments"][0]["party_gln"], "result": "pass", "inspected_on": TODAY}]}))(
        _sampling_plan(w, drawn=True))),
    "/api/v1/inspectors/{user_id}/employment": Row(("regulator", "admin"), False, lambda w: (
        f"/api/v1/inspectors/{_inspector(w)}/employment", {"former_employers": [w.p["gln"]]}), "PUT"),
    "/api/v1/credit/{gln}/changes": Row(("regulator", "admin"), False, lambda w: (
        f"/api/v1/credit/{w.p['gln']}/changes", {"status": "watch", "event_kind": "failed_inspection",
                                                 "reason": "matrix"})),
    "/api/v1/credit/{gln}/approvals": Row(("regulator", "admin"), False, lambda w: (
        f"/api/v1/credit/{w.p['gln']}/approvals", {"action": "labels", "reason": "matrix"})),
    "/api/v1/credit/changes/{change_id}/appeal": Row(("producer", "lab", "admin"), True, lambda w: (
        f"/api/v1/credit/changes/{_credit_change(w)}/appeal", {"text": "matrix"})),
    "/api/v1/credit/appeals/{appeal_id}/decision": Row(("regulator", "admin"), False, lambda w: (
        f"/api/v1/credit/appeals/{_credit_appeal(w)}/decision", {"decision": "upheld", "note": "matrix"})),
    "/api/v1/reports/{report_no}/state": Row(("regulator", "admin"), False, lambda w: (
        f"/api/v1/reports/{_consumer_report(w)}/state", {"state": "investigating"})),
}


def _named_query(w: World) -> str:
    """A named query owned by P."""
    from graph import epcis_resources

    return epcis_resources.create_query(w.graph, f"matrix{lot_code()}", {"EQ_bizStep": ["shipping"]}, w.p["gln"],
                                        "matrix")


def _subscription(w: World) -> str:
    """A subscription of P's on a named query of P's; answers its path."""
    import uuid

    from graph import subscriptions

    name = _named_query(w)
    sid = str(uuid.uuid4())
    subscriptions.create(w.graph, {
        "id": sid, "query_name": name, "party": w.p["gln"], "token_id": "matrix", "dest": "https://hooks.example.test/e",
        "token_enc": None, "stream": False, "schedule": '{"month": "1"}', "report_if_empty": False,
        "initial": "2026-09-20T00:00:00Z", "created": "2026-09-20T00:00:00Z", "next_run": "2027-01-01T00:00:00Z",
        "backfill": False}, 1_000_000)
    return f"/epcis/queries/{name}/subscriptions/{sid}"


def write_endpoints(client) -> set[str]:
    """Every operation of /openapi.json that is not a GET: its path template."""
    spec = client.get("/openapi.json").get_json()
    return {path for path, ops in spec["paths"].items() for method in ops if method in WRITE_METHODS}


def test_every_write_endpoint_has_a_row(client):
    endpoints = write_endpoints(client)
    assert endpoints - set(MATRIX) == set(), "write endpoints without an authorization row"
    assert set(MATRIX) - endpoints == set(), "rows for endpoints that no longer exist"


def expected(row: Row, role: str, party: str) -> int:
    """The status class a role gets: 401 without a token, 403 outside its roles or party, 2xx otherwise."""
    if role == "none":
        return 401
    if role not in row.roles:
        return 403
    if row.own_party_only and party == "other" and role in ("producer", "lab"):
        return 403
    return 200


@pytest.fixture
def client(open_app):
    """A client of the app without rate limits (the matrix sends hundreds of requests, many 401s)."""
    return open_app.test_client()


@pytest.fixture
def world(factory, graph, open_app, client, admin_token):
    p = factory.party(roles=("farm", "lab", "certifier", "retailer", "processor"))
    other = factory.party(roles=("distributor",))
    product = factory.product(p["gln"])
    lot = factory.lot(product["gtin"], p["gln"], quantity=100.0)
    # the other party shipped P some of its own lot, so a receipt by P has something to receive
    other_lot = factory.lot(product["gtin"], other["gln"], quantity=10.0)
    return World(p, other, product, {**lot, "other_lot": other_lot}, graph, open_app, client, admin_token)


def _token(graph, world: World, role: str, party: str) -> str | None:
    if role == "none":
        return None
    acts_for = world.p["gln"] if party == "own" else world.other["gln"]
    if role in ("regulator", "admin"):
        acts_for = None
    return tokens.create(graph, role, acts_for, "matrix")["token"]


@pytest.mark.parametrize("party", ["own", "other"])
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", sorted(MATRIX))
def test_authorization_matrix(client, graph, world, endpoint, role, party):
    row = MATRIX[endpoint]
    path, body = row.request(world)
    token = _token(graph, world, role, party)
    headers = {"Accept": "application/json", **(auth(token) if token else {})}
    want = expected(row, role, party)
    if want != 200:
        # refused means nothing written: the world's records and everything the request names are as they were
        scope = named_in(body, {"gln": world.p["gln"]}, {"gln": world.other["gln"]},
                         {"gtin": world.lot["gtin"], "lot": world.lot["lot"]}, world.lot["other_lot"],
                         recall_ids=[part for part in path.split("/") if part.startswith("RC-")])
        with unchanged(graph, **scope):
            response = client.open(path, method=row.method, json=body, headers=headers)
        refused(response, want)
        return
    response = client.open(path, method=row.method, json=body, headers=headers)
    assert 200 <= response.status_code < 300, (endpoint, role, party, response.get_data(as_text=True)[:400])
    answer = response.get_json(silent=True)
    assert not isinstance(answer, dict) or answer.get("success", True) is True, answer  # a capture job
