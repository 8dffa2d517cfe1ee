"""A recall's spreadsheet keeps its shape: every (event, object) row and every column, the same cells in CSV and
XLSX, and the rows grouped by event render exactly as the same rows one by one."""

from __future__ import annotations

import csv
import io
import json
import random
import zipfile
from collections import Counter
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from app import exports
from graph import parties, products, tokens
from graph.documents import documents_in, documents_of
from graph.key_data import OBJECT_FIELDS, KeyDataRows
from tests.factories import auth
from tests.trace import network
from tests.trace.arrange import capture
from tests.trace.reference import dl_key

ROLES = {"epcList": "object", "quantityList": "object", "inputEPCList": "input", "inputQuantityList": "input",
         "outputEPCList": "output", "outputQuantityList": "output", "childEPCs": "child", "childQuantityList": "child"}


@pytest.fixture(scope="module")
def regulator(graph):
    """A regulator token."""
    return tokens.create(graph, "regulator", None, "tests")["token"]


@pytest.fixture(scope="module")
def named_net(graph, admin_token):
    """A captured network whose parties and products have names (so every name column has something to show)."""
    net = network.generate(random.Random(21), farms=2, processors=2, retailers=2, errors=1)
    capture(graph, admin_token, net)
    glns = [g for group in net.parties.values() for g in group]
    parties.upsert_many(graph, [{"gln": g, "name_zh": f"参场 {i} & <合作社>", "roles": ["farm"]}
                                for i, g in enumerate(glns)])
    products.upsert_many(graph, [{"gtin": g, "name_zh": f"人参 {name}", "name_en": f"Ginseng {name}",
                                  "category": "ginseng", "owner_gln": glns[0]} for name, g in net.products.items()])
    return net


def _expected(net, affected: set[str]) -> Counter:
    """(event ID, object key, role) of every tracking event on an affected object, from the events as sent."""
    declared = {ev["eventID"] for ev in net.events if ev.get("errorDeclaration")}
    want: Counter = Counter()
    for ev in net.events:
        if ev["eventID"] in declared:
            continue
        named = [(ev["parentID"], "parent")] if ev.get("parentID") else []
        for field, role in ROLES.items():
            named += [(x if isinstance(x, str) else x["epcClass"], role) for x in ev.get(field, [])]
        for uri, role in named:
            key = dl_key(uri)
            if key in affected:
                want[(ev["eventID"], key, role)] += 1
    return want


def _key(row: dict) -> str:
    if row["SSCC"]:
        return f"sscc:{row['SSCC']}"
    if row["Serial"]:
        return f"item:{row['GTIN']}:{row['Serial']}"
    return f"lot:{row['GTIN']}:{row['Traceability Lot Code']}"


def test_recall_spreadsheet_has_every_row_and_column_alike_in_csv_and_xlsx(client, named_net, regulator):
    net = named_net
    body = {"lots": [{"gtin": net.raw_lots[0].split(":")[1], "lot": net.raw_lots[0].split(":", 2)[2]}],
            "level": 1, "reason": "spreadsheet shape"}
    case = client.post("/api/v1/recalls", json=body, headers=auth(regulator)).json
    url = f"/api/v1/recalls/{case['recall_id']}/export"
    text = client.get(f"{url}?format=csv", headers=auth(regulator)).data.decode("utf-8-sig")
    cells = list(csv.reader(io.StringIO(text)))
    xlsx = client.get(f"{url}?format=xlsx", headers=auth(regulator)).data
    sheet = [["" if v is None else str(v) for v in r] for r in load_workbook(io.BytesIO(xlsx)).active.iter_rows(
        values_only=True)]
    assert sheet == cells
    assert cells[0] == list(exports.HEADERS)
    rows = [dict(zip(cells[0], r, strict=True)) for r in cells[1:]]
    got = Counter((r["Event ID"], _key(r), r["Role"]) for r in rows)
    assert got == _expected(net, {a["key"] for a in case["affected"]})
    # in time order: each time is local to its event (offset shown), so they are compared as instants
    instants = [(datetime.fromisoformat(r["Event Time (local)"]), r["Event ID"]) for r in rows]
    assert instants == sorted(instants)
    assert all(r["Event Date"] == r["Event Time (local)"][:10] for r in rows)
    # every column says something for this network (a column lost on the way shows up empty)
    assert [h for h in exports.HEADERS if not any(r[h] for r in rows)] == []
    shipped = [r for r in rows if r["Critical Tracking Event"] == "Shipping"]
    assert shipped and all(r["Ship-From Name"].startswith("参场 ") and r["Reference Document Number"]
                           for r in shipped)
    assert all(r["Product Description"].startswith("人参 ") for r in rows if r["GTIN"])


def test_rows_grouped_by_event_write_the_same_files_as_the_rows_one_by_one():
    event = {"event_id": "urn:uuid:1", "event_type": "ObjectEvent", "biz_step": "shipping",
             "event_time": "2026-09-01T08:00:00Z", "location_gln": "6901234000017", "location_name": " 参场 ",
             "ship_from": {"gln": "6901234000017", "name_zh": "参场"}, "ship_to": {"gln": "6901234000024"},
             "documents": [{"type": "desadv", "id": "DN<1>"}], "disposition": "in_transit"}
    objects = [{"kind": "lot", "lot": f"L{i}", "gtin": "06901234567892", "quantity": [20.0, 3, None][i % 3],
                "uom": "KGM", "product_zh": "人参", "role": "OBJECT", "tlc_source_gln": "6901234000017"}
               for i in range(5)] + [{"kind": "item", "serial": "S\x01", "role": "CHILD"}, {"kind": "sscc"}]
    other = {**event, "event_id": "urn:uuid:2", "biz_step": "receiving", "documents": []}
    fields = [tuple(o.get(f) for f in OBJECT_FIELDS) for o in objects]
    grouped = KeyDataRows([(event, fields), (other, fields[:2]), ({}, [(None,) * len(OBJECT_FIELDS),
                                                                       fields[-2]])])
    flat = list(grouped)
    assert len(grouped) == len(flat) == 11 and grouped == flat
    assert grouped[5] == {**event, **dict.fromkeys(OBJECT_FIELDS), **objects[5]}
    assert flat[-1] == {**dict.fromkeys(OBJECT_FIELDS), "kind": "item", "serial": "S\x01", "role": "CHILD"}
    assert exports.table(grouped) == exports.table(flat) == [[get(r) for _, get in exports.COLUMNS] for r in flat]
    assert exports.to_csv(grouped) == exports.to_csv(flat)
    assert exports.to_xlsx(grouped, "RC-1") == exports.to_xlsx(flat, "RC-1")
    ws = load_workbook(io.BytesIO(exports.to_xlsx(grouped, "RC-1"))).active
    assert [["" if v is None else v for v in r] for r in ws.iter_rows(min_row=2, values_only=True)] == [
        [v.replace("\x01", "") if isinstance(v, str) else v for v in r] for r in exports.table(flat)]


_BT = st.lists(st.fixed_dictionaries({"type": st.sampled_from(["desadv", "urn:epcglobal:cbv:btt:po", 3]),
                                      "bizTransaction": st.text(max_size=12)}), max_size=3)
_JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.text(alphabet='ab"\\{}[]:, \u53c2', max_size=8)
                     | st.just("bizTransactionList") | st.just('"bizTransactionList"'),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
                         st.sampled_from(["a", "b", "bizTransactionList", 'q"{']), inner, max_size=3), max_leaves=12)


@settings(max_examples=300, deadline=None)
@given(doc=st.dictionaries(st.sampled_from(["type", "eventID", "quantityList", "x:ext", "bizTransactionList"]),
                           _JSON, max_size=4), bt=st.none() | _BT, spaced=st.booleans())
def test_documents_read_from_the_key_alone_equal_the_full_decode(doc, bt, spaced):
    if bt is not None:
        doc = {**doc, "bizTransactionList": bt}
    text = json.dumps(doc, ensure_ascii=False, separators=(", ", ": ") if spaced else (",", ":"))
    assert _outcome(documents_in, text) == _outcome(documents_of, text)


def _outcome(read, text: str) -> object:
    try:
        return read(text)
    except TypeError:  # a schema-invalid bizTransactionList (a number): both refuse it alike
        return TypeError


def test_equal_numbers_of_another_type_keep_their_own_cells():
    rows = [{"kind": "lot", "lot": "L1", "quantity": q, "uom": "KGM"} for q in (20, 20.0, 20, True)]
    sheet = zipfile.ZipFile(io.BytesIO(exports.to_xlsx(rows))).read("xl/worksheets/sheet1.xml").decode()
    assert [sheet.count(f'<c r="D{n}"><v>{v}</v></c>') for n, v in ((2, "20"), (3, "20.0"), (4, "20"))] == [1, 1, 1]
    assert '<c r="D5" t="b"><v>1</v></c>' in sheet
