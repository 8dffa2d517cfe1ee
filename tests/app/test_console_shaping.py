"""The console's pure rules: pass-rate slices against the plan's targets, region levels, the trace as parties beside
lots with shipping and receiving joined, recall countdowns, capped holder figures and effectiveness over time."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from app.web.console import shaping
from app.web.console.trace_graph import elements, local, lot_rows, movements

# [programme, category, region, month, count, passed]
GROUPS = [
    ["routine_monitoring", "rice", "220581", "2026-10", 40, 39],
    ["routine_monitoring", "rice", "220283", "2026-10", 60, 60],
    ["routine_monitoring", "ginseng", "220621", "2026-09", 100, 98],
    ["food_safety_sampling", "beef", "222405", "2026-10", 20, 18],
]


def test_a_slice_below_the_97_percent_target_is_marked_and_one_at_it_is_not():
    rates = shaping.pass_rates(GROUPS, "routine_monitoring")
    cats = {s["key"]: s for s in rates["categories"]}
    # rice: 99 of 100 = 99% >= 97%; ginseng 98 of 100 = 98%
    assert (cats["rice"]["count"], cats["rice"]["passed"], cats["rice"]["below"]) == (100, 99, False)
    counties = {s["key"]: s for s in rates["regions"]["county"]}
    # Meihekou: 39/40 = 97.5% (not below); total 197/200 = 98.5%
    assert counties["220581"]["rate"] == 39 / 40 and not counties["220581"]["below"]
    assert (rates["total"]["count"], rates["total"]["passed"]) == (200, 197)
    assert rates["target"] == 0.97
    below = shaping.pass_rates([["routine_monitoring", "rice", "220581", "2026-10", 100, 96]], "routine_monitoring")
    assert below["categories"][0]["below"] and below["total"]["below"]
    exact = shaping.pass_rates([["routine_monitoring", "rice", "220581", "2026-10", 100, 97]], "routine_monitoring")
    assert not exact["total"]["below"]


def test_programmes_each_meet_their_own_target_and_other_slices_stay_inside_the_chosen_programme():
    rates = shaping.pass_rates(GROUPS, "food_safety_sampling")
    progs = {s["key"]: s for s in rates["programmes"]}
    assert progs["food_safety_sampling"]["target"] == 0.95 and progs["food_safety_sampling"]["below"]  # 18/20=90%
    assert progs["routine_monitoring"]["target"] == 0.97 and not progs["routine_monitoring"]["below"]
    assert shaping.pass_rates(GROUPS, "routine_monitoring", {"routine_monitoring": 0.99})["total"]["below"]
    assert [s["key"] for s in rates["categories"]] == ["beef"]
    assert rates["total"]["count"] == 20


def test_an_unclassified_inspection_is_counted_not_a_crash():
    rates = shaping.pass_rates([*GROUPS, [None, None, None, None, 3, 1]], "routine_monitoring")
    assert {s["key"]: s["count"] for s in rates["programmes"]}["-"] == 3


def test_regions_roll_up_to_city_and_province():
    rates = shaping.pass_rates(GROUPS, "routine_monitoring")
    cities = {s["key"]: (s["count"], s["passed"]) for s in rates["regions"]["city"]}
    assert cities == {"220500": (40, 39), "220200": (60, 60), "220600": (100, 98)}
    assert [(s["key"], s["count"]) for s in rates["regions"]["province"]] == [("220000", 200)]
    assert rates["region_names"]["220581"][0] == "梅河口市"
    assert shaping.region_prefix("222405", "city") == "222400"
    assert shaping.region_prefix("", "county") == "-"
    assert shaping.region_prefix("222400", "county") == "-"


def test_periods_are_months_and_an_empty_slice_has_no_rate():
    rates = shaping.pass_rates(GROUPS, "routine_monitoring")
    assert [(s["key"], s["count"]) for s in rates["periods"]] == [("2026-09", 100), ("2026-10", 100)]
    empty = shaping.rate_slice("x", 0, 0, 0.97)
    assert empty["rate"] is None and not empty["below"]


def test_recovered_ratio_takes_the_main_unit_and_caps_at_one():
    held = [[["KGM", "EA"], [300.0, 5.0]], [["KGM"], [100.0]]]
    eff = shaping.recovered_ratio(held, [["KGM", 100.0], ["KGM", 100.0], ["EA", 5.0]])
    assert eff == {"unit": "KGM", "held": 400.0, "recovered": 200.0, "ratio": 0.5}
    assert shaping.recovered_ratio(held, [["KGM", 900.0]])["ratio"] == 1.0
    assert shaping.recovered_ratio([], [])["ratio"] is None


def test_countdown_and_its_words():
    now = datetime(2026, 10, 20, 0, 0, tzinfo=UTC)
    due = shaping.countdown("2026-10-21T03:30:00Z", now)
    assert due["seconds"] == 27 * 3600 + 1800 and not due["overdue"]
    assert shaping.duration_text(due["seconds"], "zh") == "1天3小时"
    assert shaping.duration_text(due["seconds"], "en") == "1 d 3 h"
    late = shaping.countdown("2026-10-19T23:00:00+00:00", now)
    assert late["overdue"] and shaping.duration_text(late["seconds"], "en") == "1 h 0 min"
    assert shaping.countdown(None, now) is None


def _case():
    return {
        "opened_at": "2026-10-20T00:00:00Z",
        "affected": [{"key": "lot:1:A", "kind": "lot", "unit": "EA", "quantity": 500}],
        "holders": [
            {"party": {"gln": "A"}, "held_at_opening": [{"unit": "EA", "quantity": 300.0}],
             "objects": [{"key": "lot:1:A", "quantity": 300, "pending": 0, "unit": "EA", "shipments": []}],
             "acknowledged": True,
             "acknowledgements": [{"unit": "EA", "quantity_removed": 300, "quantity_recovered": 100,
                                   "at": "2026-10-21T00:00:00Z"},
                                  {"unit": "EA", "quantity_removed": 0, "quantity_recovered": 50,
                                   "at": "2026-10-23T00:00:00Z"}]},
            {"party": {"gln": "B"}, "held_at_opening": [{"unit": "EA", "quantity": 200.0}],
             "objects": [{"key": "lot:1:A", "quantity": 200, "pending": 0, "unit": "EA", "shipments": []}],
             "acknowledged": True,
             "acknowledgements": [{"unit": "EA", "quantity_removed": 200, "quantity_recovered": 200,
                                   "at": "2026-10-22T00:00:00Z"}]},
        ],
    }


def test_effectiveness_over_time_steps_at_each_acknowledgement():
    series = shaping.effectiveness_series(_case())["units"]["EA"]
    # held 500 EA: 100 -> 20%, +200 -> 60%, +50 -> 70%
    assert series == [["2026-10-20T00:00:00Z", 0.0], ["2026-10-21T00:00:00Z", 20.0],
                      ["2026-10-22T00:00:00Z", 60.0], ["2026-10-23T00:00:00Z", 70.0]]


def test_holder_rows_cap_what_a_holder_reports_at_what_it_had():
    case = _case()
    case["holders"][1]["acknowledgements"][0]["quantity_recovered"] = 250  # more than its 200
    rows = shaping.holder_rows(case)
    assert rows[0]["capacity"] == {"EA": 300.0} and rows[0]["recovered"] == {"EA": 150}
    assert rows[1]["recovered"] == {"EA": 200.0} and rows[1]["removed"] == {"EA": 200}
    assert rows[0]["last_ack"] == "2026-10-23T00:00:00Z"


def test_list_args_fall_back_to_defaults_for_unknown_values():
    args = shaping.list_args({"sort": "drop table", "page": "x"}, ("date", "lot"))
    assert (args["sort"], args["desc"], args["page"], args["skip"]) == ("date", True, 1, 0)
    args = shaping.list_args({"sort": "lot", "dir": "asc", "page": "3"}, ("date", "lot"))
    assert (args["sort"], args["desc"], args["skip"]) == ("lot", False, 2 * shaping.PAGE_SIZE)


def test_window_covers_whole_china_days():
    start, end = shaping.window_of("2026-10-15", "2026-10-16")
    assert start.isoformat() == "2026-10-15T00:00:00+08:00"
    assert end.isoformat() == "2026-10-16T23:59:59.999999+08:00"
    assert shaping.window_of("2026-10-16", "2026-10-15") is None
    assert shaping.window_of("", "2026-10-15") is None


def test_failed_items_name_only_failed_results():
    assert shaping.failed_items([{"item": "镉 Cd", "passed": False}, {"item": "铅 Pb", "passed": True}]) == ["镉 Cd"]


def _answer():
    parties = {"F": {"gln": "F", "name_zh": "梅河口米厂", "name_en": "Meihekou Mill", "roles": ["processor"]},
               "D": {"gln": "D", "name_zh": "长春配送中心", "name_en": "Changchun DC", "roles": ["distributor"]},
               "S": {"gln": "S", "name_zh": "欧亚超市", "name_en": "Eurasia", "roles": ["retailer"]}}
    nodes = [{"id": "lot:1:M", "kind": "lot", "side": "start", "depth": 0, "gtin": "1", "lot": "M",
              "status": "active", "owner_gln": "F", "product": {"name_zh": "大米", "name_en": "Rice"}},
             {"id": "lot:2:B", "kind": "lot", "side": "forward", "depth": 1, "gtin": "2", "lot": "B",
              "status": "recalled", "owner_gln": "F", "quantity": 500, "product": {"name_zh": "袋装米"}}]
    ship = {"biz_step": "shipping", "event_time": "2026-10-21T06:00:00+08:00", "biz_location_gln": "F",
            "sources": [{"gln": "F"}], "destinations": [{"gln": "D"}],
            "objects": [{"key": "lot:2:B", "quantity": 500, "uom": "EA"}]}
    recv = {"biz_step": "receiving", "event_time": "2026-10-21T15:00:00+08:00", "biz_location_gln": "D",
            "sources": [{"gln": "F"}], "destinations": [{"gln": "D"}],
            "objects": [{"key": "lot:2:B", "quantity": 500, "uom": "EA"}]}
    ship2 = {"biz_step": "shipping", "event_time": "2026-10-22T06:00:00+08:00", "biz_location_gln": "D",
             "sources": [{"gln": "D"}], "destinations": [{"gln": "S"}],
             "objects": [{"key": "lot:2:B", "quantity": 200, "uom": "EA"}, {"key": "lot:9:X", "quantity": 1}]}
    return {"start": "lot:1:M", "nodes": nodes, "parties": parties,
            "edges": [{"from": "lot:1:M", "to": "lot:2:B", "type": "TRANSFORMED_INTO"}],
            "events": [ship, recv, ship2], "holders": [{"gln": "D", "key": "lot:2:B", "quantity": 300.0}],
            "inspections": [{"lot_key": "lot:1:M", "verdict": "fail", "report_no": "R1"}]}


def test_shipping_and_receiving_are_one_movement_and_an_unreceived_shipment_stays_in_transit():
    moves = movements(_answer())
    assert [(m["from"], m["to"], m["key"], m["shipped"], m["received"]) for m in moves] == [
        ("F", "D", "lot:2:B", 500, 500), ("D", "S", "lot:2:B", 200, None)]
    assert moves[0]["shipped_at"].startswith("2026-10-21T06") and moves[0]["received_at"].startswith("2026-10-21T15")


def test_the_drawing_has_parties_beside_lots_with_legend_classes_and_names():
    drawn = elements(_answer(), "zh")
    nodes = {n["data"]["id"]: n for n in drawn["nodes"]}
    assert set(nodes) == {"lot:1:M", "lot:2:B", "p:F", "p:D", "p:S"}
    assert "failed" in nodes["lot:1:M"]["classes"] and "start" in nodes["lot:1:M"]["classes"]
    assert "recalled" in nodes["lot:2:B"]["classes"]
    assert nodes["p:D"]["data"]["label"] == "长春配送中心" and "distributor" in nodes["p:D"]["classes"]
    assert nodes["lot:1:M"]["data"]["label"] == "大米 M"
    moves = [e for e in drawn["edges"] if e["classes"] == "movement"]
    assert sorted((e["data"]["source"], e["data"]["target"]) for e in moves) == [("p:D", "p:S"), ("p:F", "p:D")]
    assert any(e["classes"] == "lineage" and e["data"]["label"] == "加工为" for e in drawn["edges"])
    en = {n["data"]["id"]: n for n in elements(_answer(), "en")["nodes"]}
    assert en["p:F"]["data"]["label"] == "Meihekou Mill" and en["lot:2:B"]["data"]["label"] == "袋装米 B"


def test_lot_rows_name_owner_and_holders():
    rows = {r["key"]: r for r in lot_rows(_answer(), "en")}
    assert rows["lot:1:M"]["failed"] and not rows["lot:2:B"]["failed"]
    assert rows["lot:2:B"]["holders"] == ["Changchun DC 300"] and rows["lot:2:B"]["owner"] == "Meihekou Mill"


def test_local_time_is_asia_shanghai():
    assert local("2026-10-20T16:30:00Z") == "2026-10-21 00:30"
    assert local(datetime(2026, 10, 20, 16, 30, tzinfo=UTC)) == "2026-10-21 00:30"
    assert local(None) == ""


def test_the_catalogue_names_every_word_the_templates_use_in_both_languages():
    import re
    from pathlib import Path

    folder = Path(__file__).resolve().parents[2] / "app" / "web" / "templates" / "console"
    catalogue = {"zh": {}, "en": {}}
    for path in sorted(folder.glob("i18n*.json")):  # i18n.json and the forms' own catalogues
        part = json.loads(path.read_text("utf-8"))
        assert part["zh"].keys() == part["en"].keys(), path.name
        for language in catalogue:
            catalogue[language].update(part[language])
    used = set()
    for template in folder.glob("*.html"):
        text = template.read_text("utf-8")
        used |= set(re.findall(r"\bt\.([a-z_0-9]+)\b", text)) - {"get"}
        used |= set(re.findall(r"\bt\['([a-z_0-9]+)'\]", text))
    assert used and used <= catalogue["zh"].keys(), sorted(used - catalogue["zh"].keys())


def test_form_messages_read_as_one_line():
    assert shaping.form_messages({"lots": {"0": {"gtin": ["bad check digit"]}}, "level": ["must be one of 1, 2, 3"]}) \
        == "gtin: bad check digit; level: must be one of 1, 2, 3"
