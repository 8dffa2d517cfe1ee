"""The spreadsheet writers: the XLSX we write ourselves reads back in openpyxl cell for cell, CSV likewise."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from app import exports


def _rows(n: int) -> list[dict]:
    out = []
    for i in range(n):
        out.append({
            "lot": f"LOT-{i:05d}", "gtin": "06901234567892", "product_zh": "长白山人参", "product_en": "Ginseng & <co>",
            "quantity": [12, 2.5, None, 0][i % 4], "uom": "KGM", "kind": ["lot", "item", "sscc", "lot"][i % 4],
            "event_type": "ObjectEvent" if i % 3 else "TransformationEvent", "biz_step": "shipping",
            "event_time": f"2026-09-{1 + i % 28:02d}T08:00:00Z", "location_gln": "6901234000017",
            "location_name": "抚松县参场\x01" if i == 1 else " leading space",
            "ship_from": {"gln": "6901234000017", "name_zh": "参场"}, "ship_to": None,
            "documents": [{"type": "po", "id": f"PO-{i}"}, {"type": "desadv", "id": "D\"1'"}],
            "tlc_source_gln": "6901234000017", "tlc_source_name": "抚松", "serial": None, "sscc": None,
            "role": "OBJECT", "disposition": "in_transit", "event_id": f"urn:uuid:{i}",
        })
    return out


def _expected(rows: list[dict]) -> list[list]:
    return [[None if v == "" else (v.replace("\x01", "") if isinstance(v, str) else v) for v in r]
            for r in exports.table(rows)]


def test_xlsx_reads_back_in_openpyxl_with_the_same_cells():
    rows = _rows(1200)
    wb = load_workbook(io.BytesIO(exports.to_xlsx(rows, "RC-20260901-ABCDEF12")))
    ws = wb.active
    assert ws.title == "RC-20260901-ABCDEF12"
    got = [list(r) for r in ws.iter_rows(values_only=True)]
    assert got[0] == list(exports.HEADERS)
    assert got[1:] == _expected(rows)
    assert ws["A1"].font.b is True and ws["A2"].font.b is not True
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:X{len(rows) + 1}"


def test_xlsx_of_no_rows_is_a_header_only_sheet():
    ws = load_workbook(io.BytesIO(exports.to_xlsx([], "Trace: a/b"))).active
    assert [list(r) for r in ws.iter_rows(values_only=True)] == [list(exports.HEADERS)]
    assert ws.title == "Trace_ a_b"


def test_csv_has_the_same_rows():
    rows = _rows(50)
    text = exports.to_csv(rows).decode("utf-8-sig")
    got = list(csv.reader(io.StringIO(text)))
    assert got[0] == list(exports.HEADERS)
    assert got[1:] == [["" if v is None else str(v) for v in r] for r in exports.table(rows)]


def test_the_fast_row_builder_equals_the_column_definitions():
    rows = _rows(40) + [{}, {"kind": "item"}, {"kind": "lot", "lot_unit": "KGM", "quantity": 0}]
    assert exports.table(rows) == [[get(r) for _, get in exports.COLUMNS] for r in rows]


def test_dates_and_times_are_the_events_own_local_ones():
    """FSMA 204 dates are the event's own: a harvest at 07:00 on 5 October in Jilin (+08:00) is 23:00 on 4 October in
    UTC, and the sheet says 5 October with the local time and its offset."""
    harvest = {"event_time": "2026-10-04T23:00:00Z", "event_time_zone_offset": "+08:00", "biz_step": "harvesting",
               "event_type": "ObjectEvent"}
    row = dict(zip(exports.HEADERS, exports.table([harvest])[0], strict=True))
    assert row["Event Date"] == "2026-10-05"
    assert row["Event Time (local)"] == "2026-10-05T07:00:00+08:00"
    assert row["Critical Tracking Event"] == "Harvesting"
    west = {**harvest, "event_time": "2026-10-05T03:30:00.250000Z", "event_time_zone_offset": "-05:00"}
    assert exports.table([west])[0][6:8] == ["2026-10-04", "2026-10-04T22:30:00.250000-05:00"]
    # no offset recorded (or an unreadable one): the instant in UTC, said so by its offset
    for tz in (None, "", "CST", "+8:00", "+25:00"):
        assert exports.local_time("2026-10-04T23:00:00Z", tz) == "2026-10-04T23:00:00+00:00"
    assert exports.local_time(None, "+08:00") == exports.local_time("", "+08:00") == ""


def test_each_critical_tracking_event_is_named_from_its_business_step():
    def name(step, kind="ObjectEvent"):
        return exports.cte({"biz_step": step, "event_type": kind})

    assert name("harvesting") == name("slaughtering") == "Harvesting"
    assert name("cooling") == "Cooling"
    assert name("packing") == "Initial Packing"
    assert name("shipping") == name("departing") == "Shipping"
    assert name("receiving") == name("arriving") == "Receiving"
    assert name("commissioning", "TransformationEvent") == name("packing", "TransformationEvent") == "Transformation"
    # commissioning assigns an identity: neither a harvest nor an initial packing unless its bizStep says so
    assert name("commissioning") == "Commissioning"
    assert name("retail_selling") == "Retail selling"
    assert name(None) == "ObjectEvent"


def test_a_lot_registered_at_its_harvest_or_slaughter_exports_as_harvesting():
    """Lot registration writes what happened at the origin (gs1.event_builders.origin_event): the sheet reads it."""
    from gs1.event_builders import origin_event

    lot = {"gtin": "06901234567892", "lot": "L1", "quantity": 300, "unit": "KGM", "owner_gln": "6901234000017",
           "production_date": "2026-10-05"}
    for kind, step, name in (("harvest", "harvesting", "Harvesting"), ("slaughter", "slaughtering", "Harvesting"),
                             ("production", "commissioning", "Commissioning"),
                             (None, "commissioning", "Commissioning")):
        event = origin_event(lot, {"kind": kind, "event_time": "2026-10-05T07:00:00.000+08:00"})
        assert event["bizStep"] == step, kind
        assert exports.cte({"biz_step": event["bizStep"], "event_type": event["type"]}) == name
    animals = origin_event(lot, {"kind": "slaughter", "animal_ids": ["YB-1"]})
    assert (animals["type"], animals["bizStep"]) == ("TransformationEvent", "slaughtering")
