"""Sortable traceability spreadsheets (CSV, XLSX) and EPCIS documents built from plain rows: no queries here.

The columns follow the FSMA 204 key data elements and the Produce Traceability Initiative: traceability lot
code (TLC), product, quantity and unit, ship-from/ship-to (name + GLN), dates, the critical tracking event,
reference documents and the TLC source.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

CONTEXT = ["https://ref.gs1.org/standards/epcis/epcis-context.jsonld"]

# (header, function of a row) in sheet order
COLUMNS = (
    ("Traceability Lot Code", lambda r: r.get("lot") or ""),
    ("GTIN", lambda r: r.get("gtin") or ""),
    ("Product Description", lambda r: _product(r)),
    ("Quantity", lambda r: r.get("quantity") if r.get("quantity") is not None else (1 if r.get("kind") in (
        "item", "sscc") else "")),
    ("Unit of Measure", lambda r: r.get("uom") or ("EA" if r.get("kind") in ("item", "sscc") else
                                                   r.get("lot_unit") or "")),
    ("Critical Tracking Event", lambda r: cte(r)),
    ("Event Date", lambda r: (r.get("event_time") or "")[:10]),
    ("Event Time (UTC)", lambda r: r.get("event_time") or ""),
    ("Location GLN", lambda r: r.get("location_gln") or ""),
    ("Location Name", lambda r: r.get("location_name") or ""),
    ("Ship-From GLN", lambda r: (r.get("ship_from") or {}).get("gln") or ""),
    ("Ship-From Name", lambda r: _name(r.get("ship_from"))),
    ("Ship-To GLN", lambda r: (r.get("ship_to") or {}).get("gln") or ""),
    ("Ship-To Name", lambda r: _name(r.get("ship_to"))),
    ("Reference Document Type", lambda r: "; ".join(d.get("type") or "" for d in r.get("documents") or [])),
    ("Reference Document Number", lambda r: "; ".join(d["id"] for d in r.get("documents") or [])),
    ("TLC Source GLN", lambda r: r.get("tlc_source_gln") or ""),
    ("TLC Source Name", lambda r: r.get("tlc_source_name") or ""),
    ("Serial", lambda r: r.get("serial") or ""),
    ("SSCC", lambda r: r.get("sscc") or ""),
    ("Role", lambda r: (r.get("role") or "").lower()),
    ("Disposition", lambda r: r.get("disposition") or ""),
    ("EPCIS Event Type", lambda r: r.get("event_type") or ""),
    ("Event ID", lambda r: r.get("event_id") or ""),
)
HEADERS = tuple(h for h, _ in COLUMNS)

_CTE = {
    "harvesting": "Harvesting",
    "slaughtering": "Harvesting",
    "cooling": "Cooling",
    "packing": "Initial Packing",
    "commissioning": "Initial Packing",
    "shipping": "Shipping",
    "departing": "Shipping",
    "receiving": "Receiving",
    "arriving": "Receiving",
}


def cte(row: dict) -> str:
    """Name the FSMA 204 critical tracking event of a row (its EPCIS type and business step)."""
    if row.get("event_type") == "TransformationEvent":
        return "Transformation"
    step = row.get("biz_step") or ""
    return _CTE.get(step, step.replace("_", " ").capitalize() or (row.get("event_type") or ""))


def _name(party: dict | None) -> str:
    if not party:
        return ""
    return party.get("name_zh") or party.get("name_en") or ""


def _product(row: dict) -> str:
    names = [n for n in (row.get("product_zh"), row.get("product_en")) if n]
    return " / ".join(names)


def table(rows: list[dict]) -> list[list]:
    """Return the spreadsheet body: one list of cell values per row, in COLUMNS order."""
    return [[get(r) for _, get in COLUMNS] for r in rows]


def to_csv(rows: list[dict]) -> bytes:
    """Return the rows as CSV in UTF-8 with a byte-order mark (so spreadsheet programs read Chinese names)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(HEADERS)
    writer.writerows(table(rows))
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def to_xlsx(rows: list[dict], title: str = "Traceability") -> bytes:
    """Return the rows as an XLSX workbook: bold frozen header, filter and sort on every column."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=title[:31])
    ws.freeze_panes = "A2"
    body = table(rows)
    widths = [len(h) for h in HEADERS]
    for values in body[:500]:  # a sample is enough to size columns
        for i, v in enumerate(values):
            widths[i] = max(widths[i], min(48, len(str(v))))
    for i, w in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = w + 2
    ws.auto_filter.ref = f"A1:{get_column_letter(len(HEADERS))}{len(body) + 1}"
    bold = Font(bold=True)
    header = []
    for h in HEADERS:
        cell = WriteOnlyCell(ws, value=h)
        cell.font = bold
        header.append(cell)
    ws.append(header)
    for values in body:
        ws.append(values)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def epcis_document(events: list[dict], created: datetime | None = None) -> dict:
    """Wrap captured events in an EPCIS 2.0 EPCISDocument."""
    created = created or datetime.now(UTC)
    return {
        "@context": CONTEXT,
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": created.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "epcisBody": {"eventList": events},
    }
