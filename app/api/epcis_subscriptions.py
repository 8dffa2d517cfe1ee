"""EPCIS 2.0 REST binding: query subscriptions (webhooks) on named queries (docs/subscriptions.md).

``POST /epcis/queries/{queryName}/subscriptions`` subscribes a ``dest`` to a named query, streamed (every capture
that matches) or scheduled (cron-like fields); ``GET`` lists them, ``GET``/``DELETE .../{subscriptionID}`` reads
or ends one. Whoever may read the query may subscribe to it; a subscription reads as its subscriber's party (a
regulator or admin: everything), never more than that party's ``GET /epcis/events``. Deliveries go through the
notification outbox and worker (app/subscriptions.py). WebSocket subscriptions are not offered: see the docs.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from urllib.parse import quote

from flask import current_app
from flask_smorest import Blueprint

from app.api.epcis import READERS, _gs1_headers, _visible_party
from app.api.epcis_resources import _listed, _named
from app.auth import current_principal, require
from app.errors import ApiError
from app.extensions import graph
from app.notify import notify_key
from app.schemas.subscriptions import SubscriptionIn, SubscriptionOut
from app.subscriptions import seal
from graph import subscriptions
from graph.errors import NotFound, RuleViolation
from gs1 import subscription_rules as rules
from gs1.epcis import utc_iso

blp = Blueprint("epcis_subscriptions", __name__, url_prefix="/epcis",
                description="EPCIS 2.0 query subscriptions: webhooks on named queries (GS1 REST binding)")
blp.after_request(_gs1_headers)
CONTROLS = "epcisException:SubscriptionControlsException"
_PAGING = [{"name": "perPage", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 1000}},
           {"name": "nextPageToken", "in": "query", "schema": {"type": "string"}}]


def _controls(field: str, message: str) -> ApiError:
    return ApiError(400, message, errors={"json": {field: [message]}}, problem=CONTROLS)


def _answer(row: dict) -> dict:
    """A subscription as the binding answers it: no signature token, absent fields left out."""
    out = {"subscriptionID": row["subscription_id"], "queryName": row["query_name"], "dest": row["dest"],
           "createdAt": row["created_at"], "lastNotifiedAt": row.get("last_notified_at"),
           "initialRecordTime": row["initial_record_time"],
           "minRecordTime": row.get("cursor_time") or row["initial_record_time"],
           "reportIfEmpty": row["report_if_empty"], "signed": row["signed"]}
    if row["stream"]:
        out["stream"] = True
    else:
        out["schedule"] = row["schedule"]
    return {k: v for k, v in out.items() if v is not None}


@blp.route("/queries/<name>/subscriptions", methods=["POST"])
@require(*READERS)
@blp.arguments(SubscriptionIn, error_status_code=400)
@blp.response(201, SubscriptionOut, description="Subscribed: Location names the subscription")
@blp.alt_response(400, schema="Error", description="epcisException:SubscriptionControlsException or "
                                                   "ValidationException")
@blp.alt_response(403, schema="Error", description="Another party's query")
@blp.alt_response(404, schema="Error", description="epcisException:NoSuchNameException")
@blp.alt_response(422, schema="Error", description="The token holds SUBSCRIPTIONS_PER_TOKEN subscriptions")
def subscribe(body, name):
    """Subscribe a webhook (dest) to a named query: stream true, or a schedule; signed with signatureToken."""
    _named(name)  # 404 for no such query, 403 for another party's (as reading it)
    stream, schedule = body.get("stream"), body.get("schedule")
    if stream is True and schedule is not None:
        raise _controls("stream", "give stream: true or a schedule, not both")
    if stream is not True and schedule is None:
        raise _controls("schedule", "give a schedule, or stream: true to be told of every matching capture")
    parsed = None
    if schedule is not None:
        try:
            parsed = rules.parse_schedule(schedule)
        except rules.ScheduleError as exc:
            raise _controls(f"schedule.{exc.field}" if exc.field != "schedule" else "schedule", exc.message) from None
    config = current_app.config
    problem = rules.dest_problem(body["dest"], config["ENV"] == "production")
    if problem:
        raise _controls("dest", problem)
    now = datetime.now(UTC)
    initial = body.get("initialRecordTime") or now
    subscription_id = str(uuid.uuid4())
    next_run = None
    if parsed is not None:
        when = rules.next_run(parsed, now, None, config["SUBSCRIPTION_MIN_INTERVAL_S"])
        next_run = utc_iso(when) if when else None
    token = body.get("signatureToken")
    row = {"id": subscription_id, "query_name": name, "party": _visible_party(),
           "token_id": current_principal().token_id, "dest": body["dest"],
           "token_enc": seal(notify_key(), subscription_id, token) if token else None,
           "stream": stream is True and schedule is None,
           "schedule": json.dumps(rules.schedule_text(schedule), sort_keys=True) if schedule is not None else None,
           "report_if_empty": body["reportIfEmpty"], "initial": utc_iso(initial), "created": utc_iso(now),
           "next_run": next_run, "backfill": stream is True and initial < now}
    try:
        created = subscriptions.create(graph(), row, config["SUBSCRIPTIONS_PER_TOKEN"])
    except NotFound as exc:  # the query was deleted meanwhile
        raise ApiError(404, exc.message, problem="epcisException:NoSuchNameException") from None
    except RuleViolation as exc:
        raise ApiError(422, exc.message, errors={"json": {"dest": [exc.message]}}, problem=CONTROLS) from None
    location = f"/epcis/queries/{quote(name, safe='')}/subscriptions/{subscription_id}"
    return _answer(created), 201, {"Location": location}


@blp.route("/queries/<name>/subscriptions")
@require(*READERS)
@blp.doc(parameters=_PAGING)
@blp.response(200, SubscriptionOut(many=True))
@blp.alt_response(400, schema="Error", description="epcisException:QueryParameterException (paging)")
@blp.alt_response(403, schema="Error", description="Another party's query")
@blp.alt_response(404, schema="Error", description="epcisException:NoSuchNameException")
def list_subscriptions(name):
    """List a named query's active subscriptions (a party: its own), paged by perPage and nextPageToken."""
    _named(name)
    items, status, headers = _listed(f"subscriptions/{name}", lambda limit, after: subscriptions.list_for(
        graph(), name, _visible_party(), limit, after), key=lambda s: s["subscription_id"])
    return [_answer(s) for s in items], status, headers


def _one(name: str, subscription_id: str) -> dict:
    _named(name)
    try:
        return subscriptions.get(graph(), name, subscription_id, _visible_party())
    except NotFound as exc:
        raise ApiError(404, exc.message, code="not_found",
                       problem="epcisException:NoSuchSubscriptionException") from None


@blp.route("/queries/<name>/subscriptions/<subscription_id>")
@require(*READERS)
@blp.response(200, SubscriptionOut)
@blp.alt_response(403, schema="Error", description="Another party's query")
@blp.alt_response(404, schema="Error", description="No such query or subscription (or another party's)")
def get_subscription(name, subscription_id):
    """Show one subscription (whether it is still active, when it last reached its subscriber)."""
    return _answer(_one(name, subscription_id))


@blp.route("/queries/<name>/subscriptions/<subscription_id>", methods=["DELETE"])
@require(*READERS)
@blp.response(204)
@blp.alt_response(403, schema="Error", description="Another party's query")
@blp.alt_response(404, schema="Error", description="No such query or subscription (or another party's)")
@blp.alt_response(415, schema="Error", description="A body that is not JSON")
def unsubscribe(name, subscription_id):
    """Unsubscribe: nothing more is sent, documents not yet delivered included."""
    _one(name, subscription_id)
    try:
        subscriptions.delete(graph(), name, subscription_id, _visible_party())
    except NotFound as exc:  # deleted meanwhile
        raise ApiError(404, exc.message, code="not_found",
                       problem="epcisException:NoSuchSubscriptionException") from None
