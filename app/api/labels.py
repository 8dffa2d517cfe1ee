"""QR labels of lots and items, print runs of signed serials, and the brand owner's copy report."""

from __future__ import annotations

from contextlib import contextmanager
from urllib.parse import quote

from flask import Response, current_app, request
from flask_smorest import Blueprint
from marshmallow import EXCLUDE

from app.auth import current_principal, ensure_party, require
from app.errors import ApiError
from app.extensions import graph
from app.schemas.labels import LabelQuery, LotPath, PrintRunIn, SuspectedCopiesOut
from graph import products, scan_log, serials
from labels.digital_link import build_uri, element_string
from labels.errors import FontMissing, InvalidLabelData
from labels.fonts import find_cjk_font
from labels.render import LabelData, render_pdf, render_pdf_sheet, render_png, render_svg
from labels.serials import make_serial

blp = Blueprint("labels", __name__, url_prefix="/api/v1", description="QR labels, print runs and copy reports")

_MIME = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}
_BINARY = {200: {"description": "the label", "content": {m: {"schema": {"type": "string", "format": "binary"}}
                                                         for m in _MIME.values()}}}


@blp.route("/lots/<gtin>/<path:lot>/label.<any(png, svg, pdf):fmt>")
@require("producer", "admin")
@blp.arguments(LotPath, location="path", as_kwargs=True, unknown=EXCLUDE)
@blp.arguments(LabelQuery, location="query")
@blp.doc(responses=_BINARY)
@blp.alt_response(404, schema="Error", description="No such lot, or the serial is not an item of it")
def lot_label(query, gtin, lot, fmt):
    """Render a lot's QR label (or one item's, with ?serial=) as PNG, SVG or a one-label PDF."""
    facts = serials.label_facts(graph(), gtin, lot)
    ensure_party(facts["owner_gln"], "lot")
    if query["serial"] and not serials.item_in_lot(graph(), gtin, lot, query["serial"]):
        raise ApiError(404, f"serial {query['serial']} is not an item of lot {lot}",
                       errors={"query": {"serial": ["not an item of this lot"]}})
    label = _label(facts, gtin, lot, query["serial"])
    with _label_errors():
        if fmt == "png":
            body = render_png(label, query["size"], query["dpi"])
        elif fmt == "svg":
            body = render_svg(label, query["size"])
        else:
            body = render_pdf(label, query["size"])
    return Response(body, mimetype=_MIME[fmt], headers={"X-Digital-Link": label.uri})


@blp.route("/lots/<gtin>/<path:lot>/print-runs", methods=["POST"])
@require("producer", "admin")
@blp.arguments(LotPath, location="path", as_kwargs=True, unknown=EXCLUDE)
@blp.arguments(PrintRunIn)
@blp.doc(responses={201: {"description": "the A4 label sheet (PDF); `Accept: application/json` gets the serials",
                          "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}})
@blp.alt_response(404, schema="Error", description="No such lot")
def print_run(body, gtin, lot):
    """Create N new signed item serials for a lot in one transaction and return their label sheet."""
    facts = serials.label_facts(graph(), gtin, lot)
    principal = ensure_party(facts["owner_gln"], "lot")
    with _label_errors():
        find_cjk_font()  # before creating items: a run whose sheet cannot be printed must not exist
    secret = current_app.config["SECRET_KEY"]
    run = serials.create_run(graph(), gtin, lot, body["count"], lambda: make_serial(secret, gtin, lot),
                             principal.token_id)
    labels = [_label(facts, gtin, lot, s) for s in run["serials"]]
    headers = {"X-Print-Run-Id": run["run_id"], "X-Print-Run-Count": str(run["count"]),
               "Location": f"/api/v1/lots/{gtin}/{quote(lot, safe='')}/label.pdf"}
    if request.accept_mimetypes.best_match(["application/pdf", "application/json"]) == "application/json":
        items = [{"serial": lb.serial, "uri": lb.uri, "element_string": lb.element_string} for lb in labels]
        return {"run_id": run["run_id"], "gtin": gtin, "lot": lot, "count": run["count"], "items": items}, 201, \
            headers
    with _label_errors():
        pdf = render_pdf_sheet(labels, body["size"])
    headers["Content-Disposition"] = f'attachment; filename="labels-{gtin}-{run["run_id"][:8]}.pdf"'
    return Response(pdf, status=201, mimetype="application/pdf", headers=headers)


@blp.route("/products/<gtin>/suspected-copies")
@require("producer", "regulator", "admin")
@blp.arguments(LotPath(only=("gtin",)), location="path", as_kwargs=True)
@blp.response(200, SuspectedCopiesOut)
@blp.alt_response(404, schema="Error", description="No such product")
def suspected_copies(gtin):
    """List a product's items whose codes look copied and the forged serials scanned (brand owner, regulator)."""
    if current_principal().role == "producer":
        ensure_party(products.get(graph(), gtin)["owner_gln"], "gtin")
    return scan_log.suspected_copies(graph(), gtin)


def _label(facts: dict, gtin: str, lot: str, serial: str | None) -> LabelData:
    base = current_app.config["PUBLIC_BASE_URL"]
    with _label_errors():
        uri = build_uri(base, gtin, lot, serial, facts["expiry_date"], facts["production_date"])
        es = element_string(gtin, lot, serial, facts["expiry_date"], facts["production_date"])
    return LabelData(uri=uri, element_string=es, name_zh=facts["name_zh"], name_en=facts["name_en"], lot=lot,
                     production_date=facts["production_date"], expiry_date=facts["expiry_date"],
                     origin=facts["origin"], badges=[b for b in facts["badges"] if b in _BADGES], serial=serial)


_BADGES = ("green_food", "organic", "gi", "gap")


@contextmanager
def _label_errors():
    """Turn label package errors into API errors: bad data is the client's (422), a missing font is ours (503)."""
    try:
        yield
    except InvalidLabelData as exc:
        raise ApiError(422, str(exc), code="invalid_label_data") from exc
    except FontMissing as exc:
        raise ApiError(503, str(exc), code="font_missing") from exc
