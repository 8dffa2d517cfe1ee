"""Which links the resolver holds for a code, as data (no request, no database): the linkset of a code, the target of
each link type, the query a redirect passes on, and the resolver description file.

Every code of a registered GTIN has the same link types, each pointing into that exact code's page (`/page/01/...`),
which says what is registered: a lot or serial that is not is shown as a suspected counterfeit with its product's
facts (the walk-up), so a scanning app that follows a link never skips the warning a shopper must see.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, quote, unquote

from gs1 import linkset
from gs1.digital_link import build_path

# The link types the resolver answers (GS1 Web Vocabulary names), in the order a linkset lists them.
LINK_TYPES = ("defaultLink", "pip", "traceability", "recallStatus", "certificationInfo", "epcis")
PRIMARY_KEYS = ("01", "00", "414")
LANGUAGES = ["zh", "en"]

_TITLES = {
    "defaultLink": "产品追溯 Product trace",
    "pip": "产品信息与验真 Product information and authenticity",
    "traceability": "追溯链 Trace chain",
    "recallStatus": "召回状态 Recall status",
    "certificationInfo": "认证与检验 Certificates and inspections",
    "epcis": "EPCIS 事件（授权方）EPCIS events (authorised parties)",
}


def canonical_path(code) -> str:
    """The code's Digital Link path without query: ``/01/{gtin}[/10/{lot}[/21/{serial}]]`` (values percent-encoded)."""
    qualifiers = [(ai, v) for ai, v in (("10", code.lot), ("21", code.serial)) if v is not None]
    return build_path("01", code.gtin, qualifiers)


def asked_link_type(raw_query: str) -> str | None:
    """The linkType parameter of a raw query string, decoded (None when absent or empty)."""
    for name, value in parse_qsl(raw_query, keep_blank_values=True):
        if name == "linkType":
            return value or None
    return None


def passed_on(raw_query: str) -> str:
    """The query a redirect for a link type passes on: every pair as received except linkType."""
    return "&".join(p for p in raw_query.split("&") if p and unquote(p.partition("=")[0]) != "linkType")


def with_query(href: str, query: str) -> str:
    """``href`` with ``query`` added (before any fragment)."""
    if not query:
        return href
    base, hash_, fragment = href.partition("#")
    return base + ("&" if "?" in base else "?") + query + hash_ + fragment


def links_of(code, root: str, info: dict) -> dict[str, list[dict]]:
    """The link targets of a code by link type name.

    Args:
        code: the parsed Digital Link (gtin, lot, serial).
        root: scheme and host of the resolver, e.g. ``https://trace.example.cn``.
        info: graph.scan.code's answer for the code (its product must be registered).

    Returns:
        {link type name: [target objects]}; every name of LINK_TYPES is present.
    """
    path = canonical_path(code)
    page = root + "/page" + path
    html = "text/html"
    epc = quote(root + path, safe="")
    return {
        # The default link carries a title only (GS1-Conformant Resolver standard: no other attribute).
        "defaultLink": [linkset.link(page, _TITLES["defaultLink"])],
        "pip": [linkset.link(page, _TITLES["pip"], html, LANGUAGES)],
        "traceability": [linkset.link(page + "#chain", _TITLES["traceability"], html, LANGUAGES)],
        "recallStatus": [linkset.link(page + "#recall-status", _TITLES["recallStatus"], html, LANGUAGES)],
        "certificationInfo": [linkset.link(page + "#certificates", _TITLES["certificationInfo"], html, LANGUAGES)],
        "epcis": [linkset.link(f"{root}/epcis/events?MATCH_anyEPC={epc}", _TITLES["epcis"], "application/json")],
    }


def description_of(code, info: dict) -> str:
    """The itemDescription of a code: the product's names, and the lot and serial it names."""
    product = info["product"]
    names = " / ".join(n for n in (product.get("name_zh"), product.get("name_en")) if n) or code.gtin
    parts = [names]
    if code.lot is not None:
        parts.append(f"批号 lot {code.lot}" + ("" if info["lot_known"] else " (未登记 not registered)"))
    if code.serial is not None:
        parts.append(f"单品码 serial {code.serial}" + ("" if info["item_known"] else " (未登记 not registered)"))
    return ", ".join(parts)


def linkset_of(code, root: str, info: dict) -> dict:
    """The RFC 9264 linkset of a code, anchored at the code's Digital Link URI on this resolver."""
    return linkset.linkset(root + canonical_path(code), description_of(code, info), links_of(code, root, info))


def description(root: str) -> dict:
    """The resolver description file served at /.well-known/gs1resolver."""
    return {
        "name": "吉林农产品追溯 Jilin Agri-Food Trace resolver",
        "resolverRoot": root,
        "supportedLinkType": [{"namespace": linkset.VOC, "prefix": "gs1:"}],
        "supportedPrimaryKeys": list(PRIMARY_KEYS),
        "supportedContextValuesEnumerated": [],
        "linkTypeDefaultCanBeAll": False,
    }
