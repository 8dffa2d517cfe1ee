"""Credit records (信用), pure: which events may move a party between normal, watch and blacklist.

Statuses are ordered normal < watch (重点关注) < blacklist (严重违法失信名单). A violation moves a party up: a serious
one (counterfeits, falsified records) straight to the blacklist, any other one step at most. Only ``rectified``
moves a party down (one step or back to normal). Every change has a reason and a decider; an appeal is decided by a
regulator other than the one who made the change, and a granted appeal reverses the change.
"""

from __future__ import annotations

STATUSES = ("normal", "watch", "blacklist")
RANK = {s: i for i, s in enumerate(STATUSES)}
SERIOUS = ("counterfeit", "falsified_records")
VIOLATIONS = ("failed_inspection", "recall_caused", "overdue_acknowledgement", *SERIOUS)
EVENT_KINDS = (*VIOLATIONS, "rectified")
APPEAL_STATES = ("pending", "upheld", "reversed")
# What a blacklisted party may not do without a regulator's approval (联合惩戒).
ACTIONS = ("labels", "certificates")


def transition_error(before: str, after: str, event_kind: str) -> str | None:
    """Why a change from ``before`` to ``after`` for this event is not allowed, or None when it is."""
    if before not in RANK or after not in RANK:
        return f"status: one of {', '.join(STATUSES)}"
    if event_kind not in EVENT_KINDS:
        return f"event_kind: one of {', '.join(EVENT_KINDS)}"
    if after == before:
        return f"the party is already {before}"
    if event_kind == "rectified":
        if RANK[after] > RANK[before]:
            return "rectified only lowers a status"
        return None
    if RANK[after] < RANK[before]:
        return "a violation never lowers a status (use rectified)"
    if event_kind not in SERIOUS and RANK[after] - RANK[before] > 1:
        return f"{event_kind} raises a status one step at most (blacklist needs a serious violation or watch first)"
    return None


def suggested(before: str, event_kind: str) -> str:
    """The status a regulator would usually decide for this event (the form's default)."""
    if event_kind == "rectified":
        return "normal"
    if event_kind in SERIOUS:
        return "blacklist"
    return STATUSES[min(RANK.get(before, 0) + 1, len(STATUSES) - 1)]


def appeal_error(change: dict, appellant_gln: str | None, latest_change_id: str | None) -> str | None:
    """Why an appeal of this change cannot be filed, or None."""
    if appellant_gln is not None and appellant_gln != change["party_gln"]:
        return "a party appeals only its own record"
    if change.get("reversed"):
        return "the change was reversed already"
    if change.get("appeal_state") == "pending":
        return "an appeal of this change is pending"
    if change["change_id"] != latest_change_id:
        return "only the latest change of a record can be appealed"
    return None


def decision_error(appeal_state: str, decision: str, change_decider: str, decider: str) -> str | None:
    """Why this appeal decision cannot be made, or None."""
    if decision not in ("upheld", "reversed"):
        return "decision: upheld or reversed"
    if appeal_state != "pending":
        return f"the appeal was decided already ({appeal_state})"
    if decider == change_decider:
        return "an appeal is decided by another regulator than the one who made the change"
    return None


def needs_approval(status: str | None) -> bool:
    """Tell whether a party with this status needs a regulator's approval to print labels or issue 合格证."""
    return status == "blacklist"
