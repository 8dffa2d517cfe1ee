"""Spreadsheet import, pure (no Flask, no Neo4j): XLSX templates, reading a filled one, and the rows' checks.

(Over 500 lines on purpose: the five templates share one column table and one set of cell readers, and each row is
read, checked and planned against that table; kept together, a column's header, drop-down, parser and message are
found in one file. Its tests, tests/app/test_import_rules.py, need no database.)

A template has one sheet of data under a header row with both languages ("产品 GTIN / Product GTIN") and drop-downs
(openpyxl data validation) filled from the master data the user's party may use: its products and licensed
products, the parties it trades with, the lots it holds. A filled sheet is read back into rows (`read`), each row
checked on its own (`plan`: formats, check digits, master data, dates) and then against the party's state and the
store (`settle`: what it holds, what was shipped to it, lots and events that exist). Nothing here writes.

Every planned write has an identity derived from its row's content, so importing the same file twice is a
duplicate: an event's eventID is a UUIDv5 of the template kind, the party and the normalised row (and how many
identical rows came before it); a harvest's is its origin event's hash, as graph/lots.create computes it; an
inspection's is the lab's report number. Problems are catalogue keys (i18n_import.json) at a row and column.
"""

from __future__ import annotations

import io
import json
import uuid
import zipfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from app import lab_rules
from graph.supervision_rules import DEFAULT_PROGRAMME, PROGRAMMES
from gs1 import event_builders as build
from gs1.errors import InvalidIdentifier
from gs1.event_hash import event_hash
from gs1.identifiers import lot_key
from gs1.keys import check_digit, validate_gln, validate_lot
from gs1.timezones import CHINA

KINDS = ("harvest", "shipment", "receipt", "transformation", "inspection")
MAX_ROWS = 2000
MAX_BYTES = 2 * 1024 * 1024
# A filled XLSX is a zip: refuse one that unpacks to far more than it weighs (a zip bomb) before openpyxl reads it.
MAX_UNPACKED = 60 * 1024 * 1024
EVENT_NS = uuid.UUID("5d8f1f0e-3c2b-5a6e-9f7d-2b1c0a9e8d7c")
UNITS = {"KGM": "公斤 kg", "TNE": "吨 t", "H87": "件 pcs", "GRM": "克 g", "LTR": "升 l"}
ROLES = {"input": "投入 input", "output": "产出 output"}
VERDICTS = {"pass": "合格 pass", "fail": "不合格 fail"}
LIMIT_KINDS = {"max": "≤ 最大值 maximum", "min": "≥ 最小值 minimum"}


@dataclass(frozen=True)
class Column:
    """A template column: its key, its header in both languages, whether it is required, its drop-down list."""

    key: str
    zh: str
    en: str
    required: bool = False
    choices: str | None = None
    text: bool = False  # kept as text (GTINs, GLNs, lot numbers: Excel would drop leading zeros)

    @property
    def header(self) -> str:
        """The header cell's text."""
        return f"{self.zh} / {self.en}"


_GTIN = Column("gtin", "产品 GTIN", "Product GTIN", True, "products", True)
_LOT = Column("lot", "批号", "Lot number", True, None, True)
_QTY = Column("quantity", "数量", "Quantity", True)
_DATE = Column("date", "日期", "Date", True)
_TIME = Column("time", "时间", "Time (HH:MM)")
_DOC = Column("document", "单据号", "Document number", False, None, True)
COLUMNS: dict[str, tuple[Column, ...]] = {
    "harvest": (_GTIN, _LOT, _QTY, Column("unit", "单位", "Unit", True, "units"),
                Column("date", "采收日期", "Harvest date", True), Column("expiry_date", "到期日期", "Expiry date"),
                Column("plot", "地块", "Plot"), Column("area_mu", "面积（亩）", "Area (mu)")),
    "shipment": (Column("gtin", "产品 GTIN", "Product GTIN", True, "held_gtins", True),
                 Column("lot", "批号", "Lot number", True, "held_lots", True), _QTY,
                 Column("party", "收货方", "Receiver", True, "parties"), _DATE, _TIME, _DOC),
    "receipt": (Column("gtin", "产品 GTIN", "Product GTIN", True, "inbound_gtins", True),
                Column("lot", "批号", "Lot number", True, "inbound_lots", True), _QTY,
                Column("party", "发货方", "Sender", True, "parties"), _DATE, _TIME, _DOC),
    "transformation": (Column("ref", "加工单号", "Process order", True, None, True),
                       Column("role", "投入/产出", "Input/output", True, "roles"),
                       Column("gtin", "产品 GTIN", "Product GTIN", True, "all_gtins", True),
                       Column("lot", "批号", "Lot number", True, "held_lots", True), _QTY,
                       Column("unit", "单位", "Unit", False, "units"), _DATE, _TIME),
    "inspection": (Column("report_no", "报告编号", "Report number", True, None, True),
                   Column("sample_id", "样品编号", "Sample ID", True, None, True), _GTIN, _LOT,
                   Column("date", "检测日期", "Test date", True),
                   Column("standard", "方法标准", "Method standard", True),
                   Column("verdict", "结论", "Verdict", True, "verdicts"),
                   Column("item", "检测项目", "Test item", True),
                   Column("value", "检测值（未检出填 ND）", "Value (ND: not detected)"),
                   Column("limit_kind", "限量类型", "Limit kind", False, "limit_kinds"),
                   Column("limit", "限量", "Limit"), Column("unit", "单位", "Unit"),
                   Column("lod", "检出限", "Detection limit"),
                   # last and optional, so a file filled from the template before these columns still reads
                   Column("programme", "抽检类别", "Programme", False, "programmes"),
                   Column("sampling_body", "抽样单位", "Sampling body")),
}


@dataclass
class Master:
    """What a party may name in a template: products (own, licensed), parties, lots held and shipped to it."""

    gln: str
    products: list[dict] = field(default_factory=list)  # gtin, name_zh, name_en, unit
    parties: list[dict] = field(default_factory=list)  # gln, name_zh, name_en
    held: list[dict] = field(default_factory=list)  # gtin, lot, quantity, pending, unit, name_zh, name_en
    inbound: list[dict] = field(default_factory=list)  # gtin, lot, quantity, unit, source_gln
    max_yield: float = 1.05


@dataclass(frozen=True)
class RowProblem:
    """A problem at a row (its number in the sheet) and column key (None: the whole row or file)."""

    row: int
    column: str | None
    key: str
    fields: dict = field(default_factory=dict)


@dataclass
class Planned:
    """One write: a harvest (lot + origin), an inspection, or an EPCIS event; `ident` is its content identity."""

    kind: str
    rows: list[int]
    ident: str
    event: dict | None = None
    lot: dict | None = None
    origin: dict | None = None
    inspection: dict | None = None
    uses: list[tuple[int, str, str, str, float]] = field(default_factory=list)  # row, gtin, lot, source, qty
    makes: list[tuple[int, str, str]] = field(default_factory=list)  # row, gtin, lot of lots it creates
    duplicate: bool = False


def cell(kind: str, problem: RowProblem) -> str:
    """The sheet cell of a problem ("C7"), or the row ("7") when it is about the whole row."""
    if problem.column is None:
        return str(problem.row) if problem.row else ""
    keys = [c.key for c in COLUMNS[kind]]
    return f"{get_column_letter(keys.index(problem.column) + 1)}{problem.row}" if problem.column in keys else ""


def header(kind: str, column: str | None, language: str) -> str:
    """A column's header in one language ("" for none)."""
    found = next((c for c in COLUMNS[kind] if c.key == column), None)
    return "" if found is None else (found.en if language == "en" else found.zh)


# ---------------------------------------------------------------- templates


def choices(master: Master) -> dict[str, list[str]]:
    """The drop-down lists: a code first (GTIN, GLN, unit), then its names, so a cell reads back by its code."""
    def named(code: str, row: dict) -> str:
        return " ".join(x for x in (code, row.get("name_zh") or "", row.get("name_en") or "") if x)

    gtins = {p["gtin"]: named(p["gtin"], p) for p in master.products}
    held = [x for x in master.held if x["quantity"] - x.get("pending", 0) > 0]
    held_gtins = {x["gtin"]: named(x["gtin"], x) for x in held}
    inbound_gtins = {x["gtin"]: named(x["gtin"], x) for x in master.inbound}
    return {
        "products": list(gtins.values()), "held_gtins": list(held_gtins.values()),
        "held_lots": sorted({x["lot"] for x in held}), "inbound_gtins": list(inbound_gtins.values()),
        "inbound_lots": sorted({x["lot"] for x in master.inbound}),
        "all_gtins": list({**held_gtins, **gtins}.values()),
        "parties": [named(p["gln"], p) for p in master.parties if p["gln"] != master.gln],
        "units": [f"{k} {v}" for k, v in UNITS.items()], "roles": [f"{k} {v}" for k, v in ROLES.items()],
        "verdicts": [f"{k} {v}" for k, v in VERDICTS.items()],
        "limit_kinds": [f"{k} {v}" for k, v in LIMIT_KINDS.items()],
        "programmes": [f"{k} {zh} {en}" for k, (zh, en) in PROGRAMMES.items()],
    }


def template(kind: str, master: Master, rows: int = 500) -> bytes:
    """An XLSX template for a kind: the header row, drop-downs on the first `rows` data rows, lists sheet hidden."""
    book = Workbook()
    sheet = book.active
    sheet.title = kind
    lists = book.create_sheet("lists")
    lists.sheet_state = "hidden"
    values = choices(master)
    used = [c.choices for c in COLUMNS[kind] if c.choices]
    for index, name in enumerate(dict.fromkeys(used), start=1):
        for r, text in enumerate(values[name], start=1):
            lists.cell(row=r, column=index, value=text)
    list_column = {name: get_column_letter(i) for i, name in enumerate(dict.fromkeys(used), start=1)}
    for i, col in enumerate(COLUMNS[kind], start=1):
        letter = get_column_letter(i)
        head = sheet.cell(row=1, column=i, value=col.header)
        head.font = Font(bold=True)
        if col.required:
            head.fill = PatternFill("solid", fgColor="FFF2CC")
        sheet.column_dimensions[letter].width = max(14, len(col.header) + 4)
        if col.text:
            for r in range(2, rows + 2):
                sheet.cell(row=r, column=i).number_format = "@"
        if col.choices and values[col.choices]:
            n = len(values[col.choices])
            # A warning, not a stop: a value typed by hand (a new lot number, a code) stays possible.
            check = DataValidation(type="list", formula1=f"lists!${list_column[col.choices]}$1:"
                                                         f"${list_column[col.choices]}${n}",
                                   allow_blank=True, errorStyle="warning", showErrorMessage=True)
            check.add(f"{letter}2:{letter}{rows + 1}")
            sheet.add_data_validation(check)
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# ---------------------------------------------------------------- reading a filled template


def read(data: bytes, kind: str) -> tuple[list[tuple[int, dict]], list[RowProblem]]:
    """The non-blank data rows of a filled template as (row number, {column key: cell value}), or the problems.

    Refused whole: not an XLSX, larger than MAX_BYTES (or unpacking to more than MAX_UNPACKED), headers not this
    kind's template, more than MAX_ROWS rows, no rows.
    """
    if len(data) > MAX_BYTES:
        return [], [RowProblem(0, None, "imp_too_big", {"mb": MAX_BYTES // (1024 * 1024)})]
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as packed:
            if sum(i.file_size for i in packed.infolist()) > MAX_UNPACKED:
                return [], [RowProblem(0, None, "imp_too_big", {"mb": MAX_BYTES // (1024 * 1024)})]
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - openpyxl raises many kinds for a file that is not a workbook
        return [], [RowProblem(0, None, "imp_not_xlsx")]
    try:
        sheet = book.worksheets[0]
        columns = COLUMNS[kind]
        rows: list[tuple[int, dict]] = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            values = list(values)[: len(columns)] + [None] * max(0, len(columns) - len(values))
            if number == 1:
                wanted = [c.header for c in columns]
                got = [str(v).strip() if v is not None else "" for v in values]
                # optional columns added at the end since a file was downloaded may be missing
                width = max((i + 1 for i, v in enumerate(got) if v), default=0)
                if got[:width] != wanted[:width] or any(c.required for c in columns[width:]):
                    return [], [RowProblem(1, None, "imp_not_template", {"kind": kind})]
                continue
            if all(v is None or str(v).strip() == "" for v in values):
                if number > MAX_ROWS * 10:  # a sheet of styled blank rows: do not walk a million of them
                    break
                continue
            if len(rows) >= MAX_ROWS:
                return [], [RowProblem(number, None, "imp_too_many_rows", {"max": MAX_ROWS})]
            rows.append((number, {c.key: v for c, v in zip(columns, values, strict=True)}))
    finally:
        book.close()
    if not rows:
        return [], [RowProblem(0, None, "imp_empty")]
    return rows, []


def text(value: object) -> str:
    """A cell as text: whole numbers without ".0" (a GTIN typed into a number cell), dates in ISO."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(timespec="minutes")
    return str(value).strip()


def code(value: object) -> str:
    """The code at the start of a drop-down entry ("06901234567892 舒兰大米" -> the GTIN)."""
    words = text(value).split()
    return words[0] if words else ""


def gtin_problem(value: str) -> tuple[str | None, RowProblem | None]:
    """A GTIN-8/12/13/14 as GTIN-14, or the problem (a wrong check digit says which digit it should be)."""
    if not value.isascii() or not value.isdigit() or len(value) not in (8, 12, 13, 14):
        return None, RowProblem(0, "gtin", "imp_gtin")
    expected = check_digit(value[:-1])
    if value[-1] != expected:
        return None, RowProblem(0, "gtin", "imp_gtin_check", {"digit": expected, "value": value})
    return value.zfill(14), None


def day(value: object) -> date | None:
    """A date from a date cell or text (2026-09-18, 2026/9/18, 2026.9.18)."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    parts = text(value).replace("/", "-").replace(".", "-").split("-")
    try:
        return date(int(parts[0]), int(parts[1]), int(parts[2])) if len(parts) == 3 else None
    except ValueError:
        return None


def clock(value: object) -> time | None:
    """A time of day from a time cell or "HH:MM"; a blank cell is midnight (a day's first moment)."""
    if value is None or text(value) == "":
        return time(0)
    if isinstance(value, time):
        return value.replace(second=0, microsecond=0)
    if isinstance(value, datetime):
        return value.time().replace(second=0, microsecond=0)
    try:
        hours, minutes = text(value).replace("：", ":").split(":")[:2]
        return time(int(hours), int(minutes))
    except ValueError:
        return None


# ---------------------------------------------------------------- checking rows (formats and master data)


class _Row:
    """One row's checks: each getter records its problem at its column and returns None."""

    def __init__(self, number: int, values: dict, problems: list[RowProblem]):
        self.number, self.values, self.problems = number, values, problems

    def fail(self, column: str | None, key: str, **fields) -> None:
        self.problems.append(RowProblem(self.number, column, key, fields))

    def raw(self, column: str) -> str:
        return text(self.values.get(column))

    def required(self, column: str) -> str | None:
        value = self.raw(column)
        if not value:
            self.fail(column, "imp_required")
            return None
        return value

    def gtin(self, allowed: set[str] | None) -> str | None:
        value = self.required("gtin")
        if value is None:
            return None
        gtin, problem = gtin_problem(code(value))
        if problem is not None:
            self.fail("gtin", problem.key, **problem.fields)
            return None
        if allowed is not None and gtin not in allowed:
            self.fail("gtin", "imp_unknown_product", gtin=gtin)
            return None
        return gtin

    def lot(self) -> str | None:
        value = self.required("lot")
        if value is None:
            return None
        try:
            return validate_lot(value)  # a lot drop-down lists bare lot numbers: the whole cell is the lot
        except InvalidIdentifier:
            self.fail("lot", "imp_lot")
            return None

    def party(self, known: set[str]) -> str | None:
        value = self.required("party")
        if value is None:
            return None
        typed = code(value)
        if typed.isascii() and typed.isdigit() and len(typed) == 13 and typed[-1] != check_digit(typed[:-1]):
            self.fail("party", "imp_gln_check", value=typed, digit=check_digit(typed[:-1]))
            return None
        try:
            gln = validate_gln(typed)
        except InvalidIdentifier:
            self.fail("party", "imp_gln")
            return None
        if gln not in known:
            self.fail("party", "imp_unknown_party", gln=gln)
            return None
        return gln

    def quantity(self) -> float | None:
        value = self.required("quantity")
        amount = lab_rules.number(value) if value is not None else None
        if value is not None and (amount is None or not 0 < amount <= 1e9):
            self.fail("quantity", "imp_quantity")
            return None
        return amount

    def date(self, column: str = "date", required: bool = True) -> date | None:
        if not self.raw(column):
            if required:
                self.fail(column, "imp_required")
            return None
        found = day(self.values.get(column))
        if found is None or found.year < 1900:  # the API's lots refuse dates before 1900 too
            self.fail(column, "imp_date")
            return None
        return found

    def when(self, now: datetime) -> datetime | None:
        on = self.date()
        at = clock(self.values.get("time"))
        if at is None:
            self.fail("time", "imp_time")
        if on is None or at is None:
            return None
        moment = datetime.combine(on, at, CHINA)
        if moment > now + timedelta(minutes=5):
            self.fail("date", "imp_future")
            return None
        return moment

    def unit(self, default: str | None) -> str | None:
        value = code(self.values.get("unit")).upper() or default
        if value not in UNITS:
            self.fail("unit", "imp_unit")
            return None
        return value


def _event_id(kind: str, gln: str, content: object, seen: Counter) -> str:
    """The eventID of a row's event: a UUIDv5 of the kind, the party and its normalised content."""
    name = json.dumps([kind, gln, content], sort_keys=True, ensure_ascii=False, default=str)
    seen[name] += 1
    return f"urn:uuid:{uuid.uuid5(EVENT_NS, f'{name}#{seen[name]}')}"


def plan(kind: str, rows: list[tuple[int, dict]], master: Master, now: datetime) -> tuple[list[Planned],
                                                                                          list[RowProblem]]:
    """Check every row's formats and master data; return the planned writes and every problem (by row, column)."""
    problems: list[RowProblem] = []
    planned: list[Planned] = []
    products = {p["gtin"]: p for p in master.products}
    parties = {p["gln"] for p in master.parties} - {master.gln}
    seen: Counter = Counter()
    if kind == "transformation":
        return _plan_transformations(rows, master, now, problems, seen)
    if kind == "inspection":
        return _plan_inspections(rows, master, now, problems)
    for number, values in rows:
        row = _Row(number, values, problems)
        before = len(problems)
        if kind == "harvest":
            gtin = row.gtin(set(products))
            lot, quantity, on = row.lot(), row.quantity(), row.date()
            unit = row.unit(products[gtin]["unit"] if gtin else None)
            expiry = row.date("expiry_date", required=False)
            if on is not None and on > now.astimezone(CHINA).date():
                row.fail("date", "imp_future")
            if on is not None and expiry is not None and expiry < on:
                row.fail("expiry_date", "imp_expiry_before")
            area = None
            if row.raw("area_mu"):
                area = lab_rules.number(row.raw("area_mu"))
                if area is None or not 0 < area <= 1e6:
                    row.fail("area_mu", "imp_quantity")
            if len(problems) > before:
                continue
            data = {"gtin": gtin, "lot": lot, "quantity": quantity, "unit": unit, "owner_gln": master.gln,
                    "production_date": on.isoformat(), "expiry_date": expiry.isoformat() if expiry else None}
            origin = {"kind": "harvest", "animal_ids": [], "quarantine_certificate": None, "farm_inputs": [],
                      "plot": row.raw("plot")[:80] or None, "area_mu": area}
            ident = event_hash(build.origin_event(data, origin))
            planned.append(Planned(kind, [number], ident, lot=data, origin=origin,
                                   makes=[(number, gtin, lot)]))
            continue
        shipping = kind == "shipment"
        # Whether it is held (or was shipped to us) is settled later: a row imported before is a duplicate first.
        gtin = row.gtin(None)
        lot, quantity, party, when = row.lot(), row.quantity(), row.party(parties), row.when(now)
        document = row.raw("document")[:80]
        if len(problems) > before:
            continue
        unit = _lot_unit(master, gtin, lot)
        body = {"party_gln": master.gln, "event_time": when,
                "lots": [{"gtin": gtin, "lot": lot, "quantity": quantity, "unit": unit}],
                "documents": [{"type": "desadv", "id": document}] if document else []}
        if shipping:
            event = build.shipment_event({**body, "destination_gln": party})
        else:
            event = build.receipt_event({**body, "source_gln": party})
        content = [gtin, lot, quantity, unit, party, when.isoformat(), document]
        event["eventID"] = _event_id(kind, master.gln, content, seen)
        planned.append(Planned(kind, [number], event["eventID"], event=event,
                               uses=[(number, gtin, lot, "" if shipping else party, quantity)]))
    return planned, problems


def _lot_unit(master: Master, gtin: str, lot: str) -> str:
    """The unit a lot is counted in: as held or shipped to the party (a lot used up keeps its HOLDS at 0)."""
    for x in (*master.held, *master.inbound):
        if (x["gtin"], x["lot"]) == (gtin, lot) and x.get("unit"):
            return x["unit"]
    product = next((p for p in master.products if p["gtin"] == gtin), None)
    return (product or {}).get("unit") or "KGM"


def _plan_transformations(rows, master, now, problems, seen) -> tuple[list[Planned], list[RowProblem]]:
    """Rows grouped by process order: input rows name lots held, output rows new lots of the party's products."""
    products = {p["gtin"]: p for p in master.products}
    groups: dict[str, list[tuple[int, dict]]] = defaultdict(list)
    for number, values in rows:
        ref = text(values.get("ref"))
        if not ref:
            problems.append(RowProblem(number, "ref", "imp_required"))
            continue
        groups[ref].append((number, values))
    planned = []
    for ref, members in groups.items():
        before = len(problems)
        inputs, outputs, uses, makes, times = [], [], [], [], set()
        for number, values in members:
            row = _Row(number, values, problems)
            role = code(values.get("role")).lower()
            if role not in ROLES:
                row.fail("role", "imp_role")
                continue
            gtin = row.gtin(None if role == "input" else set(products))
            lot, quantity, when = row.lot(), row.quantity(), row.when(now)
            if when is not None:
                times.add(when)
            if role == "input":
                unit = _lot_unit(master, gtin, lot) if gtin and lot else None
            else:
                unit = row.unit(products[gtin]["unit"] if gtin in products else None)
            if None in (gtin, lot, quantity, when, unit):
                continue
            entry = {"gtin": gtin, "lot": lot, "quantity": quantity, "unit": unit}
            (inputs if role == "input" else outputs).append(entry)
            if role == "input":
                uses.append((number, gtin, lot, "", quantity))
            else:
                makes.append((number, gtin, lot))
        first = members[0][0]
        if len(times) > 1:
            problems.append(RowProblem(first, "date", "imp_same_time", {"ref": ref}))
        if not inputs or not outputs:
            problems.append(RowProblem(first, "role", "imp_in_and_out", {"ref": ref}))
        for unit in {x["unit"] for x in outputs}:
            made = sum(x["quantity"] for x in outputs if x["unit"] == unit)
            used = sum(x["quantity"] for x in inputs if x["unit"] == unit)
            if used and made > used * master.max_yield + 1e-9:
                problems.append(RowProblem(first, "quantity", "imp_yield", {
                    "ref": ref, "out": f"{made:g}", "inp": f"{used:g}", "max": f"{master.max_yield:.0%}"}))
        if len(problems) > before:
            continue
        when = times.pop()
        event = build.transformation_event({"party_gln": master.gln, "event_time": when, "inputs": inputs,
                                            "outputs": outputs})
        event["eventID"] = _event_id("transformation", master.gln, [ref, when.isoformat(), inputs, outputs], seen)
        planned.append(Planned("transformation", [n for n, _ in members], event["eventID"], event=event,
                               uses=uses, makes=makes))
    return planned, problems


def _plan_inspections(rows, master, now, problems) -> tuple[list[Planned], list[RowProblem]]:
    """Rows grouped by report number: each row one test item; the report's fields repeat on every row."""
    groups: dict[str, list[tuple[int, dict]]] = defaultdict(list)
    for number, values in rows:
        report = text(values.get("report_no"))
        if not report or len(report) > 60:
            problems.append(RowProblem(number, "report_no", "imp_required"))
            continue
        groups[report].append((number, values))
    planned = []
    for report, members in groups.items():
        before = len(problems)
        number, values = members[0]
        row = _Row(number, values, problems)
        gtin = None
        if row.required("gtin") is not None:
            gtin, problem = gtin_problem(code(row.raw("gtin")))
            if problem is not None:
                row.fail("gtin", problem.key, **problem.fields)
        lot, on = row.lot(), row.date()
        sample, standard = row.required("sample_id"), row.required("standard")
        if sample is not None and len(sample) > 60:
            row.fail("sample_id", "imp_too_long", max=60)
        if standard is not None and len(standard) > 80:
            row.fail("standard", "imp_too_long", max=80)
        verdict = code(values.get("verdict")).lower()
        programme = code(values.get("programme")).lower() or DEFAULT_PROGRAMME
        if programme not in PROGRAMMES:
            row.fail("programme", "imp_programme")
        sampling_body = text(values.get("sampling_body")) or None
        if sampling_body is not None and len(sampling_body) > 100:
            row.fail("sampling_body", "imp_too_long", max=100)
        for n, other in members[1:]:
            for key in ("sample_id", "gtin", "lot", "date", "standard", "verdict", "programme", "sampling_body"):
                if text(other.get(key)) and text(other.get(key)) != text(values.get(key)):
                    problems.append(RowProblem(n, key, "imp_report_differs", {"report": report}))
        results = []
        for n, other in members:
            checked, problem = lab_rules.item({k: text(other.get(k)) for k in lab_rules.ITEM_FIELDS})
            if problem is not None:
                problems.append(RowProblem(n, problem.column, problem.key, problem.fields))
            else:
                results.append(checked)
        wrong = lab_rules.verdict_problem(verdict, results)
        if wrong is not None and len(problems) == before:
            row.fail("verdict", wrong.key, **wrong.fields)
        if on is not None and on > now.astimezone(CHINA).date():
            row.fail("date", "imp_future")
        if len(problems) > before:
            continue
        when = min(datetime.combine(on, time(12), CHINA), now)
        inspection = {"lab_gln": master.gln, "gtin": gtin, "lot": lot, "report_no": report, "sample_id": sample,
                      "date": on.isoformat(), "standard": standard, "verdict": verdict, "results": results,
                      "programme": programme, "sampling_body": sampling_body}
        event = build.inspection_event(master.gln, gtin, lot, verdict, report, when)
        planned.append(Planned("inspection", [n for n, _ in members], f"{master.gln}:{report}", event=event,
                               inspection=inspection, uses=[(number, gtin, lot, "", 0.0)]))
    return planned, problems


# ---------------------------------------------------------------- against the party's state and the store


@dataclass
class Known:
    """What the store has of the planned writes' identities and the lots they name."""

    events: set[str] = field(default_factory=set)  # eventIDs (and harvests' origin event hashes) recorded
    lots: set[str] = field(default_factory=set)  # lot keys that exist
    inspections: set[str] = field(default_factory=set)  # lab_gln:report_no recorded


def identities(planned: list[Planned]) -> tuple[list[str], list[str], list[str]]:
    """The eventIDs, lot keys and inspection keys to look up for `settle`."""
    events = [p.ident for p in planned if p.kind != "inspection"]
    lots = [lot_key(g, lot) for p in planned for _, g, lot in p.makes]
    lots += [lot_key(g, lot) for p in planned if p.kind == "inspection" for _, g, lot, _, _ in p.uses]
    return events, lots, [p.ident for p in planned if p.kind == "inspection"]


def settle(planned: list[Planned], master: Master, known: Known) -> list[RowProblem]:
    """Mark the writes already recorded (duplicates: skipped), then check the others against what the party holds,
    what was shipped to it, and the lots that exist; returns the problems."""
    problems: list[RowProblem] = []
    on_hand = {(x["gtin"], x["lot"]): x["quantity"] - x.get("pending", 0) for x in master.held}
    units = {(x["gtin"], x["lot"]): x["unit"] for x in master.held}
    pending = {(x["gtin"], x["lot"], x["source_gln"]): x["quantity"] for x in master.inbound}
    made: set[str] = set()
    for p in planned:
        p.duplicate = p.ident in (known.inspections if p.kind == "inspection" else known.events)
        if p.duplicate:
            continue
        for number, gtin, lot in p.makes:
            key = lot_key(gtin, lot)
            if key in known.lots or key in made:
                problems.append(RowProblem(number, "lot", "imp_lot_taken", {"lot": lot}))
            made.add(key)
        for number, gtin, lot, source, quantity in p.uses:
            if p.kind == "inspection":
                if lot_key(gtin, lot) not in known.lots:
                    problems.append(RowProblem(number, "lot", "imp_no_lot", {"lot": lot}))
            elif p.kind == "receipt":
                left = pending.get((gtin, lot, source))
                if left is None:
                    problems.append(RowProblem(number, "lot", "imp_not_shipped", {"lot": lot}))
                elif quantity > left + 1e-9:
                    problems.append(RowProblem(number, "quantity", "imp_too_much", {"n": f"{left:g}"}))
                else:
                    pending[(gtin, lot, source)] = left - quantity
            else:
                left = on_hand.get((gtin, lot))
                if left is None or left <= 0:
                    problems.append(RowProblem(number, "lot", "imp_not_held", {"lot": lot}))
                elif quantity > left + 1e-9:
                    problems.append(RowProblem(number, "quantity", "imp_too_much",
                                               {"n": f"{left:g}", "unit": units.get((gtin, lot), "")}))
                else:
                    on_hand[(gtin, lot)] = left - quantity
    return problems
