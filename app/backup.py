"""`flask backup DIR` and `flask restore DIR`: the whole record as EPCIS 2.0 documents plus master data.

    DIR/manifest.json                  format, when, node/relationship counts, the event files in order
    DIR/events/000001.json             an EPCISDocument: the stored `doc` of N events, in record order
    DIR/events/000001.provenance.jsonl who captured each of them and when (capture ID, party, token ID, recordTime)
    DIR/nodes/<Label>.jsonl            parties (private fields too), products, lots, items, tokens (hashes only),
                                       print runs, inspections, certificates, recalls, acknowledgements, capture
                                       jobs, scans, the audit trail: one JSON object of properties per line
    DIR/relationships.jsonl            every relationship that is not derived from events

Restore goes through the capture write path (graph/events.py, admin policy) for the events, so the derived graph
(custody, lineage, packing) is rebuilt by the same code that built it; it refuses a database that is not empty.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from app.capture import normalise, policy_for
from app.extensions import graph
from graph import backup as store
from graph import events
from gs1.epcis import context_prefixes

FORMAT = "tracegraph-backup"
VERSION = 1
EPCIS_CONTEXT = ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"]
BATCH = 2000


class _Writer:
    """Receives the exported record and writes the backup folder."""

    def __init__(self, folder: Path, events_per_file: int):
        self.folder = folder
        self.events_per_file = events_per_file
        self.start()

    def start(self) -> None:
        for part in ("events", "nodes"):
            shutil.rmtree(self.folder / part, ignore_errors=True)
            (self.folder / part).mkdir(parents=True)
        self.node_files: dict[str, object] = {}
        self.relationships = (self.folder / "relationships.jsonl").open("w", encoding="utf-8")
        self.files: list[dict] = []
        self.pending: list[dict] = []
        self.context: str | None = None
        self.event_count = 0

    def node(self, label: str, props: dict) -> None:
        if label not in self.node_files:
            self.node_files[label] = (self.folder / "nodes" / f"{label}.jsonl").open("w", encoding="utf-8")
        self.node_files[label].write(json.dumps(props, ensure_ascii=False) + "\n")

    def relationship(self, row: dict) -> None:
        self.relationships.write(json.dumps(row, ensure_ascii=False) + "\n")

    def event(self, row: dict) -> None:
        # A file holds events of one @context only: their CURIEs must read back as they were captured.
        if self.pending and (row["context"] != self.context or len(self.pending) >= self.events_per_file):
            self.flush()
        self.context = row["context"]
        self.pending.append(row)

    def flush(self) -> None:
        if not self.pending:
            return
        name = f"{len(self.files) + 1:06d}"
        context = json.loads(self.context) if self.context else EPCIS_CONTEXT
        doc = {"@context": context, "type": "EPCISDocument", "schemaVersion": "2.0",
               "creationDate": _now(), "epcisBody": {"eventList": [r["doc"] for r in self.pending]}}
        with (self.folder / "events" / f"{name}.json").open("w", encoding="utf-8") as fh:
            json.dump(doc, fh, ensure_ascii=False)
        with (self.folder / "events" / f"{name}.provenance.jsonl").open("w", encoding="utf-8") as fh:
            for r in self.pending:
                fh.write(json.dumps(r["provenance"], ensure_ascii=False) + "\n")
        self.files.append({"name": name, "context": self.context, "events": len(self.pending)})
        self.event_count += len(self.pending)
        self.pending = []

    def close(self) -> None:
        self.flush()
        for fh in self.node_files.values():
            fh.close()
        self.relationships.close()


def backup(folder: Path, events_per_file: int = 1000) -> dict:
    """Write the whole record into a folder; return the manifest."""
    folder.mkdir(parents=True, exist_ok=True)
    writer = _Writer(folder, events_per_file)

    def restart() -> None:
        if writer.event_count or writer.pending or writer.node_files:
            writer.close()
            writer.start()

    counts = store.export(graph(), writer.node, writer.relationship, writer.event, restart)
    writer.close()
    manifest = {"format": FORMAT, "version": VERSION, "created_at": _now(), "counts": counts,
                "events": writer.event_count, "event_files": writer.files}
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    return manifest


def restore(folder: Path) -> dict:
    """Rebuild the record from a backup folder into an empty database; return the counts it now has.

    Raises:
        click.ClickException: not a backup, or an event the capture path refused (named).
        Conflict: the database is not empty.
    """
    from graph.migrate import migrate

    manifest = _manifest(folder)
    g = graph()
    migrate(g)
    store.assert_empty(g)
    store.prepare(g)
    for label in store.BEFORE_EVENTS:
        _each_batch(folder, label, lambda rows, label=label: store.create_nodes(g, label, rows))
    # the backup's own alerts are restored below: the replay raises none (they would be raised twice)
    policy = dataclasses.replace(policy_for(None), alerts=False)
    for entry in manifest["event_files"]:
        _replay(folder, entry, policy)
    for label in store.MERGED_AFTER_EVENTS:
        _each_batch(folder, label, lambda rows, label=label: store.merge_nodes(g, label, rows))
    for label in store.CREATED_AFTER_EVENTS:
        _each_batch(folder, label, lambda rows, label=label: store.create_nodes(g, label, rows))
    store.mark_existing(g)
    batch: list[dict] = []
    with (folder / "relationships.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            batch.append(json.loads(line))
            if len(batch) >= BATCH:
                store.restore_relationships(g, batch)
                batch = []
    if batch:
        store.restore_relationships(g, batch)
    store.finish(g)
    return store.counts(g)


def _replay(folder: Path, entry: dict, policy: events.Policy) -> None:
    """Capture one event file again and put its provenance back."""
    doc = json.loads((folder / "events" / f"{entry['name']}.json").read_text(encoding="utf-8"))
    context = json.loads(entry["context"]) if entry["context"] else None
    raw = doc["epcisBody"]["eventList"]
    job = events.CaptureJob(events.new_capture_id(), event_count=len(raw))
    normalised = normalise(raw, "epcisBody.eventList", context_prefixes(doc.get("@context")), job)
    if not job.errors:
        job = events.capture(graph(), normalised, policy, job, record=False, context=context)
    if job.errors:
        first = job.errors[0]
        raise click.ClickException(f"events/{entry['name']}.json: {len(job.errors)} events refused, first "
                                   f"{first.get('eventID')}: {first.get('message')}")
    with (folder / "events" / f"{entry['name']}.provenance.jsonl").open(encoding="utf-8") as fh:
        provenance = [json.loads(line) for line in fh]
    # The stored doc is the event as captured with its recordTime: the file holds exactly that, key order included.
    # A declared event's file entry carries its declaration (as queries read it); where the store kept the
    # declaration beside the event (error_declaration), the stored doc is the event alone. Events declared before
    # that (the declaration inside doc) are put back as they were.
    for row, event in zip(provenance, raw, strict=True):
        if row.get("error_declaration") is not None:
            event = {k: v for k, v in event.items() if k != "errorDeclaration"}
        row.setdefault("error_declaration", None)
        row["doc"] = json.dumps(event, ensure_ascii=False, separators=(",", ":"))
    store.restore_provenance(graph(), provenance)


def _each_batch(folder: Path, label: str, write) -> None:
    path = folder / "nodes" / f"{label}.jsonl"
    if not path.exists():
        return
    rows: list[dict] = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            rows.append(json.loads(line))
            if len(rows) >= BATCH:
                write(rows)
                rows = []
    if rows:
        write(rows)


def _manifest(folder: Path) -> dict:
    path = folder / "manifest.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise click.ClickException(f"{folder} is not a TraceGraph backup: {exc}") from None
    if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
        raise click.ClickException(f"{path}: not a {FORMAT} version {VERSION} manifest")
    return manifest


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@click.command("backup")
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path))
@click.option("--events-per-file", default=1000, show_default=True, type=click.IntRange(1, 100000))
@with_appcontext
def backup_command(folder: Path, events_per_file: int):
    """Write every event (EPCIS 2.0 documents) and all master data into FOLDER."""
    manifest = backup(folder, events_per_file)
    click.echo(f"backed up {manifest['events']} events in {len(manifest['event_files'])} files and "
               f"{sum(manifest['counts']['nodes'].values())} nodes to {folder}")


@click.command("restore")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@with_appcontext
def restore_command(folder: Path):
    """Rebuild the record from a backup FOLDER into an empty database; exit 1 when the counts differ."""

    from app.audit import record
    from graph.errors import Conflict, GraphError

    manifest = _manifest(folder)
    try:
        now = restore(folder)
    except Conflict as exc:
        # Refused before anything was written: the database keeps its own trail, so the attempt goes on it.
        record("restore", outcome="refused", path="restore", message=exc.message, body=manifest,
               detail={"folder": str(folder.resolve())})
        raise click.ClickException(exc.message) from None
    except GraphError as exc:
        raise click.ClickException(exc.message) from None
    expected = manifest["counts"]
    differ = {k: (expected[part].get(k), now[part].get(k)) for part in ("nodes", "relationships")
              for k in set(expected[part]) | set(now[part]) if expected[part].get(k) != now[part].get(k)}
    # Appended after the count check (the backup's own trail was restored above; this entry continues it).
    record("restore", outcome="done" if not differ else "counts differ", path="restore", body=manifest,
           detail={"folder": str(folder.resolve()), "counts": now, "differ": differ})
    if differ:
        raise click.ClickException(f"restored, but the counts differ from the backup's (backup, now): {differ}")
    click.echo(f"restored {sum(now['nodes'].values())} nodes and {sum(now['relationships'].values())} "
               f"relationships from {folder} ({current_app.config['NEO4J_URI']})")
