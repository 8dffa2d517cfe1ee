"""Hostile tests of the trust of the record (issue 12): one party cannot change, claim, hide or counterfeit another's
record. Each attack goes through the real app and Neo4j with an ordinary producer or lab token, and each test checks
that the victim's events, custody, lineage, recall reach and consumer verdict are what they were."""

from __future__ import annotations

import copy
from dataclasses import dataclass

import pytest

from graph import lots, serials
from labels.serials import make_serial
from tests.capture.helpers import commission, document, event_id, event_path, loc, lot_uri, ship
from tests.factories import auth, gln, gtin, lot_code
from tests.fingerprint import unchanged

JSON = {"Accept": "application/json"}
DECLARED = {"declarationTime": "2026-09-23T08:00:00+08:00", "reason": "incorrect_data"}


@dataclass
class Chain:
    """A brand (farm) whose lot went to a processor, which made a lot of its own; a distributor received a part."""

    farm: dict
    processor: dict
    distributor: dict
    attacker: dict
    lab: dict
    raw: dict
    made: dict
    raw_lot: str
    made_lot: str
    shipment: dict
    receipt: dict
    transformation: dict
    to_distributor: dict

    @property
    def keys(self) -> list[str]:
        return [f"lot:{self.raw['gtin']}:{self.raw_lot}", f"lot:{self.made['gtin']}:{self.made_lot}"]

    @property
    def glns(self) -> list[str]:
        return [self.farm["gln"], self.processor["gln"], self.distributor["gln"], self.attacker["gln"]]


def capture(client, token: str, *events: dict, expect: int = 202):
    """POST a document and, when accepted, return its capture job."""
    answer = client.post("/epcis/capture", json=document(*events), headers=auth(token))
    assert answer.status_code == expect, answer.get_data(as_text=True)[:600]
    if expect != 202:
        return answer.get_json()
    job = client.get(answer.headers["Location"], headers=auth(token)).get_json()
    return job


def accepted(client, token: str, *events: dict) -> dict:
    job = capture(client, token, *events)
    assert job["success"], job["errors"]
    return job


def holders(graph, gtin_: str, lot: str) -> dict[str, float]:
    return {h["gln"]: h["quantity"] for h in lots.get(graph, gtin_, lot)["holders"]}


def receipt_of(shipment: dict, receiver: str, when: str) -> dict:
    raw = copy.deepcopy(shipment)
    raw.update(eventID=event_id(), eventTime=when, bizStep="receiving", disposition="in_progress",
               readPoint=loc(receiver))
    return raw


@pytest.fixture
def chain(client, factory) -> Chain:
    farm, processor = factory.party(), factory.party(roles=("processor",))
    distributor, attacker = factory.party(roles=("distributor",)), factory.party(roles=("retailer",))
    lab = factory.party(roles=("lab",), role="lab")
    raw, made = factory.product(farm["gln"]), factory.product(processor["gln"])
    raw_lot, made_lot = lot_code(), lot_code()
    shipment = ship(farm["gln"], processor["gln"], raw["gtin"], raw_lot, 1000)
    receipt = receipt_of(shipment, processor["gln"], "2026-09-21T12:00:00+08:00")
    transformation = {
        "type": "TransformationEvent", "eventID": event_id(), "eventTime": "2026-09-22T08:00:00+08:00",
        "eventTimeZoneOffset": "+08:00", "bizStep": "commissioning", "readPoint": loc(processor["gln"]),
        "bizLocation": loc(processor["gln"]),
        "inputQuantityList": [{"epcClass": lot_uri(raw["gtin"], raw_lot), "quantity": 1000, "uom": "KGM"}],
        "outputQuantityList": [{"epcClass": lot_uri(made["gtin"], made_lot), "quantity": 330, "uom": "KGM"}]}
    to_distributor = ship(processor["gln"], distributor["gln"], made["gtin"], made_lot, 100,
                          when="2026-09-22T12:00:00+08:00")
    accepted(client, farm["token"], commission(farm["gln"], raw["gtin"], raw_lot, 1000), shipment)
    accepted(client, processor["token"], receipt, transformation, to_distributor)
    return Chain(farm, processor, distributor, attacker, lab, raw, made, raw_lot, made_lot, shipment, receipt,
                 transformation, to_distributor)


def stored_event(client, admin_token: str, eid: str) -> dict:
    answer = client.get(event_path(eid), headers=auth(admin_token))
    assert answer.status_code == 200
    return answer.get_json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"][0]


def recall_reach(client, admin_token: str, gtin_: str, lot: str) -> set[str]:
    answer = client.get(f"/api/v1/lots/{gtin_}/{lot}/trace?direction=forward", headers=auth(admin_token))
    assert answer.status_code == 200, answer.get_data(as_text=True)[:300]
    return {n["id"] for n in answer.get_json()["nodes"]}


# --- 1. errorDeclaration -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["lab", "attacker", "distributor"])
def test_nobody_but_the_recorder_declares_a_shipment_erroneous(client, graph, factory, chain, who):
    """The attack of the issue: another party's shipping eventID plus errorDeclaration, with other content."""
    actor = getattr(chain, who)
    forged = {**ship(actor["gln"], actor["gln"], chain.raw["gtin"], chain.raw_lot, 1000),
              "eventID": chain.shipment["eventID"], "bizStep": "inspecting" if who == "lab" else "shipping",
              "action": "OBSERVE", "errorDeclaration": DECLARED}
    forged.pop("destinationList")
    before = stored_event(client, factory.admin_token, chain.shipment["eventID"])
    with unchanged(graph, keys=chain.keys, glns=chain.glns):
        error = capture(client, actor["token"], forged, expect=403)["error"]
    assert "only the party that recorded an event" in error["message"]
    assert stored_event(client, factory.admin_token, chain.shipment["eventID"]) == before
    assert holders(graph, chain.raw["gtin"], chain.raw_lot) == {chain.processor["gln"]: 0.0} or \
        holders(graph, chain.raw["gtin"], chain.raw_lot) == {}


def test_a_transformation_declared_by_another_party_keeps_its_lineage_and_recall_reach(client, graph, factory, chain):
    forged = {**chain.transformation, "readPoint": loc(chain.attacker["gln"]),
              "bizLocation": loc(chain.attacker["gln"]), "errorDeclaration": DECLARED}
    with unchanged(graph, keys=chain.keys, glns=chain.glns):
        capture(client, chain.attacker["token"], forged, expect=403)
    made_key = f"lot:{chain.made['gtin']}:{chain.made_lot}"
    assert made_key in recall_reach(client, factory.admin_token, chain.raw["gtin"], chain.raw_lot)
    recall = client.post("/api/v1/recalls", headers=auth(factory.admin_token), json={
        "lots": [{"gtin": chain.raw["gtin"], "lot": chain.raw_lot}], "reason": "cadmium above limit", "level": 1})
    assert recall.status_code == 201, recall.get_data(as_text=True)[:300]
    page = client.get(f"/01/{chain.made['gtin']}/10/{chain.made_lot}", headers=JSON).get_json()
    assert page["recall"]["recalled"] is True


def test_a_declaration_must_repeat_the_event_unchanged(client, graph, factory, chain):
    altered = {**chain.to_distributor, "errorDeclaration": DECLARED}
    altered["quantityList"] = [{**altered["quantityList"][0], "quantity": 1}]
    with unchanged(graph, keys=chain.keys, glns=chain.glns):
        job = capture(client, chain.processor["token"], altered)
    assert job["success"] is False and job["errors"][0]["code"] == "conflict"
    assert "repeats event" in job["errors"][0]["message"]


def test_the_recorder_declares_its_own_event_and_the_original_stays_in_the_record(client, graph, factory, chain):
    before = stored_event(client, factory.admin_token, chain.to_distributor["eventID"])
    accepted(client, chain.processor["token"], {**chain.to_distributor, "errorDeclaration": DECLARED})
    after = stored_event(client, factory.admin_token, chain.to_distributor["eventID"])
    assert after["errorDeclaration"]["reason"] == "incorrect_data"
    assert {k: v for k, v in after.items() if k != "errorDeclaration"} == before  # recordTime included
    assert holders(graph, chain.made["gtin"], chain.made_lot) == {chain.processor["gln"]: 330.0}
    # no empty custody edge left at the distributor: as if the shipment had never been recorded
    edges = graph.query("MATCH (:Party {gln: $g})-[h:HOLDS]->(:Lot {key: $k}) RETURN h", read=True,
                        g=chain.distributor["gln"], k=f"lot:{chain.made['gtin']}:{chain.made_lot}")
    assert edges == []


def test_a_shipment_already_received_cannot_be_declared_before_its_receipt(client, graph, factory, chain):
    """Declaring it would give the farm its 1,000 kg back while the processor kept what it received."""
    with unchanged(graph, keys=chain.keys, glns=chain.glns):
        job = capture(client, chain.farm["token"], {**chain.shipment, "errorDeclaration": DECLARED})
    assert job["success"] is False and job["errors"][0]["code"] == "mass_balance"


# --- 2. counterfeits ---------------------------------------------------------------------------------------------

def test_nobody_adds_a_serial_inside_another_brands_lot(client, graph, factory, chain):
    serial = "FAKE" + lot_code()[:8]
    event = commission(chain.attacker["gln"], chain.raw["gtin"], chain.raw_lot, 1)
    event.pop("quantityList")
    event["epcList"] = [f"https://id.gs1.org/01/{chain.raw['gtin']}/10/{chain.raw_lot}/21/{serial}"]
    with unchanged(graph, keys=chain.keys, glns=chain.glns):
        capture(client, chain.attacker["token"], event, expect=403)
    page = client.get(f"/01/{chain.raw['gtin']}/10/{chain.raw_lot}/21/{serial}", headers=JSON).get_json()
    assert page["authenticity"]["verdict"] != "genuine"


def test_an_unsigned_serial_is_never_genuine_even_from_the_brand_owner(client, factory, chain):
    serial = "PLAIN" + lot_code()[:8]
    event = commission(chain.farm["gln"], chain.raw["gtin"], chain.raw_lot, 1)
    event.pop("quantityList")
    event["epcList"] = [f"https://id.gs1.org/01/{chain.raw['gtin']}/10/{chain.raw_lot}/21/{serial}"]
    accepted(client, chain.farm["token"], event)
    page = client.get(f"/01/{chain.raw['gtin']}/10/{chain.raw_lot}/21/{serial}", headers=JSON).get_json()
    assert page["authenticity"] == {"verdict": "unknown_code", "level": "item", "reason": "unsigned"}


def test_a_print_runs_signed_serial_is_genuine(client, app, graph, factory, chain):
    secret = app.config["SECRET_KEY"]
    run = serials.create_run(graph, chain.raw["gtin"], chain.raw_lot, 1,
                             lambda: make_serial(secret, chain.raw["gtin"], chain.raw_lot), "trust")
    page = client.get(f"/01/{chain.raw['gtin']}/10/{chain.raw_lot}/21/{run['serials'][0]}", headers=JSON).get_json()
    assert page["authenticity"]["verdict"] == "genuine"


def test_a_lot_cannot_be_registered_under_another_partys_gtin(client, graph, factory, chain):
    lot = lot_code()
    body = {"gtin": chain.raw["gtin"], "lot": lot, "quantity": 50, "unit": "KGM", "owner_gln": chain.attacker["gln"],
            "production_date": "2026-09-20", "origin": "harvest"}
    with unchanged(graph, keys=[*chain.keys, f"lot:{chain.raw['gtin']}:{lot}"], glns=chain.glns):
        answer = client.post("/api/v1/lots", json=body, headers=auth(chain.attacker["token"]))
    assert answer.status_code == 403, answer.get_data(as_text=True)[:300]
    assert "not licensed" in answer.get_json()["error"]["message"]
    assert client.get(f"/api/v1/lots/{chain.raw['gtin']}/{lot}").status_code == 404
    printed = client.post(f"/api/v1/lots/{chain.raw['gtin']}/{chain.raw_lot}/print-runs", json={"count": 2},
                          headers={**auth(chain.attacker["token"]), **JSON})
    assert printed.status_code == 403


def test_a_licensee_may_register_lots_of_the_owners_gtin(client, graph, factory, chain):
    granted = client.put(f"/api/v1/products/{chain.raw['gtin']}/licensees", json={"glns": [chain.attacker["gln"]]},
                         headers=auth(chain.farm["token"]))
    assert granted.status_code == 200, granted.get_data(as_text=True)[:300]
    body = {"gtin": chain.raw["gtin"], "lot": lot_code(), "quantity": 50, "unit": "KGM",
            "owner_gln": chain.attacker["gln"], "production_date": "2026-09-20", "origin": "harvest"}
    assert client.post("/api/v1/lots", json=body, headers=auth(chain.attacker["token"])).status_code == 201
    # only the owner (or an admin) grants
    with unchanged(graph, products=[chain.raw["gtin"]]):
        again = client.put(f"/api/v1/products/{chain.raw['gtin']}/licensees", json={"glns": []},
                           headers=auth(chain.attacker["token"]))
    assert again.status_code == 403
    kept = graph.query("MATCH (p:Product {gtin: $g}) RETURN p.licensees AS l", read=True, g=chain.raw["gtin"])
    assert kept[0]["l"] == [chain.attacker["gln"]]


# --- 3. claiming others' objects -----------------------------------------------------------------------------------

def test_nobody_commissions_more_of_another_partys_lot(client, graph, factory, chain):
    grab = commission(chain.attacker["gln"], chain.raw["gtin"], chain.raw_lot, 5000)
    with unchanged(graph, keys=chain.keys, glns=chain.glns):
        capture(client, chain.attacker["token"], grab, expect=403)
    page = client.get(f"/01/{chain.raw['gtin']}/10/{chain.raw_lot}", headers=JSON).get_json()
    assert chain.attacker["gln"] not in str(page)


def test_a_shipment_must_come_from_its_recorder(client, graph, factory, chain):
    forged = ship(chain.processor["gln"], chain.attacker["gln"], chain.made["gtin"], chain.made_lot, 200)
    forged["readPoint"] = loc(chain.attacker["gln"])
    with unchanged(graph, keys=chain.keys, glns=chain.glns):
        error = capture(client, chain.attacker["token"], forged, expect=403)["error"]
    assert "must be from it" in error["message"]


def test_a_transformation_cannot_output_another_partys_lot(client, graph, factory, chain):
    own = factory.product(chain.attacker["gln"])
    own_lot = lot_code()
    accepted(client, chain.attacker["token"], commission(chain.attacker["gln"], own["gtin"], own_lot, 10))
    hijack = {**chain.transformation, "eventID": event_id(), "readPoint": loc(chain.attacker["gln"]),
              "bizLocation": loc(chain.attacker["gln"]),
              "inputQuantityList": [{"epcClass": lot_uri(own["gtin"], own_lot), "quantity": 10, "uom": "KGM"}],
              "outputQuantityList": [{"epcClass": lot_uri(chain.made["gtin"], chain.made_lot), "quantity": 1,
                                      "uom": "KGM"}]}
    with unchanged(graph, keys=[*chain.keys, f"lot:{own['gtin']}:{own_lot}"], glns=chain.glns):
        capture(client, chain.attacker["token"], hijack, expect=403)
    assert f"lot:{chain.made['gtin']}:{chain.made_lot}" not in recall_reach(client, factory.admin_token,
                                                                           own["gtin"], own_lot)


def test_capture_by_a_party_token_creates_no_master_data(client, graph, factory, chain):
    squat_gtin, squat_gln = gtin(), gln()
    event = commission(chain.attacker["gln"], squat_gtin, lot_code(), 1)
    job = capture(client, chain.attacker["token"], event)
    assert job["success"] is False and job["errors"][0]["code"] == "not_found"
    out = ship(chain.processor["gln"], squat_gln, chain.made["gtin"], chain.made_lot, 1)
    with unchanged(graph, keys=chain.keys, glns=chain.glns):
        job = capture(client, chain.processor["token"], out)
    assert job["success"] is False and squat_gln in job["errors"][0]["message"]
    found = graph.query("OPTIONAL MATCH (p:Product {gtin: $t}) OPTIONAL MATCH (q:Party {gln: $g}) "
                        "RETURN p IS NULL AND q IS NULL AS none", read=True, t=squat_gtin, g=squat_gln)
    assert found[0]["none"] is True
    # the real owner can still register them
    owner = factory.party()
    assert client.post("/api/v1/products", headers=auth(owner["token"]), json={
        "gtin": squat_gtin, "name_zh": "人参", "category": "ginseng", "unit": "KGM",
        "owner_gln": owner["gln"]}).status_code == 201


def test_a_lab_may_not_commission_or_ship(client, graph, factory, chain):
    grab = commission(chain.lab["gln"], chain.raw["gtin"], chain.raw_lot, 10, bizStep="inspecting")
    with unchanged(graph, keys=chain.keys, glns=[*chain.glns, chain.lab["gln"]]):
        error = capture(client, chain.lab["token"], grab, expect=403)["error"]
    assert "records inspections only" in error["message"]


# --- the capture authorization matrix ----------------------------------------------------------------------------

def _events(chain: Chain, actor_gln: str) -> dict[str, dict]:
    """One event of each kind, recorded at the actor's location about the chain's objects."""
    made = (chain.made["gtin"], chain.made_lot)
    inspect = {"type": "ObjectEvent", "eventID": event_id(), "eventTime": "2026-09-23T08:00:00+08:00",
               "eventTimeZoneOffset": "+08:00", "action": "OBSERVE", "bizStep": "inspecting",
               "quantityList": [{"epcClass": lot_uri(*made), "quantity": 1, "uom": "KGM"}],
               "readPoint": loc(actor_gln)}
    out = ship(actor_gln, chain.distributor["gln"], *made, 10, when="2026-09-23T08:00:00+08:00")
    out["sourceList"] = [{"type": "owning_party", "source": f"https://id.gs1.org/417/{actor_gln}"}]
    more = commission(actor_gln, *made, 10, when="2026-09-23T08:00:00+08:00")
    transform = {**chain.transformation, "eventID": event_id(), "eventTime": "2026-09-23T08:00:00+08:00",
                 "readPoint": loc(actor_gln), "bizLocation": loc(actor_gln),
                 "inputQuantityList": [{"epcClass": lot_uri(*made), "quantity": 10, "uom": "KGM"}],
                 "outputQuantityList": [{"epcClass": lot_uri(chain.made["gtin"], lot_code()), "quantity": 3,
                                         "uom": "KGM"}]}
    declare = {**chain.to_distributor, "errorDeclaration": DECLARED}
    return {"inspect": inspect, "ship": out, "commission": more, "transform": transform, "declare": declare}


# actor -> event kind -> expected status: the processor owns and holds the made lot and recorded its shipment
MATRIX = {
    "processor": {"inspect": 202, "ship": 202, "commission": 202, "transform": 202, "declare": 202},
    "attacker": {"inspect": 403, "ship": 403, "commission": 403, "transform": 403, "declare": 403},
    "lab": {"inspect": 202, "ship": 403, "commission": 403, "transform": 403, "declare": 403},
    "regulator": {"inspect": 403, "ship": 403, "commission": 403, "transform": 403, "declare": 403},
    "none": {"inspect": 401, "ship": 401, "commission": 401, "transform": 401, "declare": 401},
}


@pytest.mark.parametrize("actor", list(MATRIX))
@pytest.mark.parametrize("kind", ["inspect", "ship", "commission", "transform", "declare"])
def test_capture_authorization_matrix(client, graph, factory, chain, actor, kind):
    """Who may capture which kind of event about the processor's lot, through /epcis/capture."""
    expected = MATRIX[actor][kind]
    if actor == "regulator":
        from graph import tokens
        token, where = tokens.create(graph, "regulator", None, "matrix")["token"], chain.processor["gln"]
    elif actor == "none":
        token, where = None, chain.processor["gln"]
    else:
        party = getattr(chain, actor)
        token, where = party["token"], party["gln"]
    event = _events(chain, where)[kind]
    headers = auth(token) if token else {}
    if expected == 202:
        answer = client.post("/epcis/capture", json=document(event), headers=headers)
        assert answer.status_code == 202, answer.get_data(as_text=True)[:400]
        job = client.get(answer.headers["Location"], headers=headers).get_json()
        assert job["success"], job["errors"]
        return
    with unchanged(graph, keys=chain.keys, glns=chain.glns):
        answer = client.post("/epcis/capture", json=document(event), headers=headers)
    assert answer.status_code == expected, answer.get_data(as_text=True)[:400]


def _gtin_under(prefix: str) -> str:
    from tests.factories import check_digit

    body = "0" + prefix + lot_code()[1:][:12 - len(prefix)].translate(str.maketrans("ABCDEF", "123456"))
    body = (body + "0" * 13)[:13]
    return body + check_digit(body)


def test_nobody_registers_a_gtin_outside_its_gs1_company_prefix(client, graph, factory):
    owner = factory.party(company_prefixes=["6991234"])
    squatter = factory.party(company_prefixes=["6995678"])
    unlicensed = factory.party(company_prefixes=None)
    brand_gtin = _gtin_under("6991234")

    def register(party):
        return client.post("/api/v1/products", headers=auth(party["token"]), json={
            "gtin": brand_gtin, "name_zh": "人参", "category": "ginseng", "unit": "KGM", "owner_gln": party["gln"]})

    with unchanged(graph, products=[brand_gtin], glns=[owner["gln"], squatter["gln"]]):
        taken = register(squatter)
        none = register(unlicensed)
    assert taken.status_code == 403 and "not under a GS1 company prefix" in taken.get_json()["error"]["message"]
    assert none.status_code == 403 and "no GS1 company prefix" in none.get_json()["error"]["message"]
    assert register(owner).status_code == 201
