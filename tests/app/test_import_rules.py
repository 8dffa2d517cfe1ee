"""The spreadsheet import's pure rules (app/imports.py) and a lab's item rules (app/lab_rules.py), no database."""

from __future__ import annotations

import io
from datetime import datetime

import pytest
from openpyxl import Workbook, load_workbook

from app import imports as rules
from app import lab_rules
from gs1.timezones import CHINA

FARM, MILL = "6990000000015", "6990000000022"
PADDY = "06990000000015"
NOW = datetime(2026, 12, 4, 18, 0, tzinfo=CHINA)


def _master(**fields) -> rules.Master:
    base = {"gln": FARM, "products": [{"gtin": PADDY, "name_zh": "稻谷", "name_en": "Paddy", "unit": "KGM"}],
            "parties": [{"gln": MILL, "name_zh": "米业", "name_en": "Mill"}],
            "held": [{"gtin": PADDY, "lot": "L1", "quantity": 50.0, "pending": 0, "unit": "KGM"}], "inbound": []}
    return rules.Master(**{**base, **fields})


def _sheet(kind: str, rows: list[list], headers: list[str] | None = None) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(headers or [c.header for c in rules.COLUMNS[kind]])
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _ship(*rows) -> tuple[list, list]:
    read, problems = rules.read(_sheet("shipment", list(rows)), "shipment")
    assert not problems
    return rules.plan("shipment", read, _master(), NOW)


def test_a_wrong_check_digit_names_the_right_one():
    assert rules.gtin_problem(PADDY[:-1] + "4")[1].fields == {"digit": PADDY[-1], "value": PADDY[:-1] + "4"}
    assert rules.gtin_problem("6990000000015") == (PADDY, None)  # a GTIN-13 as a GTIN-14
    assert rules.gtin_problem("69900000000")[1].key == "imp_gtin"


def test_a_problem_names_its_cell_and_header():
    problem = rules.RowProblem(7, "quantity", "imp_quantity")
    assert rules.cell("harvest", problem) == "C7"
    assert rules.header("harvest", "quantity", "zh") == "数量"
    assert rules.header("harvest", "quantity", "en") == "Quantity"
    assert rules.cell("harvest", rules.RowProblem(7, None, "imp_empty")) == "7"


def test_a_row_reads_back_its_event_id_the_same_and_identical_rows_differ():
    row = [PADDY, "L1", 10, f"{MILL} 米业", "2026-10-02", "08:00", "DN-1"]
    first, problems = _ship(row, row)
    again, _ = _ship(row, row)
    assert not problems
    assert [p.ident for p in first] == [p.ident for p in again]
    assert first[0].ident != first[1].ident  # the same row twice is two shipments
    changed, _ = _ship([PADDY, "L1", 11, MILL, "2026-10-02", "08:00", "DN-1"])
    assert changed[0].ident not in {p.ident for p in first}
    assert first[0].event["eventID"] == first[0].ident and first[0].event["eventTime"].startswith("2026-10-02T08:00")


def test_a_number_cell_keeps_a_gtin_without_its_leading_zero_or_decimal():
    planned, problems = _ship([float(PADDY), "L1", 10, int(MILL), "2026-10-02"])
    assert not problems and planned[0].event["quantityList"][0]["epcClass"].endswith(f"/01/{PADDY}/10/L1")


def test_rows_imported_before_are_duplicates_and_use_nothing_up():
    row = [PADDY, "L1", 40, MILL, "2026-10-02"]
    planned, _ = _ship(row, row)
    assert [p.key for p in rules.settle(planned, _master(), rules.Known())] == ["imp_too_much"]
    fresh, _ = _ship(row, row)
    assert rules.settle(fresh, _master(), rules.Known(events={fresh[0].ident})) == []
    assert [p.duplicate for p in fresh] == [True, False]


def test_a_lot_not_held_and_a_lot_taken_are_refused_at_the_lot_cell():
    planned, _ = _ship([PADDY, "NOPE", 1, MILL, "2026-10-02"])
    assert rules.settle(planned, _master(), rules.Known()) == [rules.RowProblem(2, "lot", "imp_not_held",
                                                                                {"lot": "NOPE"})]
    rows, _ = rules.read(_sheet("harvest", [[PADDY, "L9", 5, "KGM", "2026-10-01"]] * 2), "harvest")
    planned, problems = rules.plan("harvest", rows, _master(), NOW)
    assert not problems
    assert [(p.row, p.column, p.key) for p in rules.settle(planned, _master(), rules.Known())] == [
        (3, "lot", "imp_lot_taken")]


@pytest.mark.parametrize(("row", "where"), [
    ([PADDY, "L1", 1, MILL, "2026-13-02"], ("date", "imp_date")),
    ([PADDY, "L1", 1, MILL, "1899-12-31"], ("date", "imp_date")),
    ([PADDY, "L1", 1, MILL, "2026-12-05"], ("date", "imp_future")),
    ([PADDY, "L1", 1, MILL, "2026-10-02", "25:00"], ("time", "imp_time")),
    ([PADDY, "L1", 0, MILL, "2026-10-02"], ("quantity", "imp_quantity")),
    ([PADDY, "L1", 1, "6990000000039", "2026-10-02"], ("party", "imp_unknown_party")),
    ([PADDY, "L1", 1, "6990000000036", "2026-10-02"], ("party", "imp_gln_check")),
    ([PADDY, "L1", 1, "699000000003", "2026-10-02"], ("party", "imp_gln")),
    ([PADDY, "L 1", 1, MILL, "2026-10-02"], ("lot", "imp_lot")),
    ([PADDY, "", 1, MILL, "2026-10-02"], ("lot", "imp_required")),
])
def test_each_bad_cell_is_named(row, where):
    planned, problems = _ship(row)
    assert [(p.column, p.key) for p in problems] == [where] and planned == []


def test_a_transformation_needs_inputs_and_outputs_within_the_yield():
    rows, _ = rules.read(_sheet("transformation", [
        ["P1", "input", PADDY, "L1", 10, "", "2026-10-03"],
        ["P1", "output 产出", PADDY, "L2", 11, "KGM", "2026-10-03"],
        ["P2", "output", PADDY, "L3", 1, "KGM", "2026-10-03"]]), "transformation")
    planned, problems = rules.plan("transformation", rows, _master(), NOW)
    assert {(p.row, p.key) for p in problems} == {(2, "imp_yield"), (4, "imp_in_and_out")} and planned == []


def test_a_file_is_refused_whole_when_it_is_no_template_too_long_or_empty():
    assert rules.read(b"PK not really", "harvest")[1][0].key == "imp_not_xlsx"
    assert rules.read(_sheet("harvest", [], headers=["GTIN"]), "harvest")[1][0].key == "imp_not_template"
    assert rules.read(_sheet("harvest", []), "harvest")[1][0].key == "imp_empty"
    many = _sheet("harvest", [[PADDY, f"L{i}", 1, "KGM", "2026-10-01"] for i in range(rules.MAX_ROWS + 1)])
    assert rules.read(many, "harvest")[1][0].key == "imp_too_many_rows"
    assert rules.read(b"x" * (rules.MAX_BYTES + 1), "harvest")[1][0].key == "imp_too_big"


def test_a_template_lists_my_products_parties_and_lots_for_its_drop_downs():
    book = load_workbook(io.BytesIO(rules.template("shipment", _master())))
    lists = [[c.value for c in col if c.value] for col in book["lists"].iter_cols()]
    assert lists == [[f"{PADDY}"], ["L1"], [f"{MILL} 米业 Mill"]]  # held GTINs (no names held), lots, parties
    validations = book.worksheets[0].data_validations.dataValidation
    assert [(str(v.sqref), v.formula1) for v in validations] == [
        ("A2:A501", "lists!$A$1:$A$1"), ("B2:B501", "lists!$B$1:$B$1"), ("D2:D501", "lists!$C$1:$C$1")]


@pytest.mark.parametrize(("row", "passed"), [
    ({"item": "镉", "value": "0.2", "limit": "0.2"}, True),
    ({"item": "镉", "value": "0.21", "limit": "0.2"}, False),
    ({"item": "蛋白质", "value": "6.5", "limit": "7", "limit_kind": "min"}, False),
    ({"item": "蛋白质", "value": "7", "limit": "7", "limit_kind": "≥ 最小值"}, True),
    ({"item": "吡虫啉", "value": "ND", "limit": "0.05", "lod": "0.01"}, True),
    ({"item": "吡虫啉", "value": "未检出", "limit": "0.05", "lod": "0.1"}, False),  # the method cannot tell
    ({"item": "水分", "value": "", "limit": "10", "limit_kind": "min", "lod": "0.1"}, False),
    ({"item": "外观", "value": "1"}, True),
])
def test_an_item_meets_its_maximum_or_minimum(row, passed):
    checked, problem = lab_rules.item(row)
    assert problem is None and checked["pass"] is passed


@pytest.mark.parametrize(("row", "column", "key"), [
    ({"item": "", "value": "1"}, "item", "lab_item_name"),
    ({"item": "镉", "value": "ND"}, "lod", "lab_lod_needed"),
    ({"item": "镉", "value": "abc"}, "value", "lab_err_value"),
    ({"item": "镉", "value": "1", "limit_kind": "about"}, "limit_kind", "lab_err_limit_kind"),
    ({"item": "镉", "value": "1", "limit": "-1"}, "limit", "lab_number"),
])
def test_a_bad_item_names_its_field(row, column, key):
    checked, problem = lab_rules.item(row)
    assert checked is None and (problem.column, problem.key) == (column, key)


def test_a_failed_item_makes_the_verdict_fail():
    failed, _ = lab_rules.item({"item": "镉", "value": "0.3", "limit": "0.2"})
    assert lab_rules.verdict_problem("pass", [failed]).key == "lab_verdict_failed"
    assert lab_rules.verdict_problem("fail", [failed]) is None
    assert lab_rules.verdict_problem("maybe", []).key == "lab_err_verdict"


def test_every_message_key_is_in_both_languages_of_the_catalogue():
    import json
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    catalogue = json.loads((root / "app/web/templates/work/i18n_import.json").read_text("utf-8"))
    used = set()
    for source in ("app/imports.py", "app/lab_rules.py"):
        used |= set(re.findall(r'"((?:imp|lab)_[a-z_]+)"', (root / source).read_text("utf-8")))
    used -= {"lab_gln"}  # a field of the inspection, not a message
    assert used <= set(catalogue["zh"]) and used <= set(catalogue["en"])
