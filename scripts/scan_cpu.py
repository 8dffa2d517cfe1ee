"""CPU per consumer page: what the app and Neo4j spend on each page, measured so the machine's load hardly matters.

Wall-clock figures (pages/s, percentiles) move with whatever else runs on the box; the CPU time the processes
themselves use per page does not, much. Two ways, both used by `scripts/bench_scan.py --cpu` and `--profile`:

- Served: utime+stime of the gunicorn processes (master and workers: every pid holding the server's listening
  socket) and of the Neo4j JVM (the pid holding the Bolt port), from /proc/<pid>/stat, before and after a closed
  loop of real pages; divided by the pages answered. The load generator's own CPU is not counted. Scans are written
  by each worker's background writer, so the loop ends with a pause of two flush intervals before the last reading:
  the writes of the measured pages are counted, with Neo4j's idle work over the pause (printed separately).
- In-process: the app (create_app, the bench server's configuration) under cProfile with the Flask test client;
  the functions by own time (tottime), to see where the app's part goes.
"""

from __future__ import annotations

import cProfile
import io
import os
import pstats
import random
import statistics
import time
from pathlib import Path
from urllib.parse import urlsplit

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """CPU seconds (user + system, every thread) a process has used; 0.0 when it is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = text.rsplit(")", 1)[1].split()  # the command name may hold spaces and parentheses
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (fields 14 and 15 of proc(5))


def listeners(port: int) -> list[int]:
    """The pids holding a listening TCP socket on ``port`` (gunicorn: the master and each worker share it)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            if cols[3] == "0A" and int(cols[1].rsplit(":", 1)[1], 16) == port:  # 0A: LISTEN
                inodes.add(f"socket:[{cols[9]}]")
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if any(os.readlink(fd) in inodes for fd in (proc / "fd").iterdir()):
                pids.append(int(proc.name))
        except OSError:
            continue
    return sorted(pids)


def snapshot(pids: list[int]) -> float:
    """Summed CPU seconds of ``pids``."""
    return sum(cpu_seconds(p) for p in pids)


def measure_served(url: str, neo4j_uri: str, paths: list[str], load, runs: int, seconds: float, connections: int,
                   flush_pause: float = 1.0) -> list[dict]:
    """Closed-loop runs against a served app; each run's app and Neo4j CPU ms per page.

    Args:
        url: the server (its port names the gunicorn processes).
        neo4j_uri: the Neo4j it reads (its port names the JVM).
        paths: resolver paths to request.
        load: ``run_load(url, paths, connections, seconds)`` of bench_scan, returning pages and rate.
        runs: measured runs.
        seconds: length of each run.
        connections: closed-loop connections.
        flush_pause: seconds waited after the load so the scan writers flush what the run queued.
    """
    app_pids = listeners(urlsplit(url).port or 80)
    db_pids = listeners(urlsplit(neo4j_uri).port or 7687)
    if not app_pids or not db_pids:
        raise SystemExit(f"cannot see the processes: app {app_pids}, neo4j {db_pids} (run as their user)")
    out = []
    for _ in range(runs):
        idle0, t0 = snapshot(db_pids), time.monotonic()
        time.sleep(1.0)
        idle = (snapshot(db_pids) - idle0) / (time.monotonic() - t0)  # Neo4j's own work with no pages
        a0, d0 = snapshot(app_pids), snapshot(db_pids)
        r = load(url, paths, connections, seconds)
        time.sleep(flush_pause)
        a1, d1 = snapshot(app_pids), snapshot(db_pids)
        pages = max(1, r["pages"])
        out.append({"pages": r["pages"], "rate": r["rate"], "errors": r["errors"],
                    "app_ms": (a1 - a0) * 1000 / pages, "neo4j_ms": (d1 - d0) * 1000 / pages,
                    "neo4j_idle_ms_per_s": idle * 1000, "generator": r["generator"]})
    return out


def print_served(results: list[dict], label: str) -> None:
    """Print each run's CPU per page and the medians."""
    print(f"CPU per page ({label}), from /proc/<pid>/stat utime+stime; generator not counted")
    for r in results:
        print(f"  run: {r['pages']} pages at {r['rate']:.0f}/s ({r['generator']})  app {r['app_ms']:.2f} ms/page  "
              f"neo4j {r['neo4j_ms']:.2f} ms/page  (neo4j idle {r['neo4j_idle_ms_per_s']:.0f} ms/s)  "
              f"errors {r['errors'] or 'none'}")
    app_ms = statistics.median(r["app_ms"] for r in results)
    db_ms = statistics.median(r["neo4j_ms"] for r in results)
    print(f"  median: app {app_ms:.2f} ms/page, neo4j {db_ms:.2f} ms/page, together {app_ms + db_ms:.2f} ms/page "
          f"(2 cores: at most {2000 / (app_ms + db_ms):.0f} pages/s if nothing else ran)")


def profile_in_process(neo4j_uri: str, paths: list[str], pages: int, accept: str, top: int = 30,
                       limits: bool = False) -> None:
    """Serve ``pages`` random pages with the Flask test client under cProfile; print CPU per page and the top
    functions by own time. The app is configured as the bench's gunicorn (served cache, limits off unless asked)."""
    from app import create_app

    config = {"NEO4J_URI": neo4j_uri, "MIGRATE_ON_START": False, "RATELIMIT_ENABLED": limits}
    if limits:
        config["RATELIMIT_RESOLVER"] = "100000000/minute"  # counted as served, never refused
    app = create_app(config)
    client = app.test_client()
    rng = random.Random(1)
    headers = [{"Accept": accept, "User-Agent": f"bench-phone-{n}"} for n in range(16)]
    for path in paths:  # warm: templates compiled, plans cached, connections open, page cache filled
        client.get(path, headers=headers[0])
    picks = [(rng.choice(paths), rng.choice(headers)) for _ in range(pages)]
    profiler = cProfile.Profile()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    profiler.enable()
    for path, h in picks:
        client.get(path, headers=h)
    profiler.disable()
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    app.extensions["scan_buffer"].close()
    app.extensions["graph"].close()
    print(f"in-process: {pages} pages, app CPU {cpu * 1000 / pages:.2f} ms/page under cProfile (its overhead "
          f"included), wall {wall * 1000 / pages:.2f} ms/page; limits {'on' if limits else 'off'}")
    buf = io.StringIO()
    pstats.Stats(profiler, stream=buf).sort_stats("tottime").print_stats(top)
    print(buf.getvalue())
