"""The console's lists: inspections, lots, parties, recall cases, with filters, sorting, paging, CSV and XLSX.

Each list is one query (graph/console.page); a download is the same query without paging (at most EXPORT_MAX rows)
with the columns the page shows, headed in the page's language. Text cells that a spreadsheet would read as a
formula are written as text (app/exports.neutral).
"""

from __future__ import annotations

import csv
import io
import json

from flask import Response, request
from openpyxl import Workbook

from app.exports import attachment, neutral
from app.extensions import graph
from app.schemas.products import CATEGORIES
from app.web.console import TEXT, bp, lang, render
from app.web.console.shaping import EXPORT_MAX, PAGE_SIZE, failed_items, list_args, parse_day, recovered_ratio
from app.web.console.trace_graph import local
from graph import alerts, consumer_reports, sampling_plans, supervision
from graph import console as store
from graph.alert_rules import KINDS, STATES
from graph.regions import name_of, valid_code
from graph.report_rules import STATES as REPORT_STATES
from graph.sampling_rules import PLAN_STATES
from graph.supervision_rules import PROGRAMMES as PROGRAMME_NAMES

EXPORT_PAGE = 200  # the largest page every module answers (sampling plans: 200)
CREDIT = ("normal", "watch", "blacklist")


def _name(row: dict, prefix: str, language: str) -> str:
    first, second = (f"{prefix}_en", f"{prefix}_zh") if language == "en" else (f"{prefix}_zh", f"{prefix}_en")
    return row.get(first) or row.get(second) or ""


def columns(name: str, language: str) -> list[tuple[str, object]]:
    """The columns of a list: (name, function of a row giving the cell's value)."""
    t = TEXT[language]

    def word(prefix: str, key: str | None) -> str:
        return t.get(f"{prefix}_{key}", key or "")

    if name == "inspections":
        return [("date", lambda r: r["date"]), ("report_no", lambda r: r["report_no"]),
                ("programme", lambda r: (PROGRAMME_NAMES.get(r["programme"]) or (r["programme"],) * 2)[
                    language == "en"]),
                ("product", lambda r: _name(r, "product", language)), ("lot", lambda r: r["lot"]),
                ("category", lambda r: word("cat", r["category"])),
                ("owner", lambda r: _name(r, "owner", language)),
                ("region", lambda r: _name(r, "region", language) or r["region_code"]),
                ("lab", lambda r: _name(r, "lab", language)), ("verdict", lambda r: word("verdict", r["verdict"])),
                ("failed_items", lambda r: "; ".join(failed_items(_results(r["results"]))))]
    if name == "lots":
        return [("product", lambda r: _name(r, "product", language)), ("lot", lambda r: r["lot"]),
                ("gtin", lambda r: r["gtin"]), ("category", lambda r: word("cat", r["category"])),
                ("owner", lambda r: _name(r, "owner", language)), ("region", lambda r: r["region_zh"] or r["region"]),
                ("quantity", lambda r: r["quantity"]), ("unit", lambda r: r["unit"]),
                ("production_date", lambda r: r["production_date"]), ("status", lambda r: word("status", r["status"]))]
    if name == "parties":
        return [("party", lambda r: _name(r, "name", language)), ("gln", lambda r: r["gln"]),
                ("roles", lambda r: ", ".join(word("role", x) for x in r["roles"] or [])),
                ("region", lambda r: _name(r, "region", language) or r["region_code"]),
                ("contact", lambda r: " ".join(x for x in (r["contact_name"], r["contact_phone"]) if x)),
                ("credit", lambda r: word("credit", r["credit_status"])),
                ("address", lambda r: r["address_zh"])]
    if name == "plans":
        return [("created_at", lambda r: local(r["created_at"])), ("plan_title", lambda r: r["title"]),
                ("categories", lambda r: ", ".join(word("cat", c) for c in r["categories"] or [])),
                ("region", lambda r: name_of(r["region_code"], language) or r["region_code"]),
                ("target_count", lambda r: r["target_count"]), ("state", lambda r: word("pstate", r["state"])),
                ("seed", lambda r: r["seed"]), ("drawn_at", lambda r: local(r["drawn_at"])),
                ("plan_id", lambda r: r["plan_id"])]
    if name == "reports":
        return [("created_at", lambda r: local(r["created_at"])), ("report_no", lambda r: r["report_no"]),
                ("state", lambda r: word("rstate", r["state"])), ("report_text", lambda r: r["text"]),
                ("code", lambda r: r["code"]), ("phone", lambda r: r["phone"]),
                ("reward", lambda r: t["yes"] if r["reward"] else "")]
    if name == "alerts":
        return [("raised_at", lambda r: local(r["raised_at"])), ("kind", lambda r: word("kind", r["kind"])),
                ("state", lambda r: word("state", r["state"])), ("alert_summary", lambda r: r["summary"]),
                ("region", lambda r: name_of(r["region"], language) or r["region"]),
                ("owner_person", lambda r: r["owner"]), ("alert_id", lambda r: r["alert_id"])]
    return [("recall_id", lambda r: r["recall_id"]), ("level", lambda r: r["level"]),
            ("reason", lambda r: r["reason"]), ("status", lambda r: word("status", r["status"])),
            ("opened_at", lambda r: local(r["opened_at"])), ("complete_by", lambda r: local(r["complete_by"])),
            ("affected", lambda r: r["affected_count"]), ("holders_acked", lambda r: f"{r['acked']}/{r['holders']}"),
            ("effectiveness", lambda r: _ratio(r))]


def _results(value):
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return []
    return value or []


def _ratio(row: dict) -> str:
    eff = recovered_ratio(row["held"], row["recovered"])
    return "" if eff["ratio"] is None else f"{eff['ratio'] * 100:.0f}%"


# The lists the supervision module answers (graph/supervision.py, graph/alerts.py), with their filters and sorts.
FILTERS = {**store.FILTERS, "inspections": ("from", "to", "verdict", "category", "region", "programme"),
           "alerts": ("state", "kind", "region"), "reports": ("rstate", "reward"), "plans": ("pstate",)}
SORTS = {**store.SORTS, "inspections": ("date", "report_no", "verdict", "programme", "category", "region"),
         "alerts": ("raised_at", "kind", "state"), "reports": ("created_at",), "plans": ("created_at",)}


def _filters(name: str) -> dict:
    raw = {k: (request.args.get(k) or "").strip()[:80] or None for k in FILTERS[name]}
    if "from" in raw:
        raw["from"], raw["to"] = parse_day(raw["from"]), parse_day(raw["to"])
    if raw.get("region") and not valid_code(raw["region"]):
        raw["region"] = None
    if name == "recalls" and raw.get("level"):
        raw["level"] = int(raw["level"]) if raw["level"] in ("1", "2", "3") else None
    if raw.get("programme") and raw["programme"] not in PROGRAMME_NAMES:
        raw["programme"] = None
    if raw.get("category") and raw["category"] not in CATEGORIES:
        raw["category"] = None
    if name == "parties":
        raw["credit"] = raw["credit"] if raw["credit"] in CREDIT else None
    if name == "plans":
        raw["pstate"] = raw["pstate"] if raw["pstate"] in PLAN_STATES else None
    if name == "reports":
        raw["rstate"] = raw["rstate"] if raw["rstate"] in REPORT_STATES else None
        raw["reward"] = {"yes": True, "no": False}.get(raw["reward"] or "")
    if name == "alerts":
        raw["state"] = raw["state"] if raw["state"] in STATES else None
        raw["kind"] = raw["kind"] if raw["kind"] in KINDS else None
    return raw


def fetch(name: str, filters: dict, sort: str, desc: bool, skip: int, limit: int) -> dict:
    """One page of a list and its total: {total, rows} (one query, whichever module answers it)."""
    if name == "inspections":
        found = supervision.list_inspections(
            graph(), {"programme": filters["programme"], "category": filters["category"],
                      "region": filters["region"], "date_from": filters["from"], "date_to": filters["to"],
                      "verdict": filters["verdict"] if filters["verdict"] in ("pass", "fail") else None},
            page=skip // limit + 1, per_page=limit, sort=("-" if desc else "") + sort)
        return {"total": found["total"], "rows": found["items"]}
    if name == "alerts":
        found = alerts.list_alerts(graph(), state=filters["state"], kind=filters["kind"], region=filters["region"],
                                   page=skip // limit + 1, per_page=limit,
                                   sort="-raised_at" if sort == "raised_at" and desc else sort)
        return {"total": found["total"], "rows": found["items"]}
    if name == "plans":
        found = sampling_plans.list_plans(graph(), state=filters["pstate"], page=skip // limit + 1,
                                          per_page=min(limit, 200))
        return {"total": found["total"], "rows": found["items"]}
    if name == "reports":
        # the consumer reports' queue answers newest first only (graph/consumer_reports.list_reports)
        found = consumer_reports.list_reports(graph(), state=filters["rstate"], reward=filters["reward"],
                                              page=skip // limit + 1, per_page=limit)
        return {"total": found["total"], "rows": found["items"]}
    return store.page(graph(), name, filters, sort, desc, skip, limit)


@bp.route("/<any(inspections, lots, parties, recalls, alerts, reports, plans):name>")
def list_page(name: str):
    """A list with its filters, sort and page; ?format=csv or xlsx downloads every row the filters keep."""
    language = lang()
    filters = _filters(name)
    args = list_args(request.args, SORTS[name], default_desc=name not in ("parties",))
    fmt = request.args.get("format")
    cols = columns(name, language)
    if fmt in ("csv", "xlsx"):
        # graph/console's lists read every row in one query; the other modules page (at most 200-500 rows a page)
        step = EXPORT_MAX if name in store.LISTS else EXPORT_PAGE
        found = {"rows": []}
        while len(found["rows"]) < EXPORT_MAX:
            part = fetch(name, filters, args["sort"], args["desc"], len(found["rows"]), step)
            found["rows"] += part["rows"]
            if len(part["rows"]) < step:
                break
        header = [TEXT[language][f"col_{c}"] for c, _ in cols]
        table = [[cell(r) for _, cell in cols] for r in found["rows"]]
        body = to_csv(header, table) if fmt == "csv" else to_xlsx(header, table, TEXT[language][f"list_{name}"])
        mimetype = "text/csv; charset=utf-8" if fmt == "csv" else (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        response = Response(body, mimetype=mimetype)
        response.headers["Content-Disposition"] = attachment(f"{name}.{fmt}")
        return response
    found = fetch(name, filters, args["sort"], args["desc"], args["skip"], args["limit"])
    pages = max(1, -(-found["total"] // PAGE_SIZE))
    return render("console/list.html", list_name=name, rows=found["rows"], total=found["total"], cols=cols,
                  args=args, pages=pages, filters={k: request.args.get(k, "") for k in FILTERS[name]},
                  sorts=SORTS[name], categories=CATEGORIES, programmes=tuple(PROGRAMME_NAMES),
                  programme_names=PROGRAMME_NAMES, states=STATES, kinds=KINDS, credits=CREDIT,
                  report_states=REPORT_STATES, plan_states=PLAN_STATES)


def to_csv(header: list[str], table: list[list]) -> bytes:
    """Rows as CSV in UTF-8 with a byte-order mark (spreadsheet programs then read Chinese names)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(header)
    for row in table:
        writer.writerow([neutral(v) for v in row])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(header: list[str], table: list[list], title: str) -> bytes:
    """Rows as an XLSX workbook (one sheet, the header in the first row)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title=title[:31])
    sheet.append(header)
    for row in table:
        sheet.append([neutral(v) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
