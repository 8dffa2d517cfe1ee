"""The rules of recall notifications (pure; no database): who gets which notice on which channel, delivery IDs,
retry backoff, webhook signatures, one-time link tokens and the bilingual text of a message.

graph/outbox.py writes and claims the notifications; app/notify.py delivers them.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import datetime, timedelta

from gs1.timezones import CHINA

CHANNELS = ("webhook", "email", "sms")
KINDS = ("opened", "changed", "closed", "escalation")
# Every delivery ID lives in this namespace: uuid5(namespace, "recall/kind/party/channel") is the same whenever the
# same notice is written again (a retried transaction), so it cannot be sent under two IDs.
_NAMESPACE = uuid.UUID("6f1d4c8e-2b7a-5e3f-9a61-7c0d2e4b8a15")
BACKOFF_BASE_S = 2.0
BACKOFF_MAX_S = 3600.0
SIGNATURE_HEADER = "X-TraceGraph-Signature"
TIMESTAMP_HEADER = "X-TraceGraph-Timestamp"
DELIVERY_HEADER = "X-TraceGraph-Delivery"
_SECRET_DOMAIN = b"tracegraph/webhook-secret/v1"
_LINK_DOMAIN = b"tracegraph/ack-link/v1"


def delivery_id(recall_id: str, kind: str, gln: str, channel: str) -> str:
    """Return the delivery ID of one notice to one party on one channel (the same for every retry and rewrite)."""
    return str(uuid.uuid5(_NAMESPACE, f"{recall_id}/{kind}/{gln}/{channel}"))


def link_id(recall_id: str, kind: str, gln: str) -> str:
    """Return the ID of the one-time acknowledgement link a holder's notice carries (one for all its channels)."""
    return str(uuid.uuid5(_NAMESPACE, f"{recall_id}/{kind}/{gln}/link"))


def backoff_seconds(attempts: int) -> float:
    """Seconds to wait before the next try after `attempts` failed ones: 2, 4, 8, ... capped at an hour."""
    return min(BACKOFF_BASE_S * (2 ** max(attempts - 1, 0)), BACKOFF_MAX_S)


def next_try(now: datetime, attempts: int) -> datetime:
    """When a notice that failed `attempts` times is due again."""
    return now + timedelta(seconds=backoff_seconds(attempts))


def derive(key: bytes, domain: bytes, name: str) -> str:
    """An HMAC-SHA256 of `name` under the server key in its own domain, as URL-safe hex."""
    inner = hmac.new(key, domain, hashlib.sha256).digest()
    return hmac.new(inner, name.encode("utf-8"), hashlib.sha256).hexdigest()


def webhook_secret(key: bytes, gln: str, version: int) -> str:
    """A party's webhook signing secret: derived from the server key, its GLN and the secret's version.

    Nothing secret is stored: the database keeps the version and the secret's fingerprint only, so a copy of the
    database cannot sign a notification; rotating bumps the version, which makes a new secret.
    """
    return "whsec_" + derive(key, _SECRET_DOMAIN, f"{gln}/{version}")


def link_token(key: bytes, link: str) -> str:
    """The token of a one-time link, derived from the server key and the link's ID (only its hash is stored)."""
    return derive(key, _LINK_DOMAIN, link)


def token_hash(token: str) -> str:
    """The SHA-256 under which a token (a link's, a secret's fingerprint) is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value: v1=hex(HMAC-SHA256(secret, "<timestamp>." + body))."""
    mac = hmac.new(secret.encode("utf-8"), str(timestamp).encode("ascii") + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def notices(case: dict, kind: str, drill: bool, revision: int | None = None) -> list[dict]:
    """Return one payload per holder of a case (see graph.recall_shape.shape): what that holder's message says.

    Each names the product and lots the holder had, with its quantities, the case's reason, level and deadlines.
    A case changed more than once sends a `changed` notice per revision: the revision is part of its notice name
    (and so of its delivery IDs).
    """
    name = f"{kind}-{revision}" if revision is not None else kind
    names = {a["key"]: a for a in case["affected"]}
    out = []
    for h in case["holders"]:
        party = h["party"]
        lots = []
        for o in h["objects"]:
            a = names.get(o["key"], {})
            lots.append({"key": o["key"], "gtin": a.get("gtin"), "lot": a.get("lot"), "serial": a.get("serial"),
                         "product_zh": a.get("product_zh"), "product_en": a.get("product_en"),
                         "quantity": (o.get("quantity") or 0) + (o.get("pending") or 0), "unit": o.get("unit")})
        out.append({
            "recall_id": case["recall_id"], "kind": kind, "drill": drill, "level": case["level"],
            "reason": case["reason"], "opened_at": case["opened_at"], "deadlines": case["deadlines"],
            "status": case["status"], "party_gln": party["gln"], "party_zh": party.get("name_zh"),
            "party_en": party.get("name_en"), "held": h["held_at_opening"], "lots": lots,
            "link_id": link_id(case["recall_id"], name, party["gln"]), "notice": name,
        })
    return out


def _when(value: str | None) -> str:
    if not value:
        return ""
    return datetime.fromisoformat(value).astimezone(CHINA).strftime("%Y-%m-%d %H:%M")


def _qty(held: list[dict]) -> str:
    return ", ".join(f"{q['quantity']:g} {q['unit']}" for q in held if q.get("quantity")) or "0"


_LEVEL_ZH = {1: "一级", 2: "二级", 3: "三级"}
_HOURS = {1: 24, 2: 48, 3: 72}
_TITLE = {
    "opened": ("食品召回通知", "Food recall notice"),
    "changed": ("召回通知更新", "Recall notice updated"),
    "closed": ("召回已结束", "Recall closed"),
    "escalation": ("召回提醒：尚未确认", "Recall reminder: not yet confirmed"),
}


def render(payload: dict, ack_url: str | None) -> tuple[str, str]:
    """Return (subject, text) of a notice: Chinese first, then English, the same facts in both."""
    zh_title, en_title = _TITLE[payload["kind"]]
    drill_zh = "【演练】" if payload["drill"] else ""
    drill_en = "[DRILL] " if payload["drill"] else ""
    subject = f"{drill_zh}{zh_title} {payload['recall_id']} / {drill_en}{en_title}"
    level = payload["level"]
    lots_zh = "\n".join(f"  - {x['product_zh'] or x['product_en'] or x['gtin'] or ''} 批号 {x['lot'] or x['key']}"
                        f"：{x['quantity']:g} {x['unit'] or ''}" for x in payload["lots"]) or "  -"
    lots_en = "\n".join(f"  - {x['product_en'] or x['product_zh'] or x['gtin'] or ''} lot {x['lot'] or x['key']}: "
                        f"{x['quantity']:g} {x['unit'] or ''}" for x in payload["lots"]) or "  -"
    start, complete = _when(payload["deadlines"]["start_by"]), _when(payload["deadlines"]["complete_by"])
    if payload["drill"]:
        todo_zh = "这是模拟召回演练，请勿下架或销毁。请在下方链接确认您已找到上述库存及其数量。"
        todo_en = ("This is a mock recall (drill): do not remove or destroy anything. Confirm below that you have "
                   "located the stock and its quantity.")
    elif payload["kind"] == "closed":
        todo_zh, todo_en = "此召回已结束，无需进一步操作。", "This recall is closed; nothing more is needed."
    else:
        todo_zh = ("请立即停止销售和使用上述产品，下架并封存，通知已购买的顾客停止食用，并在下方链接确认下架数量。"
                   f"须在 {start} 前开始召回，{complete} 前完成。")
        todo_en = ("Stop selling and using these products now, remove them from sale and set them aside, tell "
                   "customers who bought them to stop eating them, and confirm the quantity removed at the link "
                   f"below. Start by {start}, complete by {complete} (China time).")
    link_zh = f"\n确认链接（仅可使用一次）：{ack_url}\n" if ack_url else "\n"
    link_en = f"\nConfirmation link (works once): {ack_url}\n" if ack_url else "\n"
    zh = (f"{drill_zh}{zh_title}（{_LEVEL_ZH[level]}召回，须在 {_HOURS[level]} 小时内启动）\n"
          f"编号：{payload['recall_id']}\n收件单位：{payload['party_zh'] or payload['party_gln']}\n"
          f"原因：{payload['reason']}\n涉及批次及贵单位数量：\n{lots_zh}\n合计：{_qty(payload['held'])}\n"
          f"发布时间：{_when(payload['opened_at'])}\n启动期限：{start}\n完成期限：{complete}\n"
          f"应采取的措施：{todo_zh}{link_zh}")
    en = (f"{drill_en}{en_title} (level {level}: start within {_HOURS[level]} hours)\n"
          f"Case: {payload['recall_id']}\nTo: {payload['party_en'] or payload['party_zh'] or payload['party_gln']}\n"
          f"Reason: {payload['reason']}\nLots and the quantities you have:\n{lots_en}\n"
          f"Total: {_qty(payload['held'])}\nIssued: {_when(payload['opened_at'])}\nStart by: {start}\n"
          f"Complete by: {complete}\nWhat to do: {todo_en}{link_en}")
    return subject, zh + "\n----------\n\n" + en


def sms_text(payload: dict, ack_url: str | None) -> str:
    """A short message for SMS: case, product, reason, deadline and the link (Chinese, then English)."""
    first = payload["lots"][0] if payload["lots"] else {}
    product = first.get("product_zh") or first.get("product_en") or ""
    drill = "【演练】" if payload["drill"] else ""
    return (f"{drill}【召回{payload['recall_id']}】{product} 批号{first.get('lot') or ''}等：{payload['reason'][:60]}。"
            f"请立即停售下架，{_when(payload['deadlines']['start_by'])}前启动。确认：{ack_url or '-'} "
            f"/ Recall {payload['recall_id']}: stop selling; confirm at the link.")


def webhook_body(payload: dict, delivery: str, channel_url: str | None) -> bytes:
    """The JSON body a webhook receives: the payload, its delivery ID and the acknowledgement link."""
    body = {k: v for k, v in payload.items() if k != "link_id"}
    body.update({"delivery_id": delivery, "ack_url": channel_url})
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def redact_link(text: str, token: str) -> str:
    """The text with a link's token replaced, for logs (a token is a secret)."""
    return text.replace(token, "[token]") if token else text


def _at(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def drill_report(case: dict, notices: list[dict]) -> dict:
    """Return a (mock) recall's report: time to trace, holders reached and acknowledged within 24 h and 48 h of
    opening, and the holders a real recall would have missed (no channel reached them).

    Args:
        case: the case as graph.recalls.get answers it (trace_ms, holders with acknowledgements).
        notices: the case's notifications (party_gln, channel, kind, state, delivered_at).
    """
    opened = _at(case["opened_at"])
    windows = {"24h": timedelta(hours=24), "48h": timedelta(hours=48)}
    first_delivery: dict[str, datetime] = {}
    channels: dict[str, dict[str, str]] = {}
    for n in notices:
        if n["kind"] != "opened":
            continue
        channels.setdefault(n["party_gln"], {})[n["channel"]] = n["state"]
        at = _at(n.get("delivered_at"))
        if n["state"] == "delivered" and at is not None:
            seen = first_delivery.get(n["party_gln"])
            first_delivery[n["party_gln"]] = at if seen is None or at < seen else seen
    holders, missed = [], []
    reached = dict.fromkeys(windows, 0)
    acknowledged = dict.fromkeys(windows, 0)
    for h in case["holders"]:
        gln = h["party"]["gln"]
        acks = sorted(_at(a["at"]) for a in h["acknowledgements"] if a.get("at"))
        delivered = first_delivery.get(gln)
        for name, span in windows.items():
            if delivered is not None and delivered - opened <= span:
                reached[name] += 1
            if acks and acks[0] - opened <= span:
                acknowledged[name] += 1
        if delivered is None:
            missed.append(gln)
        holders.append({"party_gln": gln, "name_zh": h["party"].get("name_zh"), "name_en": h["party"].get("name_en"),
                        "channels": channels.get(gln, {}), "first_delivered_at": delivered.isoformat() if delivered
                        else None, "first_acknowledged_at": acks[0].isoformat() if acks else None})
    return {"recall_id": case["recall_id"], "drill": case["drill"], "opened_at": case["opened_at"],
            "trace_ms": case.get("trace_ms"), "affected_count": case["affected_count"],
            "holders_total": len(case["holders"]), "reached": reached, "acknowledged": acknowledged,
            "missed": missed, "holders": holders}
