#!/usr/bin/env python3
"""Benchmark trace and recall on a loaded graph, against the standard EPCIS way of tracing.

    .venv/bin/python scripts/bench_trace.py --uri bolt://127.0.0.1:7687 [--samples 200] [--recall-target 10000]

Start objects are sampled from the database: retail packs (items, else lots nothing was made from) for back traces,
origin lots (farm lots that fed a transformation) for forward traces and recalls. Printed figures:
- trace back from retail packs: p50/p99 of the one-traversal trace (graph/trace.py, one round trip each);
- forward trace from origin lots: p50/p99 and the downstream size;
- a wide recall: one farm lot that fans out to --recall-target downstream lots (a mill lot packed into that many
  bag lots shipped to --retailers retailers), captured first through the real capture path (graph/bulk.py), then
  recalled through the API as a regulator does it: POST /api/v1/recalls, then GET /api/v1/recalls/{id}/export
  (XLSX). This WRITES to the database (a fresh network each run, recalled); --recall-target 0 skips it;
- the EPCIS way: the same back traces as an EPCIS 2.0 client must do them, one GET /epcis/events query per
  generation (MATCH_anyEPC for instances, MATCH_epcClass for lots, every page followed), and the ratio.
The EPCIS client runs in-process through Flask's test client: no network in the way, so the ratio is conservative.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app  # noqa: E402
from graph import bulk, tokens, trace  # noqa: E402
from graph import samples as start_samples  # noqa: E402
from gs1.digital_link import DEFAULT_BASE as DL  # noqa: E402
from gs1.errors import InvalidIdentifier  # noqa: E402
from gs1.identifiers import Ref, key_kind, lot_key, parse_identifier, ref_from_key  # noqa: E402
from gs1.keys import check_digit  # noqa: E402
from gs1.timezones import CHINA_OFFSET  # noqa: E402
from scripts import benchlib  # noqa: E402


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of the values, nearest-rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(q * len(ordered) + 0.5)) - 1))]


def ms(seconds: float) -> str:
    """Seconds as milliseconds text."""
    return f"{seconds * 1000:.1f} ms"


def uri_of(key: str) -> str:
    """The Digital Link URI of a business key (lot, item, sscc)."""
    return ref_from_key(key).uri


def _key(uri: str) -> Ref | None:
    try:
        return parse_identifier(uri)
    except InvalidIdentifier:
        return None


def epcis_back_trace(client, headers: dict, start: str, per_page: int = 1000) -> tuple[set[str], int]:
    """Trace back the way an EPCIS client must: one query per generation (per identifier kind), every page.

    Returns:
        (the upstream keys found, the number of HTTP requests made).
    """
    seen, frontier, requests = {start}, {start}, 0
    while frontier:
        instances = [uri_of(k) for k in frontier if key_kind(k) != "lot"]
        classes = [uri_of(k) for k in frontier if key_kind(k) == "lot"]
        found: list[dict] = []
        for param, values in (("MATCH_anyEPC", instances), ("MATCH_epcClass", classes)):
            if not values:
                continue
            url = f"/epcis/events?{param}={'|'.join(values)}&perPage={per_page}"
            while url:
                response = client.get(url, headers=headers)
                requests += 1
                if response.status_code != 200:
                    raise RuntimeError(f"{url[:120]} -> {response.status_code} {response.get_data(as_text=True)[:300]}")
                body = json.loads(response.get_data())  # as a client parses it, not the server's strict parser
                found.extend(body["epcisBody"]["queryResults"]["resultsBody"]["eventList"])
                link = response.headers.get("Link", "")
                url = link[link.index("<") + 1:link.index(">")] if 'rel="next"' in link else None
        nxt: set[str] = set()
        for ev in found:
            if ev.get("errorDeclaration"):
                continue
            outputs = [_key(u) for u in ev.get("outputEPCList", [])] + [
                _key(q["epcClass"]) for q in ev.get("outputQuantityList", [])]
            inputs = [_key(u) for u in ev.get("inputEPCList", [])] + [
                _key(q["epcClass"]) for q in ev.get("inputQuantityList", [])]
            if any(r is not None and r.key in frontier for r in outputs):
                nxt.update(r.key for r in inputs if r is not None and r.kind in ("lot", "item", "sscc"))
            parent = _key(ev["parentID"]) if ev.get("parentID") else None
            if ev.get("type") == "AggregationEvent" and ev.get("action") == "ADD" and parent and parent.key in frontier:
                children = [_key(u) for u in ev.get("childEPCs", [])] + [
                    _key(q["epcClass"]) for q in ev.get("childQuantityList", [])]
                nxt.update(r.key for r in children if r is not None and r.kind in ("lot", "item", "sscc"))
            for uri in (*ev.get("epcList", []), *ev.get("childEPCs", []), *ev.get("inputEPCList", []),
                        *ev.get("outputEPCList", [])):
                ref = _key(uri)
                if ref is not None and ref.kind == "item" and ref.lot and ref.key in frontier:
                    nxt.add(lot_key(ref.gtin, ref.lot))
        frontier = nxt - seen
        seen |= frontier
    return seen, requests


def _gln(rng: random.Random) -> str:
    body = "69" + "".join(rng.choice("0123456789") for _ in range(10))
    return body + check_digit(body)


def _gtin(rng: random.Random) -> str:
    body = "0690" + "".join(rng.choice("0123456789") for _ in range(9))
    return body + check_digit(body)


def wide_network(lots: int = 10_000, retailers: int = 200, rng: random.Random | None = None) -> tuple[str, list[dict]]:
    """One farm lot -> a mill lot -> `lots` bag lots shipped (and received) in equal shares to `retailers`.

    Returns:
        (the farm lot's key, the EPCIS events in capture order).
    """
    rng = rng or random.Random()
    farm, mill, shops = _gln(rng), _gln(rng), [_gln(rng) for _ in range(retailers)]
    paddy, milled, bag = _gtin(rng), _gtin(rng), _gtin(rng)
    tag = uuid.UUID(int=rng.getrandbits(128)).hex[:6].upper()
    clock = [datetime(2026, 9, 20, 2, tzinfo=UTC)]
    events: list[dict] = []

    def event(kind: str, **body) -> None:
        clock[0] += timedelta(minutes=1)
        events.append({"type": kind, "eventID": f"urn:uuid:{uuid.UUID(int=rng.getrandbits(128))}",
                       "eventTime": clock[0].isoformat().replace("+00:00", "Z"), "eventTimeZoneOffset": CHINA_OFFSET,
                       **body})

    def ship(objects: list[dict], src: str, dst: str, n: int) -> None:
        bt = [{"type": "desadv", "bizTransaction": f"urn:epcglobal:cbv:bt:{src}:DN{tag}{n:05d}"}]
        ends = {"sourceList": [{"type": "owning_party", "source": f"{DL}/417/{src}"}],
                "destinationList": [{"type": "owning_party", "destination": f"{DL}/417/{dst}"}]}
        event("ObjectEvent", action="OBSERVE", bizStep="shipping", disposition="in_transit",
              readPoint={"id": f"{DL}/414/{src}"}, bizTransactionList=bt, quantityList=objects, **ends)
        event("ObjectEvent", action="OBSERVE", bizStep="receiving", disposition="in_progress",
              readPoint={"id": f"{DL}/414/{dst}"}, bizLocation={"id": f"{DL}/414/{dst}"}, bizTransactionList=bt,
              quantityList=objects, **ends)

    farm_lot, mill_lot = f"{DL}/01/{paddy}/10/P{tag}", f"{DL}/01/{milled}/10/M{tag}"
    total = 20.0 * lots
    event("ObjectEvent", action="ADD", bizStep="harvesting", disposition="active", readPoint={"id": f"{DL}/414/{farm}"},
          bizLocation={"id": f"{DL}/414/{farm}"},
          quantityList=[{"epcClass": farm_lot, "quantity": total * 1.25, "uom": "KGM"}])
    ship([{"epcClass": farm_lot, "quantity": total * 1.25, "uom": "KGM"}], farm, mill, 0)
    event("TransformationEvent", bizStep="commissioning", disposition="active", readPoint={"id": f"{DL}/414/{mill}"},
          bizLocation={"id": f"{DL}/414/{mill}"},
          inputQuantityList=[{"epcClass": farm_lot, "quantity": total * 1.25, "uom": "KGM"}],
          outputQuantityList=[{"epcClass": mill_lot, "quantity": total, "uom": "KGM"}])
    bags = [f"{DL}/01/{bag}/10/B{tag}{i:05d}" for i in range(lots)]
    for start in range(0, lots, 1000):  # one packing run per thousand bags
        chunk = bags[start:start + 1000]
        event("TransformationEvent", bizStep="commissioning", disposition="active",
              readPoint={"id": f"{DL}/414/{mill}"}, bizLocation={"id": f"{DL}/414/{mill}"},
              inputQuantityList=[{"epcClass": mill_lot, "quantity": 20.0 * len(chunk), "uom": "KGM"}],
              outputQuantityList=[{"epcClass": b, "quantity": 20.0, "uom": "KGM"} for b in chunk])
    share = -(-lots // retailers)
    for n, shop in enumerate(shops, start=1):
        chunk = bags[(n - 1) * share:n * share]
        if chunk:
            ship([{"epcClass": b, "quantity": 20.0, "uom": "KGM"} for b in chunk], mill, shop, n)
    return lot_key(paddy, f"P{tag}"), events


def build_wide(graph, lots: int, retailers: int, rng: random.Random | None = None) -> tuple[str, float, int]:
    """Capture a wide network through graph/bulk.py (the capture write path).

    Returns:
        (the farm lot's key, capture seconds, events captured).
    """
    farm_lot, events = wide_network(lots, retailers, rng)
    t0 = time.perf_counter()
    for start in range(0, len(events), 100):
        doc = {"@context": ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"], "type": "EPCISDocument",
               "schemaVersion": "2.0", "creationDate": "2026-10-01T00:00:00Z",
               "epcisBody": {"eventList": events[start:start + 100]}}
        job = bulk.capture_events(graph, doc)
        if job.errors:
            raise RuntimeError(f"wide network capture failed: {job.errors}")
    return farm_lot, time.perf_counter() - t0, len(events)


def wide_recall(client, headers: dict, farm_lot: str) -> dict:
    """Recall one farm lot through the API and download the case's XLSX, timing each step."""
    _, gtin, lot = farm_lot.split(":", 2)
    t0 = time.perf_counter()
    response = client.post("/api/v1/recalls", headers=headers,
                           json={"lots": [{"gtin": gtin, "lot": lot}], "level": 1, "reason": "benchmark: wide recall"})
    t1 = time.perf_counter()
    if response.status_code != 201:
        raise RuntimeError(f"recall -> {response.status_code} {response.get_data(as_text=True)[:300]}")
    case = json.loads(response.get_data())  # as a client parses it (the app's own parser is the strict one)
    sheet = client.get(f"/api/v1/recalls/{case['recall_id']}/export?format=xlsx", headers=headers)
    t2 = time.perf_counter()
    if sheet.status_code != 200:
        raise RuntimeError(f"export -> {sheet.status_code} {sheet.get_data(as_text=True)[:300]}")
    return {"open": t1 - t0, "export": t2 - t1, "total": t2 - t0, "affected": len(case["affected"]),
            "holders": len(case["holders"]), "xlsx_bytes": len(sheet.get_data()), "recall_id": case["recall_id"]}


def recall_figures(app, graph, lots: int = 10_000, retailers: int = 200, runs: int = 3,
                   log=print) -> list[benchlib.Figure]:
    """Build a fresh wide network per run, recall its farm lot through the API and download the spreadsheet.

    The first recall of that size after Neo4j starts runs on code the JVM has not compiled yet (every statement 2-4x
    slower: 1.6-2.6 s against 0.9 s); a full-size warm-up recall comes first, and its time is in the note: the
    figure is a running service's.
    """
    token = tokens.create(graph, "regulator", None, "bench_trace")
    headers = {"Authorization": f"Bearer {token['token']}"}
    client = app.test_client()
    try:
        warm, _, _ = build_wide(graph, lots, retailers)
        first = wide_recall(client, headers, warm)
        log(f"wide recall, warm-up (first of its size): open {first['open']:.2f} s + XLSX {first['export']:.2f} s")
        results = []
        for _ in range(runs):
            farm_lot, built, n = build_wide(graph, lots, retailers)
            log(f"wide network: {n} events, {lots:,} bag lots, {retailers} retailers captured in {built:.1f} s")
            r = wide_recall(client, headers, farm_lot)
            log(f"wide recall: open {r['open']:.2f} s + XLSX {r['export']:.2f} s, {r['affected']:,} affected, "
                f"{r['holders']} holders, load {benchlib.load_average()}")
            results.append(r)
    finally:
        tokens.revoke(graph, token["token_id"])
    last = results[-1]
    note = (f"1 farm lot -> {last['affected']:,} affected objects, {last['holders']} holders; open "
            + ", ".join(f"{r['open']:.2f}" for r in results) + " s + XLSX "
            + ", ".join(f"{r['export']:.2f}" for r in results) + f" s; the warm-up before, the first of its size: "
            f"{first['total']:.2f} s; load {benchlib.load_average()}")
    return [benchlib.Figure("recall of a farm lot with spreadsheet (wide, API)", "s", [r["total"] for r in results],
                            note, False)]


def measure(app, graph, samples: int = 200, forward: int = 20, recall_target: int = 10_000, epcis: int = 20,
            runs: int = 3, log=print, retailers: int = 200) -> list[benchlib.Figure]:
    """Back and forward traces, a wide recall with its spreadsheet, and the EPCIS way, as Figures."""
    out: list[benchlib.Figure] = []
    retail = start_samples.sample_starts(graph, "retail", samples)
    if len(retail) < samples:
        retail += start_samples.sample_starts(graph, "retail_lot", samples - len(retail))
    origins = start_samples.sample_starts(graph, "origin", max(forward, 50))
    if not retail or not origins:
        log("nothing to trace: load a network first")
        return out
    for key in retail[:20] + origins[:5]:  # warm the page cache and the query plans
        trace.trace(graph, key, "back")
        trace.trace(graph, key, "forward")
    back_runs, ours = [], {}
    for _ in range(runs):
        times = []
        for key in retail:
            t0 = time.perf_counter()
            answer = trace.trace(graph, key, "back")
            times.append(time.perf_counter() - t0)
            ours[key] = {n["id"] for n in answer["nodes"]}
        back_runs.append(times)
    sizes = [len(ours[k]) for k in retail]
    out += benchlib.latency_figures("trace back from a retail pack", back_runs,
                                    f"{len(retail)} packs a run, upstream nodes median "
                                    f"{statistics.median(sizes):.0f} max {max(sizes)}; load {benchlib.load_average()}")
    fwd_runs, fwd_sizes = [], []
    for _ in range(runs):
        times = []
        for key in origins[:forward]:
            t0 = time.perf_counter()
            answer = trace.trace(graph, key, "forward")
            times.append(time.perf_counter() - t0)
            fwd_sizes.append(len(answer["nodes"]))
        fwd_runs.append(times)
    out += benchlib.latency_figures("trace forward from an origin lot", fwd_runs,
                                    f"{forward} origin lots a run, downstream nodes median "
                                    f"{statistics.median(fwd_sizes):.0f} max {max(fwd_sizes)}")
    if recall_target:
        out += recall_figures(app, graph, recall_target, retailers, runs, log)
    if epcis:
        token = tokens.create(graph, "admin", None, "bench_trace")
        headers = {"Authorization": f"Bearer {token['token']}"}
        client = app.test_client()
        epcis_times, requests, agree = [], [], 0
        sample = retail[:epcis]
        for key in sample:
            t0 = time.perf_counter()
            found, n = epcis_back_trace(client, headers, key)
            epcis_times.append(time.perf_counter() - t0)
            requests.append(n)
            agree += found == ours[key]
        tokens.revoke(graph, token["token_id"])
        one = [statistics.median(r[i] for r in back_runs) for i in range(len(sample))]
        ratio = [e / o for e, o in zip(epcis_times, one, strict=True) if o > 0]
        out += benchlib.latency_figures("trace back the EPCIS way (/epcis/events per generation)", [epcis_times],
                                        f"{len(sample)} packs, requests median {statistics.median(requests):.0f} "
                                        f"max {max(requests)}; same upstream set in {agree}/{len(sample)}")
        out.append(benchlib.Figure("EPCIS way / one traversal (per pack, median)", "x",
                                   [statistics.median(ratio)], f"min {min(ratio):.1f}x, max {max(ratio):.1f}x"))
    return out


def bench(ctx) -> list[benchlib.Figure]:
    """scripts/bench.py plug-in: traces, a wide recall with its spreadsheet (writes!) and the EPCIS way."""
    app = create_app({"NEO4J_URI": ctx.neo4j_uri, "MIGRATE_ON_START": False, "TESTING": True,
                      "RATELIMIT_ENABLED": False})
    try:
        return measure(app, app.extensions["graph"], runs=max(1, min(ctx.runs, 5)))
    finally:
        app.extensions["graph"].close()


def main() -> int:
    """Run the benchmark and print its figures."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--uri", default=os.environ.get("NEO4J_URI", "bolt://127.0.0.1:7687"))
    ap.add_argument("--user", default=os.environ.get("NEO4J_USER", "neo4j"))
    ap.add_argument("--password", default=os.environ.get("NEO4J_PASSWORD", ""))
    ap.add_argument("--database", default=os.environ.get("NEO4J_DATABASE", "neo4j"))
    ap.add_argument("--samples", type=int, default=200, help="back traces from retail packs")
    ap.add_argument("--forward", type=int, default=20, help="forward traces from origin lots")
    ap.add_argument("--recall-target", type=int, default=10_000,
                    help="bag lots the recalled farm lot fans out to (0 skips it; it WRITES)")
    ap.add_argument("--retailers", type=int, default=200, help="retailers the bag lots are shipped to")
    ap.add_argument("--epcis", type=int, default=20, help="back traces done the EPCIS way")
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()

    app = create_app({"NEO4J_URI": args.uri, "NEO4J_USER": args.user, "NEO4J_PASSWORD": args.password,
                      "NEO4J_DATABASE": args.database, "MIGRATE_ON_START": False, "TESTING": True,
                      "RATELIMIT_ENABLED": False})
    graph = app.extensions["graph"]
    print(f"graph {args.uri} (Neo4j {graph.server_version()})")
    for f in measure(app, graph, args.samples, args.forward, args.recall_target, args.epcis, args.runs,
                     retailers=args.retailers):
        print(f.line())
    graph.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
