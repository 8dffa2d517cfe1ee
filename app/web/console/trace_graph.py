"""The trace drawn for a recall officer (pure): lots and parties as nodes, lineage and custody edges, shipping and
receiving joined into one movement edge, with the classes the legend names (recalled, on hold, failed inspection).

Input is graph/trace.trace's answer; output is Cytoscape.js elements (plain JSON, embedded in the page) plus the
rows the page lists beside the drawing. Unit-tested in tests/app/test_console_shaping.py.
"""

from __future__ import annotations

from datetime import datetime

from gs1.timezones import CHINA

LINEAGE_LABELS = {"TRANSFORMED_INTO": ("加工为", "made into"), "HAS_ITEM": ("含单品", "has item"),
                  "PACKED_IN": ("装入", "packed in")}
ROLE_ORDER = ("farm", "processor", "distributor", "retailer", "lab", "certifier", "regulator")


def local(value: str | datetime | None) -> str:
    """A time (ISO text or datetime) as people in Jilin read it (Asia/Shanghai, to the minute); '' when absent."""
    if not value:
        return ""
    try:
        moment = value if isinstance(value, datetime) else datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if moment.tzinfo is None:
        return moment.strftime("%Y-%m-%d %H:%M")
    return moment.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def _pick(row: dict | None, lang: str, prefix: str = "name") -> str:
    if not row:
        return ""
    first, second = (f"{prefix}_en", f"{prefix}_zh") if lang == "en" else (f"{prefix}_zh", f"{prefix}_en")
    return row.get(first) or row.get(second) or ""


def party_name(parties: dict, gln: str | None, lang: str) -> str:
    """A party by name in the page's language (its GLN only when it has no name)."""
    return _pick(parties.get(gln or ""), lang) or (gln or "")


def lot_label(node: dict, lang: str) -> str:
    """A lot, item or pallet as a person names it: product name and lot number (or serial, or SSCC)."""
    product = _pick(node.get("product"), lang)
    ident = node.get("lot") if node["kind"] == "lot" else node.get("serial") or node.get("sscc") or node["id"]
    if node["kind"] == "item" and node.get("lot"):
        ident = f"{node['lot']} #{node.get('serial')}"
    return f"{product} {ident}".strip() if product else str(ident)


def movements(answer: dict) -> list[dict]:
    """Shipping and receiving of the traced objects joined: one movement per sender, receiver and object.

    A shipment's receipt is the receiving event naming the same object from the same sender at the receiver (the
    destination, or the receiving event's business location). Returns movements sorted by time, each with
    from/to GLNs, the object key, shipped and received quantities, unit, shipped_at and received_at (ISO).
    """
    traced = {n["id"] for n in answer["nodes"]}
    moves: dict[tuple, dict] = {}
    for ev in answer["events"]:
        if ev["biz_step"] not in ("shipping", "receiving"):
            continue
        sources = [p["gln"] for p in ev["sources"] if p.get("gln")]
        dests = [p["gln"] for p in ev["destinations"] if p.get("gln")]
        if not dests and ev["biz_step"] == "receiving" and ev.get("biz_location_gln"):
            dests = [ev["biz_location_gln"]]
        if not sources and ev["biz_step"] == "shipping" and ev.get("biz_location_gln"):
            sources = [ev["biz_location_gln"]]
        for o in ev["objects"]:
            if o["key"] not in traced:
                continue
            for src in sources or [None]:
                for dst in dests or [None]:
                    if src == dst:
                        continue
                    m = moves.setdefault((src, dst, o["key"]), {
                        "from": src, "to": dst, "key": o["key"], "shipped": None, "received": None,
                        "unit": o.get("uom"), "shipped_at": None, "received_at": None})
                    field, at = ("shipped", "shipped_at") if ev["biz_step"] == "shipping" else ("received",
                                                                                               "received_at")
                    m[field] = (m[field] or 0) + (o.get("quantity") or 0)
                    m[at] = m[at] or ev["event_time"]
                    m["unit"] = m["unit"] or o.get("uom")
    return sorted(moves.values(), key=lambda m: (m["shipped_at"] or m["received_at"] or "", m["key"],
                                                 m["from"] or "", m["to"] or ""))


def failed_lots(answer: dict) -> set[str]:
    """The traced objects with a failed inspection."""
    return {i["lot_key"] for i in answer["inspections"] if i.get("verdict") == "fail"}


def elements(answer: dict, lang: str) -> dict:
    """Cytoscape.js elements for a trace: lot nodes, party nodes, lineage, owner/holder and movement edges.

    Node classes: ``lot`` plus ``recalled`` / ``on_hold`` / ``failed`` / ``start``; ``party`` plus its first role.
    Movement edges join sender and receiver parties, one per pair, labelled with what moved and when.
    """
    parties = answer["parties"]
    failed = failed_lots(answer)
    nodes, edges = [], []
    for n in answer["nodes"]:
        classes = [n["kind"] if n["kind"] != "other" else "lot", "lot-like"]
        status = n.get("status") or "active"
        if status in ("recalled", "on_hold"):
            classes.append(status)
        if n["id"] in failed:
            classes.append("failed")
        if n["side"] == "start":
            classes.append("start")
        nodes.append({"data": {"id": n["id"], "label": lot_label(n, lang), "kind": "lot", "status": status,
                               "gtin": n.get("gtin"), "lot": n.get("lot"), "depth": n.get("depth") or 0},
                      "classes": " ".join(classes)})
    for e in answer["edges"]:
        edges.append({"data": {"id": f"l:{e['from']}>{e['to']}:{e['type']}", "source": e["from"], "target": e["to"],
                               "label": LINEAGE_LABELS.get(e["type"], (e["type"],) * 2)[lang == "en"]},
                      "classes": "lineage"})
    used: set[str] = set()
    for n in answer["nodes"]:
        owner = n.get("owner_gln")
        if owner and owner in parties:
            used.add(owner)
            edges.append({"data": {"id": f"o:{owner}>{n['id']}", "source": "p:" + owner, "target": n["id"],
                                   "label": "生产" if lang == "zh" else "made"}, "classes": "owner"})
    pairs: dict[tuple, list[dict]] = {}
    for m in movements(answer):
        if m["from"] and m["to"]:
            pairs.setdefault((m["from"], m["to"]), []).append(m)
    labels = {n["id"]: lot_label(n, lang) for n in answer["nodes"]}
    for (src, dst), moved in pairs.items():
        used.update((src, dst))
        first = min((m["shipped_at"] or m["received_at"] or "") for m in moved)
        text = "; ".join(f"{labels.get(m['key'], m['key'])} {(m['received'] or m['shipped'] or 0):g}"
                         for m in moved[:3]) + (" …" if len(moved) > 3 else "")
        edges.append({"data": {"id": f"m:{src}>{dst}", "source": "p:" + src, "target": "p:" + dst,
                               "label": f"{local(first)[:10]} {text}"}, "classes": "movement"})
    for gln in sorted(used):
        p = parties.get(gln) or {}
        roles = [r for r in ROLE_ORDER if r in (p.get("roles") or [])]
        nodes.append({"data": {"id": "p:" + gln, "label": party_name(parties, gln, lang), "kind": "party",
                               "role": roles[0] if roles else "party"},
                      "classes": "party " + (roles[0] if roles else "")})
    return {"nodes": nodes, "edges": edges}


def lot_rows(answer: dict, lang: str) -> list[dict]:
    """The traced lots as the page lists them (selectable for a recall): name, status, failed, owner, holders."""
    failed = failed_lots(answer)
    held: dict[str, list[str]] = {}
    for h in answer["holders"]:
        held.setdefault(h["key"], []).append(
            f"{party_name(answer['parties'], h['gln'], lang)} {(h.get('quantity') or 0):g}")
    rows = []
    for n in answer["nodes"]:
        if n["kind"] != "lot":
            continue
        rows.append({"key": n["id"], "gtin": n.get("gtin"), "lot": n.get("lot"), "label": lot_label(n, lang),
                     "status": n.get("status") or "active", "failed": n["id"] in failed, "side": n["side"],
                     "owner": party_name(answer["parties"], n.get("owner_gln"), lang),
                     "holders": held.get(n["id"], []), "quantity": n.get("quantity"), "unit": n.get("unit")})
    return rows
