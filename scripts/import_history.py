#!/usr/bin/env python3
"""Initial load of history into an EMPTY store with Neo4j's bulk importer (docs/loading.md).

    .venv/bin/python scripts/import_history.py --home /srv/tracegraph-neo4j --scale M [--seed 42] [--port 7711]
    .venv/bin/python scripts/import_history.py --home /srv/tracegraph-neo4j --from /tmp/jilin-M   # generate.py output

Four steps, each with its progress: (1) the events run through graph/events.py's capture against an in-memory store
and become importer CSV files (graph/history_import.py; with --scale, one process per chain, --parts); (2)
`neo4j-admin database import full` writes the store under HOME/data; (3) a server is started on that home
(scripts/neo4jctl.py) and the migrations build the constraints and indexes; (4) the cold-chain alerts step 1 found
(judged as capture judges them) are raised through the ordinary code (graph/cold_chain.py). The server is stopped
at the end (--keep-running leaves it up); start it as usual with NEO4J_HOME_DIR=HOME.

Refuses a home that already holds a store (--overwrite replaces it) or a running server. For a store that already
holds data, load through the write path (scripts/gen/load.py, `flask epcis import`).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Collection, Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from graph.driver import Graph  # noqa: E402
from graph.history_import import Prepared, finish_online, importer_command, prepare, prepare_parallel  # noqa: E402
from graph.migrate import migrate  # noqa: E402
from scripts.gen.network import CHAINS, Network, document  # noqa: E402
from scripts.gen.world import SCALES  # noqa: E402

CLASSPATH = REPO / "scripts" / "neo4j" / "target" / "neo4j.classpath"


def say(message: str) -> None:
    print(f"import: {message}", flush=True)


def from_folder(folder: Path) -> tuple[dict, Iterator[tuple[dict, list[dict]]]]:
    """Master data and (document, inspections) from scripts/generate.py's output; inspections come last."""
    master = json.loads((folder / "master.json").read_text(encoding="utf-8"))

    def docs() -> Iterator[tuple[dict, list[dict]]]:
        for path in sorted((folder / "events").iterdir()):
            opener = gzip.open if path.suffix == ".gz" else open
            with opener(path, "rt", encoding="utf-8") as f:
                yield json.load(f), []
        inspections = folder / "inspections.jsonl"
        if inspections.exists():
            with inspections.open(encoding="utf-8") as f:
                rows = [json.loads(line) for line in f if line.strip()]
            for i in range(0, len(rows), 5000):
                yield {"epcisBody": {"eventList": []}}, rows[i:i + 5000]

    return master, docs()


def from_network(net: Network, batch: int, chains: Collection[str] = CHAINS) -> Iterator[tuple[dict, list[dict]]]:
    """The generated network (of ``chains``) in load_bulk's batches (the same batches make the same capture jobs)."""
    for events, inspections in net.batches(batch, chains):
        yield (document(events) if events else {"epcisBody": {"eventList": []}}), inspections


def chain_groups(parts: int) -> list[tuple[str, ...]]:
    """The network's chains in ``parts`` groups of about equal work (rice is ~46% of the events, ginseng ~24%, beef
    ~30%): 1 -> all three, 2 -> rice | ginseng and beef, 3 -> one each."""
    return {1: [CHAINS], 2: [("rice",), ("ginseng", "beef")]}.get(parts, [(c,) for c in CHAINS])


def neo4jctl(command: str, home: Path, port: int, heap: str, pagecache: str) -> None:
    env = {**os.environ, "NEO4J_HOME_DIR": str(home), "NEO4J_BOLT_PORT": str(port), "NEO4J_HEAP": heap,
           "NEO4J_PAGECACHE_MB": pagecache}
    env.pop("NEO4J_URI", None)
    subprocess.run([sys.executable, str(REPO / "scripts" / "neo4jctl.py"), command], env=env, check=True)


def run_importer(prepared: Prepared, home: Path) -> None:
    """`neo4j-admin database import full` from the project's Neo4j jars, into HOME/data/databases/neo4j."""
    if not CLASSPATH.is_file():
        raise SystemExit("import: the Neo4j jars are not resolved yet: run `python scripts/neo4jctl.py start` once")
    conf = home / "conf"
    conf.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "NEO4J_HOME": str(home), "NEO4J_CONF": str(conf)}
    cmd = ["java", "-Xmx1g", "-cp", CLASSPATH.read_text().strip(), "org.neo4j.cli.AdminTool",
           *importer_command(prepared)]
    subprocess.run(cmd, env=env, check=True)


def size_of(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--scale", choices=list(SCALES), help="generate the network in-process")
    source.add_argument("--from", dest="folder", type=Path, help="scripts/generate.py output to import")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--namespace", type=int, default=0)
    parser.add_argument("--batch", type=int, default=5000, help="events per capture job (as load_bulk)")
    parser.add_argument("--parts", type=int, choices=(1, 2, 3), default=3 if (os.cpu_count() or 1) > 1 else 1,
                        help="--scale: build the CSV files of the chains in this many processes at once (default "
                             "3, one per chain, with 2 cores or more: on 2 cores two parts of 46%% and 54%% of "
                             "the events leave one core idle at the end; at M the CSV stage took 138 s in 2 "
                             "parts and 107 s in 3)")
    parser.add_argument("--home", type=Path, required=True, help="the new server's NEO4J_HOME_DIR")
    parser.add_argument("--port", type=int, default=7711, help="Bolt port of the server started for step 3-4")
    parser.add_argument("--heap", default="2g")
    parser.add_argument("--pagecache-mb", default="2048")
    parser.add_argument("--csv", type=Path, help="where the CSV files go (default HOME/import-csv, removed after)")
    parser.add_argument("--keep-csv", action="store_true")
    parser.add_argument("--overwrite", action="store_true", help="replace a store already under HOME")
    parser.add_argument("--keep-running", action="store_true", help="leave the server running at the end")
    args = parser.parse_args(argv)

    home = args.home.resolve()
    store = home / "data" / "databases" / "neo4j"
    if (home / "neo4j.pid").exists():
        pid = (home / "neo4j.pid").read_text().strip()
        if pid and Path(f"/proc/{pid}").exists():
            raise SystemExit(f"import: a server (pid {pid}) runs on {home}: stop it first")
    if store.exists() and not args.overwrite:
        raise SystemExit(f"import: {store} already holds a store; --overwrite replaces it (its data is lost)")
    if args.overwrite:
        shutil.rmtree(home / "data", ignore_errors=True)
    csv = (args.csv or home / "import-csv").resolve()
    shutil.rmtree(csv, ignore_errors=True)

    started = time.perf_counter()
    parts = args.parts if args.scale else 1
    if args.scale:
        net = Network(args.scale, args.seed, args.namespace)
        master = net.master()
        groups = chain_groups(parts)
        sources = [lambda group=group: from_network(net.again(), args.batch, group) for group in groups]
        say(f"step 1/4: scale {args.scale}, seed {args.seed}: events -> CSV through the capture rules ({csv}), "
            f"in {parts} process{'es' if parts > 1 else ''}: {' | '.join(', '.join(g) for g in groups)}")
    else:
        master, batches = from_folder(args.folder)
        sources = [lambda: batches]
        say(f"step 1/4: {args.folder}: events -> CSV through the capture rules ({csv})")
    last = [0.0]

    def progress(p: Prepared) -> None:
        if p.seconds - last[0] >= 5:
            last[0] = p.seconds
            say(f"  {p.events:,} events in {p.documents:,} documents, {p.events / p.seconds:,.0f} events/s, "
                f"{p.warnings:,} warnings")

    if parts > 1:
        prepared = prepare_parallel(master, sources, csv, progress)
    else:
        prepared = prepare(master, sources[0](), csv, progress)
    if prepared.errors:
        say(f"capture refused {len(prepared.errors)} events, e.g. {prepared.errors[:3]}: nothing imported")
        return 1
    t_csv = time.perf_counter() - started
    say(f"  {prepared.events:,} events -> {prepared.nodes:,} nodes, {prepared.rels:,} relationships in {t_csv:.0f} s "
        f"({prepared.events / t_csv:,.0f} events/s), {prepared.warnings:,} capture warnings, "
        f"{size_of(csv) / 2**20:,.0f} MiB of CSV")

    say("step 2/4: neo4j-admin database import full")
    t0 = time.perf_counter()
    run_importer(prepared, home)
    t_import = time.perf_counter() - t0
    if not args.keep_csv:
        shutil.rmtree(csv, ignore_errors=True)

    say(f"step 3/4: start the server on {home} (port {args.port}) and migrate (constraints, indexes)")
    t0 = time.perf_counter()
    neo4jctl("start", home, args.port, args.heap, args.pagecache_mb)
    graph = Graph(f"bolt://127.0.0.1:{args.port}")
    try:
        applied = migrate(graph)
        t_migrate = time.perf_counter() - t0
        say(f"  {len(applied)} migrations in {t_migrate:.0f} s")
        say(f"step 4/4: the cold-chain alerts of {len(prepared.alerts):,} documents")
        t0 = time.perf_counter()
        online = finish_online(graph, prepared)
        t_online = time.perf_counter() - t0
    finally:
        graph.close()
        if not args.keep_running:
            neo4jctl("stop", home, args.port, args.heap, args.pagecache_mb)
    total = time.perf_counter() - started
    say(f"done: {prepared.events:,} events in {total / 60:.1f} min ({prepared.events / total:,.0f} events/s): "
        f"CSV {t_csv:.0f} s, importer {t_import:.0f} s, migrations {t_migrate:.0f} s, "
        f"alerts {t_online:.0f} s ({online:,} alerts); {prepared.inspections:,} inspections; "
        f"store {size_of(home / 'data') / 2**30:.2f} GiB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
