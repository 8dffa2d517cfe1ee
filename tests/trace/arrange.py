"""Arrange trace tests: put a generated network into the graph the way the service records it."""

from __future__ import annotations

from tests.trace import loader


def capture(graph, admin_token: str, net) -> None:
    """Record every event of the network (errorDeclarations included) in capture order."""
    loader.load(graph, net.document())
