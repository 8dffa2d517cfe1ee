"""Refused means nothing written: fingerprint the graph around the records a request names, before and after.

    with unchanged(graph, lots=[lot], parties=[farm["gln"]]):
        response = client.post("/api/v1/shipments", json=body, headers=auth(other_token))
    refused(response, 403)

The fingerprint (graph/fingerprint.py reads it) covers the named lots, items, logistic units, parties, products,
events and recalls, and every edge touching them: the events naming them, HOLDS (party, quantity, pending,
shipped_in, received), lineage (TRANSFORMED_INTO, PACKED_IN, HAS_ITEM), recall AFFECTS/IMPLICATES/NOTIFIES and
the lot's status. A record that did not exist and still does not is equal too; one a refused write created is not.

Scoped, not global, by default: the suite runs beside other tests (and other people's runs) writing their own data
into the same Neo4j, so the counts of the whole graph move under a test. Name everything the request names (the
lot it ships, the GLNs of both parties, the new lot code it would create, its eventIDs); pass
`global_counts=True` only where nothing else can write. The audit trail is not in the scope: AuditEntry nodes
have no edges, and a refusal is allowed to add one.
"""

from __future__ import annotations

import difflib
import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from graph import fingerprint as store
from gs1.identifiers import item_key, key_kind, lot_key, parse_identifier

# key kind -> argument of graph.fingerprint.snapshot
_KIND_ARG = {"lot": "lots", "item": "items", "sscc": "units", "other": "others"}


@dataclass(frozen=True)
class Fingerprint:
    """What a request could change around the named records: per node its properties and edges, and counts."""

    nodes: dict[str, str]  # "Label:id" -> canonical JSON of labels, properties, incident edges
    counts: dict[str, int]  # "node:Label" / "rel:TYPE" in the scope (named nodes, their edges and neighbours)
    global_counts: dict[str, int] | None = field(default=None)

    @property
    def digest(self) -> str:
        """One hash of everything above (what equality compares)."""
        text = json.dumps([self.nodes, self.counts, self.global_counts], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()

    def diff(self, other: Fingerprint) -> str:
        """A readable account of what differs from `other` (empty when equal)."""
        lines: list[str] = []
        for name in sorted(set(self.nodes) | set(other.nodes)):
            a, b = self.nodes.get(name), other.nodes.get(name)
            if a != b:
                lines.append(f"{name}:")
                lines += difflib.unified_diff(_pretty(a), _pretty(b), "before", "after", lineterm="", n=1)
        for label, before, after in _count_changes(self.counts, other.counts):
            lines.append(f"{label}: {before} -> {after}")
        for label, before, after in _count_changes(self.global_counts or {}, other.global_counts or {}):
            lines.append(f"whole graph {label}: {before} -> {after}")
        return "\n".join(lines)


def _pretty(text: str | None) -> list[str]:
    return json.dumps(json.loads(text), indent=1, sort_keys=True).splitlines() if text else ["(absent)"]


def _count_changes(a: dict[str, int], b: dict[str, int]) -> list[tuple[str, int, int]]:
    return [(k, a.get(k, 0), b.get(k, 0)) for k in sorted(set(a) | set(b)) if a.get(k, 0) != b.get(k, 0)]


def _plain(value: Any) -> Any:
    """JSON-able form of a property value (neo4j.time types print as ISO text)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _key(ref: str | dict) -> str:
    """A business key from a key, a {"gtin", "lot"|"serial"} dict, or an identifier URI (Digital Link, URN)."""
    if isinstance(ref, dict):
        return lot_key(ref["gtin"], ref["lot"]) if "lot" in ref else item_key(ref["gtin"], ref["serial"])
    if key_kind(ref) in _KIND_ARG:
        return ref
    return parse_identifier(ref).key


def graph_fingerprint(
    graph,
    keys: Iterable[str | dict] = (),
    glns: Iterable[str] = (),
    *,
    lots: Iterable[str | dict] = (),
    items: Iterable[str | dict] = (),
    parties: Iterable[str] = (),
    products: Iterable[str] = (),
    events: Iterable[str] = (),
    recalls: Iterable[str] = (),
    global_counts: bool = False,
) -> Fingerprint:
    """Fingerprint the named objects (keys, lots, items: business keys, {gtin, lot|serial} dicts or identifier
    URIs), parties (glns) and the rest.

    With global_counts, also the whole graph's node count per label and relationship count per type.
    """
    args: dict[str, list[str]] = {arg: [] for arg in _KIND_ARG.values()}
    for ref in [*keys, *lots, *items]:
        key = _key(ref)
        args[_KIND_ARG[key_kind(key)]].append(key)
    snap = store.snapshot(graph, parties=[*glns, *parties], products=list(products), events=list(events),
                          recalls=list(recalls), global_counts=global_counts, **args)
    nodes: dict[str, str] = {}
    counts: Counter[str] = Counter()
    for row in snap["nodes"]:
        rels = sorted(json.dumps(_plain(r), sort_keys=True) for r in row["rels"])
        name = f"{':'.join(sorted(row['labels']))}:{row['id']}"
        nodes[name] = json.dumps({"labels": sorted(row["labels"]), "props": _plain(row["props"]),
                                  "rels": [json.loads(r) for r in rels]}, sort_keys=True)
        counts.update(f"node:{label}" for label in row["labels"])
        for rel_type, _outgoing, far_labels, _far, _props in row["rels"]:
            counts[f"rel:{rel_type}"] += 1
            counts.update(f"neighbour:{label}" for label in far_labels)
    whole = None
    if snap["counts"] is not None:
        whole = {f"node:{k}": v for k, v in snap["counts"]["nodes"].items()}
        whole |= {f"rel:{k}": v for k, v in snap["counts"]["rels"].items()}
    return Fingerprint(nodes, dict(counts), whole)


@contextmanager
def unchanged(
    graph,
    keys: Iterable[str | dict] = (),
    glns: Iterable[str] = (),
    *,
    lots: Iterable[str | dict] = (),
    items: Iterable[str | dict] = (),
    parties: Iterable[str] = (),
    products: Iterable[str] = (),
    events: Iterable[str] = (),
    recalls: Iterable[str] = (),
    global_counts: bool = False,
) -> Iterator[Fingerprint]:
    """Assert that the block leaves the named records' fingerprint as it was; yields the fingerprint before."""
    scope = {"keys": [*keys], "glns": [*glns], "lots": [*lots], "items": [*items], "parties": [*parties],
             "products": [*products], "events": [*events], "recalls": [*recalls], "global_counts": global_counts}
    before = graph_fingerprint(graph, **scope)
    yield before
    after = graph_fingerprint(graph, **scope)
    assert before == after, "a refused request changed the graph:\n" + before.diff(after)


assert_unchanged = unchanged

_ARG_OF_KIND = {"lot": "lots", "item": "items", "sscc": "keys", "other": "keys"}


def named_in(*bodies: Any, recall_ids: Iterable[str] = ()) -> dict[str, list]:
    """The scope a request names, as keyword arguments of `unchanged`: every GLN (fields ending in `gln`),
    {gtin, lot} and {gtin, serial} object, GTIN, eventID and GS1 identifier URI (EPCIS documents) in its body."""
    scope: dict[str, list] = {"lots": [], "items": [], "keys": [], "parties": [], "products": [], "events": [],
                              "recalls": list(recall_ids)}

    def walk(value: Any, name: str = "") -> None:
        if isinstance(value, dict):
            if isinstance(value.get("gtin"), str) and isinstance(value.get("lot"), str):
                scope["lots"].append({"gtin": value["gtin"], "lot": value["lot"]})
            if isinstance(value.get("gtin"), str) and isinstance(value.get("serial"), str):
                scope["items"].append({"gtin": value["gtin"], "serial": value["serial"]})
            for k, v in value.items():
                walk(v, k)
        elif isinstance(value, list):
            for v in value:
                walk(v, name)
        elif isinstance(value, str):
            if name.endswith("gln"):
                scope["parties"].append(value)
            elif name == "gtin":
                scope["products"].append(value)
            elif name == "eventID":
                scope["events"].append(value)
            elif value.startswith(("https://id.gs1.org/", "urn:epc:id:", "urn:epc:class:")):
                try:
                    ref = parse_identifier(value)
                except ValueError:
                    return
                if ref.kind in _ARG_OF_KIND:
                    scope[_ARG_OF_KIND[ref.kind]].append(ref.key)
                elif ref.gln:
                    scope["parties"].append(ref.gln)
                if ref.gtin:
                    scope["products"].append(ref.gtin)

    for body in bodies:
        walk(body)
    return scope  # the name the issue uses: `with assert_unchanged(graph, keys, glns): ...`
