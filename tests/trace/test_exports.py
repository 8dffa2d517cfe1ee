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
