"""Real processes for the stateless-web-tier tests: a Redis server (Debian's redis-server, in a temp dir of its own)
and gunicorn instances of the app, each a process group the test starts and stops like a deployment would."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.notify.receivers import free_port

REPO = Path(__file__).resolve().parents[2]
SECRET = "stateless-tests-shared-secret-" + "s" * 20  # one SECRET_KEY for every instance, as a deployment has


def _wait(check, what: str, seconds: float, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}:\n{log.read_text('utf-8', 'replace')[-3000:]}")
        if check():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not answer within {seconds:.0f} s:\n{log.read_text('utf-8', 'replace')[-3000:]}")


class RedisServer:
    """redis-server on a free loopback port, no persistence, its files in `workdir`."""

    def __init__(self, workdir: Path):
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed: run `make setup` (scripts/setup-system.sh installs "
                               "Debian's redis-server)")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        workdir.mkdir(parents=True, exist_ok=True)
        self.log = workdir / "redis.log"
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(workdir), "--save", "",
             "--appendonly", "no", "--daemonize", "no", "--logfile", str(self.log)],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
        self.log.touch()
        _wait(self.ping, "redis-server", 20, self.proc, self.log)

    def ping(self) -> bool:
        """Whether the server answers PING."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL)."""
        _stop(self.proc)


def _stop(proc: subprocess.Popen, timeout: float = 30) -> int | None:
    """SIGTERM to the process (only it, as an orchestrator sends it to a container's first process); SIGKILL to its
    whole group after `timeout`."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    return proc.returncode


class Instance:
    """One web instance: `gunicorn wsgi:app` (one gthread worker) on its own port, configured by environment."""

    def __init__(self, name: str, workdir: Path, env: dict[str, str]):
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        workdir.mkdir(parents=True, exist_ok=True)
        self.log = workdir / f"gunicorn-{name}.log"
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--workers", "1", "--threads", "4", "--worker-class", "gthread",
                 "--bind", f"127.0.0.1:{self.port}", "--graceful-timeout", "30",
                 # gunicorn 27's control socket has one default path per user: instances on one host would share it
                 "--no-control-socket", "wsgi:app"],
                cwd=REPO, env={**os.environ, **env}, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def wait_ready(self, seconds: float = 60) -> Instance:
        """Wait until /healthz answers 200."""
        def ready() -> bool:
            try:
                return requests.get(self.url + "/healthz", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        _wait(ready, f"instance {self.name}", seconds, self.proc, self.log)
        return self

    def terminate(self) -> int | None:
        """SIGTERM to the gunicorn master, as an orchestrator stops an instance; wait until it exits."""
        return _stop(self.proc, timeout=45)


def instance_env(neo4j_uri: str, redis_url: str | None, **extra: str) -> dict[str, str]:
    """The environment every instance of a deployment shares: one Neo4j, one Redis, one SECRET_KEY and AUDIT_KEY."""
    env = {"NEO4J_URI": neo4j_uri, "SECRET_KEY": SECRET, "MIGRATE_ON_START": "0",
           "AUDIT_KEY": os.environ["AUDIT_KEY"], "NEO4J_POOL_SIZE": "10",
           # behind one load balancer: the client is the last X-Forwarded-For address (each test uses its own)
           "TRUSTED_PROXIES": "1",
           "WARMUP_SECONDS": "0",  # a worker's warm-up (gunicorn.conf.py) only costs start-up time here
           # this proves sharing, not speed: on the shared test machine a page's read may wait seconds for Neo4j
           "SCAN_QUERY_TIMEOUT": "30"}
    if redis_url:
        env["REDIS_URL"] = redis_url
    env.update(extra)
    return env
