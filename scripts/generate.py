#!/usr/bin/env python3
"""Generate a synthetic Jilin traceability network (seeded) as master data + EPCIS 2.0 JSON documents.

    .venv/bin/python scripts/generate.py --scale S --seed 42 --out /tmp/jilin-S [--size 1000] [--gzip] [--validate]

Writes DIR/master.json (parties, products, certificates), DIR/inspections.jsonl, DIR/events/NNNNNN.json
(EPCISDocuments of --size events, in dependency order) and DIR/manifest.json (counts, rates). Scales: XS (smoke),
S (~10k lots), M (~100k lots), L (~1.3M lots, ~5M events); memory stays flat whatever the scale.
In Python: ``from scripts.gen.network import Network``; ``Network("S", 42).documents(1000)``.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.gen.network import Network  # noqa: E402
from scripts.gen.world import SCALES  # noqa: E402


def write(net: Network, out: Path, size: int, compress: bool, validate: bool) -> dict:
    """Write the network's files under ``out`` and return the manifest."""
    events_dir = out / "events"
    events_dir.mkdir(parents=True, exist_ok=True)
    suffix = ".json.gz" if compress else ".json"
    opener = gzip.open if compress else open
    validator = None
    if validate:
        from gs1.schema import validate_document as validator
    started = time.perf_counter()
    (out / "master.json").write_text(json.dumps(net.master(), ensure_ascii=False, indent=1), encoding="utf-8")
    n_docs = 0
    written = 0
    with open(out / "inspections.jsonl", "w", encoding="utf-8") as insp:
        for doc, inspections in net.documents(size):
            n_docs += 1
            if validator is not None:
                problems = validator(doc)
                if problems:
                    raise SystemExit(f"document {n_docs} is not valid EPCIS 2.0: {problems[:3]}")
            data = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            written += len(data)
            with opener(events_dir / f"{n_docs:06d}{suffix}", "wb") as fh:
                fh.write(data)
            for record in inspections:
                insp.write(json.dumps(record, ensure_ascii=False) + "\n")
    seconds = time.perf_counter() - started
    manifest = {**net.summary(), "documents": n_docs, "document_size": size, "json_bytes": written,
                "seconds": round(seconds, 2), "events_per_second": round(net.events / seconds)}
    (out / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return manifest


def main() -> None:
    """Parse the command line and write the files."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scale", choices=list(SCALES), default="S")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--namespace", type=int, default=0, help="0-999: the digits after 69 in every company prefix")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--size", type=int, default=1000, help="events per EPCISDocument")
    parser.add_argument("--gzip", action="store_true", help="write events/*.json.gz")
    parser.add_argument("--validate", action="store_true", help="check every document against the EPCIS schema")
    args = parser.parse_args()
    net = Network(args.scale, args.seed, args.namespace)
    manifest = write(net, args.out, args.size, args.gzip, args.validate)
    print(json.dumps(manifest, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
