"""Cold-chain excursions through the real app and Neo4j: a beef chain farm -> slaughterhouse -> distributor (an SSCC
pallet of cases) -> shop; a shipment whose temperature readings leave the beef's storage range warns exactly the
lots on that pallet (computed here from what the test packed), in the capture's own transaction; in-range readings,
Fahrenheit and a product without storage conditions; the excursion event found by the sensor query parameters; the
alert in the regulator's list, the console and the lot's API answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest

from tests.capture.helpers import commission, document, event_id, loc, lot_uri, ship
from tests.factories import auth, lot_code
from tests.supervision.helpers import regulator_token
from tests.trace.network import fresh_sscc, item_uri, sscc_uri

CHILLED = {"min_c": 0.0, "max_c": 4.0, "note": "0-4 °C 冷藏"}
FROZEN = {"min_c": None, "max_c": -18.0, "note": "-18 °C 以下冷冻"}
KIND = "temperature_excursion"


class Clock:
    """Event times one hour apart, in China time."""

    def __init__(self):
        self.at = datetime(2026, 10, 5, 6, 0, tzinfo=UTC)

    def next(self) -> str:
        self.at += timedelta(hours=1)
        return self.at.isoformat().replace("+00:00", "Z")


def _temperatures(*readings: tuple[str, float, str]) -> list[dict]:
    """One sensor element with a report per (time, value, uom)."""
    return [{"sensorMetadata": {"deviceID": "urn:epc:id:giai:6990000.LOGGER1"},
             "sensorReport": [{"type": "gs1:Temperature", "value": v, "uom": u, "time": t} for t, v, u in readings]}]


def _receive(gln: str, source: str, objects: dict, when: str) -> dict:
    return {"type": "ObjectEvent", "eventID": event_id(), "eventTime": when, "eventTimeZoneOffset": "+08:00",
            "action": "OBSERVE", "bizStep": "receiving", "disposition": "in_progress", "readPoint": loc(gln),
            "bizLocation": loc(gln), **objects,
            "sourceList": [{"type": "owning_party", "source": f"https://id.gs1.org/417/{source}"}],
            "destinationList": [{"type": "owning_party", "destination": f"https://id.gs1.org/417/{gln}"}]}


def _pack(gln: str, parent: str, when: str, **children) -> dict:
    return {"type": "AggregationEvent", "eventID": event_id(), "eventTime": when, "eventTimeZoneOffset": "+08:00",
            "action": "ADD", "bizStep": "packing", "disposition": "in_progress", "parentID": parent,
            "readPoint": loc(gln), "bizLocation": loc(gln), **children}


def _ship_unit(src: str, dst: str, unit: str, when: str, **extra) -> dict:
    event = ship(src, dst, "0", "x", 0, when=when, **extra)
    event.pop("quantityList")
    return {**event, "epcList": [unit], "bizLocation": loc(src)}


def _capture(client, token: str, *events: dict) -> dict:
    response = client.post("/epcis/capture", json=document(*events), headers=auth(token))
    assert response.status_code == 202, response.json
    return response.json


@pytest.fixture
def beef(client, factory):
    """The chain up to the distributor holding the pallet: chilled lots A (two serialised items in case 1), B (in
    case 2 by quantity), C (shipped to the distributor loose, not on the pallet), E (never left the slaughterhouse);
    frozen lot D (shipped to the distributor loose); the pallet holds both cases."""
    farm = factory.party(roles=("farm",), name_zh="测试养牛场")
    house = factory.party(roles=("slaughterhouse",), name_zh="测试屠宰场")
    dist = factory.party(roles=("distributor",), name_zh="测试冷链物流")
    shop = factory.party(roles=("retailer",), name_zh="测试超市")
    cattle = factory.product(farm["gln"], name_zh="活牛", name_en="Cattle", category="beef")
    chilled = factory.product(house["gln"], name_zh="冷鲜牛肉", name_en="Chilled beef", category="beef",
                              storage=CHILLED)
    frozen = factory.product(house["gln"], name_zh="冷冻牛肉", name_en="Frozen beef", category="beef",
                             storage=FROZEN)
    k = lot_code()
    lots = {name: lot_code() for name in "ABCE"}
    lots["D"] = lot_code()
    gtin_of = {n: (frozen["gtin"] if n == "D" else chilled["gtin"]) for n in lots}
    items = {"A1": "S" + lot_code(), "A2": "S" + lot_code()}
    case1, case2, pallet = fresh_sscc(), fresh_sscc(), fresh_sscc()
    clock = Clock()
    setup = [commission(farm["gln"], cattle["gtin"], k, 500, when=clock.next()),
             ship(farm["gln"], house["gln"], cattle["gtin"], k, 500, when=clock.next())]
    setup.append(_receive(house["gln"], farm["gln"],
                          {"quantityList": [{"epcClass": lot_uri(cattle["gtin"], k), "quantity": 500, "uom": "KGM"}]},
                          clock.next()))
    setup.append({"type": "TransformationEvent", "eventID": event_id(), "eventTime": clock.next(),
                  "eventTimeZoneOffset": "+08:00", "bizStep": "commissioning", "disposition": "active",
                  "inputQuantityList": [{"epcClass": lot_uri(cattle["gtin"], k), "quantity": 500, "uom": "KGM"}],
                  "outputQuantityList": [{"epcClass": lot_uri(gtin_of[n], lot), "quantity": 50, "uom": "KGM"}
                                         for n, lot in lots.items()],
                  "readPoint": loc(house["gln"]), "bizLocation": loc(house["gln"])})
    setup.append({"type": "ObjectEvent", "eventID": event_id(), "eventTime": clock.next(),
                  "eventTimeZoneOffset": "+08:00", "action": "ADD", "bizStep": "commissioning",
                  "disposition": "active", "readPoint": loc(house["gln"]), "bizLocation": loc(house["gln"]),
                  "epcList": [item_uri(chilled["gtin"], s, lots["A"]) for s in items.values()]})
    setup.append(_pack(house["gln"], sscc_uri(case1), clock.next(),
                       childEPCs=[item_uri(chilled["gtin"], s) for s in items.values()]))
    setup.append(_pack(house["gln"], sscc_uri(case2), clock.next(), childQuantityList=[
        {"epcClass": lot_uri(chilled["gtin"], lots["B"]), "quantity": 20, "uom": "KGM"}]))
    setup.append(_pack(house["gln"], sscc_uri(pallet), clock.next(), childEPCs=[sscc_uri(case1), sscc_uri(case2)]))
    at = clock.next()
    setup.append(_ship_unit(house["gln"], dist["gln"], sscc_uri(pallet), at,
                            sensorElementList=_temperatures((at, 2.0, "CEL"))))
    setup.append(_receive(dist["gln"], house["gln"], {"epcList": [sscc_uri(pallet)]}, clock.next()))
    for name in "CD":
        setup.append(ship(house["gln"], dist["gln"], gtin_of[name], lots[name], 50, when=clock.next()))
        setup.append(_receive(dist["gln"], house["gln"], {"quantityList": [
            {"epcClass": lot_uri(gtin_of[name], lots[name]), "quantity": 50, "uom": "KGM"}]}, clock.next()))
    job = _capture(client, factory.admin_token, *setup)
    assert job["success"], job
    # What the pallet carries, computed from what the test packed (unit -> contents; an item -> its lot).
    packed = {sscc_uri(pallet): [sscc_uri(case1), sscc_uri(case2)],
              sscc_uri(case1): ["item:A1", "item:A2"], sscc_uri(case2): ["lot:B"]}
    item_lot = {"item:A1": "A", "item:A2": "A"}
    return {"farm": farm, "house": house, "dist": dist, "shop": shop, "chilled": chilled, "frozen": frozen,
            "lots": lots, "gtin_of": gtin_of, "pallet": sscc_uri(pallet), "packed": packed, "item_lot": item_lot,
            "clock": clock, "cattle": (cattle["gtin"], k)}


def _carried(beef, unit: str) -> set[str]:
    """The lot names a unit carries, by walking the test's own packing list."""
    found, todo = set(), [unit]
    while todo:
        x = todo.pop()
        if x in beef["packed"]:
            todo.extend(beef["packed"][x])
        elif x in beef["item_lot"]:
            found.add(beef["item_lot"][x])
        elif x.startswith("lot:"):
            found.add(x[4:])
    return found


def _key(beef, name: str) -> str:
    return f"lot:{beef['gtin_of'][name]}:{beef['lots'][name]}"


def _alerts_of(client, token: str, event: str, **params) -> list[dict]:
    """Every temperature-excursion alert about one event that the token may read."""
    got = client.get("/api/v1/alerts", query_string={"kind": KIND, "per_page": 500, **params}, headers=auth(token))
    assert got.status_code == 200, got.json
    return [a for a in got.json["items"] if a["details"].get("event_id") == event]


def _excursion_shipment(beef, readings, **extra) -> dict:
    clock = beef["clock"]
    at = clock.next()
    return _ship_unit(beef["dist"]["gln"], beef["shop"]["gln"], beef["pallet"], at,
                      sensorElementList=_temperatures(*[(t or at, v, u) for t, v, u in readings]), **extra)


def test_an_excursion_warns_exactly_the_lots_on_the_pallet(client, graph, beef):
    start = beef["clock"].at + timedelta(hours=1)
    t = [(start + timedelta(minutes=m)).isoformat().replace("+00:00", "Z") for m in (0, 20, 50)]
    event = _excursion_shipment(beef, [(t[0], 3.0, "CEL"), (t[1], 6.5, "CEL"), (t[2], 3.5, "CEL")])
    job = _capture(client, beef["dist"]["token"], event)
    assert job["success"], job

    expected = _carried(beef, beef["pallet"])
    assert expected == {"A", "B"}
    regulator = regulator_token(graph)
    alerts = _alerts_of(client, regulator, event["eventID"])
    assert len(alerts) == 1
    chilled = alerts[0]
    assert set(chilled["subject_keys"]) == {_key(beef, n) for n in expected}
    assert chilled["details"]["gtin"] == beef["chilled"]["gtin"]
    assert chilled["details"]["limit"] == {"min_c": 0.0, "max_c": 4.0}
    assert [(r["value"], r["uom"], r["celsius"]) for r in chilled["details"]["readings"]] == [(6.5, "CEL", 6.5)]
    assert chilled["details"]["peak_c"] == 6.5 and chilled["details"]["seconds_outside"] == 30 * 60
    assert chilled["details"]["biz_step"] == "shipping" and chilled["state"] == "open"
    assert "6.5 °C" in chilled["summary"] and event["eventID"] in chilled["summary"]
    # lots not on the pallet carry no warning
    for name in ("C", "D", "E"):
        got = client.get(f"/api/v1/lots/{beef['gtin_of'][name]}/{beef['lots'][name]}",
                         headers=auth(beef["house"]["token"]))
        assert got.status_code == 200 and got.json["warnings"] == []
    # the lot's owner sees it in the lot's answer; the anonymous lot view does not carry it
    got = client.get(f"/api/v1/lots/{beef['gtin_of']['A']}/{beef['lots']['A']}", headers=auth(beef["house"]["token"]))
    assert [w["alert_id"] for w in got.json["warnings"]] == [chilled["alert_id"]]
    assert got.json["warnings"][0]["details"]["lots"] == sorted([_key(beef, "A"), _key(beef, "B")])
    assert "owners" not in got.json["warnings"][0]["details"]
    assert "warnings" not in client.get(f"/api/v1/lots/{beef['gtin_of']['A']}/{beef['lots']['A']}").json
    # the owner and the distributor (whose readings they are) see the alert; the shop, which owns none, does not
    assert [a["alert_id"] for a in _alerts_of(client, beef["house"]["token"], event["eventID"])] == \
        [chilled["alert_id"]]
    assert len(_alerts_of(client, beef["dist"]["token"], event["eventID"])) == 1
    assert _alerts_of(client, beef["shop"]["token"], event["eventID"]) == []
    # resending the same document raises nothing more
    assert _capture(client, beef["dist"]["token"], event)["success"]
    assert len(_alerts_of(client, regulator, event["eventID"])) == 1


def test_readings_in_range_warn_nothing(client, graph, beef):
    # 4.0 °C, 39.2 °F and 277.15 K are the chilled range's upper bound itself, 0 °C its lower one
    event = _excursion_shipment(beef, [(None, 4.0, "CEL"), (None, 39.2, "FAH"), (None, 277.15, "KEL"),
                                       (None, 0.0, "CEL")])
    assert _capture(client, beef["dist"]["token"], event)["success"]
    assert _alerts_of(client, regulator_token(graph), event["eventID"]) == []


def test_fahrenheit_excursion(client, graph, beef):
    # 39.38 °F is 4.1 °C: just above chilled beef's 4 °C
    event = _excursion_shipment(beef, [(None, 39.38, "FAH")])
    assert _capture(client, beef["dist"]["token"], event)["success"]
    alerts = _alerts_of(client, regulator_token(graph), event["eventID"])
    assert {k for a in alerts for k in a["subject_keys"]} == {_key(beef, "A"), _key(beef, "B")}
    reading = alerts[0]["details"]["readings"][0]
    assert (reading["value"], reading["uom"], reading["celsius"]) == (39.38, "FAH", 4.1)
    assert alerts[0]["details"]["direction"] == "above"


def _ship_loose(beef, name: str, readings) -> dict:
    clock = beef["clock"]
    at = clock.next()
    return {**ship(beef["dist"]["gln"], beef["shop"]["gln"], beef["gtin_of"][name], beef["lots"][name], 5, when=at,
                   sensorElementList=_temperatures(*[(at, v, u) for v, u in readings])),
            "bizLocation": loc(beef["dist"]["gln"])}


def test_each_product_is_judged_by_its_own_range(client, graph, beef):
    # frozen beef (at most -18 °C, no floor): -4 °F (-20 °C) is in range, which is far below chilled beef's 0 °C
    cold = _ship_loose(beef, "D", [(-4, "FAH")])
    assert _capture(client, beef["dist"]["token"], cold)["success"]
    assert _alerts_of(client, regulator_token(graph), cold["eventID"]) == []
    warm = _ship_loose(beef, "D", [(-17.9, "CEL")])
    assert _capture(client, beef["dist"]["token"], warm)["success"]
    alerts = _alerts_of(client, regulator_token(graph), warm["eventID"])
    assert [a["subject_keys"] for a in alerts] == [[_key(beef, "D")]]
    assert alerts[0]["details"]["limit"] == {"min_c": None, "max_c": -18.0}
    chilled = _ship_loose(beef, "C", [(-4, "FAH")])
    assert _capture(client, beef["dist"]["token"], chilled)["success"]
    alerts = _alerts_of(client, regulator_token(graph), chilled["eventID"])
    assert [a["subject_keys"] for a in alerts] == [[_key(beef, "C")]]
    assert alerts[0]["details"]["direction"] == "below" and alerts[0]["details"]["peak_c"] == -20.0


def test_a_product_without_storage_conditions_is_not_judged(client, graph, factory, beef):
    # the farm's cattle product records no storage range: a hot reading on its shipment warns nothing
    farm = beef["farm"]
    g = factory.product(farm["gln"], name_zh="活牛", category="beef")["gtin"]
    lot = lot_code()
    clock = beef["clock"]
    assert _capture(client, farm["token"], commission(farm["gln"], g, lot, 10, when=clock.next()))["success"]
    event = ship(farm["gln"], beef["house"]["gln"], g, lot, 10, when=clock.next(),
                 sensorElementList=_temperatures((clock.at.isoformat(), 38.0, "CEL")))
    assert _capture(client, farm["token"], event)["success"]
    assert _alerts_of(client, regulator_token(graph), event["eventID"]) == []


def test_a_refused_document_raises_no_warning(client, graph, factory, beef):
    # the excursion shipment and, in the same document, a receipt the distributor was never sent: the whole
    # document is rolled back, and the warning with it (it is written in the capture's transaction)
    event = _excursion_shipment(beef, [(None, 9.0, "CEL")])
    bogus = _receive(beef["dist"]["gln"], beef["farm"]["gln"], {"quantityList": [
        {"epcClass": lot_uri(*beef["cattle"]), "quantity": 999, "uom": "KGM"}]}, beef["clock"].next())
    response = client.post("/epcis/capture", json=document(event, bogus), headers=auth(beef["dist"]["token"]))
    assert response.status_code in (202, 403, 422)
    assert response.status_code != 202 or not response.json["success"]
    assert _alerts_of(client, regulator_token(graph), event["eventID"]) == []
    assert graph.query("MATCH (e:Event {event_id: $id}) RETURN count(e) AS n", read=True,
                       id=event["eventID"])[0]["n"] == 0


def test_the_sensor_query_finds_the_excursion_event(client, graph, beef):
    event = _excursion_shipment(beef, [(None, 6.0, "CEL")])
    assert _capture(client, beef["dist"]["token"], event)["success"]
    unit = quote(beef["pallet"], safe="")
    regulator = regulator_token(graph)

    def found(params: str) -> list[str]:
        got = client.get(f"/epcis/events?MATCH_epc={unit}&{params}", headers=auth(regulator))
        assert got.status_code == 200, got.json
        return [e["eventID"] for e in got.json["epcisBody"]["queryResults"]["resultsBody"]["eventList"]]

    # the pallet's earlier shipment read 2.0 °C; only the excursion reads 4.1 °C or more (42.8 °F, 277.25 K)
    assert found("GE_value_CEL=4.1&EQ_type=gs1:Temperature") == [event["eventID"]]
    assert found("GE_value_FAH=42.8") == [event["eventID"]]
    assert found("GE_value_KEL=277.25") == [event["eventID"]]
    assert found("GT_value_CEL=6") == []
    assert len(found("LT_value_CEL=4.1&EQ_type=gs1:Temperature")) == 1  # the in-range shipment


def test_the_console_lists_the_alert(client, graph, beef):
    from tests.web.helpers import login, make_user

    event = _excursion_shipment(beef, [(None, 7.0, "CEL")])
    assert _capture(client, beef["dist"]["token"], event)["success"]
    user = make_user(graph, role="regulator")
    web = client.application.test_client()
    assert login(web, user["username"]).status_code in (302, 303)
    page = web.get(f"/console/alerts?kind={KIND}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert event["eventID"] in text and "冷链温度超标" in text
