"""Property tests: on random supply networks the one-traversal trace equals the pure-Python reference."""

from __future__ import annotations

import random
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph import trace
from tests.trace import network
from tests.trace.arrange import capture
from tests.trace.reference import Reference

SETTINGS = settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                    derandomize=False)
networks = st.builds(
    dict,
    seed=st.integers(0, 2**32 - 1),
    farms=st.integers(1, 4),
    processors=st.integers(1, 3),
    retailers=st.integers(1, 3),
    errors=st.integers(0, 3),
)


def _as_sets(answer: dict, forward: bool) -> tuple[set, set]:
    side = {"start", "forward"} if forward else {"start", "back"}
    nodes = {n["id"] for n in answer["nodes"] if n["side"] in side or n["side"] == "both"}
    edges = {(e["from"], e["type"], e["to"]) for e in answer["edges"]}
    return nodes, edges


@SETTINGS
@given(params=networks, picks=st.lists(st.integers(0, 10_000), min_size=2, max_size=4))
def test_forward_and_back_traces_equal_the_reference(graph, admin_token, params, picks):
    net = network.generate(random.Random(params.pop("seed")), **params)
    capture(graph, admin_token, net)
    ref = Reference.build(net.events)
    for pick in picks:
        start = net.all_keys[pick % len(net.all_keys)]
        for forward in (True, False):
            answer = trace.trace(graph, start, "forward" if forward else "back")
            want_nodes, want_edges = ref.trace(start, forward=forward)
            got_nodes, got_edges = _as_sets(answer, forward)
            assert got_nodes == want_nodes, (start, forward)
            assert got_edges == want_edges, (start, forward)


@SETTINGS
@given(params=networks, pick=st.integers(0, 10_000), offset=st.integers(0, 40), span=st.integers(0, 60))
def test_windowed_forward_trace_equals_the_reference(graph, admin_token, params, pick, offset, span):
    net = network.generate(random.Random(params.pop("seed")), **params)
    capture(graph, admin_token, net)
    ref = Reference.build(net.events)
    start = net.raw_lots[pick % len(net.raw_lots)]
    window = (net.start + timedelta(hours=offset), net.start + timedelta(hours=offset + span))
    for forward in (True, False):
        answer = trace.trace(graph, start, "forward" if forward else "back", window=window)
        want_nodes, want_edges = ref.trace(start, forward=forward, window=window)
        got_nodes, got_edges = _as_sets(answer, forward)
        assert got_nodes == want_nodes
        assert got_edges == want_edges


@SETTINGS
@given(params=networks, pick=st.integers(0, 10_000))
def test_both_directions_is_the_union_of_back_and_forward(graph, admin_token, params, pick):
    net = network.generate(random.Random(params.pop("seed")), **params)
    capture(graph, admin_token, net)
    ref = Reference.build(net.events)
    start = net.all_keys[pick % len(net.all_keys)]
    answer = trace.trace(graph, start, "both")
    fwd_nodes, fwd_edges = ref.trace(start, forward=True)
    back_nodes, back_edges = ref.trace(start, forward=False)
    assert {n["id"] for n in answer["nodes"]} == fwd_nodes | back_nodes
    assert {(e["from"], e["type"], e["to"]) for e in answer["edges"]} == fwd_edges | back_edges
