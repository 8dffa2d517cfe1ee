"""Workbench spreadsheet import: download a template, upload a filled one, check it (a dry run), import it.

Parsing and row checks are app/imports.py's (pure); this page gathers the party's master data, asks the store
which rows are recorded already (graph/imports.known), and writes through the usual path as the user's principal:
graph/lots.create for harvests, app/capture.record_events for events, graph/quality.record_inspection for a
lab's reports. A file with any problem writes nothing; a refusal by the write path during an import stops it at
that row (rows before it stay written, and uploading the same file again skips them as duplicates). A file with
more than BACKGROUND_ROWS new rows is written in a thread while a progress page reloads itself; a restart of the
server mid-way leaves its job "running": uploading the file again finishes it, skipping what was written.
"""

from __future__ import annotations

import json
import os
import re
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path

from flask import Response, abort, copy_current_request_context, current_app, g, redirect, request, url_for
from flask_login import current_user

from app import imports as rules
from app.capture import normalise, policy_for, record_events
from app.extensions import graph
from app.supervision import rule_settings
from app.web.work import TEXT, bp, lang, render
from graph import events, lots, quality, workbench
from graph import imports as store
from graph.errors import Conflict, GraphError, Unavailable
from gs1.epcis import context_prefixes
from gs1.timezones import CHINA

PRODUCER_KINDS = ("harvest", "shipment", "receipt", "transformation")
LAB_KINDS = ("inspection",)
# Events recorded per write-path call: a refused chunk is written again row by row to find the refused row.
CHUNK = 50
# Files with more new rows than this are written in the background, with a progress page.
BACKGROUND_ROWS = 200
REFRESH_SECONDS = 2
# Lots read for the checks (the home page shows 200): an import may ship any lot the party holds.
HELD_LIMIT = 20000


def kinds() -> tuple[str, ...]:
    """The templates this user may import: a lab's inspections, a producer's harvests and trade."""
    if not current_user.party_gln:
        return ()
    return LAB_KINDS if current_user.role == "lab" else PRODUCER_KINDS if current_user.role == "producer" else ()


def master() -> rules.Master:
    """The master data the user's party may name: its products, the parties, what it holds and what is inbound."""
    gln = current_user.party_gln
    facts = workbench.home(graph(), gln, limit=HELD_LIMIT)
    return rules.Master(gln=gln, products=workbench.products(graph(), gln), parties=workbench.receivers(graph(), gln),
                        held=facts["lots"], inbound=facts["inbound"],
                        max_yield=float(current_app.config.get("TRANSFORM_MAX_YIELD", 1.05)))


def _page(status: int = 200, **context):
    return render("work/import.html", status=status, kinds=kinds(), max_rows=rules.MAX_ROWS,
                  max_mb=rules.MAX_BYTES // (1024 * 1024), **context)


@bp.route("/import")
def import_page():
    """The templates to download and the upload form."""
    return _page()


@bp.route("/import/<kind>.xlsx")
def import_template(kind: str):
    """A template for one kind, its drop-downs filled from my master data."""
    if kind not in kinds():
        abort(404)
    body = rules.template(kind, master())
    return Response(body, mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="tracegraph-{kind}.xlsx"',
                             "Cache-Control": "no-store"})


@bp.route("/import", methods=["POST"])
def import_upload():
    """Check a filled template (dry run: nothing written) or import it (action=commit), every problem by cell."""
    kind = request.form.get("kind", "")
    upload = request.files.get("file")
    t = TEXT[lang()]
    if kind not in kinds():
        return _page(422, kind=kind, form_error=t["imp_pick_kind"])
    if upload is None or not upload.filename:
        return _page(422, kind=kind, form_error=t["imp_pick_file"])
    try:
        data = upload.stream.read(rules.MAX_BYTES + 1)
    finally:
        upload.close()  # a large upload is spooled to a temporary file: let it go now
    now = datetime.now(UTC).astimezone(CHINA)
    facts = master()
    rows, problems = rules.read(data, kind)
    planned: list[rules.Planned] = []
    if not problems:
        named = [rules.code(values.get("party")) for _, values in rows if values.get("party") is not None]
        facts.parties += store.parties(graph(), named)
        planned, problems = rules.plan(kind, rows, facts, now)
        event_ids, lot_keys, inspection_keys = rules.identities(planned)
        found = store.known(graph(), event_ids, lot_keys, inspection_keys)
        problems += rules.settle(planned, facts, rules.Known(**found))
    if problems:
        return _page(422, kind=kind, problems=_worded(kind, problems), total=len(rows))
    fresh = [p for p in planned if not p.duplicate]
    if request.form.get("action") != "commit":
        return _page(kind=kind, checked={"n": len(rows), "new": len(fresh), "old": len(planned) - len(fresh)})
    if len(fresh) > BACKGROUND_ROWS:
        return _start_job(kind, planned, len(rows))
    result = _commit(kind, planned, current_user.principal)
    result["total"] = len(rows)
    return _page(200 if result["stopped"] is None else 422, kind=kind, result=result)


# ---------------------------------------------------------------- large files: written in the background


def _job_path(job: str) -> Path:
    return Path(current_app.config["REPORTS_DIR"]).parent / "imports" / f"{job}.json"


def _save_job(path: Path, state: dict) -> None:
    """Write a job's state whole (written beside and renamed: a reader never sees half of it)."""
    partial = path.with_suffix(".part")
    partial.write_text(json.dumps(state), "utf-8")
    os.replace(partial, path)


def _start_job(kind: str, planned: list[rules.Planned], total: int):
    """Write a large checked file in a thread of this request's own (same user, same audit trail); the progress
    page reloads itself (a Refresh header, no script) until the rows are written."""
    job = uuid.uuid4().hex
    path = _job_path(job)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {"user": current_user.user_id, "kind": kind, "total": total, "done": 0, "written": 0, "already": 0,
             "stopped": None, "running": True}
    _save_job(path, state)
    principal = current_user.principal

    @copy_current_request_context
    def run() -> None:
        g.principal = principal  # the thread's own app context: the audit entries name the user as the request's
        try:
            result = _commit(kind, planned, principal, lambda r: _save_job(path, {**state, **r}))
        except Exception as exc:  # noqa: BLE001 - the page must say the import stopped, whatever stopped it
            result = {**json.loads(path.read_text("utf-8")), "stopped": {"row": "", "message": str(exc)[:200]}}
        _save_job(path, {**state, **result, "running": False})

    threading.Thread(target=run, name=f"import-{job}", daemon=True).start()
    return redirect(url_for("work.import_job", job=job), 303)


@bp.route("/import/jobs/<job>")
def import_job(job: str):
    """A large import's progress: rows processed / total, reloading every few seconds until it is done."""
    path = _job_path(job) if re.fullmatch(r"[0-9a-f]{32}", job) else None
    if path is None or not path.is_file():
        abort(404)
    state = json.loads(path.read_text("utf-8"))
    if state["user"] != current_user.user_id:
        abort(404)
    response = _page(200 if state["stopped"] is None else 422, kind=state["kind"], result=state,
                     running=state["running"])
    if state["running"]:
        response.headers["Refresh"] = str(REFRESH_SECONDS)
    return response


def _worded(kind: str, problems: list[rules.RowProblem]) -> list[dict]:
    """The problems in the user's language, in sheet order: row, cell, column header, message."""
    t, language = TEXT[lang()], lang()
    out = []
    for p in sorted(problems, key=lambda p: (p.row, rules.cell(kind, p))):
        fields = dict(p.fields)
        if "kind" in fields:
            fields["kind"] = t.get(f"imp_kind_{fields['kind']}", fields["kind"])
        out.append({"row": p.row or "", "cell": rules.cell(kind, p), "column": rules.header(kind, p.column, language),
                    "message": t[p.key].format(**fields)})
    return out


def _commit(kind: str, planned: list[rules.Planned], principal, progress=None) -> dict:
    """Write the planned rows in order through the write path; stop at the first refused row.

    `progress`, when given, is told the counts after each chunk (a large import's progress page reads them).
    """
    result = {"done": 0, "written": 0, "already": 0, "stopped": None}
    pending: list[rules.Planned] = []

    def flush() -> bool:
        if not pending:
            return True
        try:
            job = record_events([p.event for p in pending], principal)
        except Unavailable:
            raise
        except GraphError:
            job = None
        if job is not None:
            _count(result, pending, len(job.captured))
            pending.clear()
            if progress is not None:
                progress(result)
            return True
        for p in list(pending):  # the chunk wrote nothing: one by one, to name the refused row
            try:
                job = record_events([p.event], principal)
            except Unavailable:
                raise
            except GraphError as exc:
                result["stopped"] = {"row": p.rows[0], "message": exc.message}
                return False
            _count(result, [p], len(job.captured))
            pending.remove(p)
        if progress is not None:
            progress(result)
        return True

    for p in planned:
        if p.duplicate:
            if not flush():
                return result
            _count(result, [p], 0)
            continue
        if p.event is not None and p.kind != "inspection":
            pending.append(p)
            if len(pending) >= CHUNK and not flush():
                return result
            continue
        if not flush():
            return result
        try:
            wrote = _write_one(p, principal)
        except Unavailable:
            raise
        except GraphError as exc:
            result["stopped"] = {"row": p.rows[0], "message": exc.message}
            return result
        _count(result, [p], 1 if wrote else 0)
        if progress is not None and result["done"] % CHUNK == 0:
            progress(result)
    flush()
    return result


def _count(result: dict, done: list[rules.Planned], written: int) -> None:
    result["done"] += sum(len(p.rows) for p in done)
    result["written"] += written
    result["already"] += len(done) - written


def _write_one(p: rules.Planned, principal) -> bool:
    """Write a harvest or an inspection in its own transaction; False when another upload wrote it first."""
    try:
        if p.kind == "harvest":
            lots.create(graph(), p.lot, p.origin, policy_for(principal))
        else:
            job = events.CaptureJob(events.new_capture_id())
            normalised = normalise([p.event], "", context_prefixes(), job)
            if job.errors:
                raise GraphError(job.errors[0]["message"])
            quality.record_inspection(graph(), p.inspection, normalised[0][1], policy_for(principal),
                                      rule_settings())
    except Conflict:
        return False
    return True
