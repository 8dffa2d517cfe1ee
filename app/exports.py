"""Sortable traceability spreadsheets (CSV, XLSX) and EPCIS documents built from plain rows: no queries here.

The columns follow the FSMA 204 key data elements and the Produce Traceability Initiative: traceability lot
code (TLC), product, quantity and unit, ship-from/ship-to (name + GLN), dates, the critical tracking event,
reference documents and the TLC source.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import quote

from graph.key_data import OBJECT_FIELDS
from gs1.epcis import wire_event
from gs1.event_builders import RECALL_NS

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
    ("Event Date", lambda r: local_time(r.get("event_time"), r.get("event_time_zone_offset"))[:10]),
    ("Event Time (local)", lambda r: local_time(r.get("event_time"), r.get("event_time_zone_offset"))),
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

# FSMA 204 critical tracking events by bizStep. A lot's origin event says what it was: "harvesting" (or
# "slaughtering") is a harvest; "commissioning" only says that an identity was assigned, which is neither a harvest
# nor an initial packing (packing is "packing"), so it is named as it is, not as a CTE it may not be.
_CTE = {
    "harvesting": "Harvesting",
    "slaughtering": "Harvesting",
    "cooling": "Cooling",
    "packing": "Initial Packing",
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


def local_time(event_time: str | None, offset: str | None) -> str:
    """Return an event's time as the clock read where it happened (its eventTimeZoneOffset), offset shown.

    ``event_time`` is the stored instant as ISO text ("2026-10-04T23:00:00Z"); ``offset`` "+08:00" gives
    "2026-10-05T07:00:00+08:00", so the date (its first ten characters) is the event's own local date, which
    FSMA 204 asks for. Without a readable offset the time stays in UTC ("+00:00").
    """
    if not event_time:
        return ""
    try:
        instant = datetime.fromisoformat(event_time)
    except ValueError:
        return event_time
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return instant.astimezone(_zone(offset)).isoformat()


def _zone(offset: str | None) -> timezone:
    if offset and len(offset) == 6 and offset[0] in "+-" and offset[3] == ":":
        try:
            minutes = int(offset[1:3]) * 60 + int(offset[4:6])
            if minutes < 24 * 60:
                return timezone(timedelta(minutes=-minutes if offset[0] == "-" else minutes))
        except ValueError:
            pass
    return UTC


def _name(party: dict | None) -> str:
    if not party:
        return ""
    return party.get("name_zh") or party.get("name_en") or ""


def _product(row: dict) -> str:
    names = [n for n in (row.get("product_zh"), row.get("product_en")) if n]
    return " / ".join(names)


def table(rows: Iterable[dict]) -> list[list]:
    """Return the spreadsheet body: one list of cell values per row, in COLUMNS order."""
    out = []
    for event, objects in _groups(rows):
        ev = _event_values(event)
        mid, tail = ev[:_MID], ev[_MID:]
        for obj in objects:
            o = _object_values(obj)
            out.append(o[:_HEAD] + mid + o[_HEAD:] + tail)
    return out


# Columns of the event (the same for every object an event lists) and of the object, in sheet order:
# sheet = object[:_HEAD] + event[:_MID] + object[_HEAD:] + event[_MID:].
_HEAD, _MID = 5, 11
_OBJECT_COLUMNS = (0, 1, 2, 3, 4, 16, 17, 18, 19, 20)
_EVENT_COLUMNS = (5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 21, 22, 23)


def _groups(rows: Iterable[dict]) -> Iterable[tuple[dict, Sequence[tuple]]]:
    """(event fields, [object fields as OBJECT_FIELDS tuples, ...]) pairs: rows grouped by event (as
    graph.key_data.KeyDataRows keeps them), else each row alone (its own event, and its object's fields)."""
    groups = getattr(rows, "groups", None)
    if groups is not None:
        return groups
    return ((r, (tuple(r.get(f) for f in OBJECT_FIELDS),)) for r in rows)


def _object_values(t: tuple) -> list:
    """The object's cells (_OBJECT_COLUMNS) of a row, from its OBJECT_FIELDS tuple, in one function (a 10,000-lot
    recall sheet has 30,000 rows)."""
    role, quantity, uom, _, kind, gtin, lot, serial, sscc, lot_unit, name_zh, name_en, _, tlc_gln, tlc_name = t
    counted = kind in ("item", "sscc")
    return [
        lot or "", gtin or "", f"{name_zh} / {name_en}" if name_zh and name_en else name_zh or name_en or "",
        quantity if quantity is not None else (1 if counted else ""),
        uom or ("EA" if counted else lot_unit or ""),
        tlc_gln or "", tlc_name or "", serial or "", sscc or "", (role or "").lower(),
    ]


def _event_values(r: dict) -> list:
    """The event's cells (_EVENT_COLUMNS) of a row."""
    g = r.get
    event_time = local_time(g("event_time"), g("event_time_zone_offset"))
    ship_from, ship_to = g("ship_from") or {}, g("ship_to") or {}
    documents = g("documents") or []
    return [
        cte(r), event_time[:10], event_time, g("location_gln") or "", g("location_name") or "",
        ship_from.get("gln") or "", _name(ship_from), ship_to.get("gln") or "", _name(ship_to),
        "; ".join(d.get("type") or "" for d in documents), "; ".join(d["id"] for d in documents),
        g("disposition") or "", g("event_type") or "", g("event_id") or "",
    ]


# A cell a spreadsheet program would read as a formula (OWASP "CSV injection"): GS1 lot codes may hold = + -, and
# names, documents and notes are whatever a party typed. Such text cells are written as text: in CSV with a leading
# apostrophe (which Excel and LibreOffice hide and keep as "text"), in XLSX with the cell style quotePrefix, so the
# stored value stays exactly the lot code. Numbers are never strings here, so they stay numeric.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutral(value: object) -> object:
    """Return a cell value a spreadsheet will not evaluate: text starting like a formula gets a leading quote."""
    if value.__class__ is str and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _neutral_row(values: list) -> list:
    return [neutral(v) for v in values]


def to_csv(rows: Iterable[dict]) -> bytes:
    """Return the rows as CSV in UTF-8 with a byte-order mark (so spreadsheet programs read Chinese names).

    Text cells that would start a formula are prefixed with an apostrophe (see FORMULA_START).
    """
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(HEADERS)
    for event, objects in _groups(rows):
        ev = _neutral_row(_event_values(event))  # once per event, not once per object it lists
        mid, tail = ev[:_MID], ev[_MID:]
        for obj in objects:
            o = _neutral_row(_object_values(obj))
            writer.writerow(o[:_HEAD] + mid + o[_HEAD:] + tail)
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def attachment(filename: str) -> str:
    """Return a Content-Disposition value for a download named ``filename`` (RFC 6266).

    A lot code may hold quotes, semicolons, non-ASCII or control characters: the plain ``filename`` is an ASCII
    fallback with every other character replaced by ``_``, and ``filename*`` carries the exact name, UTF-8 and
    percent-encoded, so no value can end the header parameter or add one.
    """
    fallback = re.sub(r"[^A-Za-z0-9._-]", "_", filename) or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


# A minimal SpreadsheetML package written directly: openpyxl (even write-only) spends ~0.2 ms a row, which is
# two seconds for a 10,000-lot recall; these parts and inline strings are what Excel, LibreOffice and openpyxl need.
_XLSX_STATIC = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        '</Types>'),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
        'Target="xl/workbook.xml"/></Relationships>'),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
        'Target="worksheets/sheet1.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
        'Target="styles.xml"/></Relationships>'),
    "xl/styles.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
        '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        '<cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
        '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" quotePrefix="1"/></cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        '</styleSheet>'),
}
# Characters XML 1.0 cannot carry at all (C0 controls but tab/newline/return): dropped, never escaped.
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _col(n: int) -> str:
    """Column letters of a 0-based index (0 -> A, 26 -> AA)."""
    out = ""
    n += 1
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


def _xml_text(value: str) -> str:
    text = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _XML_BAD.sub("", text) if _XML_BAD.search(text) else text


_ROW = "\x00"  # stands for a row's number inside its cells: XML-illegal, so no cleaned text contains it


def _cell(col: str, v: object) -> str:
    """One non-empty cell, with _ROW for its row number: an inline string, a boolean or a plain number."""
    if isinstance(v, str):
        t = _xml_text(v)
        # style 2 (quotePrefix): text that looks like a formula stays text even when a person edits the cell
        style = ' s="2"' if v.startswith(FORMULA_START) else ""
        if t[:1].isspace() or t[-1:].isspace():
            return f'<c r="{col}{_ROW}"{style} t="inlineStr"><is><t xml:space="preserve">{t}</t></is></c>'
        return f'<c r="{col}{_ROW}"{style} t="inlineStr"><is><t>{t}</t></is></c>'
    if isinstance(v, bool):
        return f'<c r="{col}{_ROW}" t="b"><v>{int(v)}</v></c>'
    return f'<c r="{col}{_ROW}"><v>{v!r}</v></c>'


class _Cells:
    """Renders the cells of some columns, each text rendered once per column (a recall's 30,000 rows name a few
    products, places and events: most cells are repeats)."""

    __slots__ = ("cols", "caches")

    def __init__(self, cols: list[str]):
        self.cols = cols
        self.caches: list[dict[str, str]] = [{} for _ in cols]

    def render(self, values: list) -> str:
        out = []
        for col, cache, v in zip(self.cols, self.caches, values, strict=True):
            if v.__class__ is str:
                if v:
                    cell = cache.get(v)
                    if cell is None:
                        if len(cache) >= 20_000:  # unique texts (serials, event IDs) do not pile up
                            cache.clear()
                        cell = cache[v] = _cell(col, v)
                    out.append(cell)
            elif v is not None:
                out.append(_cell(col, v))
        return "".join(out)


def _sheet_rows(rows: Iterable[dict], cols: list[str]) -> Iterator[str]:
    """The <row> elements: inline strings (no shared-string table to build) and plain numbers; an event's cells
    are rendered once for all the objects it lists."""
    header = "".join(f'<c r="{c}1" t="inlineStr" s="1"><is><t>{_xml_text(h)}</t></is></c>'
                     for c, h in zip(cols, HEADERS, strict=True))
    yield f'<row r="1">{header}</row>'
    obj_cols = [cols[i] for i in _OBJECT_COLUMNS]
    ev_cols = [cols[i] for i in _EVENT_COLUMNS]
    lot, product, rest = _Cells(obj_cols[:1]), _Cells(obj_cols[1:_HEAD]), _Cells(obj_cols[_HEAD:])
    ev_mid, ev_tail = _Cells(ev_cols[:_MID]), _Cells(ev_cols[_MID:])
    # an object's cells but its lot code mostly repeat (product, quantity, unit, source, role): rendered once
    # per combination; the quantity's type is part of it (20 and 20.0 are equal keys, not equal cells)
    parts: dict[tuple, tuple[str, str]] = {}
    lots: dict[str, str] = {}
    n = 2
    for event, objects in _groups(rows):
        ev = _event_values(event)
        mid = ev_mid.render(ev[:_MID])
        tail = ev_tail.render(ev[_MID:]) + "</row>"
        for obj in objects:
            o = _object_values(obj)
            key = (*o[1:], o[3].__class__)
            cells = parts.get(key)
            if cells is None:
                if len(parts) >= 20_000:
                    parts.clear()
                cells = parts[key] = (product.render(o[1:_HEAD]), rest.render(o[_HEAD:]))
            lot_cell = lots.get(o[0])  # a lot is listed by each of its few events: rendered once
            if lot_cell is None:
                if len(lots) >= 20_000:
                    lots.clear()
                lot_cell = lots[o[0]] = lot.render(o[:1])
            row = f'<row r="{_ROW}">{lot_cell}{cells[0]}{mid}{cells[1]}{tail}'
            yield row.replace(_ROW, str(n))
            n += 1


def to_xlsx(rows: Sequence[dict], title: str = "Traceability") -> bytes:
    """Return the rows as an XLSX workbook: bold frozen header, filter and sort on every column.

    Written as SpreadsheetML directly (a zip of XML parts) in one pass over the rows.
    """
    cols = [_col(i) for i in range(len(HEADERS))]
    widths = [len(h) for h in HEADERS]
    for values in table(_first_rows(rows, 500)):  # a sample is enough to size columns
        for i, v in enumerate(values):
            widths[i] = max(widths[i], min(48, len(str(v))))
    last = f"{cols[-1]}{len(rows) + 1}"
    name = _xml_text(re.sub(r"[\\/?*\[\]:]", "_", title)[:31] or "Sheet1").replace('"', "&quot;")
    workbook = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        f'<sheets><sheet name="{name}" sheetId="1" r:id="rId1"/></sheets>'
        f'<definedNames><definedName name="_xlnm._FilterDatabase" localSheetId="0" hidden="1">'
        f"'{name.replace(chr(39), chr(39) * 2)}'!$A$1:${cols[-1]}${len(rows) + 1}</definedName></definedNames>"
        '</workbook>')
    head = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f'<dimension ref="A1:{last}"/>'
        '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" '
        'state="frozen"/><selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
        '<sheetFormatPr defaultRowHeight="15"/><cols>'
        + "".join(f'<col min="{i}" max="{i}" width="{w + 2}" customWidth="1"/>' for i, w in enumerate(widths, 1))
        + "</cols><sheetData>")
    tail = f'</sheetData><autoFilter ref="A1:{last}"/></worksheet>'
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        for part, text in _XLSX_STATIC.items():
            z.writestr(part, text)
        z.writestr("xl/workbook.xml", workbook)
        with z.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(head.encode())
            chunk: list[str] = []
            for row in _sheet_rows(rows, cols):
                chunk.append(row)
                if len(chunk) >= 1000:
                    sheet.write("".join(chunk).encode())
                    chunk.clear()
            sheet.write(("".join(chunk) + tail).encode())
    return out.getvalue()


def _first_rows(rows: Iterable[dict], n: int) -> list[dict]:
    out = []
    for event, objects in _groups(rows):
        for obj in objects[:n - len(out)]:
            out.append({**event, **dict(zip(OBJECT_FIELDS, obj, strict=True))})
        if len(out) >= n:
            break
    return out


# Prefixes the GS1 EPCIS 2.0 context itself defines (an export need not repeat them), and this service's own
# extension namespaces (demo and producer ILMD use tg:, recall events tracegraph:).
STANDARD_PREFIXES = frozenset({"cbv", "gs1", "epcis", "cbvmda", "xsd", "rdf", "rdfs", "owl", "dcterms", "sh",
                               "schema", "dc", "gs1voc"})
OWN_NAMESPACES = {"tg": "https://tracegraph.example.cn/ns#", "tracegraph": RECALL_NS}
_MDA = "urn:epcglobal:cbv:mda#"


def used_prefixes(node: object) -> set[str]:
    """The CURIE prefixes an event's field names use (``tg:plot`` -> ``tg``), at any depth."""
    found: set[str] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                prefix, sep, rest = key.partition(":")
                if sep and prefix and not rest.startswith("//") and not key.startswith("@"):
                    found.add(prefix)
                stack.append(value)
        elif isinstance(item, list):
            stack += item
    return found


def location_vocabulary(parties: Iterable[dict] | dict[str, dict]) -> list[dict]:
    """EPCIS master data (epcisHeader.epcisMasterData) for the parties' main locations: name, address, region.

    ``parties`` are party records, or a trace answer's GLN -> record map.
    """
    from gs1.identifiers import Ref

    elements = []
    records = parties.values() if isinstance(parties, dict) else parties
    for party in sorted(records, key=lambda p: p.get("gln") or ""):
        if not party.get("gln"):
            continue
        attributes = [{"id": f"{_MDA}{name}", "attribute": party[field]}
                      for name, field in (("name", "name_zh"), ("name", "name_en"), ("streetAddressOne", "address_zh"),
                                          ("city", "region_zh"))
                      if party.get(field)]
        elements.append({"id": Ref("location", gln=party["gln"]).digital_link(), "attributes": attributes})
    return [{"type": "urn:epcglobal:epcis:vtype:BusinessLocation", "vocabularyElementList": elements}] \
        if elements else []


def epcis_document(events: list[dict], created: datetime | None = None, prefixes: dict[str, str] | None = None,
                   parties: Iterable[dict] | dict[str, dict] = ()) -> dict:
    """Wrap captured events in an EPCIS 2.0 EPCISDocument with an epcisHeader (the places' master data), declaring
    in @context every extension prefix the events use: from ``prefixes`` (what the events' own documents declared)
    or this service's own namespaces."""
    created = created or datetime.now(UTC)
    declared = {}
    for prefix in sorted(used_prefixes(events) - STANDARD_PREFIXES):
        namespace = (prefixes or {}).get(prefix) or OWN_NAMESPACES.get(prefix)
        if namespace:
            declared[prefix] = namespace
    return {
        "@context": CONTEXT + ([declared] if declared else []),
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": created.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        "epcisHeader": {"epcisMasterData": {"vocabularyList": location_vocabulary(parties)}},
        "epcisBody": {"eventList": [wire_event(e) for e in events]},
    }
