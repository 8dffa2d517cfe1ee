"""Deep and tangled chains: trace, recall reach and the consumer page's origin against networkx's answer.

The expected answers come from the generated events alone: tests/trace/reference.py derives the lineage edges (no
code shared with graph/ or gs1/), networkx walks them. A query that stops walking after a few hops, or loses a
diamond's second path, answers less than networkx does.
"""

from __future__ import annotations

import random

import networkx as nx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from graph import recalls, trace
from tests.factories import auth
from tests.trace import network
from tests.trace.arrange import capture, register_parties
from tests.trace.reference import Reference

JSON = {"Accept": "application/json"}


def lineage(net) -> tuple[nx.DiGraph, Reference]:
    """The network's lineage as a networkx graph (edges point downstream), and the reference it came from."""
    ref = Reference.build(net.events)
    g = nx.DiGraph()
    g.add_nodes_from(net.all_keys)
    g.add_edges_from((e.src, e.dst, {"type": e.type}) for e in ref.edges)
    return g, ref


def _sides(answer: dict, side: str) -> set[str]:
    return {n["id"] for n in answer["nodes"] if n["side"] in (side, "start", "both")}


@pytest.fixture(scope="module")
def deep(graph, admin_token):
    """The ginseng and rice chains, captured once for the module."""
    net = network.generate_deep(random.Random(21))
    register_parties(graph, net)
    capture(graph, admin_token, net)
    return net


@pytest.fixture(scope="module")
def regulator(graph):
    """A regulator token."""
    from graph import tokens

    return tokens.create(graph, "regulator", None, "deep chains")["token"]


def test_the_generated_chains_are_deep_diamond_shaped_and_shared(deep):
    g, ref = lineage(deep)
    assert nx.is_directed_acyclic_graph(g)
    for name, chain in deep.chains.items():
        assert len(chain) >= 7, name  # generations, each one lineage edge from the one before
        assert all(g.has_edge(a, b) for a, b in zip(chain, chain[1:], strict=False)), name
    ginseng, rice = deep.chains["ginseng"], deep.chains["rice"]
    # the shortest walk from a pallet back to its farm lot (a transformation makes the items with their lot)
    assert nx.shortest_path_length(g, ginseng[0], ginseng[-1]) == 6
    assert nx.shortest_path_length(g, rice[0], rice[-1]) == 5
    assert len(list(nx.all_simple_paths(g, ginseng[0], ginseng[3]))) == 2  # washed -> two dried lots -> sliced
    assert len(list(nx.all_simple_paths(g, rice[0], rice[2]))) == 2  # paddy A -> two milled lots -> blended
    shops = set(deep.parties["retailer"])
    assert ref.receivers(nx.descendants(g, ginseng[4]) | {ginseng[4]}) & shops == shops  # one gift box lot, 2 shops
    assert ref.receivers(nx.descendants(g, rice[2]) | {rice[2]}) & shops == shops


def test_every_object_traces_back_and_forward_to_what_networkx_finds(graph, deep):
    g, ref = lineage(deep)
    for key in deep.all_keys:
        back = trace.trace(graph, key, "back")
        assert _sides(back, "back") == nx.ancestors(g, key) | {key}, key
        assert {(e["from"], e["type"], e["to"]) for e in back["edges"]} == ref.trace(key, forward=False)[1], key
        forward = trace.trace(graph, key, "forward")
        assert _sides(forward, "forward") == nx.descendants(g, key) | {key}, key
        assert {(e["from"], e["type"], e["to"]) for e in forward["edges"]} == ref.trace(key)[1], key


@pytest.mark.parametrize("chain", ["ginseng", "rice"])
def test_a_pallet_walks_back_to_its_farms_at_their_distance(graph, deep, chain):
    g, _ = lineage(deep)
    pallet = deep.chains[chain][-1]
    answer = trace.trace(graph, pallet, "back")
    depths = {n["id"]: n["depth"] for n in answer["nodes"]}
    roots = {k for k in deep.raw_lots if nx.has_path(g, k, pallet)}
    assert roots and roots <= set(depths)
    for root in roots:
        assert depths[root] == -nx.shortest_path_length(g, root, pallet)


def test_a_gift_box_traces_back_to_the_root_lot_through_the_api(client, deep, regulator):
    g, _ = lineage(deep)
    box = deep.chains["ginseng"][5]
    _, gtin, serial = box.split(":", 2)
    body = client.get(f"/api/v1/items/{gtin}/{serial}/trace?direction=back", headers=auth(regulator)).json
    assert {n["id"] for n in body["nodes"]} == nx.ancestors(g, box) | {box}
    assert deep.chains["ginseng"][0] in {n["id"] for n in body["nodes"]}


@pytest.mark.parametrize("root", [0, 1])
def test_a_recall_of_a_root_lot_reaches_every_pallet_and_both_shops(graph, deep, root):
    g, ref = lineage(deep)
    start = deep.raw_lots[root]
    case = recalls.open_case(graph, [start], 1, "deep chain recall", None, opened_by="deep")
    reach = nx.descendants(g, start) | {start}
    assert {a["key"] for a in case["affected"]} == reach
    notified = {h["party"]["gln"] for h in case["holders"]}
    assert ref.receivers(reach) - set(deep.parties["farm"]) - set(deep.parties["processor"]) <= notified
    assert set(deep.parties["retailer"]) <= notified


@pytest.mark.parametrize("chain,generation", [("ginseng", 4), ("ginseng", 3), ("rice", 3), ("rice", 2)])
def test_the_consumer_page_names_the_farms_at_the_end_of_a_deep_chain(client, deep, chain, generation):
    g, _ = lineage(deep)
    key = deep.chains[chain][generation]
    _, gtin, lot = key.split(":", 2)
    facts = client.get(f"/01/{gtin}/10/{lot}", headers=JSON).json
    farms = {deep.farms[r] for r in deep.raw_lots if nx.has_path(g, r, key)}
    assert sorted(o["name_en"] for o in facts["origin"]) == sorted(deep.names[f] for f in farms)


# --- random lineage DAGs ------------------------------------------------------------------------------------------

@st.composite
def dags(draw):
    """Up to 12 generations of 1-3 lots; each lot made from a non-empty subset of the generation before."""
    depth = draw(st.integers(1, 12))
    widths = [draw(st.integers(1, 3)) for _ in range(depth + 1)]
    parents = [[draw(st.lists(st.integers(0, widths[i] - 1), min_size=1, max_size=widths[i], unique=True))
                for _ in range(widths[i + 1])] for i in range(depth)]
    return widths[0], parents, draw(st.booleans())


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(dag=dags(), picks=st.lists(st.integers(0, 10_000), min_size=1, max_size=3))
def test_random_lineage_dags_trace_like_networkx(graph, admin_token, dag, picks):
    roots, parents, packed = dag
    net = network.lineage_dag(roots, parents, packed)
    capture(graph, admin_token, net)
    g, ref = lineage(net)
    for pick in [0, -1, *picks]:  # a farm lot, the last object made (a pallet when packed), and a few drawn
        key = net.all_keys[pick % len(net.all_keys)] if pick > 0 else (net.raw_lots[0] if pick == 0 else
                                                                       max(net.all_keys, key=lambda k: len(
                                                                           nx.ancestors(g, k))))
        back = trace.trace(graph, key, "back")
        assert _sides(back, "back") == nx.ancestors(g, key) | {key}
        assert {(e["from"], e["type"], e["to"]) for e in back["edges"]} == ref.trace(key, forward=False)[1]
        forward = trace.trace(graph, key, "forward")
        assert _sides(forward, "forward") == nx.descendants(g, key) | {key}
        assert {(e["from"], e["type"], e["to"]) for e in forward["edges"]} == ref.trace(key)[1]
