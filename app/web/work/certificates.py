"""Workbench pages for 承诺达标合格证: issue one for a lot (or for each shipment of it), print it as PDF or PNG.

The rules and the record are graph/commitments.py's; the printed page is labels/certificate.py's, with the lot's
Digital Link in its QR code (built as the lot's label builds it). The write is audited in its own transaction under
the user's principal, like the API's writes.
"""

from __future__ import annotations

from datetime import datetime

from flask import Response, redirect, request, url_for
from flask_login import current_user

from app.audit import mark_recorded, transaction_entry
from app.extensions import graph
from app.web.work import TEXT, UNITS, bp, lang, render
from app.web.work.labels import ensure_printable_base, label_data, label_errors, owned_lot
from graph import commitments
from graph.errors import RuleViolation
from gs1.timezones import CHINA
from labels.certificate import CertificateData, render_certificate_pdf, render_certificate_png

FIELDS = ("quantity", "product_name", "origin", "producer_name", "producer_contact", "basis", "inspection_key",
          "basis_detail")
_LENGTHS = {"product_name": (1, 100), "origin": (1, 100), "producer_name": (1, 100), "producer_contact": (1, 40)}


def _defaults(facts: dict, label: dict) -> dict:
    """The form as first shown: the lot's records filled in, the owner's holding as the quantity."""
    held = facts["held"] if facts["held"] is not None else facts["lot_quantity"]
    return {"quantity": f"{held:g}" if held else "", "product_name": facts["name_zh"] or facts["name_en"] or "",
            "origin": label["origin"] or facts["owner_region"] or "", "producer_name": facts["owner_zh"] or "",
            "producer_contact": facts["contact"] or "", "basis": "quality_control", "inspection_key": "",
            "basis_detail": ""}


def _checked(form: dict) -> tuple[dict, dict]:
    """The form's values as the graph wants them, and the errors a person can fix (by field)."""
    t = TEXT[lang()]
    errors: dict[str, str] = {}
    try:
        quantity = float(form["quantity"])
        if not 0 < quantity < 1e9:
            raise ValueError
    except ValueError:
        quantity = 0.0
        errors["quantity"] = t["hgz_bad_quantity"]
    for name, (low, high) in _LENGTHS.items():
        if not low <= len(form[name]) <= high:
            errors[name] = t["hgz_bad_length"].format(low=low, high=high)
    return {**form, "quantity": quantity, "inspection_key": form["inspection_key"] or None}, errors


@bp.route("/certificates/<gtin>/<path:lot>", methods=["GET", "POST"])
def certificates_page(gtin: str, lot: str):
    """Issue a 承诺达标合格证 for my lot (or for a shipment of it) and list those issued."""
    label = owned_lot(gtin, lot)
    facts = commitments.lot_facts(graph(), gtin, lot)
    page = {"gtin": gtin, "lot": lot, "facts": facts, "bases": commitments.BASES,
            "commitments": commitments.COMMITMENTS, "issued": request.args.get("issued")}
    if request.method == "GET":
        return render("work/certificates.html", form=_defaults(facts, label), errors={}, **page)
    form = {k: request.form.get(k, "").strip() for k in FIELDS}
    data, errors = _checked(form)
    if errors:
        return render("work/certificates.html", status=422, form=form, errors=errors, **page)
    data.update(unit=facts["held_unit"] or facts["unit"] or "KGM", issued_on=datetime.now(CHINA).date())
    actor = {"id": current_user.principal.token_id, "gln": current_user.party_gln,
             "admin": current_user.role == "admin"}
    try:
        cert = commitments.issue(graph(), gtin, lot, data, actor, transaction_entry())
    except RuleViolation as exc:
        errors = {exc.field if exc.field in FIELDS or exc.field == "inputs" else "form": exc.message}
        return render("work/certificates.html", status=422, form=form, errors=errors, **page)
    mark_recorded(cert["audit_seq"])
    return redirect(url_for("work.certificates_page", gtin=gtin, lot=lot, issued=cert["number"]), 303)


@bp.route("/certificate/<number>.<any(pdf, png):fmt>")
def certificate_file(number: str, fmt: str):
    """A certificate printed: an A6 PDF, or a PNG to send by phone; the QR is the lot's Digital Link."""
    cert = commitments.get(graph(), number)
    label = owned_lot(cert["gtin"], cert["lot"])
    ensure_printable_base()
    uri = label_data(label, cert["gtin"], cert["lot"], None).uri
    data = CertificateData(
        number=cert["number"], product_name=cert["product_name"],
        quantity=f"{cert['quantity']:g} {UNITS.get(cert['unit'], (cert['unit'],))[0]}", origin=cert["origin"],
        producer_name=cert["producer_name"], producer_contact=cert["producer_contact"],
        issued_on=datetime.fromisoformat(cert["issued_on"]).date(), basis=cert["basis"], uri=uri, lot=cert["lot"],
        basis_detail=_basis_detail(cert), inputs=list(cert.get("inputs") or []))
    with label_errors():
        body = render_certificate_pdf(data) if fmt == "pdf" else render_certificate_png(data, 300)
    response = Response(body, mimetype="application/pdf" if fmt == "pdf" else "image/png",
                        headers={"X-Digital-Link": uri, "Cache-Control": "no-store"})
    if fmt == "pdf":
        response.headers["Content-Disposition"] = f'attachment; filename="{number}.pdf"'
    return response


def _basis_detail(cert: dict) -> str:
    """The line under the basis: the cited report (number, lab, date), or the self-test record."""
    if cert.get("report_no"):
        parts = [f"检测报告 {cert['report_no']}", cert.get("lab_zh") or "", cert.get("inspection_date") or ""]
        lead = " · ".join(p for p in parts if p)
        return f"{lead} · {cert['basis_detail']}" if cert.get("basis_detail") else lead
    return cert.get("basis_detail") or ""
