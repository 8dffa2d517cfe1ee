"""An independent, pure-Python reference trace over an EPCIS event list (the oracle of the property tests).

It reads the events as sent (EPCIS 2.0 JSON with GS1 Digital Link identifiers, which is what the test networks
use), applies errorDeclarations, derives the lineage edges the way docs/graph-model.md defines them and walks
them breadth-first. It shares no code with graph/ or gs1/: a bug there cannot hide here.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import unquote, urlsplit

LINEAGE = ("TRANSFORMED_INTO", "HAS_ITEM", "PACKED_IN")
CONTAINMENT = ("HAS_ITEM", "PACKED_IN")


def dl_key(uri: str) -> str | None:
    """Return the business key of a Digital Link object URI (lot, item, sscc); None for anything else."""
    parts = [unquote(p) for p in urlsplit(uri).path.split("/") if p]
    pairs = dict(zip(parts[0::2], parts[1::2], strict=False))
    if "00" in pairs:
        return f"sscc:{pairs['00']}"
    if "01" not in pairs:
        return None
    gtin = pairs["01"].zfill(14)
    if "21" in pairs:
        return f"item:{gtin}:{pairs['21']}"
    if "10" in pairs:
        return f"lot:{gtin}:{pairs['10']}"
    return None


def dl_lot_of_item(uri: str) -> str | None:
    """Return the lot key an item URI names with /10/ (the HAS_ITEM source), or None."""
    parts = [unquote(p) for p in urlsplit(uri).path.split("/") if p]
    pairs = dict(zip(parts[0::2], parts[1::2], strict=False))
    if "01" in pairs and "10" in pairs and "21" in pairs:
        return f"lot:{pairs['01'].zfill(14)}:{pairs['10']}"
    return None


def party_of(uri: str) -> str | None:
    """Return the GLN of a party (/417/) or location (/414/) Digital Link."""
    parts = [unquote(p) for p in urlsplit(uri).path.split("/") if p]
    pairs = dict(zip(parts[0::2], parts[1::2], strict=False))
    return pairs.get("417") or pairs.get("414")


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


@dataclass(frozen=True)
class Edge:
    """A derived lineage edge: from key, type, to key, and the time of the event that made it."""

    src: str
    type: str
    dst: str
    time: datetime | None = None


@dataclass
class Reference:
    """The record reduced to what a trace needs: valid events and the lineage edges derived from them."""

    events: list[dict]
    erroneous: set[str] = field(default_factory=set)
    edges: set[Edge] = field(default_factory=set)

    @classmethod
    def build(cls, events: list[dict]) -> Reference:
        """Apply errorDeclarations and derive the lineage edges of every event that still stands."""
        erroneous = {ev["eventID"] for ev in events if ev.get("errorDeclaration")}
        valid = [ev for ev in events if not ev.get("errorDeclaration") and ev["eventID"] not in erroneous]
        ref = cls(valid, erroneous)
        for ev in valid:
            ref.edges |= _edges_of(ev)
        return ref

    def _adjacency(self, forward: bool) -> dict[str, list[Edge]]:
        adj: dict[str, list[Edge]] = defaultdict(list)
        for e in self.edges:
            adj[e.src if forward else e.dst].append(e)
        return adj

    def trace(self, start: str, forward: bool = True, window: tuple[datetime, datetime] | None = None):
        """Return (node keys, edge triples) of the forward or back closure of one object.

        With a window, the transformations that used (forward) or made (back) the start object or one of its
        items/containers count only when their time is inside [from, to]; every later hop counts.
        """
        adj = self._adjacency(forward)

        def other(e: Edge) -> str:
            return e.dst if forward else e.src

        def reach(seeds: set[str], types: tuple[str, ...]) -> set[str]:
            seen, queue = set(seeds), deque(seeds)
            while queue:
                for e in adj[queue.popleft()]:
                    if e.type in types and other(e) not in seen:
                        seen.add(other(e))
                        queue.append(other(e))
            return seen

        if window is None:
            nodes = reach({start}, LINEAGE)
            return nodes, {(e.src, e.type, e.dst) for n in nodes for e in adj[n]}
        ident = reach({start}, CONTAINMENT)
        first = [e for n in ident for e in adj[n]
                 if e.type in CONTAINMENT or window[0] <= e.time <= window[1]]
        down = reach({other(e) for e in first if e.type == "TRANSFORMED_INTO"}, LINEAGE)
        edges = {(e.src, e.type, e.dst) for e in first} | {(e.src, e.type, e.dst) for n in down for e in adj[n]}
        return ident | down, edges

    def receivers(self, keys: set[str]) -> set[str]:
        """Return every party GLN that was sent, received or commissioned any of these objects."""
        out: set[str] = set()
        for ev in self.events:
            if not (_objects_of(ev) & keys):
                continue
            step = ev.get("bizStep")
            if step in ("shipping", "receiving"):
                for d in ev.get("destinationList", []):
                    gln = party_of(d["destination"])
                    if gln:
                        out.add(gln)
            if step in ("receiving", "commissioning", "harvesting") and ev.get("bizLocation"):
                gln = party_of(ev["bizLocation"]["id"])
                if gln:
                    out.add(gln)
        return out


def _refs(ev: dict, *names: str) -> list[str]:
    uris = []
    for name in names:
        for value in ev.get(name, []) or []:
            uris.append(value["epcClass"] if isinstance(value, dict) else value)
    return uris


def _objects_of(ev: dict) -> set[str]:
    uris = _refs(ev, "epcList", "quantityList", "childEPCs", "childQuantityList", "inputEPCList",
                 "inputQuantityList", "outputEPCList", "outputQuantityList")
    if ev.get("parentID"):
        uris.append(ev["parentID"])
    return {k for k in map(dl_key, uris) if k}


def _edges_of(ev: dict) -> set[Edge]:
    out: set[Edge] = set()
    when = _time(ev["eventTime"])
    every = _refs(ev, "epcList", "childEPCs", "inputEPCList", "outputEPCList") + (
        [ev["parentID"]] if ev.get("parentID") else []
    )
    for uri in every:
        lot = dl_lot_of_item(uri)
        if lot:
            out.add(Edge(lot, "HAS_ITEM", dl_key(uri)))
    if ev["type"] == "TransformationEvent":
        ins = [k for k in map(dl_key, _refs(ev, "inputEPCList", "inputQuantityList")) if k]
        outs = [k for k in map(dl_key, _refs(ev, "outputEPCList", "outputQuantityList")) if k]
        for a in ins:
            for b in outs:
                if a != b:
                    out.add(Edge(a, "TRANSFORMED_INTO", b, when))
    if ev["type"] == "AggregationEvent" and ev.get("action") == "ADD" and ev.get("parentID"):
        parent = dl_key(ev["parentID"])
        for k in map(dl_key, _refs(ev, "childEPCs", "childQuantityList")):
            if k and parent and k != parent:
                out.add(Edge(k, "PACKED_IN", parent, when))
    return out
