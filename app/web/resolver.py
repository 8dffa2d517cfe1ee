"""The GS1 Digital Link resolver: GET /01/{gtin}/10/{lot}[/21/{serial}][?17=YYMMDD] -> the consumer scan page.

Browsers get the page (zh-CN by default, English with ?lang=en); `Accept: application/json` gets the same facts as
JSON. Unknown or malformed codes get a friendly page in the same style, never a stack trace.
"""

from __future__ import annotations

import functools
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qsl, quote, urlencode

from flask import Blueprint, Flask, current_app, jsonify, make_response, render_template, request
from markupsafe import Markup, escape
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException

from app.errors import error_response, status_of
from app.extensions import graph
from app.scan_buffer import ScanBuffer, fingerprint, network
from app.schemas.labels import ResolverQuery
from app.web import resolver_links as links
from graph import authenticity, timeline
from graph import scan as scan_store
from graph.errors import GraphError, NotFound, Unavailable
from gs1 import linkset
from gs1.digital_link import element_string as gs1_element_string
from gs1.digital_link import parse_elements, parse_path
from gs1.errors import InvalidIdentifier
from labels.serials import check_serial

bp = Blueprint("resolver", __name__, template_folder="templates")
# Static files live in their own blueprint: the resolver's rate limit counts pages, not stylesheets.
assets = Blueprint("scan_assets", __name__, static_folder="static/scan", static_url_path="/static/scan")

_QUERY = ResolverQuery()
# Verdicts that say the code is not one the brand owner issued: the page and its JSON show the claimed product only.
COUNTERFEIT = frozenset({"unknown_code", "invalid_signature"})
_I18N = json.loads((Path(__file__).parent / "templates" / "scan" / "i18n.json").read_text("utf-8"))
TEXT: dict[str, dict[str, str]] = {"zh": _I18N["zh"], "en": _I18N["en"]}
_STEPS: dict[str, list[str]] = _I18N["steps"]


@bp.record_once
def _init_buffer(state) -> None:
    app: Flask = state.app
    app.extensions["scan_buffer"] = ScanBuffer(
        app.extensions["graph"],
        max_queue=app.config["SCAN_QUEUE_MAX"],
        batch_size=app.config["SCAN_BATCH_SIZE"],
        interval=app.config["SCAN_FLUSH_SECONDS"],
    )
    # Tests change data between scans of one code and expect to see it at once; served pages keep the lineage
    # facts up to 10 seconds (statuses are read live either way).
    seconds = app.config.get("SCAN_CACHE_SECONDS")
    if seconds is None:
        seconds = 0.0 if app.testing else 10.0
    app.extensions["scan_page_cache"] = scan_store.PageCache(float(seconds))


def scan_buffer() -> ScanBuffer:
    """Return this process's scan buffer."""
    return current_app.extensions["scan_buffer"]


@bp.route("/01/<path:rest>", methods=["GET", "HEAD", "OPTIONS"], provide_automatic_options=False)
def resolve(rest: str):
    """Resolve a GTIN Digital Link: the page (HTML), its facts (JSON), the linkset, or a redirect to a link."""
    return _answer(rest, at_page=False)


@bp.route("/page/01/<path:rest>", methods=["GET", "HEAD", "OPTIONS"], provide_automatic_options=False)
def page(rest: str):
    """The default link of every code of a registered GTIN: the consumer page (or its facts as JSON)."""
    return _answer(rest, at_page=True)


@bp.route("/00/<path:rest>", methods=["GET", "HEAD", "OPTIONS"], provide_automatic_options=False)
def sscc(rest: str):
    """An SSCC (logistic unit): checked, then a clear 404: what a pallet holds is trade partners' business."""
    return _other_key("00")


@bp.route("/414/<path:rest>", methods=["GET", "HEAD", "OPTIONS"], provide_automatic_options=False)
def location(rest: str):
    """A GLN of a location: checked, then a clear 404: places are shown on the product pages they belong to."""
    return _other_key("414")


@bp.route("/.well-known/gs1resolver", methods=["GET", "HEAD", "OPTIONS"], provide_automatic_options=False)
def description():
    """The resolver description file (GS1-Conformant Resolver standard, section 6)."""
    if request.method == "OPTIONS":
        return _options()
    root = _root()
    return jsonify(links.description(root)), 200, {"Cache-Control": "public, max-age=3600"}


def _answer(rest: str, at_page: bool):
    raw_path, raw_query = _raw_uri()
    if request.method == "OPTIONS":
        return _options(raw_path)
    try:
        # Most scans carry no query at all: what the schema would answer for none, without running it.
        args = _query_args(raw_query)
    except ValidationError as exc:
        field, messages = next(iter(exc.messages.items()))
        return _problem(400, "bad_request", "bad_query", f"{field}: {' '.join(messages)}", _asked_lang(raw_query),
                        {"query": exc.messages})
    lang = args.get("lang") or _cookie_lang()
    try:
        code = parse_path(raw_path + ("?" + raw_query if raw_query else ""))
    except InvalidIdentifier as exc:
        return _problem(400, "bad_request", "bad_code", str(exc), lang)
    root = _root()
    want = _negotiate()
    if at_page and want == "redirect":
        want = "html"
    asked = links.asked_link_type(raw_query)
    if not at_page and (want == "linkset" or asked in linkset.LINKSET_WORDS):
        return _linkset_answer(code, root, lang)
    if not at_page and asked is not None:
        return _link_redirect(code, root, asked, raw_query, lang)
    if want == "redirect":
        return _default_redirect(code, root, raw_query, lang)
    if code.lot is None:
        return _product_page(code, root, raw_path, raw_query, lang, want)
    try:
        facts = scan_store.page(graph(), code.gtin, code.lot, code.serial,
                                cache=current_app.extensions["scan_page_cache"],
                                timeout=current_app.config.get("SCAN_QUERY_TIMEOUT", scan_store.PAGE_TIMEOUT))
    except NotFound as exc:
        if exc.field == "lot" and want != "json":  # a registered product, an unregistered lot: walk up to it
            return _product_page(code, root, raw_path, raw_query, lang, want)
        return _problem(404, "not_found", "unknown", exc.message, lang)
    except Unavailable as exc:
        return _problem(503, "service_unavailable", "down", exc.message, lang)

    now = datetime.now(UTC)
    secret, address = current_app.config["SECRET_KEY"], request.remote_addr or ""
    scan = {
        "scan_id": str(uuid.uuid4()), "time": now, "gtin": code.gtin, "lot": code.lot, "serial": code.serial,
        "fp": fingerprint(secret, address, request.headers.get("User-Agent", "")), "net": network(secret, address),
        "lat": args.get("lat"), "lon": args.get("lon"), "region": args.get("region"),
    }
    signature = None
    if code.serial is not None:
        signature = check_serial(secret, code.gtin, code.lot, code.serial).value
    looked = _is_a_look()
    copy_reason = None
    if facts["copy_state"] is not None:
        # A prefetch or HEAD is no one looking at the code: it shows the verdict as it stands and changes nothing.
        copy_reason = (authenticity.assess(facts["copy_state"], scan)[1] if looked
                       else facts["copy_state"].get("suspect_reason"))
    verdict = authenticity.verdict(code.serial, signature, facts, copy_reason)
    scan["verdict"] = verdict["verdict"]
    if looked:
        scan_buffer().add(scan)

    public = {k: v for k, v in facts.items() if k not in ("copy_state", "item_lot_matches")}
    public["code"] = {"gtin": code.gtin, "lot": code.lot, "serial": code.serial, "query": code.query}
    public["authenticity"] = verdict
    if want == "json":
        if verdict["verdict"] in COUNTERFEIT:  # a forged code gets none of the genuine lot's credentials
            public = {k: public[k] for k in ("product", "code", "authenticity", "recall", "on_hold")}
        response = jsonify(public)
        response.headers["Access-Control-Allow-Origin"] = "*"
    else:
        response = make_response(_render_page(public, lang, raw_path, raw_query))
        response.headers["Content-Language"] = "zh-CN" if lang == "zh" else "en"
    response.headers["Vary"] = "Accept, Cookie"
    response.headers["Cache-Control"] = "no-store"  # each scan is counted and its verdict can change
    response.headers["Link"] = linkset.linkset_link_header(root + links.canonical_path(code))
    return response


_NO_QUERY = _QUERY.load({})


def _query_args(raw_query: str) -> dict:
    """The resolver's own query parameters, validated (ResolverQuery); a fresh copy of the defaults for none."""
    if not raw_query:
        return dict(_NO_QUERY)
    return _QUERY.load(dict(parse_qsl(raw_query, keep_blank_values=True)))


def _root() -> str:
    """The scheme and host the client used: the linkset's anchors are the URIs it asked about."""
    return request.host_url.rstrip("/")


def _negotiate() -> str:
    """What the client asks for: 'linkset', 'json', 'html' (a browser, or a client that names no type), or
    'redirect' (a client that accepts anything, e.g. a scanning app or curl: it is sent to the default link)."""
    accept = request.accept_mimetypes
    if not request.headers.get("Accept"):
        return "html"
    best = accept.best_match([linkset.MEDIA_TYPE, "application/json", "text/html"], default=None)
    named = {value for value, quality in accept if quality > 0}
    if best == linkset.MEDIA_TYPE and linkset.MEDIA_TYPE in named:
        return "linkset"
    if best == "application/json" and "application/json" in named:
        return "json"
    if named & {"text/html", "application/xhtml+xml"}:
        return "html"
    return "redirect"


def _code_facts(code, lang: str):
    """The registered levels of a code and its product's facts, or a problem response (404, 503)."""
    try:
        info = scan_store.code(graph(), code.gtin, code.lot, code.serial,
                               timeout=current_app.config.get("SCAN_QUERY_TIMEOUT", scan_store.PAGE_TIMEOUT))
    except Unavailable as exc:
        return None, _problem(503, "service_unavailable", "down", exc.message, lang)
    if info["product"] is None:
        return None, _problem(404, "not_found", "unknown", f"no product with GTIN {code.gtin}", lang)
    return info, None


def _linkset_answer(code, root: str, lang: str):
    """The code's linkset (RFC 9264 JSON), with a Link header naming GS1's JSON-LD context."""
    info, problem = _code_facts(code, lang)
    if problem is not None:
        return problem
    body = links.linkset_of(code, root, info)
    response = current_app.response_class(json.dumps(body, ensure_ascii=False), mimetype=linkset.MEDIA_TYPE)
    response.headers["Link"] = ", ".join([linkset.context_link_header(),
                                          linkset.linkset_link_header(root + links.canonical_path(code))])
    response.headers["Vary"] = "Accept"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _link_redirect(code, root: str, asked: str, raw_query: str, lang: str):
    """307 to the link of the asked type (the query passed on, less linkType), or 404 when there is none."""
    name = linkset.link_type(asked)
    info, problem = _code_facts(code, lang)
    if problem is not None:
        return problem
    targets = links.links_of(code, root, info).get(name or "") if name != "defaultLinkMulti" else None
    if not targets:
        return _problem(404, "not_found", "no_link", f"no link of type {asked} for this code", lang)
    return _redirect(targets[0]["href"], links.passed_on(raw_query), root, code)


def _default_redirect(code, root: str, raw_query: str, lang: str):
    """307 to the default link (the code's page), the whole query passed on."""
    info, problem = _code_facts(code, lang)
    if problem is not None:
        return problem
    return _redirect(links.links_of(code, root, info)["defaultLink"][0]["href"], raw_query, root, code)


def _redirect(href: str, query: str, root: str, code):
    response = make_response("", 307)
    response.headers["Location"] = links.with_query(href, query)
    response.headers["Link"] = linkset.linkset_link_header(root + links.canonical_path(code))
    response.headers["Cache-Control"] = "no-store"
    response.headers["Vary"] = "Accept"
    return response


def _product_page(code, root: str, raw_path: str, raw_query: str, lang: str, want: str):
    """The page of a GTIN-only code, or of an unregistered lot or serial walked up to its product: the product's
    public facts; a lot or serial that is not registered is said to be a suspected counterfeit."""
    info, problem = _code_facts(code, lang)
    if problem is not None:
        return problem
    unregistered = code.lot is not None  # only reached for a lot the page query did not find
    body = {"product": info["product"], "certificates": [c for c in info["certificates"] if not c["expired"]],
            "code": {"gtin": code.gtin, "lot": code.lot, "serial": code.serial, "query": code.query},
            "authenticity": ({"verdict": "unknown_code", "level": "lot", "reason": "not_registered"}
                             if unregistered else {"verdict": "product", "level": "product", "reason": None})}
    if want == "json":
        response = jsonify(body)
        response.headers["Access-Control-Allow-Origin"] = "*"
    else:
        response = make_response(render_template(
            "scan/product.html", f=body, lang=lang, t=TEXT[lang], other=_switch_url(raw_path, raw_query, lang),
            element_string=element_string(body["code"])))
        response.headers["Content-Language"] = "zh-CN" if lang == "zh" else "en"
    response.headers["Vary"] = "Accept, Cookie"
    response.headers["Cache-Control"] = "no-store"
    response.headers["Link"] = linkset.linkset_link_header(root + links.canonical_path(code))
    return response


def _other_key(ai: str):
    """Keys the resolver knows but does not publish: a syntax check (400), then a clear 404 in the user's
    language."""
    raw_path, raw_query = _raw_uri()
    if request.method == "OPTIONS":
        return _options()
    lang = _asked_lang(raw_query)
    try:
        parse_elements(raw_path + ("?" + raw_query if raw_query else ""))
    except InvalidIdentifier as exc:
        return _problem(400, "bad_request", "bad_code", str(exc), lang)
    kind = "sscc" if ai == "00" else "gln"
    return _problem(404, "not_found", "key_" + kind, "", lang)


def _options(raw_path: str | None = None):
    """Answer a CORS preflight or an OPTIONS request: the methods, and the linkset link when there is a code."""
    response = make_response("", 204)
    response.headers["Allow"] = "GET, HEAD, OPTIONS"
    if raw_path is not None:
        try:
            code = parse_path(raw_path)
        except InvalidIdentifier:
            return response
        response.headers["Link"] = linkset.linkset_link_header(_root() + links.canonical_path(code))
    return response


@bp.after_request
def _cors(response):
    """Every resolver answer may be read by any web page (GS1-Conformant Resolver: SHALL support CORS); no cookie
    or credential is ever needed to read a public answer."""
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
    response.headers["Access-Control-Allow-Headers"] = "Accept, Accept-Language"
    response.headers["Access-Control-Expose-Headers"] = "Link, Location, Content-Language"
    response.headers["Access-Control-Max-Age"] = "86400"
    return response


_RENDERED: dict[tuple, tuple[object, tuple, str]] = {}
_RENDERED_MAX = 5000
SCAN_LINE = "<!--tg:scan-line-->"  # where page.html puts an item's scan count (scan_line)


def scan_line(item: dict, t: dict[str, str]) -> str:
    """An item page's "scanned N times · first scanned on" line. Every new shopper's scan changes it and nothing
    else of the page, so it is written into the rendered page per request instead of rendering the page again."""
    if item.get("scan_count"):
        text = escape(t["scans"].replace("{n}", str(item["scan_count"] + 1)))
        first = item.get("first_scan_at")
        if first:  # an instant in UTC; the shopper reads its day in China
            day = timeline.local_day(datetime.fromisoformat(first.replace("Z", "+00:00")))
            text += Markup(' · {} <time datetime="{}">{}</time>').format(t["first_scan"], first, day)
    else:
        text = escape(t["first_time"])
    return str(Markup('<p class="small muted">{}</p>').format(text))


def _render_page(public: dict, lang: str, raw_path: str, raw_query: str) -> str:
    """Render the page, reusing the HTML of the same code while its facts are the same cached entry and every
    live part (statuses, item summary, verdict, certificate expiry, credit warnings) is unchanged: rendering is a
    third of a page. An item's scan count, which each new shopper changes, is not part of that: it is written into
    the page per request (scan_line)."""
    key = (raw_path, raw_query, lang)
    item = public["item"]
    steady = {k: v for k, v in item.items() if k not in ("scan_count", "first_scan_at")} if item else item
    live = (repr(public["lot"]), repr(steady), repr(public["recall"]), repr(public["on_hold"]),
            repr(public["authenticity"]), tuple(c["expired"] for c in public["certificates"]),
            repr(public["recall_cases"]), public["sold_on"], repr(public.get("credit_warnings")))
    seen = _RENDERED.get(key)
    # The timeline list is the page cache's own object: the same object means the same lineage facts.
    if seen is not None and seen[0] is public["timeline"] and seen[1] == live:
        return _with_scan_line(seen[2], item, lang)
    html = render_template(
        "scan/page.html", f=public, lang=lang, t=TEXT[lang], other=_switch_url(raw_path, raw_query, lang),
        step=functools.partial(step_label, category=(public["product"] or {}).get("category")),
        regions=origin_regions, element_string=element_string(public["code"]),
    )
    if len(_RENDERED) >= _RENDERED_MAX:
        _RENDERED.clear()
    _RENDERED[key] = (public["timeline"], live, html)
    return _with_scan_line(html, item, lang)


def _with_scan_line(html: str, item: dict | None, lang: str) -> str:
    return html.replace(SCAN_LINE, scan_line(item, TEXT[lang]), 1) if item and SCAN_LINE in html else html


@bp.errorhandler(HTTPException)
def _http_problem(exc: HTTPException):
    status = exc.code or 500
    code = "too_many_requests" if status == 429 else "bad_request"
    kind = "slow_down" if status == 429 else "bad_code"
    return _problem(status, code, kind, exc.description or "", _cookie_lang(),
                    headers={"Retry-After": "60"} if status == 429 else None)


@bp.errorhandler(GraphError)
def _graph_problem(exc: GraphError):
    if isinstance(exc, Unavailable):
        return _problem(503, "service_unavailable", "down", exc.message, _cookie_lang())
    return _problem(status_of(exc), exc.code, "unknown", exc.message, _cookie_lang())


def _problem(status: int, code: str, kind: str, detail: str, lang: str, errors: dict | None = None,
             headers: dict | None = None):
    """The friendly page (browsers) or the one JSON error shape (Accept: application/json)."""
    headers = dict(headers or {})
    if status == 503:
        headers.setdefault("Retry-After", "5")
    if _wants_json():
        return error_response(status, code, detail or TEXT["en"]["problem_" + kind], errors, headers)
    t = TEXT[lang]
    html = render_template("scan/error.html", t=t, lang=lang, status=status, title=t["problem_" + kind + "_title"],
                           message=t["problem_" + kind], detail=detail)
    response = make_response(html, status)
    for k, v in headers.items():
        response.headers[k] = v
    response.headers["Cache-Control"] = "no-store"
    return response


def _raw_uri() -> tuple[str, str]:
    """The request path and query as the client sent them (percent-escapes intact: a lot may contain %2F)."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI")
    if raw:
        if raw.startswith(("http://", "https://")):  # absolute-form request target
            raw = "/" + raw.split("://", 1)[1].partition("/")[2]
        path, _, query = raw.partition("?")
        return path, query
    return quote(request.environ.get("PATH_INFO", ""), safe="/"), request.environ.get("QUERY_STRING", "")


def _is_a_look() -> bool:
    """Whether this request is someone looking at the code: not a HEAD, nor a browser's prefetch or prerender
    (Sec-Purpose: prefetch, Purpose: prefetch, X-Purpose: preview, X-Moz: prefetch), which no one may ever see."""
    if request.method == "HEAD":
        return False
    purpose = " ".join(request.headers.get(h, "") for h in ("Sec-Purpose", "Purpose", "X-Purpose", "X-Moz"))
    return not any(word in purpose.lower() for word in ("prefetch", "prerender", "preview"))


def _wants_json() -> bool:
    return _negotiate() in ("json", "linkset")


def _asked_lang(raw_query: str) -> str:
    """The page language the query asks for when it is one we have, else the remembered one."""
    asked = dict(parse_qsl(raw_query)).get("lang")
    return asked if asked in TEXT else _cookie_lang()


def _cookie_lang() -> str:
    return "en" if request.cookies.get("lang") == "en" else "zh"


def _switch_url(raw_path: str, raw_query: str, lang: str) -> str:
    """The same code's page in the other language."""
    pairs = [(k, v) for k, v in parse_qsl(raw_query, keep_blank_values=True) if k != "lang"]
    pairs.append(("lang", "en" if lang == "zh" else "zh"))
    return raw_path + "?" + urlencode(pairs, safe=",")


ANIMAL_CATEGORIES = timeline.ANIMAL_CATEGORIES


def step_label(event: dict, lang: str, category: str | None = None) -> str:
    """What happened at one timeline entry, in words a consumer knows (采收, 屠宰, 加工, 发货, ...); animals are
    raised, not harvested."""
    step, stage = event.get("biz_step") or "", event.get("stage")
    if step in ("commissioning", "harvesting") and stage == "farm":
        key = "raised" if (category or "") in ANIMAL_CATEGORIES else "harvest"
    elif step == "slaughtering" or event.get("slaughter"):  # a carcass lot's origin, or a transformation of animals
        key = "slaughtering"
    elif event.get("disposition") == "recalled":  # a recall case's own observation of the goods: say so
        key = "recalled"
    elif event.get("type") == "TransformationEvent" and step != "packing":
        key = "process"
    elif step == "commissioning":
        key = "produce" if stage == "processing" else "commissioning"
    else:
        key = step if step in _STEPS else "other"
    return _STEPS[key][0 if lang == "zh" else 1]


def origin_regions(origin: list[dict], lang: str) -> str:
    """The regions the product comes from, each once (two farms of one county are one place to a shopper); English
    names hold commas themselves ("Fusong County, Baishan"), so they are separated by semicolons."""
    first, second = ("region_zh", "region_en") if lang == "zh" else ("region_en", "region_zh")
    names = dict.fromkeys(n for n in (o.get(first) or o.get(second) for o in origin) if n)
    return ("、" if lang == "zh" else "; ").join(names)


def element_string(code: dict) -> str:
    """The GS1 element string of the scanned code, as printed under the QR."""
    dates = {ai: v for ai, v in (code.get("query") or {}).items() if ai in ("11", "17")}
    return gs1_element_string(code["gtin"], code["lot"], code.get("serial") or None, dates)
