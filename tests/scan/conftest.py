"""Scan test fixtures: an arranged ginseng chain per module, the app's signing secret, scan flushing."""

from __future__ import annotations

import pytest

from tests.scan import arrange


@pytest.fixture(scope="module")
def secret(app):
    """The key the app signs serials with."""
    return app.config["SECRET_KEY"]


@pytest.fixture(scope="module")
def chain(graph, secret):
    """A ginseng chain: farm -> processor (boxes, signed serials) -> distributor -> shop; the last box sold."""
    return arrange.ginseng_chain(graph, secret)


@pytest.fixture
def flush(app):
    """Write the queued scans now (the background writer would do it within a second)."""
    return app.extensions["scan_buffer"].flush


def item_path(c: arrange.Chain, serial: str) -> str:
    """The resolver path of a box of the chain."""
    return f"/01/{c.box_gtin}/10/{c.box_lot}/21/{serial}"
