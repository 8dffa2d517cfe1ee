"""Workbench label pages: a lot's single QR label, print runs of signed serials, reprints of a past run.

The same rules as the label API (app/api/labels.py): only the lot's owner (or an admin) prints, print runs make
their serials through graph/serials.create_run signed with the server's key, and the labels are built by the same
builders. A reprint renders a past run's serials again and makes none. No label with a QR code leaves the
workbench while PUBLIC_BASE_URL cannot be scanned from a phone in production (unset, or a loopback address): every
code printed then would lead nowhere.
"""

from __future__ import annotations

import ipaddress
from contextlib import contextmanager
from datetime import UTC, datetime
from urllib.parse import urlsplit

from flask import Response, abort, current_app, request
from flask_login import current_user
from marshmallow import ValidationError

from app.extensions import graph
from app.schemas.fields import GTIN, LotNumber
from app.schemas.labels import PrintRunIn
from app.web.work import TEXT, bp, lang, problem, render
from graph import serials
from gs1.timezones import CHINA
from labels.digital_link import build_uri, element_string
from labels.errors import FontMissing, InvalidLabelData
from labels.fonts import find_cjk_font
from labels.render import BADGES, SIZES, LabelData, render_pdf, render_pdf_sheet, render_png, sheet_grid
from labels.serials import make_serial

_RUN = PrintRunIn()
_GTIN, _LOT = GTIN(), LotNumber()
PREVIEW_DPI = 203
DEFAULT_SIZE = "50x30"


class PageRefusal(Exception):
    """A label the page will not print: answered with the friendly page (status, catalogue key, detail)."""

    def __init__(self, status: int, key: str, detail: str = ""):
        super().__init__(key)
        self.status, self.key, self.detail = status, key, detail


@bp.errorhandler(PageRefusal)
def _refused(exc: PageRefusal):
    return problem(exc.status, exc.key, exc.detail)


def base_url_unscannable(base: str | None, env: str) -> bool:
    """Tell whether QR codes built on ``base`` would lead nowhere: in production, unset or a loopback address."""
    if env != "production":
        return False
    host = (urlsplit(base or "").hostname or "").lower()
    if not host or host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_unspecified


def ensure_printable_base() -> None:
    """Refuse (503 page) to print codes while PUBLIC_BASE_URL is unset or loopback in production."""
    if base_url_unscannable(current_app.config.get("PUBLIC_BASE_URL"), current_app.config.get("ENV", "")):
        raise PageRefusal(503, "labels_base_url", current_app.config.get("PUBLIC_BASE_URL") or "")


def owned_lot(gtin: str, lot: str) -> dict:
    """The label facts of a lot the user's party owns (an admin: any); 404 for a malformed key, 403 otherwise."""
    try:
        _GTIN.deserialize(gtin)
        _LOT.deserialize(lot)
    except ValidationError:
        abort(404)
    facts = serials.label_facts(graph(), gtin, lot)  # NotFound -> the problem page (404)
    if current_user.role != "admin" and (not current_user.party_gln or facts["owner_gln"] != current_user.party_gln):
        raise PageRefusal(403, "labels_not_owner")
    return facts


def label_data(facts: dict, gtin: str, lot: str, serial: str | None) -> LabelData:
    """What one label of the lot (or of one of its items) prints, built as the label API builds it."""
    base = current_app.config["PUBLIC_BASE_URL"]
    with label_errors():
        uri = build_uri(base, gtin, lot, serial, facts["expiry_date"], facts["production_date"])
        es = element_string(gtin, lot, serial, facts["expiry_date"], facts["production_date"])
    return LabelData(uri=uri, element_string=es, name_zh=facts["name_zh"], name_en=facts["name_en"], lot=lot,
                     production_date=facts["production_date"], expiry_date=facts["expiry_date"],
                     origin=facts["origin"], badges=[b for b in facts["badges"] if b in BADGES], serial=serial)


@contextmanager
def label_errors():
    """Label package errors as pages: bad data is the user's (422), a missing font is ours (503)."""
    try:
        yield
    except InvalidLabelData as exc:
        raise PageRefusal(422, "labels_invalid", str(exc)) from exc
    except FontMissing as exc:
        raise PageRefusal(503, "labels_font", str(exc)) from exc


def _size(value: str | None) -> str:
    return value if value in SIZES else DEFAULT_SIZE


def _skip(value: str | None, size: str) -> int:
    """The start position as people count it (cell 1 = the first) turned into cells to skip."""
    cols, rows = sheet_grid(size)
    try:
        start = int(value or 1)
    except ValueError:
        start = 0
    if not 1 <= start <= cols * rows:
        raise PageRefusal(422, "labels_bad_start", f"1-{cols * rows}")
    return start - 1


@bp.route("/labels/<gtin>/<path:lot>")
def labels_page(gtin: str, lot: str):
    """A lot's labels: the single label (size, preview, PDF), a new print run, and past runs to print again."""
    facts = owned_lot(gtin, lot)
    size = _size(request.args.get("size"))
    grids = {s: sheet_grid(s) for s in SIZES}
    unscannable = base_url_unscannable(current_app.config.get("PUBLIC_BASE_URL"), current_app.config.get("ENV", ""))
    return render("work/labels.html", gtin=gtin, lot=lot, facts=facts, size=size, sizes=list(SIZES), grids=grids,
                  runs=serials.runs(graph(), gtin, lot), unscannable=unscannable,
                  base=current_app.config.get("PUBLIC_BASE_URL"))


@bp.route("/labels/<gtin>/<path:lot>/label.<any(png, pdf):fmt>")
def single_label(gtin: str, lot: str, fmt: str):
    """The lot's own QR label as a PNG preview or a one-label PDF."""
    facts = owned_lot(gtin, lot)
    ensure_printable_base()
    label = label_data(facts, gtin, lot, None)
    size = _size(request.args.get("size"))
    with label_errors():
        body = render_png(label, size, PREVIEW_DPI) if fmt == "png" else render_pdf(label, size)
    response = Response(body, mimetype="image/png" if fmt == "png" else "application/pdf",
                        headers={"X-Digital-Link": label.uri, "Cache-Control": "no-store"})
    if fmt == "pdf":
        response.headers["Content-Disposition"] = f'attachment; filename="label-{gtin}-{size}.pdf"'
    return response


@bp.route("/labels/<gtin>/<path:lot>/runs", methods=["POST"])
def print_run_page(gtin: str, lot: str):
    """Create a print run of N new signed serials (as POST /api/v1/lots/.../print-runs does) and send its sheet."""
    facts = owned_lot(gtin, lot)
    ensure_printable_base()
    try:
        body = _RUN.load({"count": request.form.get("count", ""), "size": _size(request.form.get("size"))})
    except ValidationError as exc:
        raise PageRefusal(422, "labels_bad_count", "1-1000") from exc
    skip = _skip(request.form.get("start"), body["size"])
    with label_errors():
        find_cjk_font()  # before creating items: a run whose sheet cannot be printed must not exist
    secret = current_app.config["SECRET_KEY"]
    run = serials.create_run(graph(), gtin, lot, body["count"], lambda: make_serial(secret, gtin, lot),
                             current_user.principal.token_id)
    # Sorted, as a reprint reads them back: the same run always gives the same sheet.
    run = {**run, "serials": sorted(run["serials"]), "created_at": datetime.now(UTC)}
    return _sheet(facts, gtin, lot, run, body["size"], skip, reprint=False)


@bp.route("/labels/<gtin>/<path:lot>/runs/<run_id>", methods=["POST"])
def reprint_page(gtin: str, lot: str, run_id: str):
    """Print a past run's labels again (a lost or spoilt sheet): the same serials, no new ones."""
    facts = owned_lot(gtin, lot)
    ensure_printable_base()
    run = serials.run_serials(graph(), gtin, lot, run_id)
    size = _size(request.form.get("size"))
    return _sheet(facts, gtin, lot, run, size, _skip(request.form.get("start"), size), reprint=True)


def _sheet(facts: dict, gtin: str, lot: str, run: dict, size: str, skip: int, reprint: bool) -> Response:
    """The A4 sheet of a run with its header line (run, lot, count, date)."""
    t = TEXT[lang()]
    header = t["labels_header"].format(run=run["run_id"], lot=lot, n=len(run["serials"]),
                                       date=run["created_at"].astimezone(CHINA).date().isoformat())
    if reprint:
        header += " · " + t["labels_header_reprint"].format(date=datetime.now(CHINA).date().isoformat())
    labels = [label_data(facts, gtin, lot, s) for s in run["serials"]]
    with label_errors():
        pdf = render_pdf_sheet(labels, size, header=header, skip=skip)
    kind = "reprint" if reprint else "labels"
    return Response(pdf, status=200 if reprint else 201, mimetype="application/pdf", headers={
        "X-Print-Run-Id": run["run_id"], "X-Print-Run-Count": str(len(run["serials"])), "Cache-Control": "no-store",
        "Content-Disposition": f'attachment; filename="{kind}-{gtin}-{run["run_id"][:8]}.pdf"'})
