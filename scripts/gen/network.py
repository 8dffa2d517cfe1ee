"""One synthetic network: master data plus its events streamed as EPCIS 2.0 documents in dependency order."""

from __future__ import annotations

import itertools
import uuid
from collections import Counter
from collections.abc import Collection, Iterator

from scripts.gen.chains import COUNTS, Chains, stamp
from scripts.gen.world import SCALES, World

CHAINS = ("rice", "ginseng", "beef")  # the three chains; they share master data and locations, never a lot or item
CONTEXT = ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld", {"tg": "https://tracegraph.cn/voc/"}]
# Signs ginseng serials; the scan benchmark runs the app with the same SECRET_KEY so scans read as genuine.
DEFAULT_SERIAL_KEY = "bench-secret-key-0123456789abcdef"
# Generated events carry eventIDs, as a producer system assigns them (urn:uuid, RFC 4122 name-based, so the same
# network gets the same IDs): capture then skips computing the CBV 2.0 event hash, ~30% of the bulk path's CPU.
EVENT_ID_NAMESPACE = uuid.UUID("3f6c1f2e-9a57-4c1b-8d0e-2b7a5e4c9d10")


def document(events: list[dict]) -> dict:
    """Wrap events in an EPCISDocument (creationDate: the latest event time, so output stays deterministic)."""
    return {"@context": CONTEXT, "type": "EPCISDocument", "schemaVersion": "2.0",
            "creationDate": max(ev["eventTime"] for ev in events) if events else stamp(0),
            "epcisBody": {"eventList": events}}


class Network:
    """A seeded Jilin network at a named scale; the same (scale, seed, namespace) gives byte-identical output."""

    def __init__(self, scale: str = "S", seed: int = 42, namespace: int = 0, serial_key: str = DEFAULT_SERIAL_KEY):
        """Allocate the master data; events are generated lazily by ``units``/``batches``."""
        if scale not in SCALES:
            raise ValueError(f"scale must be one of {', '.join(SCALES)}")
        self.scale = SCALES[scale]
        self.seed = seed
        self.namespace = namespace
        self.serial_key = serial_key
        self.world = World(self.scale, seed, namespace)
        self.chains = {chain: Chains(self.world, seed, serial_key, chain) for chain in CHAINS}
        self.event_types: Counter[str] = Counter()
        self.events = 0

    def master(self) -> dict:
        """Parties, products and certificates."""
        return self.world.master()

    def again(self) -> Network:
        """A fresh network equal to this one (its streams start over)."""
        return Network(self.scale.name, self.seed, self.namespace, self.serial_key)

    def units(self, chains: Collection[str] = CHAINS) -> Iterator[tuple[list[dict], list[dict]]]:
        """Yield (events, inspections) per production unit, the chains interleaved.

        Args:
            chains: only the units of these chains (of CHAINS); the others are not generated. Each chain numbers its
                own events (their eventIDs) and documents, so a unit is the same whichever chains are generated.
        """
        def drained(c: Chains) -> Iterator[tuple[list[dict], list[dict], str]]:
            # each unit with the inspections its chain made while making it
            for unit in getattr(c, c.chain)():
                inspections, c.inspections = c.inspections, []
                yield unit, inspections, c.chain

        base = f"{self.scale.name}/{self.seed}/{self.namespace}/"
        made = dict.fromkeys(CHAINS, 0)  # events of each chain so far: its events' numbers
        streams = [drained(self.chains[chain]) for chain in CHAINS if chain in chains]
        for entry in itertools.chain.from_iterable(itertools.zip_longest(*streams)):
            if entry is None:
                continue
            unit, inspections, chain = entry
            start = made[chain]
            made[chain] += len(unit)
            self.events += len(unit)
            self.event_types.update(ev["type"] for ev in unit)
            # the chain's name in what the ID is made of: rice's 5th event and beef's 5th are different events
            unit = [{"type": ev["type"],
                     "eventID": f"urn:uuid:{uuid.uuid5(EVENT_ID_NAMESPACE, f'{base}{chain}/{i}')}", **ev}
                    for i, ev in enumerate(unit, start)]
            yield unit, inspections

    def batches(self, size: int = 1000, chains: Collection[str] = CHAINS) -> Iterator[tuple[list[dict], list[dict]]]:
        """Yield (events, inspections): ``size`` events at a time, each inspection once its lot's events are out.

        ``chains`` keeps the units of those chains only (see ``units``)."""
        buffer: list[dict] = []
        pending: list[tuple[int, list[dict]]] = []  # (position after the unit's last event, its inspections)
        emitted = 0
        for events, inspections in self.units(chains):
            buffer.extend(events)
            if inspections:
                pending.append((emitted + len(buffer), inspections))
            while len(buffer) >= size:
                batch, buffer = buffer[:size], buffer[size:]
                emitted += size
                ready = [i for end, group in pending if end <= emitted for i in group]
                pending = [(end, group) for end, group in pending if end > emitted]
                yield batch, ready
        if buffer or pending:
            yield buffer, [i for _, group in pending for i in group]

    def documents(self, size: int = 1000) -> Iterator[tuple[dict, list[dict]]]:
        """Yield (EPCISDocument, inspections ready after it) of ``size`` events each."""
        for events, inspections in self.batches(size):
            yield document(events), inspections

    def summary(self) -> dict:
        """What was generated so far (complete once the stream is exhausted)."""
        counts = {k: sum(c.counts[k] for c in self.chains.values()) for k in COUNTS}
        return {"scale": self.scale.name, "seed": self.seed, "namespace": self.namespace, "events": self.events,
                "event_types": dict(sorted(self.event_types.items())), **counts,
                "parties": len(self.world.parties), "products": len(self.world.products),
                "certificates": len(self.world.certificates)}
