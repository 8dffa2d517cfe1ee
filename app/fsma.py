"""FSMA 204 traceability records (21 CFR 1.1325-1.1350) from key data element rows: pure, no queries.

Each critical tracking event (CTE) has the key data elements (KDEs) its section of the rule lists, in the rule's
order (REQUIREMENTS). `records` turns the rows of graph/key_data.py (one per event and object) into one record per
CTE row, `gaps` lists the required elements a record lacks, and `workbook` writes the sortable spreadsheet of
§1.1455(c)(3)(ii): one sheet per CTE with exactly its KDE columns, plus a combined sheet of every record sortable by
lot, event and date. Dates are the event's own: its local date and time with the offset shown
(2026-10-05T07:00:00+08:00), never the UTC date.

A location description (§1.1310) is the business name, phone number and physical address of a place: it is
complete only when all three are known.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.styles import Font

from app.exports import local_time, neutral

# KDE id -> (English header, Chinese header).
KDES: dict[str, tuple[str, str]] = {
    "tlc": ("Traceability lot code", "可追溯批次代码"),
    "product": ("Product description", "产品描述"),
    "commodity": ("Commodity and variety", "商品及品种"),
    "quantity": ("Quantity", "数量"),
    "uom": ("Unit of measure", "计量单位"),
    "recipient": ("Location description of the immediate subsequent recipient", "直接下游接收方地点描述"),
    "source": ("Location description of the immediate previous source", "直接上游来源地点描述"),
    "farm": ("Location description of the farm where harvested", "收获农场地点描述"),
    "field": ("Field or other growing area", "地块或种植区域"),
    "harvest_date": ("Date of harvesting", "收获日期"),
    "harvester": ("Harvester business name and phone number", "收获者名称及电话"),
    "cooling_location": ("Location description where cooled", "冷却地点描述"),
    "cooling_date": ("Date of cooling", "冷却日期"),
    "received_commodity": ("Commodity and variety received", "接收商品及品种"),
    "received_date": ("Date received", "收货日期"),
    "received_quantity": ("Quantity received", "接收数量"),
    "received_uom": ("Unit of measure received", "接收计量单位"),
    "pack_location": ("Location description where initially packed (traceability lot code source)",
                      "初次包装地点描述(批次代码来源)"),
    "pack_date": ("Date of initial packing", "初次包装日期"),
    "trip": ("Harvest date range and locations of the trip", "捕捞航次日期范围及海域"),
    "landing_location": ("Location description of the first land-based receiver (traceability lot code source)",
                         "首次陆地接收方地点描述(批次代码来源)"),
    "landing_date": ("Date landed", "上岸日期"),
    "ship_location": ("Location description of the place shipped from", "发货地点描述"),
    "ship_date": ("Date shipped", "发货日期"),
    "receive_location": ("Location description where received", "收货地点描述"),
    "tlc_source": ("Location description of the traceability lot code source", "批次代码来源地点描述"),
    "input_tlc": ("Traceability lot code used", "所用原料批次代码"),
    "input_product": ("Product description of the food used", "所用原料产品描述"),
    "input_quantity": ("Quantity used", "所用数量"),
    "input_uom": ("Unit of measure used", "所用计量单位"),
    "new_tlc": ("New traceability lot code", "新批次代码"),
    "transform_location": ("Location description where transformed (traceability lot code source)",
                           "加工地点描述(批次代码来源)"),
    "transform_date": ("Date transformation was completed", "加工完成日期"),
    "doc_type": ("Reference document type", "参考文件类型"),
    "doc_number": ("Reference document number", "参考文件编号"),
}


@dataclass(frozen=True)
class Cte:
    """A critical tracking event: its section, names and required KDEs in the rule's order."""

    key: str
    section: str
    en: str
    zh: str
    kdes: tuple[tuple[str, str], ...]  # (KDE id, paragraph of the section)


# The rule's requirements, in its order. Aquacultured-food containers (§1.1325(a)(1)(vi), §1.1330(a)(6)) do not
# apply to the products this service traces (ginseng, rice, beef) and are left out.
REQUIREMENTS: tuple[Cte, ...] = (
    Cte("harvesting", "1.1325(a)", "Harvesting", "收获", (
        ("recipient", "(1)(i)"), ("commodity", "(1)(ii)"), ("quantity", "(1)(iii)"), ("uom", "(1)(iii)"),
        ("farm", "(1)(iv)"), ("field", "(1)(v)"), ("harvest_date", "(1)(vii)"), ("doc_type", "(1)(viii)"),
        ("doc_number", "(1)(viii)"), ("harvester", "(2)"))),
    Cte("cooling", "1.1325(b)", "Cooling", "冷却", (
        ("recipient", "(1)(i)"), ("commodity", "(1)(ii)"), ("quantity", "(1)(iii)"), ("uom", "(1)(iii)"),
        ("cooling_location", "(1)(iv)"), ("cooling_date", "(1)(v)"), ("doc_type", "(1)(vi)"),
        ("doc_number", "(1)(vi)"))),
    Cte("initial_packing", "1.1330(a)", "Initial packing", "初次包装", (
        ("received_commodity", "(1)"), ("received_date", "(2)"), ("received_quantity", "(3)"),
        ("received_uom", "(3)"), ("farm", "(4)"), ("field", "(5)"), ("harvester", "(7)"), ("harvest_date", "(8)"),
        ("cooling_location", "(9)"), ("cooling_date", "(10)"), ("tlc", "(11)"), ("product", "(12)"),
        ("quantity", "(13)"), ("uom", "(13)"), ("pack_location", "(14)"), ("pack_date", "(15)"),
        ("doc_type", "(16)"), ("doc_number", "(16)"))),
    Cte("first_land_based_receiving", "1.1335(a)", "First land-based receiving", "首次陆地接收", (
        ("tlc", "(1)"), ("product", "(2)"), ("quantity", "(3)"), ("uom", "(3)"), ("trip", "(4)"),
        ("landing_location", "(5)"), ("landing_date", "(6)"), ("doc_type", "(7)"), ("doc_number", "(7)"))),
    Cte("shipping", "1.1340(a)", "Shipping", "发货", (
        ("tlc", "(1)"), ("quantity", "(2)"), ("uom", "(2)"), ("product", "(3)"), ("recipient", "(4)"),
        ("ship_location", "(5)"), ("ship_date", "(6)"), ("tlc_source", "(7)"), ("doc_type", "(8)"),
        ("doc_number", "(8)"))),
    Cte("receiving", "1.1345(a)", "Receiving", "收货", (
        ("tlc", "(1)"), ("quantity", "(2)"), ("uom", "(2)"), ("product", "(3)"), ("source", "(4)"),
        ("receive_location", "(5)"), ("received_date", "(6)"), ("tlc_source", "(7)"), ("doc_type", "(8)"),
        ("doc_number", "(8)"))),
    Cte("transformation", "1.1350(a)", "Transformation", "加工转化", (
        ("input_tlc", "(1)(i)"), ("input_product", "(1)(ii)"), ("input_quantity", "(1)(iii)"),
        ("input_uom", "(1)(iii)"), ("new_tlc", "(2)(i)"), ("transform_location", "(2)(ii)"),
        ("transform_date", "(2)(iii)"), ("product", "(2)(iv)"), ("quantity", "(2)(v)"), ("uom", "(2)(v)"),
        ("doc_type", "(2)(vi)"), ("doc_number", "(2)(vi)"))),
)
BY_KEY = {c.key: c for c in REQUIREMENTS}

# bizStep -> CTE (a TransformationEvent is always a transformation). "landing" and "first_land_based_receiving"
# are this service's own steps: CBV has none for a catch's first receiver ashore.
STEP_CTE = {
    "harvesting": "harvesting", "slaughtering": "harvesting", "cooling": "cooling", "packing": "initial_packing",
    "landing": "first_land_based_receiving", "first_land_based_receiving": "first_land_based_receiving",
    "shipping": "shipping", "departing": "shipping", "receiving": "receiving", "arriving": "receiving",
}
# Columns of the combined sheet before each record's own KDEs (which follow as "KDE: value" pairs would not sort):
# the combined sheet has the union of all KDE columns, in the order they first appear in REQUIREMENTS.
COMBINED_LEAD = ("cte", "section", "event_time", "event_id")
_LEAD_NAMES = {"cte": ("Critical tracking event", "关键追溯事件"), "section": ("21 CFR section", "条款"),
               "event_time": ("Event time (local, with offset)", "事件时间(当地,含时区)"),
               "event_id": ("EPCIS event ID", "EPCIS事件标识")}


def cte_of(row: dict) -> str | None:
    """The FSMA CTE of a key data row, or None when its event is not a critical tracking event."""
    if row.get("event_type") == "TransformationEvent":
        return "transformation"
    return STEP_CTE.get(row.get("biz_step") or "")


def describe(place: dict | None) -> str:
    """A location description: name; address; phone; GLN (the parts known)."""
    if not place:
        return ""
    parts = [place.get("name"), place.get("address"), place.get("phone"),
             f"GLN {place['gln']}" if place.get("gln") else None]
    return "; ".join(p for p in parts if p)


def _complete(place: dict | None) -> bool:
    return bool(place and place.get("name") and place.get("address") and place.get("phone"))


def _product(row: dict) -> str:
    names = [n for n in (row.get("product_zh"), row.get("product_en")) if n]
    gtin = f"GTIN {row['gtin']}" if row.get("gtin") else ""
    return " / ".join(names) + (f" ({gtin})" if names and gtin else gtin)


def _docs(row: dict) -> tuple[str, str]:
    documents = row.get("documents") or []
    return ("; ".join(d.get("type") or "" for d in documents), "; ".join(d.get("id") or "" for d in documents))


def _when(row: dict) -> str:
    return local_time(_text_time(row.get("event_time")), row.get("event_time_zone_offset"))


def _text_time(value) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return value.isoformat()


def records(rows: Iterable[dict], places: dict[str, dict], fields: dict[str, str] | None = None) -> list[dict]:
    """One record per CTE row: {"cte", "section", "event_id", "event_time", "values": {KDE: text},
    "places": {KDE: GLN}} in time order.

    Args:
        rows: key data rows (graph.key_data), each an event's fields merged with one object's.
        places: GLN -> {"gln", "name", "address", "phone"} (location descriptions).
        fields: eventID -> the field or growing area its harvest names (ILMD).
    """
    rows = [r for r in rows if cte_of(r)]
    fields = fields or {}
    by_key: dict[str, list[dict]] = {}
    for r in rows:
        by_key.setdefault(r.get("key") or "", []).append(r)
    for same in by_key.values():
        same.sort(key=lambda r: _text_time(r.get("event_time")) or "")
    out = []
    done_transformations: set[str] = set()
    for r in rows:
        kind = cte_of(r)
        if kind == "transformation":
            if r.get("event_id") in done_transformations:
                continue
            done_transformations.add(r.get("event_id"))
            out += _transformation(r, rows, places)
            continue
        out.append(_record(kind, r, by_key.get(r.get("key") or "", []), places, fields))
    out.sort(key=lambda rec: (rec["event_time_utc"], rec["event_id"] or ""))
    return out


def _place_value(places: dict[str, dict], gln: str | None) -> tuple[str, dict | None]:
    place = places.get(gln) if gln else None
    if gln and not place:
        place = {"gln": gln}
    return describe(place), place


def _record(kind: str, r: dict, history: list[dict], places: dict[str, dict], fields: dict[str, str]) -> dict:
    when = _when(r)
    doc_type, doc_number = _docs(r)
    loc_gln = r.get("location_gln")
    if kind == "shipping" and not loc_gln:  # a shipment names its place or, failing that, its owning source
        loc_gln = (r.get("ship_from") or {}).get("gln")
    values: dict[str, str] = {
        "tlc": r.get("lot") or "", "product": _product(r), "commodity": _product(r),
        "quantity": r.get("quantity") if r.get("quantity") is not None else "", "uom": r.get("uom") or "",
        "doc_type": doc_type, "doc_number": doc_number,
    }
    glns: dict[str, str | None] = {}
    later = [h for h in history if (_text_time(h.get("event_time")) or "") >= (_text_time(r.get("event_time")) or "")]
    earlier = [h for h in history if (_text_time(h.get("event_time")) or "") <= (_text_time(r.get("event_time")) or "")]
    if kind in ("harvesting", "cooling"):
        shipment = next((h for h in later if cte_of(h) == "shipping" and h.get("ship_to")), None)
        glns["recipient"] = (shipment or {}).get("ship_to", {}).get("gln") if shipment else None
    if kind == "harvesting":
        glns["farm"] = loc_gln
        glns["harvester"] = loc_gln
        values["field"] = fields.get(r.get("event_id") or "", "")
        values["harvest_date"] = when
    if kind == "cooling":
        glns["cooling_location"] = loc_gln
        values["cooling_date"] = when
    if kind == "initial_packing":
        harvest = next((h for h in reversed(earlier) if cte_of(h) == "harvesting"), None)
        cooled = next((h for h in reversed(earlier) if cte_of(h) == "cooling"), None)
        received = next((h for h in reversed(earlier) if cte_of(h) == "receiving"), None) or harvest
        values.update(received_commodity=_product(received) if received else "",
                      received_date=_when(received) if received else "",
                      received_quantity=(received or {}).get("quantity") if received else "",
                      received_uom=(received or {}).get("uom") or "" if received else "",
                      field=fields.get((harvest or {}).get("event_id") or "", ""),
                      harvest_date=_when(harvest) if harvest else "",
                      cooling_date=_when(cooled) if cooled else "", pack_date=when)
        glns.update(farm=(harvest or {}).get("location_gln"), harvester=(harvest or {}).get("location_gln"),
                    cooling_location=(cooled or {}).get("location_gln"), pack_location=loc_gln)
    if kind == "first_land_based_receiving":
        glns["landing_location"] = loc_gln
        values["landing_date"] = when
        values["trip"] = fields.get(r.get("event_id") or "", "")
    if kind == "shipping":
        glns.update(recipient=(r.get("ship_to") or {}).get("gln"), ship_location=loc_gln,
                    tlc_source=r.get("tlc_source_gln"))
        values["ship_date"] = when
    if kind == "receiving":
        glns.update(source=(r.get("ship_from") or {}).get("gln"), receive_location=loc_gln,
                    tlc_source=r.get("tlc_source_gln"))
        values["received_date"] = when
    complete: dict[str, bool] = {}
    for kde, gln in glns.items():
        text, place = _place_value(places, gln)
        if kde == "harvester":
            text = "; ".join(p for p in ((place or {}).get("name"), (place or {}).get("phone")) if p)
            complete[kde] = bool(place and place.get("name") and place.get("phone"))
        else:
            complete[kde] = _complete(place)
        values[kde] = text
    return _finish(kind, r, values, complete)


def _transformation(r: dict, rows: list[dict], places: dict[str, dict]) -> list[dict]:
    same = [x for x in rows if x.get("event_id") == r.get("event_id")]
    inputs = [x for x in same if (x.get("role") or "").upper() == "INPUT"]
    outputs = [x for x in same if (x.get("role") or "").upper() == "OUTPUT"]
    doc_type, doc_number = _docs(r)
    text, place = _place_value(places, r.get("location_gln"))
    out = []
    for o in outputs:
        for i in inputs or [{}]:
            values = {
                "input_tlc": i.get("lot") or "", "input_product": _product(i) if i else "",
                "input_quantity": i.get("quantity") if i.get("quantity") is not None else "",
                "input_uom": i.get("uom") or "", "new_tlc": o.get("lot") or "", "transform_location": text,
                "transform_date": _when(r), "product": _product(o),
                "quantity": o.get("quantity") if o.get("quantity") is not None else "", "uom": o.get("uom") or "",
                "doc_type": doc_type, "doc_number": doc_number,
            }
            out.append(_finish("transformation", r, values, {"transform_location": _complete(place)}))
    return out


def _finish(kind: str, r: dict, values: dict, complete: dict[str, bool]) -> dict:
    cte = BY_KEY[kind]
    kept = {kde: values.get(kde, "") for kde, _ in cte.kdes}
    missing = [kde for kde, _ in cte.kdes if kept[kde] in ("", None) or complete.get(kde) is False]
    return {"cte": kind, "section": cte.section, "event_id": r.get("event_id"), "event_time": _when(r),
            "event_time_utc": _text_time(r.get("event_time")) or "", "values": kept,
            "missing": list(dict.fromkeys(missing))}


def gaps(recs: list[dict], lang: str = "en") -> list[dict]:
    """The required elements each record lacks (or whose location description lacks name, address or phone)."""
    out = []
    for rec in recs:
        if not rec["missing"]:
            continue
        cte = BY_KEY[rec["cte"]]
        paragraphs = dict(cte.kdes)
        out.append({
            "cte": rec["cte"], "section": f"21 CFR {cte.section}", "eventID": rec["event_id"],
            "eventTime": rec["event_time"],
            "traceabilityLotCode": rec["values"].get("tlc") or rec["values"].get("new_tlc") or "",
            "missing": [{"kde": k, "paragraph": f"§{cte.section}{paragraphs[k]}", "name": _header(k, lang)}
                        for k in rec["missing"]],
        })
    return out


def _header(kde: str, lang: str) -> str:
    names = KDES.get(kde) or _LEAD_NAMES[kde]
    return names[1] if lang == "zh" else names[0]


def headers(cte: Cte, lang: str = "en") -> list[str]:
    """A CTE sheet's headers, in the rule's order."""
    return [_header(k, lang) for k, _ in cte.kdes]


def combined_columns() -> list[str]:
    """The combined sheet's KDE columns: every KDE, in the order it first appears in REQUIREMENTS."""
    seen: dict[str, None] = {}
    for cte in REQUIREMENTS:
        for kde, _ in cte.kdes:
            seen.setdefault(kde, None)
    return list(seen)


def workbook(recs: list[dict], lang: str = "en") -> bytes:
    """The sortable spreadsheet: one sheet per CTE (its KDEs, in the rule's order) and a combined sheet."""
    wb = Workbook()
    combined = wb.active
    combined.title = "全部事件" if lang == "zh" else "All events"
    columns = combined_columns()
    combined.append([_header(k, lang) for k in COMBINED_LEAD] + [_header(k, lang) for k in columns])
    for rec in recs:
        cte = BY_KEY[rec["cte"]]
        combined.append([neutral(v) for v in (cte.zh if lang == "zh" else cte.en, f"21 CFR {cte.section}",
                                              rec["event_time"], rec["event_id"] or "")]
                        + [neutral(rec["values"].get(k, "")) for k in columns])
    for cte in REQUIREMENTS:
        sheet = wb.create_sheet((cte.zh if lang == "zh" else cte.en)[:31])
        sheet.append(headers(cte, lang))
        for rec in recs:
            if rec["cte"] == cte.key:
                sheet.append([neutral(rec["values"][k]) for k, _ in cte.kdes])
    for sheet in wb.worksheets:
        for cell in sheet[1]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "A2"
        if sheet.max_row >= 1 and sheet.max_column >= 1:
            sheet.auto_filter.ref = sheet.dimensions
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
