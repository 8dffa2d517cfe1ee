"""The trace endpoints through the real app: who may trace what, the answer's shape, exports and common sources."""

from __future__ import annotations

import csv
import io
import json
import random
from datetime import UTC, datetime

import pytest
from openpyxl import load_workbook

from graph import tokens
from tests.factories import auth, gtin, lot_code
from tests.gs1.examples import epcis_problems
from tests.trace import network
from tests.trace.arrange import capture
from tests.trace.reference import Reference


@pytest.fixture
def net(graph, admin_token):
    """A small captured network with no errorDeclarations."""
    n = network.generate(random.Random(7), farms=3, processors=2, retailers=2, errors=0)
    capture(graph, admin_token, n)
    return n


@pytest.fixture(scope="session")
def regulator(graph):
    """A regulator token."""
    return tokens.create(graph, "regulator", None, "tests")["token"]


def _path(key: str) -> str:
    kind, g, rest = key.split(":", 2)
    return f"/api/v1/{'lots' if kind == 'lot' else 'items'}/{g}/{rest}/trace"


def test_regulator_traces_a_farm_lot_forward_to_every_retailer(client, net, regulator):
    ref = Reference.build(net.events)
    start = net.raw_lots[0]
    response = client.get(_path(start) + "?direction=forward", headers=auth(regulator))
    assert response.status_code == 200, response.json
    body = response.json
    want_nodes, _ = ref.trace(start)
    assert {n["id"] for n in body["nodes"]} == want_nodes
    assert all(e["from"] in want_nodes and e["to"] in want_nodes for e in body["edges"])
    received = {r["gln"] for r in body["receipts"]} | {h["gln"] for h in body["holders"]}
    assert ref.receivers(want_nodes) - {start.split(":")[1]} <= received
    # regulators see contacts; every party named is described
    assert set(received) <= set(body["parties"])
    assert all(e["event_id"] for e in body["events"])


def test_back_trace_from_a_retail_item_reaches_the_farm_lots(client, net, regulator):
    ref = Reference.build(net.events)
    item = next(k for k in net.retail_keys if k.startswith("item:"))
    body = client.get(_path(item) + "?direction=back", headers=auth(regulator)).json
    want_nodes, want_edges = ref.trace(item, forward=False)
    assert {n["id"] for n in body["nodes"]} == want_nodes
    assert {(e["from"], e["type"], e["to"]) for e in body["edges"]} == want_edges
    assert want_nodes & set(net.raw_lots)
    depths = {n["id"]: n["depth"] for n in body["nodes"]}
    assert depths[item] == 0 and all(depths[k] < 0 for k in want_nodes - {item})


def test_producer_traces_only_what_its_party_held(client, net, graph):
    farm = net.parties["farm"][0]
    token = tokens.create(graph, "producer", farm, "t")["token"]
    mine = next(k for k in net.raw_lots if _origin(net, k) == farm)
    ok = client.get(_path(mine), headers=auth(token))
    assert ok.status_code == 200, ok.json
    assert all("contact_phone" not in p for p in ok.json["parties"].values())
    other = next((k for k in net.raw_lots if _origin(net, k) != farm), None)
    if other is not None:
        denied = client.get(_path(other), headers=auth(token))
        assert denied.status_code == 403
        assert denied.json["error"]["code"] == "forbidden"


def _origin(net, key: str) -> str:
    for ev in net.events:
        for q in ev.get("quantityList", []):
            if ev.get("bizStep") == "harvesting" and network._key(q["epcClass"]) == key:
                return ev["bizLocation"]["id"].rsplit("/", 1)[-1]
    raise AssertionError(key)


def test_unknown_lot_is_404_and_bad_input_is_422_naming_it(client, regulator):
    missing = client.get(f"/api/v1/lots/{gtin()}/{lot_code()}/trace", headers=auth(regulator))
    assert missing.status_code == 404
    bad = client.get(f"/api/v1/lots/{gtin()}/{lot_code()}/trace?direction=sideways", headers=auth(regulator))
    assert bad.status_code == 422
    assert "direction" in bad.json["error"]["errors"]["query"]
    half = client.get(f"/api/v1/lots/{gtin()}/{lot_code()}/trace?from=2026-01-01T00:00:00Z", headers=auth(regulator))
    assert half.status_code == 422
    assert "to" in half.json["error"]["errors"]["query"]
    digits = client.get(f"/api/v1/lots/{gtin()[:-1]}0x/L1/trace", headers=auth(regulator))
    assert digits.status_code == 422
    anonymous = client.get(f"/api/v1/lots/{gtin()}/{lot_code()}/trace")
    assert anonymous.status_code == 401


def test_window_keeps_only_what_was_made_from_the_lot_inside_it(client, net, regulator):
    ref = Reference.build(net.events)
    start = net.raw_lots[0]
    path = _path(start) + "?direction=forward&from=2000-01-01T00:00:00Z&to=2000-01-02T00:00:00Z"
    body = client.get(path, headers=auth(regulator)).json
    nodes, _ = ref.trace(start, window=(datetime(2000, 1, 1, tzinfo=UTC),
                                        datetime(2000, 1, 2, tzinfo=UTC)))
    assert {n["id"] for n in body["nodes"]} == nodes == {start}


def test_trace_exports_as_csv_xlsx_and_a_valid_epcis_document(client, net, regulator):
    start = net.raw_lots[0]
    g, lot = start.split(":")[1:]
    base = f"/api/v1/lots/{g}/{lot}/trace/export?direction=forward"
    as_csv = client.get(base + "&format=csv", headers=auth(regulator))
    assert as_csv.status_code == 200
    rows = list(csv.DictReader(io.StringIO(as_csv.data.decode("utf-8-sig"))))
    assert rows and {"Traceability Lot Code", "Ship-To GLN", "Critical Tracking Event"} <= set(rows[0])
    assert any(r["Critical Tracking Event"] == "Shipping" and r["Ship-To GLN"] for r in rows)
    assert any(r["Traceability Lot Code"] == lot for r in rows)
    as_xlsx = client.get(base + "&format=xlsx", headers=auth(regulator))
    sheet = load_workbook(io.BytesIO(as_xlsx.data)).active
    assert sheet.auto_filter.ref.startswith("A1:")
    assert sheet.max_row == len(rows) + 1
    as_epcis = client.get(base + "&format=epcis", headers=auth(regulator))
    doc = json.loads(as_epcis.data)
    assert epcis_problems(doc) == []
    assert len(doc["epcisBody"]["eventList"]) == len({r["Event ID"] for r in rows})


def test_common_source_ranks_the_shared_farm_lot_first(client, graph, admin_token, regulator):
    n = network.generate(random.Random(11), farms=2, processors=2, retailers=1, errors=0)
    capture(graph, admin_token, n)
    ref = Reference.build(n.events)
    milled = [k for k in n.all_keys if k.startswith(f"lot:{n.products['milled']}:")][:3]
    body = {"lots": [{"gtin": k.split(":")[1], "lot": k.split(":")[2]} for k in milled], "min_shared": 1}
    response = client.post("/api/v1/trace/common-source", json=body, headers=auth(regulator))
    assert response.status_code == 200, response.json
    got = {r["id"]: r["reaches"] for r in response.json["lots"]}
    for upstream, count in got.items():
        assert count == sum(upstream in ref.trace(m, forward=False)[0] for m in milled)
    reaches = [r["reaches"] for r in response.json["lots"]]
    assert reaches == sorted(reaches, reverse=True)
    too_few = client.post("/api/v1/trace/common-source", json={"lots": body["lots"][:1]}, headers=auth(regulator))
    assert too_few.status_code == 422


def _period(day: str) -> str:
    return f"/api/v1/trace/export?from={day}T00:00:00%2B08:00&to={day}T23:59:59%2B08:00&format=csv"


def _unused_day(client, regulator: str) -> str:
    """A day of the 20th century no event was recorded on yet (a kept test database has seen these tests run
    before), so a period export of it holds exactly the events a test records."""
    return next(d for d in (f"19{random.randint(0, 99):02d}-{random.randint(1, 12):02d}-{random.randint(10, 28)}"
                            for _ in range(50))
                if client.get(_period(d), headers=auth(regulator)).data.decode("utf-8-sig").count("\n") == 1)


def test_period_export_lists_the_events_of_the_period_and_only_a_producers_own(client, factory, regulator):
    from tests.capture.helpers import commission, document, ship

    farm, mill, other = factory.party(), factory.party(roles=("processor",)), factory.party()
    g, lot = gtin(), lot_code()
    day = _unused_day(client, regulator)
    events = [commission(farm["gln"], g, lot, 50, when=f"{day}T08:00:00+08:00"),
              ship(farm["gln"], mill["gln"], g, lot, 20, when=f"{day}T09:00:00+08:00"),
              commission(other["gln"], gtin(), lot_code(), 5, when=f"{day}T10:00:00+08:00")]
    assert client.post("/epcis/capture", json=document(*events), headers=auth(factory.admin_token)).status_code == 202
    path = _period(day)

    def rows(token):
        answer = client.get(path, headers=auth(token))
        assert answer.status_code == 200
        return list(csv.DictReader(io.StringIO(answer.data.decode("utf-8-sig"))))

    everything = rows(regulator)
    assert sorted(r["Event ID"] for r in everything) == sorted(e["eventID"] for e in events)
    assert {r["Ship-To GLN"] for r in everything if r["Critical Tracking Event"] == "Shipping"} == {mill["gln"]}
    assert sorted(r["Event ID"] for r in rows(farm["token"])) == sorted(e["eventID"] for e in events[:2])
    assert [r["Event ID"] for r in rows(other["token"])] == [events[2]["eventID"]]


def test_period_export_includes_class_level_quantities(client, factory, regulator):
    """A quantity of a GTIN without a lot (a class, stored on the Product, which has no key) must not break it."""
    from tests.capture.helpers import document, event_id, loc

    farm = factory.party()
    g = gtin()
    day = _unused_day(client, regulator)
    event = {"type": "ObjectEvent", "eventID": event_id(), "eventTime": f"{day}T08:00:00+08:00",
             "eventTimeZoneOffset": "+08:00", "action": "OBSERVE", "bizStep": "inspecting",
             # Two objects in one event: their rows are ordered by key, and the class has none.
             "quantityList": [{"epcClass": f"https://id.gs1.org/01/{g}", "quantity": 3, "uom": "KGM"},
                              {"epcClass": f"https://id.gs1.org/01/{g}/10/{lot_code()}", "quantity": 1,
                               "uom": "KGM"}],
             "readPoint": loc(farm["gln"])}
    assert client.post("/epcis/capture", json=document(event), headers=auth(factory.admin_token)).status_code == 202
    answer = client.get(_period(day), headers=auth(regulator))
    assert answer.status_code == 200
    rows = list(csv.DictReader(io.StringIO(answer.data.decode("utf-8-sig"))))
    assert [r["Event ID"] for r in rows] == [event["eventID"]] * 2
