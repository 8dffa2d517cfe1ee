"""The ownership rules of the write path (graph/ownership.py), without a database: who may say what about which
object. The same rules are proven through the real app and Neo4j in tests/hardening/test_trust.py."""

from __future__ import annotations

import pytest

from graph import ownership
from graph.ownership import Product, Thing, View
from gs1.epcis import SourceDest, context_prefixes, normalize_event
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


def test_products_are_registered_under_the_registrants_own_company_prefix():
    deny = ownership.product_registration_denial
    assert deny("admin", None, None, FARM, GTIN) is None
    assert deny("producer", FARM, ["6901234"], FARM, GTIN) is None
    assert deny("producer", FARM, ["6901234"], BRAND, GTIN) == "a producer token registers products only for its " \
                                                                "own party"
    assert deny("producer", FARM, [], FARM, GTIN) == (
        f"party {FARM} has no GS1 company prefix recorded: an admin records it (or registers the product)")
    assert deny("producer", FARM, ["6909999", "6901235"], FARM, GTIN) == (
        f"GTIN {GTIN} is not under a GS1 company prefix of party {FARM} (6901235, 6909999)")
    # the indicator digit (first of a GTIN-14) is not part of the prefix
    assert deny("producer", FARM, ["0690123"], FARM, GTIN) is not None


# -- the rules one by one: the messages a client reads and the edges of each rule --

def test_what_brings_objects_into_being():
    assert ownership.is_origin(ev(commission(FARM, GTIN, "L1", 1)))  # ADD, commissioning
    assert ownership.is_origin(ev(commission(FARM, GTIN, "L1", 1, bizStep="harvesting", action="OBSERVE")))
    assert ownership.is_origin(ev(commission(FARM, GTIN, "L1", 1, bizStep="shipping")))  # an ADD
    assert not ownership.is_origin(ev(commission(FARM, GTIN, "L1", 1, bizStep="shipping", action="OBSERVE")))
    assert not ownership.is_origin(ev(transformation(FARM, [(GTIN, "A")], [(GTIN, "B")])))  # bizStep commissioning
    for step in ("commissioning", "harvesting", "slaughtering", "creating_class_instance"):
        assert ownership.is_origin(ev(commission(FARM, GTIN, "L1", 1, bizStep=step, action="OBSERVE")))


def sd(kind: str | None, gln: str | None) -> SourceDest:
    return SourceDest(kind, Ref("party", gln=gln) if gln else Ref("other", uri="urn:x"))


def test_party_of_prefers_owning_and_possessing_parties():
    assert ownership.party_of([sd("location", FARM), sd("owning_party", SHOP)]) == SHOP
    assert ownership.party_of([sd("location", FARM), sd("possessing_party", BRAND)]) == BRAND
    assert ownership.party_of([sd("owning_party", None), sd("location", FARM)]) == FARM
    assert ownership.party_of([sd(None, None), sd("location", FARM), sd("location", SHOP)]) == FARM
    assert ownership.party_of([sd("owning_party", None)]) is None
    assert ownership.party_of([]) is None


def test_names_in_messages():
    assert ownership.name(Ref("lot", gtin=GTIN, lot="L1")) == f"lot L1 of GTIN {GTIN}"
    assert ownership.name(Ref("item", gtin=GTIN, serial="S9")) == f"item S9 of GTIN {GTIN}"
    assert ownership.name(Ref("sscc", sscc="069012340000000017")) == "logistic unit 069012340000000017"
    assert ownership.name(Ref("class", gtin=GTIN)) == f"product {GTIN}"
    assert ownership.name(Ref("location", gln=FARM, uri="urn:epc:id:sgln:x")) == "urn:epc:id:sgln:x"


def test_products_and_things():
    product = Product(BRAND, frozenset({SHOP}))
    assert product.may_originate(BRAND) and product.may_originate(SHOP) and not product.may_originate(FARM)
    assert not Product(None).may_originate(FARM)
    assert Product(BRAND).licensees == frozenset()
    assert Thing().exists is False and Thing().owner is None and Thing().holders == {}
    assert Thing(holders={FARM: 1e-6}).held_by(FARM)
    assert not Thing(holders={FARM: 1e-10}).held_by(FARM)
    assert not Thing(holders={FARM: 0.0}).held_by(FARM) and not Thing().held_by(FARM)


def test_a_bad_place_or_role_is_all_that_is_said():
    raw = commission(BRAND, GTIN, "L1", 5)  # the brand's place, and someone else's GTIN for the lab
    assert ownership.denials(ev(raw), "lab", LAB, view()) == [
        f"location {Ref('location', gln=BRAND).digital_link()} is not a location of party {LAB}",
        f"location {Ref('location', gln=BRAND).digital_link()} is not a location of party {LAB}",
        "a lab token records inspections only (OBSERVE, inspecting), not ObjectEvent ADD commissioning"]
    raw = commission(FARM, GTIN, "L1", 5)
    raw.pop("readPoint")
    assert ownership.denials(ev(raw), "producer", FARM, view()) == [
        f"party {FARM} may not commission lot L1 of GTIN {GTIN}: GTIN {GTIN} belongs to {BRAND} and is not "
        f"licensed to {FARM}"]  # the bizLocation alone is a place
    raw = commission(FARM, GTIN, "L1", 5)
    raw.pop("bizLocation")
    raw["readPoint"] = loc(SHOP)
    assert ownership.denials(ev(raw), "producer", FARM, view()) == [
        f"location {Ref('location', gln=SHOP).digital_link()} is not a location of party {FARM}"]


def test_a_lab_message_names_what_it_tried():
    raw = transformation(LAB, [(GTIN, "A")], [(GTIN, "B")])
    raw.pop("bizStep")
    assert ownership.denials(ev(raw), "lab", LAB, view()) == [
        "a lab token records inspections only (OBSERVE, inspecting), not TransformationEvent"]
    raw = inspection(LAB)
    raw["type"] = "TransformationEvent"
    raw["inputQuantityList"] = raw.pop("quantityList")
    raw.pop("action")
    assert ownership.denials(ev(raw), "lab", LAB, view()) == [
        "a lab token records inspections only (OBSERVE, inspecting), not TransformationEvent inspecting"]


def test_a_producer_is_not_held_to_the_lab_rule():
    assert ownership.denials(ev(inspection(BRAND, action="ADD", step="commissioning")), "producer", BRAND,
                             view()) == []


def test_a_declaration_skips_the_custody_rules():
    raw = {**ship(FARM, SHOP, GTIN, "L1", 1), "errorDeclaration": {"declarationTime": "2026-09-22T08:00:00Z"}}
    raw["readPoint"] = loc(SHOP)
    assert ownership.denials(ev(raw), "producer", SHOP, view()) == []  # the shipment's source is not SHOP


def test_an_unregistered_gtin_leaves_only_the_custody_checks():
    new_gtin = "06901234000306"
    assert ownership.denials(ev(commission(FARM, new_gtin, "L1", 5)), "producer", FARM, view()) == []
    taken = {key(new_gtin, "L1"): Thing(exists=True, owner=SHOP)}
    assert ownership.denials(ev(commission(FARM, new_gtin, "L1", 5)), "producer", FARM, view(taken)) == [
        f"party {FARM} may not commission lot L1 of GTIN {new_gtin}: it belongs to {SHOP}"]


def test_a_product_class_is_checked_for_its_gtin_only():
    raw = commission(FARM, GTIN, "L1", 5)
    raw["quantityList"] = [{"epcClass": f"https://id.gs1.org/01/{OTHER_GTIN}", "quantity": 5, "uom": "KGM"}]
    assert ownership.denials(ev(raw), "producer", FARM, view()) == []
    assert ownership.denials(ev(raw), "producer", SHOP, view()) != []


def test_a_new_serial_of_a_lot_is_checked_against_the_lots_owner():
    things = {key(OTHER_GTIN, "L9"): Thing(exists=True, owner=SHOP)}
    assert ownership.denials(ev(items_event(SHOP, OTHER_GTIN, "L9", "S1")), "producer", SHOP, view(things)) == []
    # an existing item of the party's own lot: its lot owner decides, not the item's holders
    item_key = Ref("item", gtin=OTHER_GTIN, serial="S1").key
    things = {item_key: Thing(exists=True, lot_owner=SHOP, holders={FARM: 1.0})}
    assert ownership.denials(ev(items_event(SHOP, OTHER_GTIN, "L9", "S1")), "producer", SHOP, view(things)) == []
    things = {item_key: Thing(exists=True, lot_owner=FARM)}
    assert ownership.denials(ev(items_event(SHOP, OTHER_GTIN, "L9", "S1")), "producer", SHOP, view(things)) == [
        f"party {SHOP} may not commission item S1 of GTIN {OTHER_GTIN}: its lot belongs to {FARM}"]


def test_a_serial_without_a_lot_is_checked_as_an_object():
    raw = commission(FARM, OTHER_GTIN, "L1", 1)
    raw.pop("quantityList")
    raw["epcList"] = [f"https://id.gs1.org/01/{OTHER_GTIN}/21/S2"]
    item_key = Ref("item", gtin=OTHER_GTIN, serial="S2").key
    assert ownership.denials(ev(raw), "producer", FARM, view()) == []
    assert ownership.denials(ev(raw), "producer", FARM, view({item_key: Thing(exists=True, owner=SHOP)})) == [
        f"party {FARM} may not commission item S2 of GTIN {OTHER_GTIN}: it belongs to {SHOP}"]
    assert ownership.denials(ev(raw), "producer", FARM, view({item_key: Thing(exists=True, owner=FARM)})) == []
    held = {item_key: Thing(exists=True, holders={FARM: 1.0})}
    assert ownership.denials(ev(raw), "producer", FARM, view(held)) == []
    held = {item_key: Thing(exists=True, holders={SHOP: 1.0})}
    assert ownership.denials(ev(raw), "producer", FARM, view(held)) == [
        f"party {FARM} may not commission item S2 of GTIN {OTHER_GTIN}: it exists and party {FARM} does not hold it"]


def test_every_refused_object_is_named():
    raw = commission(FARM, GTIN, "L1", 5)
    raw["quantityList"].append({"epcClass": lot_uri(OTHER_GTIN, "L2"), "quantity": 1, "uom": "KGM"})
    raw["quantityList"].append({"epcClass": lot_uri(OTHER_GTIN, "L3"), "quantity": 1, "uom": "KGM"})
    things = {key(OTHER_GTIN, "L2"): Thing(exists=True, owner=SHOP)}
    assert ownership.denials(ev(raw), "producer", FARM, view(things)) == [
        f"party {FARM} may not commission lot L1 of GTIN {GTIN}: GTIN {GTIN} belongs to {BRAND} and is not "
        f"licensed to {FARM}",
        f"party {FARM} may not commission lot L2 of GTIN {OTHER_GTIN}: it belongs to {SHOP}"]


def aggregation(gln: str, parent: str, action: str = "ADD") -> dict:
    return {"type": "AggregationEvent", "eventTime": "2026-09-22T08:00:00+08:00", "eventTimeZoneOffset": "+08:00",
            "action": action, "bizStep": "packing", "parentID": parent, "readPoint": loc(gln),
            "childQuantityList": [{"epcClass": lot_uri(GTIN, "L1"), "quantity": 1, "uom": "KGM"}]}


def test_packing_into_a_unit_the_party_holds_or_a_new_one():
    sscc = "urn:epc:id:sscc:6901234.0000000017"
    parent = ev(aggregation(FARM, sscc)).parent
    assert ownership.denials(ev(aggregation(FARM, sscc)), "producer", FARM,
                             view({parent.key: Thing(exists=True, holders={FARM: 1.0})})) == []
    assert ownership.denials(ev(aggregation(FARM, sscc)), "producer", FARM,
                             view({parent.key: Thing(exists=False, holders={SHOP: 1.0})})) == []
    assert ownership.denials(ev(aggregation(FARM, sscc, "DELETE")), "producer", FARM,
                             view({parent.key: Thing(exists=True, holders={SHOP: 1.0})})) == [
        f"party {FARM} does not hold logistic unit {parent.sscc}: it may not pack into or unpack it"]
    # a parent that is not a custody object (a returnable asset) is not checked here
    grai = "https://id.gs1.org/8003/06901234000108123"
    assert ownership.denials(ev(aggregation(FARM, grai)), "producer", FARM,
                             view(things=_AnyThing(Thing(exists=True, holders={SHOP: 1.0})))) == []


class _AnyThing(dict):
    """Every object the view is asked about is this one."""

    def __init__(self, thing: Thing):
        super().__init__()
        self.thing = thing

    def get(self, key, default=None):
        return self.thing


def test_a_shipment_or_receipt_without_a_named_party_is_the_callers():
    raw = ship(FARM, SHOP, GTIN, "L1", 1)
    raw.pop("sourceList")
    assert ownership.denials(ev(raw), "producer", FARM, view()) == []
    raw = ship(FARM, SHOP, GTIN, "L1", 1, bizStep="receiving")
    raw["readPoint"] = loc(SHOP)
    raw.pop("destinationList")
    assert ownership.denials(ev(raw), "producer", SHOP, view()) == []
    raw = ship(FARM, SHOP, GTIN, "L1", 1, bizStep="departing")
    raw["readPoint"] = loc(SHOP)
    raw["sourceList"] = [{"type": "location", "source": "urn:epc:id:gdti:0614141.00001.1"}]
    assert ownership.denials(ev(raw), "producer", SHOP, view()) == [
        f"a shipment by party {SHOP} must be from it, not from None"]
    for step in ("accepting", "arriving"):
        raw = ship(FARM, SHOP, GTIN, "L1", 1, bizStep=step)
        raw["readPoint"] = loc(FARM)
        assert ownership.denials(ev(raw), "producer", FARM, view()) == [
            f"a receipt by party {FARM} must be to it, not to {SHOP}"]


def test_unknown_master_data_of_every_part_of_an_event_each_once_in_order():
    v = View(product={GTIN: Product(BRAND)}.get, party_known={BRAND}.__contains__, thing=lambda ref: Thing())
    g1, g2, g3, g4 = "06901234000405", "06901234000504", "06901234000603", "06901234000702"
    raw = transformation(BRAND, [(g2, "A"), (GTIN, "B")], [(g1, "C"), (g2, "D")])
    assert ownership.unknown_master_data(ev(raw), v) == [
        f"no product with GTIN {g1} is registered; an admin registers master data",
        f"no product with GTIN {g2} is registered; an admin registers master data"]
    agg = aggregation(BRAND, f"https://id.gs1.org/01/{g4}/21/P1")
    agg["childQuantityList"] = [{"epcClass": lot_uri(g3, "X"), "quantity": 1, "uom": "KGM"}]
    agg["bizLocation"] = loc(SHOP)
    agg["readPoint"] = loc(FARM)
    assert ownership.unknown_master_data(ev(agg), v) == [
        f"no product with GTIN {g3} is registered; an admin registers master data",
        f"no product with GTIN {g4} is registered; an admin registers master data",
        f"no party with GLN {FARM} is registered; an admin registers master data",
        f"no party with GLN {SHOP} is registered; an admin registers master data"]
    sscc_parent = aggregation(BRAND, "urn:epc:id:sscc:6901234.0000000017")
    assert ownership.unknown_master_data(ev(sscc_parent), v) == []
    shipped = ship(BRAND, BRAND, GTIN, "L1", 1)
    shipped["sourceList"] = [{"type": "owning_party", "source": Ref("party", gln=SHOP).digital_link()}]
    assert ownership.unknown_master_data(ev(shipped), v) == [
        f"no party with GLN {SHOP} is registered; an admin registers master data"]


def test_holding_exactly_epsilon_is_holding_nothing():
    assert not Thing(holders={FARM: ownership.EPSILON}).held_by(FARM)


def test_each_object_is_checked_after_one_that_passes():
    denied = f"party {FARM} may not commission lot L2 of GTIN {OTHER_GTIN}: it belongs to {SHOP}"
    things = {key(OTHER_GTIN, "L2"): Thing(exists=True, owner=SHOP)}
    raw = commission(FARM, OTHER_GTIN, "NEW", 1)  # a new lot passes
    raw["quantityList"].append({"epcClass": lot_uri(OTHER_GTIN, "L2"), "quantity": 1, "uom": "KGM"})
    assert ownership.denials(ev(raw), "producer", FARM, view(things)) == [denied]
    raw["quantityList"][0] = {"epcClass": f"https://id.gs1.org/01/{OTHER_GTIN}", "quantity": 1}  # a product class
    assert ownership.denials(ev(raw), "producer", FARM, view(things)) == [denied]
    raw["quantityList"].pop(0)
    raw["epcList"] = [f"https://id.gs1.org/01/{OTHER_GTIN}/10/L3/21/S1"]  # a serial of the party's own lot
    things[key(OTHER_GTIN, "L3")] = Thing(exists=True, owner=FARM)
    assert ownership.denials(ev(raw), "producer", FARM, view(things)) == [denied]


def test_an_association_is_not_held_to_the_packing_rule():
    raw = {**aggregation(FARM, "urn:epc:id:sscc:6901234.0000000017"), "type": "AssociationEvent"}
    parent = ev(raw).parent
    assert ownership.denials(ev(raw), "producer", FARM,
                             view({parent.key: Thing(exists=True, holders={SHOP: 1.0})})) == []
