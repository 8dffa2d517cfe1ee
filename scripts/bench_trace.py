#!/usr/bin/env python3
"""Benchmark trace and recall on a loaded graph, against the standard EPCIS way of tracing.

    .venv/bin/python scripts/bench_trace.py --uri bolt://127.0.0.1:7687 [--samples 200] [--recalls 1]

Start objects are sampled from the database: retail packs (items, else lots nothing was made from) for back traces,
origin lots (farm lots that fed a transformation) for forward traces and recalls. Printed figures:
- trace back from retail packs: p50/p99 of the one-traversal trace (graph/trace.py, one round trip each);
- forward trace from origin lots: p50/p99 and the downstream size;
- recall of an origin lot: opening the case (closure, statuses, recalled events, holders) plus its XLSX
  spreadsheet. This WRITES to the database (the lot and everything made from it become `recalled`); --recalls 0
  skips it;
- the EPCIS way: the same back traces as an EPCIS 2.0 client must do them, one GET /epcis/events query per
  generation (MATCH_anyEPC for instances, MATCH_epcClass for lots, every page followed), and the ratio.
The EPCIS client runs in-process through Flask's test client: no network in the way, so the ratio is conservative.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from app import create_app, exports  # noqa: E402
from graph import exports as kde  # noqa: E402
from graph import recalls, tokens, trace  # noqa: E402
from gs1.errors import InvalidIdentifier  # noqa: E402
from gs1.identifiers import Ref, parse_identifier  # noqa: E402

DL = "https://id.gs1.org"


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0..1) of the values, nearest-rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(q * len(ordered) + 0.5)) - 1))]


def ms(seconds: float) -> str:
    """Seconds as milliseconds text."""
    return f"{seconds * 1000:.1f} ms"


def uri_of(key: str) -> str:
    """The Digital Link URI of a business key (lot, item, sscc)."""
    kind, _, rest = key.partition(":")
    if kind == "lot":
        gtin, _, lot = rest.partition(":")
        return f"{DL}/01/{gtin}/10/{lot}"
    if kind == "item":
        gtin, _, serial = rest.partition(":")
        return f"{DL}/01/{gtin}/21/{serial}"
    return f"{DL}/00/{rest}"


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
        instances = [uri_of(k) for k in frontier if not k.startswith("lot:")]
        classes = [uri_of(k) for k in frontier if k.startswith("lot:")]
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
                body = response.get_json()
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
                    nxt.add(f"lot:{ref.gtin}:{ref.lot}")
        frontier = nxt - seen
        seen |= frontier
    return seen, requests


def main() -> int:
    """Run the benchmark and print its figures."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--uri", default=os.environ.get("NEO4J_URI", "bolt://127.0.0.1:7687"))
    ap.add_argument("--user", default=os.environ.get("NEO4J_USER", "neo4j"))
    ap.add_argument("--password", default=os.environ.get("NEO4J_PASSWORD", ""))
    ap.add_argument("--database", default=os.environ.get("NEO4J_DATABASE", "neo4j"))
    ap.add_argument("--samples", type=int, default=200, help="back traces from retail packs")
    ap.add_argument("--forward", type=int, default=20, help="forward traces from origin lots")
    ap.add_argument("--recalls", type=int, default=1, help="recalls to open (writes!)")
    ap.add_argument("--epcis", type=int, default=20, help="back traces done the EPCIS way")
    args = ap.parse_args()

    app = create_app({"NEO4J_URI": args.uri, "NEO4J_USER": args.user, "NEO4J_PASSWORD": args.password,
                      "NEO4J_DATABASE": args.database, "MIGRATE_ON_START": False, "TESTING": True,
                      "RATELIMIT_ENABLED": False})
    graph = app.extensions["graph"]
    print(f"graph {args.uri} (Neo4j {graph.server_version()})")

    retail = trace.sample_starts(graph, "retail", args.samples)
    if len(retail) < args.samples:
        retail += trace.sample_starts(graph, "retail_lot", args.samples - len(retail))
    origins = trace.sample_starts(graph, "origin", max(args.forward, args.recalls))
    print(f"sampled {len(retail)} retail packs, {len(origins)} origin lots")
    if not retail or not origins:
        print("nothing to trace: load a network first (scripts/generate.py)")
        return 1

    trace.trace(graph, retail[0], "back")  # warm the page cache and the query plan
    back_times, back_sizes, ours = [], [], {}
    for key in retail:
        t0 = time.perf_counter()
        answer = trace.trace(graph, key, "back")
        back_times.append(time.perf_counter() - t0)
        back_sizes.append(len(answer["nodes"]))
        ours[key] = {n["id"] for n in answer["nodes"]}
    print(f"trace back from retail packs: n={len(back_times)} p50 {ms(pct(back_times, .5))} "
          f"p99 {ms(pct(back_times, .99))} max {ms(max(back_times))}; nodes p50 {statistics.median(back_sizes):.0f} "
          f"max {max(back_sizes)}")

    fwd_times, fwd_sizes = [], []
    for key in origins[: args.forward]:
        t0 = time.perf_counter()
        answer = trace.trace(graph, key, "forward")
        fwd_times.append(time.perf_counter() - t0)
        fwd_sizes.append(len(answer["nodes"]))
    print(f"trace forward from origin lots: n={len(fwd_times)} p50 {ms(pct(fwd_times, .5))} "
          f"p99 {ms(pct(fwd_times, .99))}; downstream nodes p50 {statistics.median(fwd_sizes):.0f} "
          f"max {max(fwd_sizes)}")

    if args.recalls:
        # the widest origin lots make the hardest recalls
        widest = sorted(zip(fwd_sizes, origins, strict=False), reverse=True)[: args.recalls]
        for size, key in widest:
            t0 = time.perf_counter()
            case = recalls.open_case(graph, [key], 1, "benchmark")
            t1 = time.perf_counter()
            rows = kde.kde_rows(graph, keys=[a["key"] for a in case["affected"]])
            sheet = exports.to_xlsx(rows, case["recall_id"])
            t2 = time.perf_counter()
            print(f"recall {case['recall_id']} of {key}: {len(case['affected'])} affected objects "
                  f"(forward trace saw {size}), {len(case['holders'])} holders; open {ms(t1 - t0)}, "
                  f"spreadsheet {len(rows)} rows {len(sheet) // 1024} KiB {ms(t2 - t1)}, total {ms(t2 - t0)}")

    if args.epcis:
        token = tokens.create(graph, "admin", None, "bench_trace")
        headers = {"Authorization": f"Bearer {token['token']}"}
        client = app.test_client()
        epcis_times, requests, agree = [], [], 0
        sample = retail[: args.epcis]
        for key in sample:
            t0 = time.perf_counter()
            found, n = epcis_back_trace(client, headers, key)
            epcis_times.append(time.perf_counter() - t0)
            requests.append(n)
            agree += found == ours[key]
        tokens.revoke(graph, token["token_id"])
        ours_p50 = pct(back_times[: len(sample)], .5)
        print(f"trace back the EPCIS way: n={len(sample)} p50 {ms(pct(epcis_times, .5))} "
              f"p99 {ms(pct(epcis_times, .99))}; requests p50 {statistics.median(requests):.0f} max {max(requests)}; "
              f"same upstream set as the traversal in {agree}/{len(sample)}")
        print(f"one traversal is {pct(epcis_times, .5) / ours_p50:.1f}x faster (p50) and "
              f"{pct(epcis_times, .99) / pct(back_times[: len(sample)], .99):.1f}x (p99)")
    graph.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
