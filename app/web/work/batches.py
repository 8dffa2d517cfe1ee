"""Workbench pages for a batch's life: register it complete (harvest or slaughter, dates, farm inputs), process,
pack into cases, sell/consume/destroy, hold my own lot, dispute a delivery. Thin views like pages.py.

Events come from gs1/event_builders.py and go through graph/lots.create and app/capture.record_events as the
user's principal, so the capture rules (docs/ownership.md) decide; the pages check first what a person can be
told in words (more than held, yield beyond tolerance) and show it in the user's language.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from flask import abort, current_app, redirect, request, url_for
from flask_login import current_user
from marshmallow import ValidationError

from app.capture import policy_for, record_events
from app.errors import status_of
from app.extensions import graph
from app.schemas.events import DispositionIn, LotQuantity, OriginLotIn, TransformationIn
from app.web.work import TEXT, UNITS, bp, lang, problem, render
from app.web.work import batch_rules as rules
from app.web.work.pages import SEE_ALL, _flat, _party, _record
from graph import batches, lots, recalls, workbench
from graph.errors import GraphError, Unavailable
from gs1 import event_builders as build
from gs1.errors import InvalidIdentifier
from gs1.identifiers import lot_key
from gs1.keys import validate_sscc
from gs1.timezones import CHINA

_ORIGIN_LOT = OriginLotIn()
_TRANSFORMATION = TransformationIn()
_LOT_QUANTITY = LotQuantity()
_DISPOSITION = DispositionIn()
INPUT_ROWS = 2
TRANSFORM_ROWS = 2


def _t() -> dict:
    return TEXT[lang()]


def _say(problem_: rules.Problem) -> str:
    return _t()[problem_.key].format(**problem_.fields)


def _why(exc: GraphError) -> str:
    """A refusal by the write path in the user's language, the rule's own words after it."""
    return f"{_t()['problem_refused']} ({exc.message})"


def _today() -> date:
    return datetime.now(UTC).astimezone(CHINA).date()


def _unit(code: str) -> str:
    return UNITS.get(code, (code, code))[lang() == "en"]


def _on_hand(gln: str) -> list[dict]:
    """The lots I hold now (not in transit to me), with what is on hand."""
    out = []
    for x in workbench.home(graph(), gln)["lots"]:
        on_hand = x["quantity"] - x["pending"]
        if on_hand > 0:
            out.append({**x, "on_hand": on_hand, "key": f"{x['gtin']}|{x['lot']}"})
    return out


def _rows(prefix: str, fields: tuple[str, ...]) -> list[dict]:
    """Repeated form rows (name[]=..., one list per field) as dicts."""
    columns = {f: request.form.getlist(f"{prefix}_{f}") for f in fields}
    count = max((len(v) for v in columns.values()), default=0)
    return [{f: (columns[f][i] if i < len(columns[f]) else "").strip() for f in fields} for i in range(count)]


# ---------------------------------------------------------------- register a batch


BATCH_FIELDS = ("origin", "gtin", "lot", "quantity", "unit", "production_date", "shelf_days", "expiry_date", "plot",
                "area_mu", "age_years", "ear_tags", "quarantine_certificate", "confirm_interval")


@bp.route("/batch", methods=["GET", "POST"])
def batch():
    """Register a batch complete: harvest or slaughter, dates, farm inputs; the lot and its origin event."""
    gln = _party()
    products = workbench.products(graph(), gln)
    if request.method == "GET":
        kind = "slaughter" if request.args.get("origin") == "slaughter" else "harvest"
        form = {"origin": kind, "lot": rules.suggested_lot(_today(), "S" if kind == "slaughter" else "H"),
                "production_date": _today().isoformat(), "unit": "KGM"}
        return _batch_page(products, form, [{}] * INPUT_ROWS, {}, {})
    form = {k: request.form.get(k, "").strip() for k in BATCH_FIELDS}
    input_rows = _rows("input", rules.INPUT_FIELDS)
    if request.form.get("more") == "input":
        return _batch_page(products, form, [*input_rows, {}][:rules.MAX_INPUT_ROWS], {}, {})
    errors: dict[str, str] = {}
    try:
        day = date.fromisoformat(form["production_date"])
    except ValueError:
        day = None
        errors["production_date"] = _t()["date_needed"]
    inputs, row_problems = rules.farm_inputs(input_rows, day)
    row_errors = {i: _say(p) for i, p in row_problems.items()}
    expiry = None
    if day is not None:
        expiry, wrong = rules.expiry(day, form["shelf_days"], form["expiry_date"])
        if wrong:
            errors["shelf_days" if wrong.key == "shelf_days_range" else "expiry_date"] = _say(wrong)
    slaughter = form["origin"] == "slaughter"
    tags = rules.ear_tags(form["ear_tags"]) if slaughter else []
    if slaughter and not tags:
        errors["ear_tags"] = _t()["ear_tags_needed"]
    if len(tags) > rules.MAX_EAR_TAGS:
        errors["ear_tags"] = _t()["ear_tags_many"].format(max=rules.MAX_EAR_TAGS)
    if slaughter and not form["quarantine_certificate"]:
        errors["quarantine_certificate"] = _t()["certificate_needed"]
    area = None
    if form["area_mu"] and not slaughter:
        try:
            area = float(form["area_mu"])
            if not 0 < area <= 1e6:
                raise ValueError
        except ValueError:
            errors["area_mu"] = _t()["area_number"]
    body = {k: form[k] for k in ("gtin", "lot", "quantity", "unit", "production_date") if form[k]}
    body.update(owner_gln=gln, origin="slaughter" if slaughter else "harvest", animal_ids=tags,
                quarantine_certificate=form["quarantine_certificate"] or None,
                expiry_date=expiry.isoformat() if expiry else None)
    if form["age_years"] and not slaughter:  # ginseng 年限: a whole number of years
        if form["age_years"].isdigit() and 1 <= int(form["age_years"]) <= 100:
            body["age_years"] = int(form["age_years"])
        else:
            errors["age_years"] = _t()["b_age_number"]
    try:
        data = _ORIGIN_LOT.load(body)
    except ValidationError as exc:
        errors = {**_flat(exc.messages), **errors}
    if errors or row_errors:
        return _batch_page(products, form, input_rows or [{}], errors, row_errors, status=422)
    warnings = rules.inside_safety_interval(inputs, day)
    if warnings and form["confirm_interval"] != "yes":
        # Not refused (the rules leave it to the producer and the lab), but never recorded without a second look.
        return _batch_page(products, form, input_rows, {}, {}, warnings=warnings, status=422)
    origin = {"kind": data.pop("origin"), "animal_ids": data.pop("animal_ids"),
              "quarantine_certificate": data.pop("quarantine_certificate"), "farm_inputs": inputs,
              "plot": form["plot"][:80] or None, "area_mu": area, "age_years": data.pop("age_years")}
    data = {**data, "production_date": data["production_date"].isoformat(),
            "expiry_date": data["expiry_date"].isoformat() if data["expiry_date"] else None}
    try:
        lots.create(graph(), data, origin, policy_for(current_user.principal))
    except Unavailable:
        raise
    except GraphError as exc:
        field = exc.field if exc.field in ("gtin", "lot") else "form"
        message = _t()["lot_taken"] if status_of(exc) == 409 else _why(exc)
        return _batch_page(products, form, input_rows, {field: message}, {}, status=status_of(exc))
    return redirect(url_for("work.lot_page", gtin=data["gtin"], lot=data["lot"], done="harvest"), 303)


def _batch_page(products, form, input_rows, errors, row_errors, warnings=(), status=200):
    return render("work/batch.html", status=status, products=products, form=form, input_rows=input_rows,
                  errors=errors, row_errors=row_errors, warnings=list(warnings), kinds=rules.FARM_INPUT_KINDS)


# ---------------------------------------------------------------- process (transformation)


@bp.route("/transform", methods=["GET", "POST"])
def transform():
    """Process lots I hold into new lots of my products; the yield checked against the tolerance first."""
    gln = _party()
    held = _on_hand(gln)
    products = workbench.products(graph(), gln)
    max_yield = float(current_app.config.get("TRANSFORM_MAX_YIELD", 1.05))
    page = {"held": held, "products": products, "max_yield": max_yield}
    if request.method == "GET":
        first = request.args.get("lot", "")
        return render("work/transform.html", **page, ins=[{"key": first}] + [{}] * (TRANSFORM_ROWS - 1),
                      outs=[{"lot": rules.suggested_lot(_today(), "P")}], errors={}, yields=None,
                      dates={"production_date": _today().isoformat()})
    ins = _rows("in", ("key", "quantity"))
    outs = _rows("out", ("gtin", "lot", "quantity", "unit"))
    dates = {k: request.form.get(k, "").strip() for k in ("production_date", "shelf_days", "expiry_date")}
    page["dates"] = dates
    more = request.form.get("more")
    if more in ("in", "out"):
        ins = [*ins, {}] if more == "in" else ins
        outs = [*outs, {"lot": rules.suggested_lot(_today(), "P")}] if more == "out" else outs
        return render("work/transform.html", **page, ins=ins, outs=outs, errors={}, yields=None)
    errors: dict[str, str] = {}
    inputs, outputs = [], []
    for i, row in enumerate(ins):
        if not row["key"] and not row["quantity"]:
            continue
        lot = next((x for x in held if x["key"] == row["key"]), None)
        amount = _amount(row["quantity"])
        if lot is None:
            errors[f"in{i}"] = _t()["ship_pick_lot"]
        elif amount is None:
            errors[f"in{i}"] = _t()["ship_quantity"]
        elif amount > lot["on_hand"] + 1e-9:
            errors[f"in{i}"] = _t()["ship_too_much"].format(n=f"{lot['on_hand']:g}", unit=_unit(lot["unit"]))
        else:
            inputs.append({"gtin": lot["gtin"], "lot": lot["lot"], "quantity": amount, "unit": lot["unit"]})
    for i, row in enumerate(outs):
        if not row["gtin"] and not row["quantity"]:
            continue
        amount = _amount(row["quantity"])
        if not any(p["gtin"] == row["gtin"] for p in products):
            errors[f"out{i}"] = _t()["pick_product"]
        elif amount is None:
            errors[f"out{i}"] = _t()["ship_quantity"]
        else:
            outputs.append({"gtin": row["gtin"], "lot": row["lot"], "quantity": amount,
                            "unit": row["unit"] or "KGM"})
    if not inputs and "in0" not in errors:
        errors["in0"] = _t()["ship_pick_lot"]
    if not outputs and "out0" not in errors:
        errors["out0"] = _t()["pick_product"]
    produced, expires = _output_dates(dates, errors)
    yields = rules.yields(inputs, outputs)
    over = rules.over_tolerance(yields, max_yield)
    if over:
        r = over[0]
        errors["form"] = _t()["yield_over"].format(out=f"{r['output']:g}", inp=f"{r['input']:g}", unit=_unit(r["unit"]),
                                                   ratio=f"{r['ratio']:.0%}", max=f"{max_yield:.0%}")
    if request.form.get("action") == "check" and not errors:
        return render("work/transform.html", **page, ins=ins, outs=outs, errors={}, yields=yields, checked=True)
    data = None
    if not errors:
        try:
            data = _TRANSFORMATION.load({"party_gln": gln, "inputs": inputs, "outputs": outputs,
                                         "production_date": produced, "expiry_date": expires})
        except ValidationError as exc:
            errors = _flat(exc.messages)
    if errors:
        return render("work/transform.html", status=422, **page, ins=ins, outs=outs, errors=errors, yields=yields)
    refused = _record(build.transformation_event(data))
    if refused is not None:
        return render("work/transform.html", status=status_of(refused), **page, ins=ins, outs=outs,
                      errors={"form": _why(refused)}, yields=yields)
    first = outputs[0]
    return redirect(url_for("work.lot_page", gtin=first["gtin"], lot=first["lot"], done="transform"), 303)


def _output_dates(dates: dict, errors: dict) -> tuple[str | None, str | None]:
    """The new lots' production date (a day, not after today in China; blank: today) and expiry from a shelf life
    or a date."""
    try:
        produced = date.fromisoformat(dates["production_date"]) if dates["production_date"] else _today()
    except ValueError:
        errors["production_date"] = _t()["date_needed"]
        return None, None
    if produced > _today():
        errors["production_date"] = _t()["b_date_future"]
        return None, None
    expires, wrong = rules.expiry(produced, dates["shelf_days"], dates["expiry_date"])
    if wrong:
        errors["shelf_days" if wrong.key == "shelf_days_range" else "expiry_date"] = _say(wrong)
    elif expires is not None and expires < produced:
        errors["expiry_date"] = _t()["b_expiry_before"]
    return produced.isoformat(), expires.isoformat() if expires else None


def _amount(text: str) -> float | None:
    try:
        value = float(text)
    except ValueError:
        return None
    return value if 0 < value <= 1e9 else None


# ---------------------------------------------------------------- pack into a case or pallet


@bp.route("/pack", methods=["GET", "POST"])
def pack():
    """Pack quantities of lots I hold, and cases I hold, into a new case or pallet (an SSCC proposed for it)."""
    gln = _party()
    held, units = _packable(gln)
    page = {"held": held, "units": [u for u in units if not u["in_unit"]]}
    if request.method == "GET":
        rows = [{"key": request.args.get("lot", "")}, {}]
        return render("work/pack.html", **page, rows=rows, form={"sscc": rules.propose_sscc(gln)}, errors={},
                      chosen=[], packed=request.args.get("sscc"))
    form = {"sscc": request.form.get("sscc", "").strip()}
    rows = _rows("child", ("key", "quantity"))
    chosen = [x for x in request.form.getlist("unit") if x]
    page.update(rows=rows, form=form, chosen=chosen)
    if request.form.get("more") == "child":
        return render("work/pack.html", **{**page, "rows": [*rows, {}]}, errors={})
    errors: dict[str, str] = {}
    try:
        validate_sscc(form["sscc"])
    except InvalidIdentifier:
        errors["sscc"] = _t()["sscc_invalid"]
    children = []
    for i, row in enumerate(rows):
        if not row["key"] and not row["quantity"]:
            continue
        lot = next((x for x in held if x["key"] == row["key"]), None)
        amount = _amount(row["quantity"])
        if lot is None:
            errors[f"child{i}"] = _t()["ship_pick_lot"]
        elif amount is None:
            errors[f"child{i}"] = _t()["ship_quantity"]
        elif amount > lot["on_hand"] + 1e-9:
            errors[f"child{i}"] = _t()["ship_too_much"].format(n=f"{lot['on_hand']:g}", unit=_unit(lot["unit"]))
        else:
            children.append(_LOT_QUANTITY.load({"gtin": lot["gtin"], "lot": lot["lot"], "quantity": amount,
                                                "unit": lot["unit"]}))
    packable = {u["sscc"] for u in page["units"]}
    for sscc in chosen:
        if sscc not in packable or sscc == form["sscc"]:
            errors["units"] = _t()["b_pick_unit"]
        else:
            children.append({"sscc": sscc})
    if not children and not errors:
        errors["child0"] = _t()["ship_pick_lot"]
    if errors:
        return render("work/pack.html", status=422, **page, errors=errors)
    now = datetime.now(UTC)
    events = []
    if not any(u["sscc"] == form["sscc"] for u in units):
        # A new case or pallet comes into being first (in the same document: both or neither), so the packer holds
        # it and may pack it into a pallet or ship it later.
        events.append(build.unit_commissioning_event({"party_gln": gln, "sscc": form["sscc"], "event_time": now}))
    events.append(build.aggregation_event({"party_gln": gln, "event_time": now, "action": "ADD",
                                           "parent": {"sscc": form["sscc"]}, "children": children}))
    refused = _record_all(events)
    if refused is not None:
        return render("work/pack.html", status=status_of(refused), **page, errors={"form": _why(refused)})
    lots_packed = [c for c in children if "gtin" in c]
    if not lots_packed:
        return redirect(url_for("work.pack", done="pack", sscc=form["sscc"]), 303)
    first = lots_packed[0]
    return redirect(url_for("work.lot_page", gtin=first["gtin"], lot=first["lot"], done="pack",
                            sscc=form["sscc"]), 303)


def _packable(gln: str) -> tuple[list[dict], list[dict]]:
    """The lots I hold now (with what is on hand) and the logistic units I hold: one read."""
    facts = workbench.home(graph(), gln)
    held = []
    for x in facts["lots"]:
        on_hand = x["quantity"] - x["pending"]
        if on_hand > 0:
            held.append({**x, "on_hand": on_hand, "key": f"{x['gtin']}|{x['lot']}"})
    return held, facts["units"]


def _record_all(events: list[dict]) -> GraphError | None:
    """Record events as one document through the one write path (all or nothing); return a rule's refusal."""
    try:
        record_events(events, current_user.principal)
    except Unavailable:
        raise
    except GraphError as exc:
        return exc
    return None


# ---------------------------------------------------------------- sell, consume, destroy; hold my own lot


def _lot_or_404(gtin: str, lot: str) -> dict:
    facts = workbench.lot(graph(), current_user.party_gln, gtin, lot, see_all=current_user.role in SEE_ALL)
    if facts is None:
        abort(404)
    return facts


def _lot_refused(facts: dict, status: int, message: str):
    """The lot page again, with why the action was refused above its actions."""
    return render("work/lot.html", status=status, f=facts, action_error=message)


@bp.route("/dispose/<gtin>/<path:lot>", methods=["POST"])
def dispose(gtin: str, lot: str):
    """Record a sale, consumption or destruction of some of a lot I hold (POST /api/v1/dispositions does the same)."""
    gln = _party()
    facts = _lot_or_404(gtin, lot)
    kind = request.form.get("kind", "")
    amount = _amount(request.form.get("quantity", "").strip())
    mine = facts["mine"]
    on_hand = (mine["quantity"] - mine["pending"]) if mine else 0.0
    if kind not in build.DISPOSITIONS:
        return _lot_refused(facts, 422, _t()["dispose_pick"])
    if amount is None:
        return _lot_refused(facts, 422, _t()["ship_quantity"])
    if amount > on_hand + 1e-9:
        unit = mine["unit"] if mine else facts["lot"]["unit"]
        return _lot_refused(facts, 422, _t()["ship_too_much"].format(n=f"{on_hand:g}", unit=_unit(unit)))
    if facts["lot"]["status"] in ("on_hold", "recalled") and kind != "destroyed":
        return _lot_refused(facts, 422, _t()["dispose_held"])
    data = _DISPOSITION.load({"party_gln": gln, "kind": kind, "lots": [
        {"gtin": gtin, "lot": lot, "quantity": amount, "unit": mine["unit"] or facts["lot"]["unit"]}]})
    refused = _record(build.disposition_event(data))
    if refused is not None:
        return _lot_refused(facts, status_of(refused), _why(refused))
    return redirect(url_for("work.lot_page", gtin=gtin, lot=lot, done=kind), 303)


@bp.route("/hold/<gtin>/<path:lot>", methods=["POST"])
def hold(gtin: str, lot: str):
    """Put my own lot on hold (it cannot be shipped, sold or used until released), or release it.

    The API's hold is for regulators; a producer may hold a lot it owns (docs/ownership.md): the owner check is
    made here against the lot's owner, then the same graph function writes it.
    """
    facts = _lot_or_404(gtin, lot)
    owner = facts["lot"]["owner_gln"]
    if current_user.role not in SEE_ALL and (not current_user.party_gln or owner != current_user.party_gln):
        return _lot_refused(facts, 403, _t()["hold_not_owner"])
    holding = request.form.get("action") != "release"
    reason = request.form.get("reason", "").strip()[:200]
    if holding and not reason:
        return _lot_refused(facts, 422, _t()["hold_reason_needed"])
    try:
        recalls.set_hold(graph(), lot_key(gtin, lot), holding, reason or None)
    except Unavailable:
        raise
    except GraphError as exc:
        message = _t()["hold_recalled"] if status_of(exc) == 409 else _why(exc)
        return _lot_refused(_lot_or_404(gtin, lot), status_of(exc), message)
    return redirect(url_for("work.lot_page", gtin=gtin, lot=lot, done="hold" if holding else "release"), 303)


# ---------------------------------------------------------------- dispute a delivery


@bp.route("/dispute", methods=["GET", "POST"])
def dispute():
    """Dispute a delivery waiting for me instead of confirming it: recorded for both parties; it stays pending."""
    gln = _party()
    source = request.values.get("source_gln", "")
    gtin, lot = request.values.get("gtin", ""), request.values.get("lot", "")
    waiting = next((x for x in workbench.home(graph(), gln)["inbound"]
                    if (x["gtin"], x["lot"], x["source_gln"]) == (gtin, lot, source)), None)
    if waiting is None:
        return problem(404, "problem_not_found")
    if request.method == "GET":
        return render("work/dispute.html", x=waiting, errors={}, reason="")
    reason = request.form.get("reason", "").strip()
    if not 2 <= len(reason) <= 500:
        return render("work/dispute.html", status=422, x=waiting, errors={"reason": _t()["dispute_reason"]},
                      reason=reason)
    batches.dispute(graph(), gtin, lot, gln, source, waiting["quantity"], waiting["unit"], reason,
                    current_user.principal.token_id)
    return redirect(url_for("work.lot_page", gtin=gtin, lot=lot, done="dispute"), 303)
