"""The console's overview: pass rates against the plan's targets (charts), open recalls, alerts, counterfeit scans,
the watch list. One round trip (graph/console.overview); the charts' data is embedded as JSON for overview.js."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import request

from app.extensions import graph
from app.supervision import targets
from app.web.console import TEXT, bp, lang, render
from app.web.console.lists import CATEGORIES
from app.web.console.shaping import (
    PROGRAMMES,
    REGION_LEVELS,
    countdown,
    default_period,
    duration_text,
    parse_day,
    pass_rates,
    recovered_ratio,
)
from graph import console as store
from graph.regions import name_of, valid_code
from graph.supervision_rules import PROGRAMMES as PROGRAMME_NAMES
from gs1.timezones import CHINA


@bp.route("/")
def overview():
    """Pass rates by programme, category, region and period; open recalls; counterfeit scans."""
    language = lang()
    t = TEXT[language]
    now = datetime.now(UTC)
    first, last = default_period(now.astimezone(CHINA).date())
    first = parse_day(request.args.get("from")) or first
    last = parse_day(request.args.get("to")) or last
    programme = request.args.get("programme") if request.args.get("programme") in PROGRAMMES else PROGRAMMES[0]
    category = request.args.get("category") if request.args.get("category") in CATEGORIES else None
    region = (request.args.get("region") or "").strip()[:6] or None
    level = request.args.get("level") if request.args.get("level") in REGION_LEVELS else "county"
    if region and not valid_code(region):
        region = None
    data = store.overview(graph(), (first, last), category, region)
    rates = pass_rates(data["groups"], programme, targets())
    recalls = []
    for r in data["recalls"]:
        due = countdown(r.get("complete_by"), now)
        recalls.append({**r, "effect": recovered_ratio(r["held"], r["recovered"]), "due": due,
                        "due_text": duration_text(due["seconds"], language) if due else ""})
    names = rates["region_names"]
    charts = {
        "target": rates["target"],
        "labels": {"rate": t["chart_rate"], "target": t["chart_target"], "below": t["legend_below"]},
        "programmes": _chart(rates["programmes"], lambda k: programme_name(k, language)),
        "categories": _chart(rates["categories"], lambda k: t.get(f"cat_{k}", k)),
        "regions": _chart(rates["regions"][level],
                          lambda k: (names.get(k) or [k, k])[language == "en"] if k in names else k),
        "periods": _chart(rates["periods"], lambda k: k),
    }
    scans: dict[str, dict] = {}
    for gtin, name_zh, name_en, verdict, count in data["scans"]:
        row = scans.setdefault(gtin, {"gtin": gtin, "name_zh": name_zh, "name_en": name_en, "total": 0})
        row[verdict] = count
        row["total"] += count
    return render("console/overview.html", rates=rates, charts=charts, recalls=recalls,
                  open_total=data["open_recalls_total"],
                  scans=sorted(scans.values(), key=lambda s: -s["total"])[:20],
                  alerts=data["alerts"], alerts_open=data["alerts_open"],
                  watch=data["watch"],
                  form={"from": first.isoformat(), "to": last.isoformat(), "programme": programme,
                        "category": category or "", "region": region or "", "level": level},
                  programmes=PROGRAMMES, categories=CATEGORIES, levels=REGION_LEVELS,
                  region_name=lambda code: name_of(code, language) or code or "")


def programme_name(code: str | None, language: str) -> str:
    """A programme as people name it (graph/supervision_rules.PROGRAMMES)."""
    names = PROGRAMME_NAMES.get(code or "")
    return names[language == "en"] if names else (code or "")


def _chart(slices: list[dict], label) -> list[dict]:
    """A chart's bars: label, rate in percent, count, passed, target in percent, below target."""
    return [{"key": s["key"], "label": label(s["key"]),
             "rate": None if s["rate"] is None else round(s["rate"] * 100, 2), "count": s["count"],
             "passed": s["passed"],
             "target": None if s["target"] is None else round(s["target"] * 100, 2), "below": s["below"]}
            for s in slices]
