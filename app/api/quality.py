"""Quality: lab inspections, certificates and the data-quality warnings of admin captures."""

from __future__ import annotations

from flask_smorest import Blueprint
from marshmallow import RAISE, ValidationError

from app.auth import current_principal, ensure_party, require
from app.capture import normalise, policy_for
from app.errors import ApiError
from app.extensions import graph
from app.schemas.epcis import CaptureJobOut, PageArgs, decode_page_token, encode_page_token
from app.schemas.quality import CertificateIn, CertificateOut, InspectionIn, InspectionOut
from app.supervision import rule_settings
from graph import captures, events, quality
from gs1.epcis import context_prefixes
from gs1.event_builders import inspection_event

blp = Blueprint("quality", __name__, url_prefix="/api/v1", description="Inspections, certificates, data quality")


@blp.route("/inspections", methods=["POST"])
@require("lab", "admin")
@blp.arguments(InspectionIn)
@blp.response(201, InspectionOut)
@blp.alt_response(409, schema="Error", description="This lab recorded the report number already")
@blp.alt_response(422, schema="Error", description="Unknown lot or lab")
def record_inspection(body):
    """Record a lab's inspection of a lot (and its EPCIS inspecting event); lab tokens for their own lab only."""
    principal = ensure_party(body["lab_gln"], "lab_gln")
    event = inspection_event(body["lab_gln"], body["gtin"], body["lot"], body["verdict"], body["report_no"],
                             body.pop("event_time"))
    job = events.CaptureJob(events.new_capture_id())
    normalised = normalise([event], "", context_prefixes(), job)
    if job.errors:
        raise ApiError(422, job.errors[0]["message"])
    inspection = {**body, "date": body["date"].isoformat(),
                  "results": [{**r, "pass": r.pop("passed")} for r in body["results"]]}
    return quality.record_inspection(graph(), inspection, normalised[0][1], policy_for(principal), rule_settings())


@blp.route("/certificates", methods=["POST"])
@require("producer", "admin")
@blp.arguments(CertificateIn)
@blp.response(201, CertificateOut)
@blp.alt_response(409, schema="Error", description="This issuer recorded the certificate number already")
def record_certificate(body):
    """Record a certificate (green food, organic, GI, GAP, climate quality): admin, or a certifier party."""
    principal = current_principal()
    if principal.role != "admin":
        ensure_party(body["issuer_gln"], "issuer_gln")
        if "certifier" not in (quality.party_roles(graph(), body["issuer_gln"]) or []):
            raise ApiError(403, "only a certifier party (or an admin) records certificates",
                           errors={"json": {"issuer_gln": ["not a certifier"]}})
    cert = {**body, "valid_from": body["valid_from"].isoformat(), "valid_until": body["valid_until"].isoformat()}
    return quality.record_certificate(graph(), cert)


@blp.route("/data-quality/warnings")
@require("admin", "regulator")
@blp.arguments(PageArgs, location="query", error_status_code=400, unknown=RAISE)
@blp.response(200, CaptureJobOut(many=True))
def data_quality_warnings(args):
    """List capture jobs whose events came in with data-quality warnings (mass balance, time order), newest first."""
    after = None
    if "nextPageToken" in args:
        try:
            after = decode_page_token(args["nextPageToken"], "warnings")
        except ValidationError as exc:
            raise ApiError(400, "bad nextPageToken", errors={"query": exc.normalized_messages()}) from None
    jobs = captures.page(graph(), None, args["perPage"] + 1, after, with_warnings=True)
    headers = {}
    if len(jobs) > args["perPage"]:
        jobs = jobs[: args["perPage"]]
        token = encode_page_token((jobs[-1]["createdAt"], jobs[-1]["captureID"]), "warnings")
        headers["Link"] = f'</api/v1/data-quality/warnings?perPage={args["perPage"]}&nextPageToken={token}>; rel="next"'
    return jobs, 200, headers
