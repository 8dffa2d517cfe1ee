"""The lab's page: record an inspection of a lot with its test items, verdict and report PDF.

Items are checked by app/lab_rules.py (maximum or minimum limits, "not detected" with the detection limit); the
report's fields by the API's InspectionIn schema; the record and its EPCIS inspecting event are written by
graph/quality.record_inspection under the lab user's principal, as POST /api/v1/inspections writes them. The PDF
is stored by its SHA-256 outside Neo4j (app/web/reports.py) and the hash kept on the inspection: the consumer page
links it.
"""

from __future__ import annotations

from datetime import UTC, datetime, time

from flask import current_app, redirect, request, url_for
from flask_login import current_user
from marshmallow import ValidationError

from app import lab_rules
from app.capture import normalise, policy_for
from app.extensions import graph
from app.schemas.quality import InspectionIn
from app.supervision import rule_settings
from app.web.reports import NotAPdf, store_report
from app.web.work import TEXT, bp, lang, problem, render
from app.web.work.pages import _flat
from graph import events, quality
from graph.errors import Conflict, GraphError, NotFound, Unavailable
from graph.supervision_rules import DEFAULT_PROGRAMME, PROGRAMMES
from gs1.epcis import context_prefixes
from gs1.event_builders import inspection_event
from gs1.timezones import CHINA

# programme (抽检类别) and sampling body (抽样单位) classify the inspection for the regulator's pass rates: a lab
# names the programme a sample was taken under; left as it is, a test is one a producer commissioned (委托检验).
FIELDS = ("gtin", "lot", "report_no", "sample_id", "date", "standard", "verdict", "programme", "sampling_body")
ITEM_ROWS = 3
_INSPECTION = InspectionIn()


def _t() -> dict:
    return TEXT[lang()]


def _page(form: dict, rows: list[dict], errors: dict, row_errors: dict, status: int = 200):
    mb = current_app.config["REPORT_MAX_BYTES"] // (1024 * 1024)
    recent = quality.lab_inspections(graph(), current_user.party_gln)
    return render("work/lab.html", status=status, form=form, rows=rows, errors=errors, row_errors=row_errors,
                  recent=recent, max_mb=mb, done=request.args.get("done"), programmes=PROGRAMMES)


def _rows() -> list[dict]:
    columns = {k: request.form.getlist(f"item_{k}") for k in lab_rules.ITEM_FIELDS}
    count = max((len(v) for v in columns.values()), default=0)
    return [{k: (columns[k][i].strip() if i < len(columns[k]) else "") for k in lab_rules.ITEM_FIELDS}
            for i in range(count)][: lab_rules.MAX_ITEMS]


@bp.route("/lab", methods=["GET", "POST"])
def lab():
    """Record an inspection (items, verdict, report number, method standard) and attach the report PDF."""
    if current_user.role != "lab" or not current_user.party_gln:
        return problem(403, "lab_only")
    today = datetime.now(UTC).astimezone(CHINA).date()
    if request.method == "GET":
        return _page({"date": today.isoformat(), "verdict": "pass", "programme": DEFAULT_PROGRAMME},
                     [{}] * ITEM_ROWS, {}, {})
    form = {k: request.form.get(k, "").strip() for k in FIELDS}
    rows = _rows()
    if request.form.get("more") == "item":
        return _page(form, [*rows, {}], {}, {})
    t = _t()
    items, problems = lab_rules.items(rows)
    row_errors = {i: t[p.key].format(**p.fields) for i, p in problems.items()}
    errors: dict[str, str] = {}
    if not items and not problems:
        errors["items"] = t["lab_items_needed"]
    wrong = lab_rules.verdict_problem(form["verdict"], items)
    if wrong is not None:
        errors["verdict"] = t[wrong.key].format(**wrong.fields)
    body = {**{k: form[k] for k in FIELDS if form[k]}, "lab_gln": current_user.party_gln,
            "results": [{"item": x["item"], "value": x["value"], "limit": x["limit"], "unit": x["unit"],
                         "pass": x["pass"]} for x in items] or [{"item": "-", "value": None, "pass": True}]}
    try:
        data = _INSPECTION.load(body)
    except ValidationError as exc:
        data = None
        flat = _flat(exc.messages)
        for k, v in flat.items():  # the page's own words first (a failed item's verdict), the schema's after
            if k == "programme":  # only a crafted form sends a programme that is not in the list
                errors[k] = t["imp_programme"]
            elif k in FIELDS:
                errors.setdefault(k, t["lab_field_needed"] if "required" in v.lower() else v)
    if data is not None and data["date"] > today:
        errors["date"] = t["imp_future"]
    upload = request.files.get("report")
    pdf = None
    if upload is not None and upload.filename:
        try:
            pdf = upload.stream.read(current_app.config["REPORT_MAX_BYTES"] + 1)
        finally:
            upload.close()
        if len(pdf) > current_app.config["REPORT_MAX_BYTES"]:
            errors["report"] = t["lab_pdf_big"].format(mb=current_app.config["REPORT_MAX_BYTES"] // (1024 * 1024))
        elif not pdf.startswith(b"%PDF-"):
            errors["report"] = t["lab_pdf_bad"]
    if errors or row_errors:
        return _page(form, rows or [{}], errors, row_errors, status=422)
    try:
        digest = store_report(pdf) if pdf else None
    except NotAPdf:
        return _page(form, rows, {"report": t["lab_pdf_bad"]}, {}, status=422)
    inspection = {k: data[k] for k in ("lab_gln", "gtin", "lot", "report_no", "sample_id", "standard", "verdict",
                                       "programme", "sampling_body")}
    inspection.update(date=data["date"].isoformat(), results=items, report_sha256=digest)
    # The inspection happened on its test date: noon there (China), never in the future, as a spreadsheet row of
    # the same report records it (app/imports.py), so both ways in give the same record.
    when = min(datetime.combine(data["date"], time(12), CHINA), datetime.now(UTC))
    event = inspection_event(data["lab_gln"], data["gtin"], data["lot"], data["verdict"], data["report_no"], when)
    job = events.CaptureJob(events.new_capture_id())
    normalised = normalise([event], "", context_prefixes(), job)
    try:
        if job.errors:
            raise GraphError(job.errors[0]["message"])
        quality.record_inspection(graph(), inspection, normalised[0][1], policy_for(current_user.principal),
                                  rule_settings())
    except Unavailable:
        raise
    except NotFound as exc:
        key = "lot" if exc.field == "lot" else "form"
        return _page(form, rows, {key: t["lab_no_lot"] if key == "lot" else exc.message}, {}, status=422)
    except Conflict:
        return _page(form, rows, {"report_no": t["lab_report_taken"]}, {}, status=409)
    except GraphError as exc:
        return _page(form, rows, {"form": f"{t['problem_refused']} ({exc.message})"}, {}, status=422)
    return redirect(url_for("work.lab", done=data["report_no"]), 303)
