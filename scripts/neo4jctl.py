#!/usr/bin/env python3
"""Start, stop and report on the project's own Neo4j 5.26 Community server (no Docker).

    python scripts/neo4jctl.py start|stop|status|restart

Neo4j runs embedded in a small Java launcher (scripts/neo4j/Neo4jServer.java) whose jars Maven resolves
from Maven Central on first use. When NEO4J_URI is set the project uses that server and this script starts
nothing. Standard library only: it runs before the virtualenv exists.

Environment (all optional):
    NEO4J_URI            use this server instead (bolt://, neo4j://, neo4j+s://): start/stop do nothing
    NEO4J_HOME_DIR       store and logs                              default <repo>/.neo4j
    NEO4J_BOLT_HOST      listen host                                 default 127.0.0.1
    NEO4J_BOLT_PORT      listen port                                 default 7687
    NEO4J_HEAP           JVM heap                                    default 2g
    NEO4J_PAGECACHE_MB   page cache in MiB                           default 2048
    NEO4J_TX_TIMEOUT_S   db.transaction.timeout, seconds (0: none)   default 600
    NEO4J_TX_MEMORY_MB   db.memory.transaction.max, MiB (0: none)    default half the heap
    NEO4J_TX_MEMORY_TOTAL_MB  dbms.memory.transaction.total.max (all transactions), MiB: 3/4 heap
    NEO4J_START_TIMEOUT  seconds to wait for Bolt                    default 300
    JAVA                 java executable                             default java on PATH
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LAUNCHER_DIR = REPO / "scripts" / "neo4j"
CLASSPATH_FILE = LAUNCHER_DIR / "target" / "neo4j.classpath"
MIN_JAVA = 17

# Same module openings the Neo4j 5 distribution puts in conf/neo4j.conf (server.jvm.additional).
JVM_FLAGS = [
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Dlog4j2.disable.jmx=true",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
    "--enable-native-access=ALL-UNNAMED",
]


def env(name: str, default: str) -> str:
    """Return an environment variable, or the default when it is unset or blank."""
    value = os.environ.get(name, "").strip()
    return value or default


def home() -> Path:
    """Return the server's home folder (store, logs, pid file)."""
    return Path(env("NEO4J_HOME_DIR", str(REPO / ".neo4j"))).resolve()


def bolt_address() -> tuple[str, int]:
    """Return the (host, port) the server listens on."""
    return env("NEO4J_BOLT_HOST", "127.0.0.1"), int(env("NEO4J_BOLT_PORT", "7687"))


def say(message: str) -> None:
    """Print a progress line at once (make shows it while we wait)."""
    print(f"neo4j: {message}", flush=True)


def die(message: str, code: int = 1) -> None:
    """Print an error and exit non-zero."""
    print(f"neo4j: ERROR: {message}", file=sys.stderr, flush=True)
    sys.exit(code)


def port_open(host: str, port: int) -> bool:
    """Tell whether something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def read_pid() -> int | None:
    """Return the pid of our running server, or None."""
    pid_file = home() / "neo4j.pid"
    try:
        pid = int(pid_file.read_text().strip())
    except (OSError, ValueError):
        return None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        return pid
    # A zombie or a recycled pid is not our server: check the command line.
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        if b"Neo4jServer" not in cmdline:
            return None
    except OSError:
        pass
    return pid


def java_executable() -> str:
    """Find java and check it is 17 or newer, else exit with what to install."""
    java = env("JAVA", "") or shutil.which("java") or ""
    hint = (
        "install a Java 17+ runtime (Debian/Ubuntu: apt-get install openjdk-17-jre-headless), "
        "or point NEO4J_URI at an existing Neo4j 5 server"
    )
    if not java:
        die(f"java was not found on PATH: {hint}")
    try:
        out = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=30)
    except OSError as exc:
        die(f"could not run {java}: {exc}; {hint}")
    text = out.stderr + out.stdout
    match = re.search(r'version "(\d+)(?:\.(\d+))?', text)
    if not match:
        die(f"could not read the Java version from {java!r}: {text.strip()[:200]}; {hint}")
    major = int(match.group(1))
    if major == 1 and match.group(2):  # "1.8.0_..." style
        major = int(match.group(2))
    if major < MIN_JAVA:
        die(f"Java {major} found at {java}, Neo4j 5.26 needs Java {MIN_JAVA} or newer: {hint}")
    return java


def classpath() -> str:
    """Resolve the Neo4j jars with Maven once, and return the classpath."""
    pom = LAUNCHER_DIR / "pom.xml"
    if CLASSPATH_FILE.is_file() and CLASSPATH_FILE.stat().st_mtime >= pom.stat().st_mtime:
        cp = CLASSPATH_FILE.read_text().strip()
        if cp and all(Path(p).is_file() for p in cp.split(os.pathsep)):
            return cp
    mvn = shutil.which("mvn")
    if not mvn:
        die(
            "Maven (mvn) is needed once to fetch the Neo4j jars from Maven Central "
            "(Debian/Ubuntu: apt-get install maven), or set NEO4J_URI to use an existing Neo4j"
        )
    say("resolving Neo4j 5.26 jars with Maven (first run downloads ~150 MB, may take minutes)...")
    CLASSPATH_FILE.parent.mkdir(parents=True, exist_ok=True)
    # Maven prints one "Downloaded from" line per file: we count jars so a slow first run is visibly moving.
    proc = subprocess.Popen(
        [mvn, "-B", "dependency:build-classpath", f"-Dmdep.outputFile={CLASSPATH_FILE}"],
        cwd=LAUNCHER_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    fetched = 0
    tail: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        tail = (tail + [line.rstrip()])[-30:]
        if line.startswith("Downloaded from") and ".jar (" in line:
            fetched += 1
            if fetched % 10 == 1:
                say(f"  downloaded {fetched} jars...")
    if proc.wait() != 0:
        die("Maven could not resolve the Neo4j jars:\n" + "\n".join(tail))
    if fetched:
        say(f"  downloaded {fetched} jars")
    return CLASSPATH_FILE.read_text().strip()


def start() -> None:
    """Start the server unless it (or an external one) is already there; wait until Bolt answers."""
    if os.environ.get("NEO4J_URI", "").strip():
        say(f"NEO4J_URI is set ({os.environ['NEO4J_URI'].strip()}): using that server, starting none")
        return
    root = home()
    root.mkdir(parents=True, exist_ok=True)
    # Several test sessions may start the same server at once: one starts it, the others wait and find it running
    # (without the lock a second start failed on the store lock after overwriting the first one's pid file).
    with open(root / "start.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _start(root)


def _start(root: Path) -> None:
    host, port = bolt_address()
    pid = read_pid()
    if pid and port_open(host, port):
        say(f"already running (pid {pid}) on bolt://{host}:{port}")
        return
    if not pid and port_open(host, port):
        die(
            f"something else already listens on {host}:{port}; stop it, set NEO4J_BOLT_PORT to a free port, "
            "or set NEO4J_URI to use it"
        )
    java = java_executable()
    cp = classpath()
    ready = root / "ready"
    ready.unlink(missing_ok=True)
    log_path = root / "neo4j.log"
    heap = env("NEO4J_HEAP", "2g")
    child_env = dict(os.environ)
    child_env.update(
        NEO4J_HOME_DIR=str(root),
        NEO4J_BOLT_HOST=host,
        NEO4J_BOLT_PORT=str(port),
        NEO4J_PAGECACHE_MB=env("NEO4J_PAGECACHE_MB", "2048"),
        NEO4J_READY_FILE=str(ready),
    )
    cmd = [java, "-Xms256m", f"-Xmx{heap}", *JVM_FLAGS, "-cp", cp, str(LAUNCHER_DIR / "Neo4jServer.java")]
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            cmd, cwd=root, env=child_env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            start_new_session=True,  # survives the make/pytest process that started it
        )
    say(f"starting (pid {proc.pid}, heap {heap}, log {log_path})")
    deadline = time.monotonic() + float(env("NEO4J_START_TIMEOUT", "300"))
    last_report = time.monotonic()
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            die(f"the server exited with code {proc.returncode}; last log lines:\n{log_tail(log_path)}")
        if ready.exists() and port_open(host, port):
            # written once the server answers: a start that failed never replaces a running server's pid
            (root / "neo4j.pid").write_text(str(proc.pid))
            say(f"ready on bolt://{host}:{port}")
            return
        if time.monotonic() - last_report > 10:
            say("  still starting...")
            last_report = time.monotonic()
        time.sleep(0.2)
    proc.terminate()  # no pid file names it yet: do not leave it running unseen
    die(f"Bolt did not answer on {host}:{port} in time; last log lines:\n{log_tail(log_path)}")


def log_tail(path: Path, lines: int = 25) -> str:
    """Return the last lines of the server log."""
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def stop(kill: bool = False) -> None:
    """Stop our server cleanly (SIGTERM runs Neo4j's shutdown hook); SIGKILL when asked or when it hangs."""
    if os.environ.get("NEO4J_URI", "").strip():
        say("NEO4J_URI is set: not stopping a server this project did not start")
        return
    pid = read_pid()
    if not pid:
        say("not running")
        return
    os.kill(pid, signal.SIGKILL if kill else signal.SIGTERM)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if not alive(pid):
            break
        time.sleep(0.2)
    else:
        say("did not stop within 60 s; killing it")
        os.kill(pid, signal.SIGKILL)
        while alive(pid):
            time.sleep(0.1)
    (home() / "neo4j.pid").unlink(missing_ok=True)
    (home() / "ready").unlink(missing_ok=True)
    say("stopped" if not kill else "killed")


def alive(pid: int) -> bool:
    """Tell whether a process still runs (reaping it if it is our child)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
        return state != "Z"
    except (OSError, IndexError):
        return True


def status() -> int:
    """Print whether the server runs; exit code 0 when it answers, 3 when it does not."""
    uri = os.environ.get("NEO4J_URI", "").strip()
    if uri:
        say(f"external server configured: {uri}")
        return 0
    host, port = bolt_address()
    pid = read_pid()
    if pid and port_open(host, port):
        say(f"running (pid {pid}) on bolt://{host}:{port}, home {home()}")
        return 0
    say("not running" + (f" (pid {pid} exists but Bolt does not answer)" if pid else ""))
    return 3


def main(argv: list[str]) -> int:
    """Dispatch the sub-command."""
    command = argv[1] if len(argv) > 1 else "status"
    if command == "start":
        start()
    elif command == "stop":
        stop()
    elif command == "kill":
        stop(kill=True)
    elif command == "restart":
        stop()
        start()
    elif command == "status":
        return status()
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
