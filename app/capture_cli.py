"""`flask epcis import FILE...`: stream large EPCIS documents into the graph through the one write path.

Constant memory: events are read one by one (ijson) and captured in chunks, each chunk one capture job. Re-running
after an interruption is safe: events already captured are recognised by eventID (or their CBV hash) and skipped.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

import click
import ijson
from flask.cli import AppGroup

from app.audit import record
from app.capture import capture_document
from app.errors import ApiError
from gs1.epcis import utc_iso

epcis_cli = AppGroup("epcis", help="EPCIS 2.0 documents.")


def _context(path: str):
    """The document's @context (it comes before the body in every EPCIS document we know of; None if absent)."""
    with open(path, "rb") as fh:
        for value in ijson.items(fh, "@context", use_float=True):
            return value
    return None


def _chunks(fh, size: int):
    """Yield lists of up to ``size`` events from the document's eventList, reading it as a stream."""
    chunk = []
    for event in ijson.items(fh, "epcisBody.eventList.item", use_float=True):
        chunk.append(event)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@epcis_cli.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False))
@click.option("--chunk", default=1000, show_default=True, help="events per capture job")
@click.option("--validate/--no-validate", default=True, show_default=True, help="check each chunk's JSON schema")
def import_command(files, chunk, validate):
    """Import EPCIS 2.0 JSON documents as an admin (history: rule gaps become data-quality warnings)."""
    totals = {"captured": 0, "duplicates": 0, "errors": 0, "warnings": 0}
    for path in files:
        context = _context(path)
        size = os.path.getsize(path)
        with open(path, "rb") as fh, click.progressbar(length=size, label=os.path.basename(path)) as bar:
            done = 0
            for events in _chunks(fh, chunk):
                doc = {"@context": context or [], "type": "EPCISDocument", "schemaVersion": "2.0",
                       "creationDate": utc_iso(datetime.now(UTC)), "epcisBody": {"eventList": events}}
                where = {"file": os.path.abspath(path), "offset": done, "events": len(events)}
                try:
                    job = capture_document(doc, None, "proceed", validate=validate)
                except ApiError as exc:
                    totals["errors"] += len(events)
                    record("cli.epcis_import", outcome="refused", status=exc.status, error_code=exc.code,
                           message=exc.message, path="epcis import", body=doc, detail=where)
                    click.echo(f"\n  chunk refused: {exc.message}", err=True)
                    continue
                record("cli.epcis_import", outcome="done", path="epcis import", body=doc,
                       detail={**where, "captureID": job.capture_id, "captured": len(job.captured),
                               "duplicates": len(job.duplicates), "errors": len(job.errors),
                               "warnings": len(job.warnings)})
                totals["captured"] += len(job.captured)
                totals["duplicates"] += len(job.duplicates)
                totals["errors"] += len(job.errors)
                totals["warnings"] += len(job.warnings)
                for err in job.errors[:5]:
                    click.echo(f"\n  {job.capture_id} event {err.get('eventIndex')}: {err['message']}", err=True)
                bar.update(fh.tell() - done)
                done = fh.tell()
    click.echo("captured {captured}, already there {duplicates}, errors {errors}, warnings {warnings}".format(**totals))
    if totals["errors"]:
        raise SystemExit(1)
