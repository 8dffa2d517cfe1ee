"""Load a generated network: through POST /epcis/capture (what users do) or directly in big batches (bulk).

Both paths load master data and inspections the same way (graph/bulk.py) and differ only in how events travel:
HTTP documents of ``size`` events through the API, or in-process batches of ``batch`` events straight into
graph/events.py's write path. The same network therefore builds the same graph either way (tests/bench).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field

from graph import bulk
from graph.driver import Graph
from scripts.gen.network import Network, document


@dataclass
class LoadStats:
    """How a load went: events, seconds per phase, warnings and errors reported by capture."""

    path: str
    events: int = 0
    documents: int = 0
    seconds: float = 0.0
    master_seconds: float = 0.0
    warnings: int = 0
    errors: list[dict] = field(default_factory=list)
    lots: list[str] = field(default_factory=list)  # a spread sample of lot URIs, for trace and scan benchmarks
    items: list[str] = field(default_factory=list)  # a spread sample of serialized item URIs

    @property
    def rate(self) -> float:
        """Events per second of the whole load (generation included: it streams alongside)."""
        return self.events / self.seconds if self.seconds else 0.0


def load_master(graph: Graph, net: Network) -> float:
    """Upsert the network's master data; return the seconds it took."""
    start = time.perf_counter()
    bulk.load_master(graph, net.master())
    return time.perf_counter() - start


def load_bulk(graph: Graph, net: Network, batch: int = 5000,
              parts: Sequence[Collection[str]] | None = None) -> LoadStats:
    """Stream the network into the graph in batches of ``batch`` events, one transaction each.

    ``parts`` (groups of the network's CHAINS) sends the chains of each group in batches of their own, group after
    group: the capture jobs scripts/import_history.py makes when it builds the groups apart."""
    stats = LoadStats("bulk")
    stats.master_seconds = load_master(graph, net)
    start = time.perf_counter()
    streams = [net.batches(batch)] if parts is None else [net.again().batches(batch, group) for group in parts]
    for events, inspections in itertools.chain.from_iterable(streams):
        if events:
            job = bulk.capture_events(graph, document(events))
            _account(stats, job.warnings, job.errors, events)
        if inspections:
            bulk.upsert_inspections(graph, inspections)
    stats.seconds = time.perf_counter() - start
    return stats


def load_http(graph: Graph, net: Network, post: Callable[[dict], tuple[int, dict]], size: int = 1000) -> LoadStats:
    """Stream the network through POST /epcis/capture, ``size`` events per EPCISDocument.

    Args:
        graph: the database (master data and inspections, which have no capture endpoint).
        net: the network.
        post: sends one document to /epcis/capture with an admin token; returns (status, capture job JSON).
        size: events per document.

    Raises:
        RuntimeError: a document was refused.
    """
    stats = LoadStats("http")
    stats.master_seconds = load_master(graph, net)
    start = time.perf_counter()
    for doc, inspections in net.documents(size):
        status, job = post(doc)
        if status >= 300:
            raise RuntimeError(f"POST /epcis/capture answered {status}: {str(job)[:500]}")
        _account(stats, job.get("warnings") or [], job.get("errors") or [], doc["epcisBody"]["eventList"])
        if inspections:
            bulk.upsert_inspections(graph, inspections)
    stats.seconds = time.perf_counter() - start
    return stats


def _account(stats: LoadStats, warnings: list[dict], errors: list[dict], events: list[dict]) -> None:
    stats.events += len(events)
    # One output of every 50th transformation: lots and items from every chain and every stage.
    for ev in events[::50]:
        outs = ev.get("outputQuantityList") or ev.get("quantityList") or []
        if outs:
            stats.lots.append(outs[0]["epcClass"])
        epcs = ev.get("outputEPCList") or []
        if epcs and "/21/" in epcs[0]:
            stats.items.append(epcs[0])
    stats.documents += 1
    stats.warnings += len(warnings)
    stats.errors += errors
