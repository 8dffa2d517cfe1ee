"""The ownership rules of the write path (graph/ownership.py), without a database: who may say what about which
object. The same rules are proven through the real app and Neo4j in tests/hardening/test_trust.py."""

from __future__ import annotations

import pytest

from graph import ownership
from graph.ownership import Product, Thing, View
from gs1.epcis import context_prefixes, normalize_event
from gs1.identifiers import Ref
from tests.capture.helpers import commission, loc, lot_uri, ship

BRAND, FARM, SHOP, LAB = "6901234000009", "6901234000016", "6901234000023", "6901234000030"
GTIN, OTHER_GTIN = "06901234000108", "06901234000207"


def ev(raw: dict):
    """A raw EPCIS event normalised as the write path sees it."""
    return normalize_event(raw, "", context_prefixes())


def view(things: dict[str, Thing] | None = None, products: dict[str, Product] | None = None) -> View:
    """A store holding these objects and products; every party is registered."""
    things = things or {}
    products = {GTIN: Product(BRAND), OTHER_GTIN: Product(FARM, frozenset({SHOP})), **(products or {})}
    return View(product=products.get, party_known=lambda gln: True, thing=lambda ref: things.get(ref.key, Thing()))


def key(gtin: str, lot: str) -> str:
    return Ref("lot", gtin=gtin, lot=lot).key


def test_an_admin_may_record_anything():
    assert ownership.denials(ev(commission(FARM, GTIN, "L1", 5)), "admin", None, view()) == []


@pytest.mark.parametrize("role", ["regulator", "consumer", "unknown"])
def test_roles_that_do_not_capture_are_refused(role):
    assert ownership.denials(ev(commission(BRAND, GTIN, "L1", 5)), role, BRAND, view()) == [
        f"a {role} token may not capture events"]


def test_a_party_token_without_a_party_is_refused():
    assert ownership.denials(ev(commission(BRAND, GTIN, "L1", 5)), "producer", None, view()) == [
        "a producer token may not capture events"]


def test_the_brand_owner_commissions_a_new_lot_of_its_gtin():
    assert ownership.denials(ev(commission(BRAND, GTIN, "L1", 5)), "producer", BRAND, view()) == []


def test_another_party_may_not_commission_a_brands_gtin():
    assert ownership.denials(ev(commission(FARM, GTIN, "L1", 5)), "producer", FARM, view()) == [
        f"party {FARM} may not commission lot L1 of GTIN {GTIN}: GTIN {GTIN} belongs to {BRAND} and is not "
        f"licensed to {FARM}"]


def test_a_licensee_may_commission_the_owners_gtin():
    assert ownership.denials(ev(commission(SHOP, OTHER_GTIN, "L9", 5)), "producer", SHOP, view()) == []


def test_nobody_commissions_more_of_a_lot_someone_else_owns():
    lot = Thing(exists=True, owner=SHOP, holders={SHOP: 3.0})
    assert ownership.denials(ev(commission(FARM, OTHER_GTIN, "L9", 5)), "producer", FARM,
                             view({key(OTHER_GTIN, "L9"): lot})) == [
        f"party {FARM} may not commission lot L9 of GTIN {OTHER_GTIN}: it belongs to {SHOP}"]


def test_the_owner_commissions_more_of_its_own_lot():
    lot = Thing(exists=True, owner=BRAND, holders={BRAND: 3.0})
    assert ownership.denials(ev(commission(BRAND, GTIN, "L1", 5)), "producer", BRAND,
                             view({key(GTIN, "L1"): lot})) == []


def test_an_ownerless_lot_may_be_commissioned_only_by_a_holder():
    lot = Thing(exists=True, owner=None, holders={SHOP: 1.0})
    denied = ownership.denials(ev(commission(BRAND, GTIN, "L1", 5)), "producer", BRAND, view({key(GTIN, "L1"): lot}))
    assert denied == [f"party {BRAND} may not commission lot L1 of GTIN {GTIN}: it exists and party {BRAND} does "
                      "not hold it"]
    lot.holders[BRAND] = 2.0
    assert ownership.denials(ev(commission(BRAND, GTIN, "L1", 5)), "producer", BRAND,
                             view({key(GTIN, "L1"): lot})) == []


def items_event(gln: str, gtin: str, lot: str, serial: str) -> dict:
    raw = commission(gln, gtin, lot, 1)
    raw.pop("quantityList")
    raw["epcList"] = [f"https://id.gs1.org/01/{gtin}/10/{lot}/21/{serial}"]
    return raw


def test_a_serial_inside_another_partys_lot_is_refused_even_with_a_licence():
    item_key = Ref("item", gtin=OTHER_GTIN, serial="S1").key
    things = {key(OTHER_GTIN, "L9"): Thing(exists=True, owner=FARM)}
    assert ownership.denials(ev(items_event(SHOP, OTHER_GTIN, "L9", "S1")), "producer", SHOP, view(things)) == [
        f"party {SHOP} may not commission item S1 of GTIN {OTHER_GTIN}: its lot belongs to {FARM}"]
    # a print run's serial: the item exists already and knows its lot's owner
    things = {item_key: Thing(exists=True, lot_owner=FARM)}
    assert ownership.denials(ev(items_event(SHOP, OTHER_GTIN, "L9", "S1")), "producer", SHOP, view(things)) != []
    assert ownership.denials(ev(items_event(FARM, OTHER_GTIN, "L9", "S1")), "producer", FARM, view(things)) == []


def transformation(gln: str, inputs: list[tuple[str, str]], outputs: list[tuple[str, str]]) -> dict:
    return {"type": "TransformationEvent", "eventTime": "2026-09-22T08:00:00+08:00",
            "eventTimeZoneOffset": "+08:00", "bizStep": "commissioning", "readPoint": loc(gln),
            "inputQuantityList": [{"epcClass": lot_uri(g, lt), "quantity": 10, "uom": "KGM"} for g, lt in inputs],
            "outputQuantityList": [{"epcClass": lot_uri(g, lt), "quantity": 5, "uom": "KGM"} for g, lt in outputs]}


def test_a_transformation_output_is_new_or_the_callers_own():
    raw = transformation(BRAND, [(OTHER_GTIN, "P1")], [(GTIN, "OUT")])
    assert ownership.denials(ev(raw), "producer", BRAND, view()) == []
    victims = {key(GTIN, "OUT"): Thing(exists=True, owner=SHOP, holders={SHOP: 5.0})}
    assert ownership.denials(ev(raw), "producer", BRAND, view(victims)) == [
        f"party {BRAND} may not make lot OUT of GTIN {GTIN}: it belongs to {SHOP}"]
    assert ownership.denials(ev(transformation(FARM, [(OTHER_GTIN, "P1")], [(GTIN, "X")])), "producer", FARM,
                             view()) == [f"party {FARM} may not make lot X of GTIN {GTIN}: GTIN {GTIN} belongs to "
                                         f"{BRAND} and is not licensed to {FARM}"]


def test_a_shipment_is_from_the_caller():
    assert ownership.denials(ev(ship(FARM, SHOP, GTIN, "L1", 1)), "producer", FARM, view()) == []
    forged = ship(FARM, SHOP, GTIN, "L1", 1)
    forged["readPoint"] = loc(SHOP)
    assert ownership.denials(ev(forged), "producer", SHOP, view()) == [
        f"a shipment by party {SHOP} must be from it, not from {FARM}"]


def test_a_receipt_is_to_the_caller():
    raw = ship(FARM, SHOP, GTIN, "L1", 1, bizStep="receiving", disposition="in_progress")
    raw["readPoint"] = loc(BRAND)
    assert ownership.denials(ev(raw), "producer", BRAND, view()) == [
        f"a receipt by party {BRAND} must be to it, not to {SHOP}"]
    raw["readPoint"] = loc(SHOP)
    assert ownership.denials(ev(raw), "producer", SHOP, view()) == []


def test_events_happen_at_the_callers_own_locations():
    raw = commission(BRAND, GTIN, "L1", 5)
    assert ownership.denials(ev(raw), "producer", FARM, view())[:2] == [
        f"location {Ref('location', gln=BRAND).digital_link()} is not a location of party {FARM}"] * 2
    raw.pop("readPoint")
    raw.pop("bizLocation")
    assert ownership.denials(ev(raw), "producer", BRAND, view()) == [
        "an event recorded by a party token needs a readPoint or bizLocation"]


def inspection(gln: str, action: str = "OBSERVE", step: str = "inspecting") -> dict:
    raw = commission(gln, GTIN, "L1", 1, action=action, bizStep=step)
    raw.pop("bizLocation")
    return raw


def test_a_lab_records_inspections_only():
    assert ownership.denials(ev(inspection(LAB)), "lab", LAB, view()) == []
    assert ownership.denials(ev(inspection(LAB, action="ADD")), "lab", LAB, view()) == [
        "a lab token records inspections only (OBSERVE, inspecting), not ObjectEvent ADD inspecting"]
    assert ownership.denials(ev(inspection(LAB, step="shipping")), "lab", LAB, view()) == [
        "a lab token records inspections only (OBSERVE, inspecting), not ObjectEvent OBSERVE shipping"]


def test_packing_into_a_unit_someone_else_holds_is_refused():
    sscc = "urn:epc:id:sscc:6901234.0000000017"
    raw = {"type": "AggregationEvent", "eventTime": "2026-09-22T08:00:00+08:00", "eventTimeZoneOffset": "+08:00",
           "action": "ADD", "bizStep": "packing", "parentID": sscc, "readPoint": loc(FARM),
           "childQuantityList": [{"epcClass": lot_uri(GTIN, "L1"), "quantity": 1, "uom": "KGM"}]}
    parent = ev(raw).parent
    assert ownership.denials(ev(raw), "producer", FARM, view()) == []
    held = {parent.key: Thing(exists=True, holders={SHOP: 1.0})}
    assert ownership.denials(ev(raw), "producer", FARM, view(held)) == [
        f"party {FARM} does not hold logistic unit {parent.sscc}: it may not pack into or unpack it"]


def test_unknown_master_data_is_named():
    v = View(product={GTIN: Product(BRAND)}.get, party_known={BRAND}.__contains__, thing=lambda ref: Thing())
    raw = ship(BRAND, SHOP, OTHER_GTIN, "L1", 1)
    assert ownership.unknown_master_data(ev(raw), v) == [
        f"no product with GTIN {OTHER_GTIN} is registered; an admin registers master data",
        f"no party with GLN {SHOP} is registered; an admin registers master data"]
    assert ownership.unknown_master_data(ev(commission(BRAND, GTIN, "L1", 1)), v) == []


def test_a_declaration_is_checked_for_place_and_role_only_here():
    raw = {**commission(FARM, GTIN, "L1", 5), "errorDeclaration": {"declarationTime": "2026-09-22T08:00:00Z"}}
    assert ownership.denials(ev(raw), "producer", FARM, view()) == []
    assert ownership.denials(ev(raw), "producer", SHOP, view()) != []
