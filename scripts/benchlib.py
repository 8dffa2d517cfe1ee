"""Shared helpers for the benchmark scripts: timing, percentiles, spread, machine facts, docs/benchmarks.md rows.

A benchmark script plugs into scripts/bench.py by exposing ``bench(ctx: Context) -> list[Figure]``; it may also
run alone. Every Figure keeps its raw samples: the report shows the median of the runs and how far they spread.
"""

from __future__ import annotations

import math
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
BENCHMARKS_MD = REPO / "docs" / "benchmarks.md"


def percentile(values: Iterable[float], p: float) -> float:
    """Return the p-th percentile (0-100) by linear interpolation between closest ranks (numpy's default)."""
    data = sorted(values)
    if not data:
        return math.nan
    k = (len(data) - 1) * p / 100
    lo, hi = math.floor(k), math.ceil(k)
    return data[lo] + (data[hi] - data[lo]) * (k - lo)


def spread(values: list[float]) -> float:
    """Return how noisy runs were: (max - min) / median, as a fraction (0.05 = the runs lie within 5%)."""
    if len(values) < 2:
        return 0.0
    mid = statistics.median(values)
    return (max(values) - min(values)) / mid if mid else math.inf


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    """Run ``fn`` once; return (seconds, its result)."""
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def repeat(fn: Callable[[], Any], runs: int = 5, warmup: int = 1) -> list[float]:
    """Run ``fn`` warmup + runs times; return the seconds of the measured runs."""
    for _ in range(warmup):
        fn()
    return [timed(fn)[0] for _ in range(runs)]


def latencies(fn: Callable[[Any], Any], args: Iterable[Any]) -> list[float]:
    """Call ``fn(arg)`` for each arg in turn; return each call's seconds."""
    out = []
    for arg in args:
        start = time.perf_counter()
        fn(arg)
        out.append(time.perf_counter() - start)
    return out


@dataclass
class Figure:
    """One reported figure: the per-run values (a rate, a time or a size), the median of which is reported."""

    name: str
    unit: str
    runs: list[float]
    note: str = ""
    higher_is_better: bool = True

    @property
    def median(self) -> float:
        """The median of the runs."""
        return statistics.median(self.runs) if self.runs else math.nan

    def line(self) -> str:
        """A console line: name, median, unit, spread."""
        return f"{self.name:46s} {fmt(self.median):>12s} {self.unit:10s} {self._noise():>22s}  {self.note}"

    def _noise(self) -> str:
        if len(self.runs) < 2:
            return "1 run"
        return f"±{spread(self.runs) * 50:.1f}% ({len(self.runs)} runs)"

    def row(self) -> str:
        """A markdown table row."""
        runs = ", ".join(fmt(v) for v in self.runs) if len(self.runs) <= 7 else f"{len(self.runs)} runs"
        return f"| {self.name} | {fmt(self.median)} {self.unit} | {self._noise()} | {runs} | {self.note} |"


def rate_figure(name: str, count: int, seconds: list[float], note: str = "") -> Figure:
    """A throughput figure (count per second) from run times."""
    return Figure(name, "/s", [count / s for s in seconds if s > 0], note)


def latency_figures(name: str, per_run: list[list[float]], note: str = "") -> list[Figure]:
    """p50 and p99 in milliseconds, one value per run (each run a list of latencies in seconds)."""
    return [Figure(f"{name} p50", "ms", [percentile(r, 50) * 1000 for r in per_run], note, False),
            Figure(f"{name} p99", "ms", [percentile(r, 99) * 1000 for r in per_run], note, False)]


def fmt(value: float) -> str:
    """Three significant figures, thousands separated."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}" if abs(value) >= 1 else f"{value:.3g}"


# --- the machine, the commit, processes --------------------------------------------------------------------

def cpu_model() -> str:
    """The CPU model name from /proc/cpuinfo (or platform's guess)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def ram_gib() -> float:
    """Physical memory in GiB."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return math.nan


def machine() -> str:
    """One line: cores, RAM, CPU model, OS and Python."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (f"{cores} cores, {ram_gib():.0f} GiB RAM, {cpu_model()}, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}")


def load_average() -> str:
    """The 1/5/15-minute load averages: a busy machine explains noisy figures."""
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def git_commit() -> str:
    """The current commit (short), with +dirty when the tree has changes."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + ("+dirty" if git("status", "--porcelain", "--untracked-files=no") else "")


def peak_rss_mib(pid: int) -> float:
    """Peak resident memory (VmHWM) of a process in MiB, NaN when it cannot be read."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return math.nan


def children(pid: int) -> list[int]:
    """Direct child processes of ``pid`` (gunicorn workers of the arbiter)."""
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(x) for x in text.split()]


# --- the report --------------------------------------------------------------------------------------------

@dataclass
class Report:
    """Figures of one run of the suite, printed and appended to docs/benchmarks.md."""

    title: str
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    commit: str = field(default_factory=git_commit)  # the code that ran: read at the start, not when appending

    def add(self, figures: Figure | Iterable[Figure]) -> None:
        """Add figures and print them at once."""
        for f in [figures] if isinstance(figures, Figure) else figures:
            self.figures.append(f)
            print(f.line(), flush=True)

    def note(self, text: str) -> None:
        """Add a note (a skipped benchmark, a caveat) and print it."""
        self.notes.append(text)
        print(f"note: {text}", flush=True)

    def markdown(self) -> str:
        """The report as a markdown section."""
        lines = [f"### {self.title}", "",
                 f"{self.started:%Y-%m-%d %H:%M} UTC · commit {self.commit} · {machine()} · "
                 f"load average at the end {load_average()}", "",
                 "| figure | median | spread (half-range / median) | runs | note |", "|---|---|---|---|---|"]
        lines += [f.row() for f in self.figures]
        if self.notes:
            lines += [""] + [f"- {n}" for n in self.notes]
        return "\n".join(lines) + "\n"

    def append(self, path: Path = BENCHMARKS_MD) -> None:
        """Append the section under the "Results" heading's end of file (others' sections stay untouched)."""
        text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
        sep = "" if text.endswith("\n\n") else ("\n" if text.endswith("\n") else "\n\n")
        path.write_text(text + sep + self.markdown(), encoding="utf-8")
