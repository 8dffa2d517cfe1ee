"""Processed lots keep a production date and a shelf life (expiry), and cases are packed into pallets (SSCC) from the
pack page: on the real app and Neo4j, read back from the store."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from gs1.timezones import CHINA
from tests.factories import auth, lot_code
from tests.fingerprint import unchanged
from tests.web.helpers import login, make_user, post


@pytest.fixture
def mill(app, graph, factory):
    """A mill holding 500 kg of its own paddy, owning a rice product, with a logged-in user's client."""
    party = factory.party(roles=("processor",), name_zh="加工测试米业")
    paddy = factory.product(party["gln"], name_zh="稻谷", category="paddy")
    rice = factory.product(party["gln"], name_zh="大米", category="rice")
    held = factory.lot(paddy["gtin"], party["gln"], quantity=500.0)
    client = app.test_client()
    assert login(client, make_user(graph, party_gln=party["gln"])["username"]).status_code == 303
    return {"party": party, "paddy": paddy, "rice": rice, "held": held, "client": client}


def _today() -> date:
    return datetime.now(UTC).astimezone(CHINA).date()


def _transform(m: dict, out_lot: str, **dates):
    form = {"in_key": [f"{m['paddy']['gtin']}|{m['held']['lot']}"], "in_quantity": ["100"],
            "out_gtin": [m["rice"]["gtin"]], "out_lot": [out_lot], "out_quantity": ["70"], "out_unit": ["KGM"],
            "action": "save", **dates}
    return post(m["client"], "/work/transform", form, "/work/transform")


def _lot_dates(graph, gtin: str, lot: str) -> tuple:
    rows = graph.query("MATCH (l:Lot {key: $k}) RETURN toString(l.production_date) AS p, "
                       "toString(l.expiry_date) AS e", read=True, k=f"lot:{gtin}:{lot}")
    return (rows[0]["p"], rows[0]["e"]) if rows else None


def test_a_processed_lot_keeps_its_production_date_and_shelf_life(client, graph, mill, monkeypatch, app):
    produced = _today() - timedelta(days=2)
    out = lot_code()
    made = _transform(mill, out, production_date=produced.isoformat(), shelf_days="180")
    assert made.status_code == 303, made.get_data(as_text=True)
    expires = produced + timedelta(days=180)
    assert _lot_dates(graph, mill["rice"]["gtin"], out) == (produced.isoformat(), expires.isoformat())
    page = mill["client"].get(made.headers["Location"]).get_data(as_text=True)
    assert produced.isoformat() in page and expires.isoformat() in page
    # the label prints them: AI 11 (production) and AI 17 (expiry) in its Digital Link
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://id.example.cn")
    label = mill["client"].get(f"/work/labels/{mill['rice']['gtin']}/{out}/label.png")
    query = parse_qs(urlsplit(label.headers["X-Digital-Link"]).query)
    assert query == {"11": [produced.strftime("%y%m%d")], "17": [expires.strftime("%y%m%d")]}
    # and the consumer page shows them
    scan = client.get(f"/01/{mill['rice']['gtin']}/10/{out}").get_data(as_text=True)
    assert produced.isoformat() in scan and expires.isoformat() in scan


def test_an_expiry_date_can_be_given_instead_and_wrong_dates_write_nothing(graph, mill):
    produced = _today()
    out = lot_code()
    made = _transform(mill, out, production_date=produced.isoformat(), expiry_date="2030-01-31")
    assert made.status_code == 303
    assert _lot_dates(graph, mill["rice"]["gtin"], out) == (produced.isoformat(), "2030-01-31")
    for dates, message in (({"expiry_date": (produced - timedelta(days=1)).isoformat()}, "不能早于生产日期"),
                           ({"production_date": (produced + timedelta(days=2)).isoformat()}, "不能晚于今天"),
                           ({"shelf_days": "30", "expiry_date": "2030-01-31"}, "")):
        other = lot_code()
        with unchanged(graph, lots=[mill["held"]], parties=[mill["party"]["gln"]]):
            refused = _transform(mill, other, **{"production_date": produced.isoformat(), **dates})
        assert refused.status_code == 422 and message in refused.get_data(as_text=True)
        assert _lot_dates(graph, mill["rice"]["gtin"], other) is None


def test_the_api_takes_a_transformations_dates_too(client, graph, mill):
    party, out = mill["party"], lot_code()
    body = {"party_gln": party["gln"], "production_date": "2026-11-30", "expiry_date": "2027-05-29",
            "inputs": [{"gtin": mill["paddy"]["gtin"], "lot": mill["held"]["lot"], "quantity": 10, "unit": "KGM"}],
            "outputs": [{"gtin": mill["rice"]["gtin"], "lot": out, "quantity": 7, "unit": "KGM"}]}
    assert client.post("/api/v1/transformations", json=body, headers=auth(party["token"])).status_code == 201
    assert _lot_dates(graph, mill["rice"]["gtin"], out) == ("2026-11-30", "2027-05-29")
    for wrong in ({"expiry_date": "2026-11-01"}, {"production_date": "1899-12-31", "expiry_date": None},
                  {"production_date": (_today() + timedelta(days=3)).isoformat(), "expiry_date": None}):
        body["outputs"][0]["lot"] = lot_code()
        refused = client.post("/api/v1/transformations", json={**body, **wrong}, headers=auth(party["token"]))
        assert refused.status_code == 422, refused.get_json()
        assert _lot_dates(graph, mill["rice"]["gtin"], body["outputs"][0]["lot"]) is None


def _pack(m: dict, sscc: str | None = None, lot_quantity: str | None = None, units: list[str] = ()):
    page = m["client"].get("/work/pack").get_data(as_text=True)
    proposed = re.search(r'id="sscc" name="sscc" value="(\d{18})"', page).group(1)
    form = {"sscc": sscc or proposed, "unit": list(units)}
    if lot_quantity:
        form.update(child_key=[f"{m['paddy']['gtin']}|{m['held']['lot']}"], child_quantity=[lot_quantity])
    return form["sscc"], post(m["client"], "/work/pack", form, "/work/pack")


def test_cases_are_packed_into_a_pallet_the_packer_then_holds(client, graph, mill, factory, admin_token):
    case_a, packed_a = _pack(mill, lot_quantity="25")
    case_b, packed_b = _pack(mill, lot_quantity="25")
    assert packed_a.status_code == 303 and packed_b.status_code == 303, packed_b.get_data(as_text=True)
    page = mill["client"].get("/work/pack").get_data(as_text=True)
    assert f'value="{case_a}"' in page and f'value="{case_b}"' in page  # cases I hold, offered for a pallet

    pallet, loaded = _pack(mill, units=[case_a, case_b])
    assert loaded.status_code == 303, loaded.get_data(as_text=True)
    assert loaded.headers["Location"].endswith(f"/work/pack?done=pack&sscc={pallet}")
    assert pallet in mill["client"].get(loaded.headers["Location"]).get_data(as_text=True)
    on_pallet = graph.query("MATCH (c:LogisticUnit)-[:PACKED_IN]->(:LogisticUnit {sscc: $p}) RETURN c.sscc AS s",
                            read=True, p=pallet)
    assert sorted(r["s"] for r in on_pallet) == sorted([case_a, case_b])
    held = graph.query("MATCH (:Party {gln: $g})-[h:HOLDS]->(u:LogisticUnit) WHERE u.sscc IN $s "
                       "RETURN u.sscc AS s, h.quantity AS q", read=True, g=mill["party"]["gln"],
                       s=[case_a, case_b, pallet])
    assert {r["s"]: r["q"] for r in held} == {case_a: 1.0, case_b: 1.0, pallet: 1.0}
    # the cases on the pallet are no longer offered; the pallet is
    page = mill["client"].get("/work/pack").get_data(as_text=True)
    assert f'value="{case_a}"' not in page and f'value="{pallet}"' in page
    # the lot's forward trace reaches the pallet through its cases
    trace = client.get(f"/api/v1/lots/{mill['paddy']['gtin']}/{mill['held']['lot']}/trace?direction=forward",
                       headers=auth(admin_token)).get_json()
    edges = {(e["from"], e["to"]) for e in trace["edges"] if e["type"] == "PACKED_IN"}
    assert {(f"sscc:{case_a}", f"sscc:{pallet}"), (f"sscc:{case_b}", f"sscc:{pallet}")} <= edges


def test_a_case_i_do_not_hold_is_not_packed_and_nothing_is_written(app, graph, mill, factory):
    other = {**mill, "client": app.test_client()}
    neighbour = factory.party(roles=("processor",))
    neighbour_paddy = factory.product(neighbour["gln"], category="paddy")
    other.update(party=neighbour, paddy=neighbour_paddy, held=factory.lot(neighbour_paddy["gtin"], neighbour["gln"]))
    assert login(other["client"], make_user(graph, party_gln=neighbour["gln"])["username"]).status_code == 303
    their_case, packed = _pack(other, lot_quantity="5")
    assert packed.status_code == 303
    with unchanged(graph, keys=[f"sscc:{their_case}"], lots=[mill["held"]], parties=[mill["party"]["gln"]]):
        sscc, refused = _pack(mill, units=[their_case])
    assert refused.status_code == 422 and "请选择您持有" in refused.get_data(as_text=True)
    assert graph.query("MATCH (u:LogisticUnit {sscc: $s}) RETURN count(u) AS n", read=True, s=sscc)[0]["n"] == 0
