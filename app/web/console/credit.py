"""A party's credit record in the console: status and every change with its reason and decider (by name), appeals,
approvals; and the API's three writes as forms (graph/credit.change_status, decide_appeal, grant_approval), read
through the API's schemas, written as the user (the API's principal) with the request's audit entry in the write's
transaction. The API's rules hold because they live in graph/credit_rules.py: an appeal is decided by another
regulator than the one who made the change."""

from __future__ import annotations

from flask import redirect, request, url_for
from marshmallow import ValidationError

from app.extensions import graph
from app.schemas.fields import GLN
from app.schemas.supervision_loop import AppealDecisionIn, ApprovalIn, CreditChangeIn
from app.web.console import bp, problem, render
from app.web.console.writes import actor, audit, load_form, recorded, user_id_of
from graph import console as store
from graph import credit, credit_rules

_CHANGE = CreditChangeIn()
_DECISION = AppealDecisionIn()
_APPROVAL = ApprovalIn()


def _gln(value: str) -> str | None:
    try:
        return GLN().deserialize(value)
    except ValidationError:
        return None


@bp.route("/parties/<gln>/credit")
def credit_page(gln: str):
    """The party's credit record with the forms to change it, decide an open appeal and grant an approval."""
    if _gln(gln) is None:
        return problem(404, "problem_not_found")
    record = credit.record_of(graph(), gln)
    people = [c.get("decided_by") for c in record["changes"]] + [a.get("granted_by") for a in record["approvals"]]
    people += [a.get("decided_by") for c in record["changes"] for a in c["appeals"]]
    names = store.account_names(graph(), [user_id_of(p) for p in people])
    me = actor()
    return render("console/credit.html", record=record, me=me, done=request.args.get("done"),
                  who=lambda p: names.get(user_id_of(p) or "", p or ""),
                  statuses=credit_rules.STATUSES, event_kinds=credit_rules.EVENT_KINDS, actions=credit_rules.ACTIONS,
                  suggested=credit_rules.suggested(record["status"], credit_rules.EVENT_KINDS[0]))


@bp.route("/parties/<gln>/credit/changes", methods=["POST"])
def credit_change(gln: str):
    """Move the party to a status for an event, with the reason (as POST /api/v1/credit/{gln}/changes)."""
    if _gln(gln) is None:
        return problem(404, "problem_not_found")
    data = load_form(_CHANGE, ("status", "event_kind", "reason", "evidence"))
    recorded(credit.change_status(graph(), gln, data["status"], data["event_kind"], data["reason"], actor(),
                                  evidence=data["evidence"], audit=audit()))
    return redirect(url_for("console.credit_page", gln=gln, done="change"), 303)


@bp.route("/credit/appeals/<appeal_id>/decision", methods=["POST"])
def credit_decision(appeal_id: str):
    """Uphold or reverse an appealed change (as POST /api/v1/credit/appeals/{id}/decision)."""
    data = load_form(_DECISION, ("decision", "note"))
    out = recorded(credit.decide_appeal(graph(), appeal_id, data["decision"], data["note"], actor(),
                                        audit=audit()))
    return redirect(url_for("console.credit_page", gln=out["gln"], done="decision"), 303)


@bp.route("/parties/<gln>/credit/approvals", methods=["POST"])
def credit_approval(gln: str):
    """Approve the party's labels or 合格证 for N days (as POST /api/v1/credit/{gln}/approvals)."""
    if _gln(gln) is None:
        return problem(404, "problem_not_found")
    data = load_form(_APPROVAL, ("action", "reason", "valid_days"))
    recorded(credit.grant_approval(graph(), gln, data["action"], data["reason"], data["valid_days"], actor(),
                                   audit=audit()))
    return redirect(url_for("console.credit_page", gln=gln, done="approval"), 303)
