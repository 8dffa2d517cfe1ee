#!/usr/bin/env python3
"""Benchmark label rendering on one core: PNG labels/s, a 1,000-label PDF sheet, a 10,000-label print run.

Targets: >= 100 PNG labels/s per core; 1,000-label PDF sheet <= 10 s. Every label has its own
signed serial, so nothing is served from a cache a real print run would not hit.

    .venv/bin/python scripts/bench_labels.py [--png 1000] [--pdf 1000] [--run 10000] [--size 50x30]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from labels.digital_link import build_uri, element_string  # noqa: E402
from labels.fonts import find_cjk_font  # noqa: E402
from labels.render import LabelData, render_pdf_sheet, render_png  # noqa: E402
from labels.serials import make_serial  # noqa: E402

KEY = "bench-secret-key-0123456789abcdef"
GTIN = "06901234567892"


def make_labels(n: int) -> list[LabelData]:
    """Return ``n`` distinct ginseng gift-box labels, as a packing run would print them."""
    production, expiry = date(2024, 9, 1), date(2026, 8, 31)
    out = []
    for i in range(n):
        lot = f"FS2024-{i // 500:04d}"
        serial = make_serial(KEY, GTIN, lot)
        out.append(
            LabelData(
                uri=build_uri("https://id.tracegraph.cn", GTIN, lot, serial, expiry, production),
                element_string=element_string(GTIN, lot, serial, expiry, production),
                name_zh="长白山人参 生晒参 五年根",
                name_en="Changbai Mountain Ginseng, dried, 5-year root",
                lot=lot,
                production_date=production,
                expiry_date=expiry,
                origin="抚松县",
                badges=["green_food", "organic", "gi", "gap"],
                serial=serial,
            )
        )
    return out


def bench(ctx) -> list:
    """scripts/bench.py plug-in: PNG labels/s on one process and a 1,000-label PDF sheet (the 10,000-label run is
    left to running this script alone: about a minute)."""
    from scripts import benchlib

    png = make_labels(200)
    render_png(png[0], "50x30")
    png_runs = benchlib.repeat(lambda: [render_png(lb, "50x30") for lb in png], runs=ctx.runs, warmup=0)
    sheet = make_labels(1000)
    pdf_runs = benchlib.repeat(lambda: render_pdf_sheet(sheet, "50x30"), runs=max(1, ctx.runs // 2), warmup=0)
    load = benchlib.load_average()
    return [benchlib.rate_figure("label PNG 50x30 300 dpi (one process)", len(png), png_runs,
                                 f"200 signed gift-box labels a run; load {load}"),
            benchlib.Figure("label PDF sheet, 1,000 labels", "s", pdf_runs, f"load {load}", False)]


def main() -> None:
    """Run the three measurements and print one line each."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--png", type=int, default=1000, help="PNG labels to render (0 to skip)")
    parser.add_argument("--pdf", type=int, default=1000, help="labels on the PDF sheet (0 to skip)")
    parser.add_argument("--run", type=int, default=10000, help="labels in the long PDF print run (0 to skip)")
    parser.add_argument("--size", default="50x30")
    args = parser.parse_args()

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as the target is stated
    font = find_cjk_font()
    print(f"font: {font.path}  size: {args.size}  cores used: 1")
    render_png(make_labels(1)[0], args.size)  # warm caches: font files, glyph widths, QR data paths

    if args.png:
        labels = make_labels(args.png)
        t = time.perf_counter()
        total = sum(len(render_png(lb, args.size)) for lb in labels)
        dt = time.perf_counter() - t
        rate = args.png / dt
        print(f"PNG  {args.png:6d} labels  {dt:7.2f} s  {rate:7.1f} labels/s  avg {total / args.png / 1024:.1f} KiB")
    for n, name in ((args.pdf, "PDF sheet"), (args.run, "PDF run")):
        if n:
            labels = make_labels(n)
            t = time.perf_counter()
            pdf = render_pdf_sheet(labels, args.size)
            dt = time.perf_counter() - t
            print(f"{name:9s} {n:6d} labels  {dt:7.2f} s  {n / dt:7.1f} labels/s  {len(pdf) / 2**20:.1f} MiB")


if __name__ == "__main__":
    main()
