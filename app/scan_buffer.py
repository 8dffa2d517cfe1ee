"""Scans are recorded without slowing the page: queued in-process, written in batches by a background thread.

The queue is bounded: when Neo4j is slow or down, scans beyond it are dropped and counted rather than letting memory
grow or pages wait. The thread starts on the first scan (so gunicorn workers each get their own, after the fork)
and the queue is flushed at exit.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import hmac
import ipaddress
import logging
import queue
import threading
import time
from collections.abc import Callable

from graph import scan_log
from graph.driver import Graph
from graph.errors import GraphError

log = logging.getLogger(__name__)


# Pure functions of what a client sends: a phone scanning again, or a shop's network, hits the cache (an HMAC and an
# address parse saved per page).
@functools.lru_cache(maxsize=4096)
def fingerprint(secret: str, ip: str, user_agent: str) -> str:
    """Return a client's pseudonymous fingerprint: HMAC-SHA256 of IP and User-Agent, 16 hex digits."""
    msg = b"tracegraph/scan-client/v1\x1d" + ip.encode() + b"\x1d" + user_agent.encode("utf-8", "replace")
    return hmac.new(secret.encode(), msg, hashlib.sha256).hexdigest()[:16]


@functools.lru_cache(maxsize=4096)
def network(secret: str, ip: str) -> str:
    """Return the pseudonymous fingerprint of a client's network: HMAC-SHA256 of the address's /24 (IPv4) or /48
    (IPv6), 16 hex digits. Copy detection counts independent clients by it: one phone can send any User-Agent, but
    not from many networks at once."""
    try:
        address = ipaddress.ip_address(ip)
        prefix = 24 if address.version == 4 else 48
        block = str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))
    except ValueError:
        block = ip
    msg = b"tracegraph/scan-network/v1\x1d" + block.encode()
    return hmac.new(secret.encode(), msg, hashlib.sha256).hexdigest()[:16]


class ScanBuffer:
    """A bounded queue of scans and the thread that writes them in batches (one UNWIND transaction each)."""

    def __init__(self, graph: Graph, max_queue: int = 10000, batch_size: int = 500, interval: float = 0.5):
        """Create the buffer; nothing runs until the first scan.

        Args:
            graph: where scans are written.
            max_queue: scans held at most; more are dropped (and counted) while the database lags.
            batch_size: most scans per transaction.
            interval: seconds the writer waits to fill a batch.
        """
        self.graph = graph
        self.batch_size = batch_size
        self.interval = interval
        self.dropped = 0
        self.written = 0
        # Called with each written batch (the scans' dicts, updated by the write: item_key, verdict) so copy flags
        # the batch raised reach the audit trail (app/audit.py sets it); its failure never drops scans.
        self.on_flags: Callable[[list[dict]], object] | None = None
        # The stored scans this writer knows of: a client's reloads are repeats without a look-up in the store.
        self.recent = scan_log.Recent()
        self._queue: queue.Queue[dict] = queue.Queue(maxsize=max_queue)
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        atexit.register(self.close)

    def add(self, scan: dict) -> None:
        """Queue one scan; never blocks the request."""
        self._ensure_thread()
        try:
            self._queue.put_nowait(scan)
        except queue.Full:
            self.dropped += 1
            if self.dropped % 1000 == 1:
                log.warning("scan queue full: %d scans dropped so far", self.dropped)

    def flush(self) -> int:
        """Write every queued scan now (tests and shutdown); return how many were written."""
        total = 0
        while True:
            batch = self._take(block=False)
            if not batch:
                break
            total += self._write(batch)
        # The writer thread may hold a batch it took off the queue: wait until it is written too, so a scan after a
        # flush sees every earlier one (copy detection reads the item summaries they update).
        done = self._queue.all_tasks_done
        with done:
            done.wait_for(lambda: self._queue.unfinished_tasks == 0, timeout=30)
        return total

    def close(self) -> None:
        """Stop the writer and flush what is left."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread.is_alive():
            thread.join(timeout=5)
        try:
            self.flush()
        except Exception:  # noqa: BLE001 - at exit the driver may be closed already; say so and go
            log.warning("could not write %d queued scans at exit", self._queue.qsize())

    def _ensure_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(target=self._run, name="scan-writer", daemon=True)
                self._thread.start()

    def _take(self, block: bool) -> list[dict]:
        batch: list[dict] = []
        if block:
            # Wait for the first scan, then let the batch fill while asleep: waiting on the queue for each scan woke
            # this thread once per page (a wake-up and a GIL hand-over taken from the request threads every time).
            try:
                batch.append(self._queue.get(timeout=self.interval))
            except queue.Empty:
                return batch
            if self._queue.qsize() < self.batch_size - 1:
                self._stop.wait(self.interval)
        while len(batch) < self.batch_size:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _write(self, batch: list[dict]) -> int:
        try:
            return self._write_batch(batch)
        finally:
            for _ in batch:
                self._queue.task_done()

    def _write_batch(self, batch: list[dict]) -> int:
        # One writer at a time: copy detection reads and updates item summaries, which must see earlier batches.
        with self._flush_lock:
            for attempt in range(3):
                try:
                    n = scan_log.record_scans(self.graph, batch, self.recent)
                    self.written += n
                    self._report_flags(batch)
                    return n
                except GraphError as exc:
                    if attempt == 2:
                        log.warning("dropping %d scans: %s", len(batch), exc.message)
                        self.dropped += len(batch)
                        return 0
                    time.sleep(0.5 * (attempt + 1))
                except Exception:  # noqa: BLE001 - the writer thread must survive one bad batch
                    log.exception("dropping %d scans after an unexpected error", len(batch))
                    self.dropped += len(batch)
                    return 0
        return 0

    def _report_flags(self, batch: list[dict]) -> None:
        if self.on_flags is None or not any(s.get("verdict") == "suspected_copy" for s in batch):
            return
        try:
            self.on_flags(batch)
        except Exception:  # noqa: BLE001 - the scans are written; a lost audit line is logged, never fatal here
            log.exception("copy flags of %d scans not recorded in the audit trail", len(batch))

    def _run(self) -> None:
        while not self._stop.is_set():
            batch = self._take(block=True)
            if batch:
                self._write(batch)
