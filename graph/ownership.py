"""Who may say what about which object: the ownership rules of the one write path (pure; no database).

docs/ownership.md is the written model; this module is its code. ``graph/events.py`` reads what the rules need
(product owners, registered parties, each named object's owner and holders as the document's earlier events left
them, who recorded an event being declared erroneous) and asks :func:`denials` about every event before it writes.
An admin token is trusted with everything (imports, restores, corrections); every other caller is held to these
rules, and one denial refuses the whole request (403) with nothing written.

The rules, for a party token (producer or lab) acting for party P:

1. Place: the event happens at P: it names a readPoint or bizLocation, and every one it names is P's.
2. Role: a lab records inspections only (an OBSERVE ObjectEvent with bizStep inspecting); a producer anything
   else a producer does; no other role captures.
3. Master data: every product (GTIN) and party (GLN) the event names is registered. Capture never creates master
   data for a party token: otherwise a squatter could take another brand's GTIN or GLN before it registers.
   (:func:`unknown_master_data`; an unknown name is a 422-style rule problem, not a 403.)
4. Origin (commissioning, harvesting, slaughtering, an ADD): only for a GTIN whose brand owner is P or authorised
   P (a licensee), and only of a new lot or item, or one P owns. So nobody commissions more of someone else's
   lot, adds serials inside another brand's lot or becomes the "origin" of a lot it never made.
5. Transformation outputs: new (of a GTIN P owns or is licensed for) or P's own; a recall of P's lot then reaches
   only what P made.
6. Custody: what P ships, consumes, packs, sells or destroys is what P holds; a shipment's source, if named, is
   P; a receipt's destination, if named, is P.
7. Declarations (errorDeclaration): only the party that recorded the event may declare it erroneous; the
   declaration repeats the event unchanged (checked by the caller against the stored content).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from gs1.epcis import NormalizedEvent, SourceDest
from gs1.identifiers import Ref

ORIGIN_STEPS = frozenset({"commissioning", "harvesting", "slaughtering", "creating_class_instance"})
SHIP_STEPS = frozenset({"shipping", "departing"})
RECEIVE_STEPS = frozenset({"receiving", "accepting", "arriving"})
PARTY_SDT = ("owning_party", "possessing_party")
CUSTODY_KINDS = ("lot", "item", "sscc")
CAPTURING_ROLES = ("producer", "lab")
EPSILON = 1e-9


@dataclass(frozen=True)
class Product:
    """A registered product's brand owner and the parties it authorised to make lots of it."""

    owner: str | None
    licensees: frozenset[str] = frozenset()

    def may_originate(self, gln: str) -> bool:
        """Tell whether this party may bring lots or items of the product into being."""
        return gln == self.owner or gln in self.licensees


@dataclass
class Thing:
    """A custody object (lot, item, logistic unit) as the write path sees it at this point of the document."""

    exists: bool = False
    owner: str | None = None
    lot_owner: str | None = None  # an item's lot's owner
    holders: dict[str, float] = field(default_factory=dict)  # GLN -> quantity held (in transit included)

    def held_by(self, gln: str) -> bool:
        """Tell whether this party holds any of it."""
        return self.holders.get(gln, 0.0) > EPSILON


@dataclass(frozen=True)
class View:
    """What the rules may look at: the store as the document's earlier events left it (functions, so the write path
    answers from its simulated state)."""

    product: Callable[[str], Product | None]
    party_known: Callable[[str], bool]
    thing: Callable[[Ref], Thing]


def is_origin(ev: NormalizedEvent) -> bool:
    """Tell whether an event brings its objects into being (an ADD or an origin bizStep of an ObjectEvent)."""
    return ev.type == "ObjectEvent" and (ev.action == "ADD" or ev.biz_step in ORIGIN_STEPS)


def party_of(entries: list[SourceDest]) -> str | None:
    """The party GLN a source/destination list names, preferring owning/possessing party entries."""
    for sd in entries:
        if sd.type in PARTY_SDT and sd.ref.gln:
            return sd.ref.gln
    for sd in entries:
        if sd.ref.gln:
            return sd.ref.gln
    return None


def name(ref: Ref) -> str:
    """A readable name of an object for messages."""
    if ref.kind == "lot":
        return f"lot {ref.lot} of GTIN {ref.gtin}"
    if ref.kind == "item":
        return f"item {ref.serial} of GTIN {ref.gtin}"
    if ref.kind == "sscc":
        return f"logistic unit {ref.sscc}"
    if ref.kind == "class":
        return f"product {ref.gtin}"
    return ref.uri


def denials(ev: NormalizedEvent, role: str, party: str | None, view: View) -> list[str]:
    """Return why this caller may not record this event (empty: it may).

    Args:
        ev: the normalised event.
        role: the token's role.
        party: the GLN the token acts for (None for admin).
        view: the store's answers, as the document's earlier events left it.
    """
    if role == "admin":
        return []
    if role not in CAPTURING_ROLES or party is None:
        return [f"a {role} token may not capture events"]
    out = _place(ev, party) + _role(ev, role)
    if out:
        return out
    if ev.error_declaration is not None:
        return []  # who recorded the original is checked against the stored event (graph/events.py)
    if is_origin(ev):
        out += _originate(ev.objects, party, view, "commission")
    if ev.type == "TransformationEvent":
        out += _originate(ev.outputs, party, view, "make")
    if ev.type == "AggregationEvent" and ev.parent is not None and ev.parent.kind in CUSTODY_KINDS:
        parent = view.thing(ev.parent)
        if parent.exists and not parent.held_by(party):
            out.append(f"party {party} does not hold {name(ev.parent)}: it may not pack into or unpack it")
    if ev.biz_step in SHIP_STEPS and ev.sources:
        source = party_of(ev.sources)
        if source != party:
            out.append(f"a shipment by party {party} must be from it, not from {source}")
    if ev.biz_step in RECEIVE_STEPS and ev.destinations:
        dest = party_of(ev.destinations)
        if dest != party:
            out.append(f"a receipt by party {party} must be to it, not to {dest}")
    return out


def product_registration_denial(role: str, party: str | None, prefixes: list[str] | None, owner: str,
                                gtin: str) -> str | None:
    """Why this caller may not register this GTIN as a product of ``owner`` (None: it may).

    A GTIN is its brand owner's because GS1 licensed the owner its company prefix: a producer registers products
    only for itself and only under one of its recorded prefixes, so nobody can take another brand's GTIN first.
    An admin registers any (and records parties' prefixes).
    """
    if role == "admin":
        return None
    if party is None or party != owner:
        return f"a {role} token registers products only for its own party"
    if not prefixes:
        return (f"party {party} has no GS1 company prefix recorded: an admin records it (or registers the "
                "product)")
    if not any(gtin[1:].startswith(p) for p in prefixes):
        return f"GTIN {gtin} is not under a GS1 company prefix of party {party} ({', '.join(sorted(prefixes))})"
    return None


def _place(ev: NormalizedEvent, party: str) -> list[str]:
    places = [r for r in (ev.read_point, ev.biz_location) if r is not None]
    if not places:
        return ["an event recorded by a party token needs a readPoint or bizLocation"]
    return [f"location {r.uri} is not a location of party {party}" for r in places if r.gln != party]


def _role(ev: NormalizedEvent, role: str) -> list[str]:
    if role == "lab" and not (ev.type == "ObjectEvent" and ev.biz_step == "inspecting" and ev.action == "OBSERVE"):
        tried = " ".join(x for x in (ev.type, ev.action, ev.biz_step) if x)
        return [f"a lab token records inspections only (OBSERVE, inspecting), not {tried}"]
    return []


def unknown_master_data(ev: NormalizedEvent, view: View) -> list[str]:
    """Return the products and parties an event names that are not registered (party tokens may not create them)."""
    out = []
    gtins = sorted({eq.ref.gtin for eq in (*ev.objects, *ev.inputs, *ev.outputs, *ev.children) if eq.ref.gtin}
                   | ({ev.parent.gtin} if ev.parent is not None and ev.parent.gtin else set()))
    for gtin in gtins:
        if view.product(gtin) is None:
            out.append(f"no product with GTIN {gtin} is registered; an admin registers master data")
    places = (ev.read_point, ev.biz_location, *(sd.ref for sd in (*ev.sources, *ev.destinations)))
    for gln in sorted({r.gln for r in places if r is not None and r.gln}):
        if not view.party_known(gln):
            out.append(f"no party with GLN {gln} is registered; an admin registers master data")
    return out


def _originate(entries, party: str, view: View, verb: str) -> list[str]:
    """Bringing objects into being: a GTIN the party may make, and a new object or one it owns."""
    out = []
    for eq in entries:
        ref = eq.ref
        if ref.gtin:
            product = view.product(ref.gtin)
            if product is not None and not product.may_originate(party):
                out.append(f"party {party} may not {verb} {name(ref)}: GTIN {ref.gtin} belongs to "
                           f"{product.owner} and is not licensed to {party}")
                continue
        if ref.kind not in CUSTODY_KINDS:
            continue
        thing = view.thing(ref)
        lot_owner = thing.lot_owner
        if ref.kind == "item" and lot_owner is None and ref.lot is not None:
            lot_owner = view.thing(Ref("lot", gtin=ref.gtin, lot=ref.lot)).owner
        if ref.kind == "item" and lot_owner is not None:
            if lot_owner != party:
                out.append(f"party {party} may not {verb} {name(ref)}: its lot belongs to {lot_owner}")
            continue  # a serial of the party's own lot (a print run's)
        if not thing.exists:
            continue
        if thing.owner is not None and thing.owner != party:
            out.append(f"party {party} may not {verb} {name(ref)}: it belongs to {thing.owner}")
        elif thing.owner is None and not thing.held_by(party):
            out.append(f"party {party} may not {verb} {name(ref)}: it exists and party {party} does not hold it")
    return out
