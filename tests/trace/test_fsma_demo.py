"""The demo rice chain (Shulan rice 5 kg, lot SL5K2026-1017, both directions) has every key data element FSMA 204
requires, for every event, in the spreadsheet a regulator receives.

The requirements are written here from the rule (21 CFR 1.1325-1.1350), section by section, with the column each
element has in the sheet: this test does not read app/fsma.py's own table. Which events belong to the chain, which
critical tracking event each is and how many rows each gives are worked out here from the demo's events as data.

The demo's events carry fixed eventIDs: a store holding an older demo keeps its older events (a changed event is a
conflicting resend), so this test needs a store where this version of the demo was loaded (see `province`).
"""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from app import demo
from tests.factories import auth

LOT = "SL5K2026-1017"

# The rule's key data elements per critical tracking event: (paragraph, the sheet's column for it). Location
# descriptions (§1.1310: business name, phone number, physical address) are checked as such (LOCATIONS below).
RULE: dict[str, tuple[str, str, tuple[tuple[str, str], ...]]] = {
    # CTE: (section, sheet, requirements)
    "harvesting": ("1.1325(a)", "Harvesting", (
        ("(1)(i)", "Location description of the immediate subsequent recipient"),
        ("(1)(ii)", "Commodity and variety"),
        ("(1)(iii)", "Quantity"),
        ("(1)(iii)", "Unit of measure"),
        ("(1)(iv)", "Location description of the farm where harvested"),
        ("(1)(v)", "Field or other growing area"),
        ("(1)(vii)", "Date of harvesting"),
        ("(1)(viii)", "Reference document type"),
        ("(1)(viii)", "Reference document number"),
        ("(2)", "Harvester business name and phone number"),
    )),
    "cooling": ("1.1325(b)", "Cooling", (
        ("(1)(i)", "Location description of the immediate subsequent recipient"),
        ("(1)(ii)", "Commodity and variety"),
        ("(1)(iii)", "Quantity"),
        ("(1)(iii)", "Unit of measure"),
        ("(1)(iv)", "Location description where cooled"),
        ("(1)(v)", "Date of cooling"),
        ("(1)(vi)", "Reference document type"),
        ("(1)(vi)", "Reference document number"),
    )),
    "initial_packing": ("1.1330(a)", "Initial packing", (
        ("(1)", "Commodity and variety received"),
        ("(2)", "Date received"),
        ("(3)", "Quantity received"),
        ("(3)", "Unit of measure received"),
        ("(4)", "Location description of the farm where harvested"),
        ("(5)", "Field or other growing area"),
        ("(7)", "Harvester business name and phone number"),
        ("(8)", "Date of harvesting"),
        ("(9)", "Location description where cooled"),
        ("(10)", "Date of cooling"),
        ("(11)", "Traceability lot code"),
        ("(12)", "Product description"),
        ("(13)", "Quantity"),
        ("(13)", "Unit of measure"),
        ("(14)", "Location description where initially packed (traceability lot code source)"),
        ("(15)", "Date of initial packing"),
        ("(16)", "Reference document type"),
        ("(16)", "Reference document number"),
    )),
    "shipping": ("1.1340(a)", "Shipping", (
        ("(1)", "Traceability lot code"),
        ("(2)", "Quantity"),
        ("(2)", "Unit of measure"),
        ("(3)", "Product description"),
        ("(4)", "Location description of the immediate subsequent recipient"),
        ("(5)", "Location description of the place shipped from"),
        ("(6)", "Date shipped"),
        ("(7)", "Location description of the traceability lot code source"),
        ("(8)", "Reference document type"),
        ("(8)", "Reference document number"),
    )),
    "receiving": ("1.1345(a)", "Receiving", (
        ("(1)", "Traceability lot code"),
        ("(2)", "Quantity"),
        ("(2)", "Unit of measure"),
        ("(3)", "Product description"),
        ("(4)", "Location description of the immediate previous source"),
        ("(5)", "Location description where received"),
        ("(6)", "Date received"),
        ("(7)", "Location description of the traceability lot code source"),
        ("(8)", "Reference document type"),
        ("(8)", "Reference document number"),
    )),
    "transformation": ("1.1350(a)", "Transformation", (
        ("(1)(i)", "Traceability lot code used"),
        ("(1)(ii)", "Product description of the food used"),
        ("(1)(iii)", "Quantity used"),
        ("(1)(iii)", "Unit of measure used"),
        ("(2)(i)", "New traceability lot code"),
        ("(2)(ii)", "Location description where transformed (traceability lot code source)"),
        ("(2)(iii)", "Date transformation was completed"),
        ("(2)(iv)", "Product description"),
        ("(2)(v)", "Quantity"),
        ("(2)(v)", "Unit of measure"),
        ("(2)(vi)", "Reference document type"),
        ("(2)(vi)", "Reference document number"),
    )),
}
# Columns that are location descriptions (§1.1310): each names a demo party with its address and phone.
LOCATIONS = {c for _, _, kdes in RULE.values() for _, c in kdes if c.startswith("Location description")}
# The business step a farm, packer, shipper or receiver records for each CTE (CBV 2.0); a TransformationEvent is a
# transformation whatever its step (milling, bagging).
STEP_CTE = {"harvesting": "harvesting", "cooling": "cooling", "packing": "initial_packing", "shipping": "shipping",
            "receiving": "receiving"}


def _lots(quantities) -> set[str]:
    """The lot codes of a quantity list (Digital Link class URIs: .../01/{gtin}/10/{lot})."""
    return {q["epcClass"].rsplit("/10/", 1)[1] for q in quantities or ()}


def _walk(events: list[dict], start: str, frm: str, to: str) -> set[str]:
    """Lots reached from `start` through transformations, from their `frm` side to their `to` side."""
    reached, changed = {start}, True
    while changed:
        changed = False
        for e in events:
            if e["type"] == "TransformationEvent" and _lots(e.get(frm)) & reached:
                new = _lots(e.get(to)) - reached
                reached |= new
                changed |= bool(new)
    return reached


def _chain(events: list[dict]) -> dict[str, tuple[str, int]]:
    """eventID -> (CTE, rows expected) for every event of the lot's chain, back to the farms and forward to the
    shops: every ObjectEvent on a lot of the chain, every transformation making one (a row per input and output)."""
    back = _walk(events, LOT, "outputQuantityList", "inputQuantityList")
    forward = _walk(events, LOT, "inputQuantityList", "outputQuantityList")
    chain = back | forward
    out = {}
    for e in events:
        if e["type"] == "TransformationEvent":
            made, used = _lots(e.get("outputQuantityList")) & chain, _lots(e.get("inputQuantityList")) & chain
            if made:
                out[e["eventID"]] = ("transformation", len(made) * len(used))
        elif on := _lots(e.get("quantityList")) & chain:
            out[e["eventID"]] = (STEP_CTE.get(e["bizStep"], f"not a CTE: {e['bizStep']}"), len(on))
    return out


@pytest.fixture(scope="module")
def province(app):
    summary = demo.load(app, only_if_empty=False)
    assert not summary["stale_events"], (
        f"this store holds an older demo ({len(summary['stale_events'])} events differ from app/demo.py's): its "
        "events are kept as stored, so this version's chain can only be checked in a store it was loaded into")
    return summary


@pytest.fixture(scope="module")
def workbook(app, province):
    client = app.test_client()
    gtin, lot = province["data"].lots[LOT]
    regulator = auth(province["tokens"]["regulator:regulator"])
    response = client.get(f"/api/v1/lots/{gtin}/{lot}/trace/fsma?lang=en", headers=regulator)
    assert response.status_code == 200
    return load_workbook(io.BytesIO(response.get_data()))


def _rows(sheet) -> list[dict]:
    header, *rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(header, row, strict=True)) for row in rows]


def _filled(value) -> bool:
    return value is not None and str(value).strip() != ""


def test_the_chain_is_harvests_shipments_receipts_and_transformations(province):
    chain = _chain(province["data"].events)
    kinds = {cte for cte, _ in chain.values()}
    # five farms' paddy is harvested (three feed this lot); the farm lots, the mill's blend and the bags are
    # shipped and received; milling and bagging are transformations. Cooling and initial packing (of a raw
    # commodity at the packer) do not happen on a rice chain: their sheets stay empty (test below).
    assert kinds == {"harvesting", "shipping", "receiving", "transformation"}, chain
    assert sum(1 for cte, _ in chain.values() if cte == "harvesting") == 3


def test_no_required_element_is_missing_in_the_kde_gap_list(client, province):
    gtin, lot = province["data"].lots[LOT]
    regulator = auth(province["tokens"]["regulator:regulator"])
    response = client.get(f"/api/v1/lots/{gtin}/{lot}/trace/kde-gaps", headers=regulator)
    assert response.status_code == 200, response.json
    assert response.json == []


def test_every_event_of_the_chain_has_every_required_element_in_the_combined_sheet(province, workbook):
    chain = _chain(province["data"].events)
    rows = _rows(workbook["All events"])
    by_event: dict[str, list[dict]] = {}
    for row in rows:
        by_event.setdefault(row["EPCIS event ID"], []).append(row)
    assert set(by_event) == set(chain)  # every event of the chain, and nothing else
    places = [(p["name_en"], p["address_zh"], p["contact_phone"]) for p in demo.P.values()]
    for event_id, (cte, expected) in chain.items():
        section, _, kdes = RULE[cte]
        assert len(by_event[event_id]) == expected, (event_id, cte)
        for row in by_event[event_id]:
            assert row["21 CFR section"] == f"21 CFR {section}", (event_id, row["21 CFR section"])
            missing = [f"§{section}{para} {column}" for para, column in kdes if not _filled(row[column])]
            assert not missing, (event_id, cte, missing)
            for column in LOCATIONS & {c for _, c in kdes}:
                assert any(all(part in row[column] for part in place) for place in places), (event_id, column)
            if cte == "harvesting":
                phones = [phone for _, _, phone in places]
                assert any(phone in row["Harvester business name and phone number"] for phone in phones)


def test_each_receipt_names_the_documents_of_the_shipment_it_received(province, workbook):
    events = province["data"].events
    chain = _chain(events)

    def documents(e):
        return sorted(bt["bizTransaction"] for bt in e.get("bizTransactionList", ()))

    shipments = {(_src_dst(e), frozenset(_lots(e["quantityList"]))): documents(e)
                 for e in events if e["bizStep"] == "shipping" and "quantityList" in e}
    receipts = {e["eventID"]: e for e in events if chain.get(e["eventID"], ("",))[0] == "receiving"}
    assert len(receipts) == 7  # 4 farm lots to the mills, the bags to the DC, the DC to two supermarkets
    for row in _rows(workbook["All events"]):
        receipt = receipts.get(row["EPCIS event ID"])
        if receipt is not None:
            shipped = shipments[(_src_dst(receipt), frozenset(_lots(receipt["quantityList"])))]
            assert shipped and sorted((row["Reference document number"] or "").split("; ")) == shipped


def _src_dst(event: dict) -> tuple[str, str]:
    return event["sourceList"][0]["source"], event["destinationList"][0]["destination"]


@pytest.mark.parametrize("cte", list(RULE))
def test_each_cte_sheet_has_the_rule_columns_in_order_and_every_cell_filled(province, workbook, cte):
    section, title, kdes = RULE[cte]
    header, *rows = list(workbook[title].iter_rows(values_only=True))
    assert list(header) == [column for _, column in kdes], section
    expected = sum(n for kind, n in _chain(province["data"].events).values() if kind == cte)
    assert len(rows) == expected, section
    for row in rows:
        assert all(_filled(v) for v in row), (section, row)
