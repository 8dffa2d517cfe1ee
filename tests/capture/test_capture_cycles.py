"""Capture makes no reference cycles: what a document's capture builds goes as soon as the capture ends.

A cycle (a bound method kept by its own object, a closure that calls itself) keeps a document's whole ledger, its
normalised events and its planned rows alive until Python's cyclic collector finds them, and makes that collector
traverse them first. The history import relies on this: it switches the collector to young objects only
(graph/history_import._frozen_as_it_grows), which made its CSV stage ~30% faster at M, and it would leak there.
"""

from __future__ import annotations

import gc
import random
from collections import Counter

from graph import bulk
from graph.driver import Rows, Text
from graph.migrate import migrate
from scripts.gen.network import Network

_OURS = ("graph.", "gs1.")
# A statement's parameters (graph/driver.quiet wraps them) stay with the driver's Result, which is in a cycle of the
# driver's own (the Result and its connection error handler), until the collector runs: the driver's cycle, not
# capture's. Plain lists were kept the same way before they were wrapped; this test never saw them.
_DRIVERS = (Rows, Text)


def _ours(obj: object) -> str | None:
    """The name of an object of our capture code (an instance of one of its classes, or one of its functions)."""
    module = getattr(obj, "__module__", None) if callable(obj) and not isinstance(obj, type) else None
    if isinstance(module, str) and module.startswith(_OURS):
        return getattr(obj, "__qualname__", repr(obj))
    kind = type(obj)
    if kind.__module__.startswith(_OURS) and kind not in _DRIVERS:
        return kind.__qualname__
    return None


def _fresh_namespace(graph) -> int:
    rng = random.SystemRandom()
    for _ in range(200):
        ns = rng.randrange(100, 898)  # 900-999: the factories' (tests/factories.py)
        glns = [p["gln"] for p in Network("XS", 11, ns).master()["parties"][:3]]
        if not graph.query("MATCH (p:Party) WHERE p.gln IN $glns RETURN 1 LIMIT 1", read=True, glns=glns):
            return ns
    raise AssertionError("no unused company-prefix namespace left in the test database")


def test_capturing_a_deep_network_leaves_no_cyclic_garbage_of_capture(graph):
    """Three 400-event documents of a generated network (all three chains: transformations, pallets, shipments,
    receipts) captured through the write path against the real store: the collector then finds nothing of
    capture's among what only a cycle kept alive."""
    migrate(graph)
    net = Network("XS", 11, _fresh_namespace(graph))
    bulk.load_master(graph, net.master())
    docs = [doc for doc, _ in net.documents(400)][:3]
    assert len(docs) == 3
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)  # the collector keeps what it would have freed, for us to look at
    try:
        captured = [bulk.capture_events(graph, doc) for doc in docs]
        gc.collect()
        found = Counter(name for name in map(_ours, gc.garbage) if name is not None)
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert [len(job.captured) for job in captured] == [400, 400, 400]
    assert not found, f"kept alive by reference cycles until the collector ran: {found.most_common(8)}"
