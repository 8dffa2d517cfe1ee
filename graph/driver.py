"""Driver lifecycle and the two ways queries run: one statement, or one unit of work.

One Graph per process (gunicorn worker): drivers are thread-safe but not fork-safe.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, LiteralString, TypeVar

import neo4j
from neo4j import GraphDatabase, ManagedTransaction, RoutingControl
from neo4j import exceptions as nx
from neo4j.time import Date, DateTime

from graph.errors import Conflict, Unavailable

log = logging.getLogger(__name__)
T = TypeVar("T")

# Errors that mean "the database is not answering now": the client gets 503 and retries.
_UNAVAILABLE = (
    nx.ServiceUnavailable,
    nx.SessionExpired,
    nx.DatabaseUnavailable,
    nx.TransientError,
    nx.IncompleteCommit,
    ConnectionError,
    OSError,
)


class Graph:
    """The driver, the database name and error translation for every query graph/ runs."""

    def __init__(self, uri: str, user: str = "neo4j", password: str = "", database: str = "neo4j", **options: Any):
        """Create the driver (no connection is made until the first query).

        Args:
            uri: bolt://host:port for one server, neo4j://host:port for a cluster (routing).
            user: user name; ignored by a server with auth off.
            password: password; empty means no auth.
            database: the database queries run in.
            options: extra driver options (pool size, timeouts).
        """
        auth = (user, password) if password else None
        defaults = {
            # Fail fast when Neo4j is down: the client gets a 503 in seconds, not a hung request.
            "connection_acquisition_timeout": 5.0,
            "connection_timeout": 3.0,
            "max_transaction_retry_time": 5.0,
            "max_connection_pool_size": 50,
            # The server's hints (e.g. "property key does not exist" on a fresh database) would be logged with the
            # whole query text for every request: noise on the hot path.
            "notifications_min_severity": "OFF",
        }
        defaults.update(options)
        self.uri = uri
        self.database = database
        self.driver = GraphDatabase.driver(uri, auth=auth, **defaults)
        # Causal consistency across this process's calls: execute_query (query()) already chains every call through
        # the driver's bookmark manager; the sessions of read(), write() and run_autocommit() use the same one, so a
        # read routed to a cluster's reader waits until that reader has what this process last wrote (a capture,
        # then its job read; a recall opened, then its page). Across processes see docs/scaling.md.
        self.bookmarks = self.driver.execute_query_bookmark_manager

    def close(self) -> None:
        """Close the driver and its connections."""
        self.driver.close()

    def server_version(self) -> str:
        """Return the Neo4j server's version, proving it answers.

        Raises:
            Unavailable: the server does not answer.
        """
        rows = self.query("CALL dbms.components() YIELD versions RETURN versions[0] AS version", read=True)
        return rows[0]["version"]

    def ping(self) -> None:
        """Check once that the server answers, without the driver's retries (which wait up to 5 s for a server that
        is down): for work that should give up at once rather than wait, such as a worker's warm-up.

        Raises:
            Unavailable: the server does not answer.
        """
        try:
            self.driver.verify_connectivity()
        except Exception as exc:  # noqa: BLE001 - translated below, re-raised otherwise
            raise translate(exc) from exc

    def query(self, cypher: LiteralString, read: bool = False, **params: Any) -> list[dict]:
        """Run one statement in its own transaction and return its rows as dicts.

        Raises:
            Conflict: a uniqueness constraint refused the write.
            Unavailable: the database does not answer.
        """
        try:
            records, _, _ = self.driver.execute_query(
                cypher,
                parameters_=quiet(params),
                database_=self.database,
                routing_=RoutingControl.READ if read else RoutingControl.WRITE,
            )
        except Exception as exc:  # noqa: BLE001 - translated below, re-raised otherwise
            raise translate(exc) from exc
        return [r.data() for r in records]

    def lookup(self, cypher: LiteralString, **params: Any) -> list[dict]:
        """Run a read by key on a reader; when it finds nothing, ask the writer before saying "not found".

        In a cluster a reader may not yet have what another process (gunicorn worker, app instance) has just
        written, e.g. the capture job a client asks for right after its POST answered on another worker: a miss is
        confirmed where every commit is (the leader), so it costs a second round trip only when nothing is found.

        Raises:
            Unavailable: the database does not answer.
        """
        return self.query(cypher, read=True, **params) or self.query(cypher, read=False, **params)

    def write(self, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a unit of work in one write transaction (retried on transient errors; make it idempotent).

        Raises:
            Conflict: a uniqueness constraint refused the write.
            Unavailable: the database does not answer.
        """
        try:
            with self.driver.session(database=self.database, bookmark_manager=self.bookmarks) as session:
                return session.execute_write(work, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001
            raise translate(exc) from exc

    def read(self, work: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a unit of work in one read transaction (routed to a reader in a cluster)."""
        try:
            with self.driver.session(database=self.database, default_access_mode=neo4j.READ_ACCESS,
                                     bookmark_manager=self.bookmarks) as session:
                return session.execute_read(work, *args, **kwargs)
        except Exception as exc:  # noqa: BLE001
            raise translate(exc) from exc

    def run_autocommit(self, cypher: LiteralString, **params: Any) -> None:
        """Run a statement in an auto-commit transaction (schema changes, CALL {} IN TRANSACTIONS)."""
        try:
            with self.driver.session(database=self.database, bookmark_manager=self.bookmarks) as session:
                session.run(cypher, params).consume()
        except Exception as exc:  # noqa: BLE001
            raise translate(exc) from exc


def translate(exc: Exception) -> Exception:
    """Map a driver exception to a graph.errors exception; return others unchanged."""
    if isinstance(exc, nx.ConstraintError):
        return Conflict(_constraint_message(str(exc.message or exc)))
    if isinstance(exc, _UNAVAILABLE):
        return Unavailable("the graph database is not answering; retry shortly")
    if isinstance(exc, nx.ClientError) and exc.code and "TransactionTimedOut" in exc.code:
        # The client's per-transaction timeout or the server's db.transaction.timeout ended it: the caller retries
        # later (503), as for a busy database; the work it asked for is not done.
        return Unavailable("the graph database did not answer in time; retry shortly")
    if isinstance(exc, nx.ClientError) and exc.code and "Security" in exc.code:
        log.error("Neo4j refused our credentials: %s", exc.code)
        return Unavailable("the graph database refused the service's credentials")
    return exc


def _constraint_message(text: str) -> str:
    """Turn Neo4j's constraint text into a short message without internal node ids."""
    # e.g. "Node(12) already exists with label `Party` and property `gln` = '6901234567892'"
    if "already exists with label" in text:
        tail = text.split("already exists with label", 1)[1].strip()
        return f"already exists: {tail}"
    return "a record with this key already exists"


class Rows(list):
    """A list parameter that the driver's debug log names by its length instead of spelling out.

    The driver formats every statement's parameters for its debug log (``" ".join(map(repr, fields))`` in
    neo4j 6.4's Bolt ``run``) before the logger decides whether to write it, whatever the log level. A 1,000-event
    capture sends about 2 MB of rows and documents: repr'ing them cost 20-28 ms of CPU per document, about a sixth
    of capture's Python. And a log must never hold what a request carried (documents, secrets' hashes). Packed
    exactly as a list (the Bolt encoder takes list subclasses): the server sees the same values.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return f"<{len(self)} rows>"


class Text(str):
    """A long string parameter (a stored document, an audit entry) that the driver's debug log names by length."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"<text of {len(self)} characters>"


def quiet(params: dict[str, Any]) -> dict[str, Any]:
    """The parameters with each list and each string over 200 characters wrapped (Rows, Text): the same values for
    the server, a repr of a few bytes for the driver's debug log. Only the top level: nothing inside a Rows is
    ever formatted."""
    out = {}
    for name, value in params.items():
        if type(value) is list:
            value = Rows(value)
        elif type(value) is str and len(value) > 200:
            value = Text(value)
        out[name] = value
    return out


def tx_rows(tx: ManagedTransaction, cypher: LiteralString, **params: Any) -> list[dict]:
    """Run a statement inside a transaction function and return plain dict rows (never a live result)."""
    return [r.data() for r in tx.run(cypher, quiet(params))]


def tx_single(tx: ManagedTransaction, cypher: LiteralString, **params: Any) -> dict:
    """Run a statement that answers in exactly one row (its many rows collected into lists in Cypher) and return
    that row's columns as they arrived.

    The driver costs about 19 µs of Python per record (a Record, its hydration, ``data()``'s walk): a statement
    answering 1,000 rows took 19 ms of CPU, the same 1,000 values collected into one row's lists 1.6 ms (measured
    on this machine). Capture's statements that answer per event or per node use this.

    Raises:
        ResultNotSingleError: the statement answered no row or more than one (a bug in the statement).
    """
    record = tx.run(cypher, quiet(params)).single(strict=True)
    return dict(record.items())


def tx_run(tx: ManagedTransaction, cypher: LiteralString, **params: Any) -> None:
    """Run a statement inside a transaction function for its effect (its result consumed)."""
    tx.run(cypher, quiet(params)).consume()


def plain(value: Any) -> Any:
    """Turn Neo4j temporal values into ISO strings (recursively) so results are plain JSON."""
    if isinstance(value, DateTime):
        return value.to_native().isoformat().replace("+00:00", "Z")
    if isinstance(value, Date):
        return value.iso_format()
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value
