"""The rules of the one write path, apart from the reads and writes (pure; no database).

(Over 500 lines on purpose: the Ledger applies every rule to one simulated state in event-time order, and its
checks share that state; split, the order they run in would be spread over files.)

graph/events.py reads what a document's events touch (existing event IDs, the state of every lot, item and unit
named, product owners, registered parties, stored reachability) and hands it to a :class:`Ledger`, which checks
each event in event-time order against the rules (who may record it: graph/ownership.py; mass balance, custody,
time order, status, cycles, resends, declarations) and applies each good one to a simulated state. What it leaves
(``good``, ``declared``, ``deltas``) is what graph/events.py writes. Custody planning lives here too: every change
is a plain delta, so the custody of a set of events is the same whatever order and documents they arrive in.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from graph import ownership
from graph.errors import Forbidden, RuleViolation
from graph.ownership import CUSTODY_KINDS, EPSILON, PARTY_SDT, RECEIVE_STEPS, SHIP_STEPS  # noqa: F401
from graph.ownership import name as _name
from graph.ownership import party_of as _party_of
from gs1.epcis import EPCQuantity, NormalizedEvent
from gs1.identifiers import Ref

REMOVE_STEPS = frozenset({"destroying", "retail_selling", "decommissioning", "dispensing", "disposing"})
REMOVE_DISPOSITIONS = frozenset({"destroyed", "retail_sold", "disposed", "dispensed", "inactive"})
DESTROY_STEPS = frozenset({"destroying", "disposing"})
DESTROY_DISPOSITIONS = frozenset({"destroyed", "disposed"})
BLOCKING_STATUSES = frozenset({"on_hold", "recalled"})

@dataclass(frozen=True)
class Policy:
    """Who captures and how strictly: the rules the write path applies.

    ``strict`` turns mass balance and time order into errors (producers); otherwise they become warnings on the
    capture job (admin import). ``require_known`` refuses unknown lots, parties and products (producer API).
    """

    role: str = "admin"
    party_gln: str | None = None
    token_id: str | None = None
    strict: bool = False
    require_known: bool = False
    max_yield: float = 1.05
    max_future: timedelta = timedelta(minutes=5)
    # raise data-quality alerts (graph/cold_chain.py); a restore replays history whose alerts it restores itself
    alerts: bool = True

    @property
    def checks_master_data(self) -> bool:
        """Whether every product and party named must be registered: for party tokens always (capture never
        creates master data for them), and for the producer API."""
        return self.require_known or self.role != "admin"


@dataclass
class CaptureJob:
    """What a capture did: the job record stored as the Capture node and answered by GET /epcis/capture/{id}."""

    capture_id: str
    error_behaviour: str = "rollback"
    created_at: str = ""
    finished_at: str = ""
    event_count: int = 0
    captured: list[str] = field(default_factory=list)
    duplicates: list[str] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)
    audit_seq: int | None = None  # the audit entry appended in the capture's own transaction, if any

    @property
    def success(self) -> bool:
        """True when no event failed."""
        return not self.errors


def new_capture_id() -> str:
    """Return a fresh, unguessable capture job ID."""
    return "cap-" + uuid.uuid4().hex


def now_iso() -> str:
    """Return the current UTC time as ISO 8601 with milliseconds and Z."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def content_hash(raw: dict) -> str:
    """Return the hash that tells whether a re-sent event is the same as the stored one (recordTime aside)."""
    body = {k: v for k, v in raw.items() if k not in ("recordTime", "eventID")}
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def error(index: int | None, event_id: str | None, code: str, message: str, location: str | None = None) -> dict:
    """Return one per-event error (or warning) entry of a capture job."""
    entry = {"eventIndex": index, "eventID": event_id, "code": code, "message": message}
    if location:
        entry["location"] = location
    return entry


def raise_first_error(job: CaptureJob) -> None:
    """Raise the job's first error as a 422 naming every problem (the producer API's all-or-nothing answer).

    Raises:
        RuleViolation: the job has errors.
    """
    if not job.errors:
        return
    first = job.errors[0]
    problems = {"events": [e["message"] for e in job.errors]}
    raise RuleViolation(first["message"], details={"json": problems})


def _here(ev: NormalizedEvent) -> str | None:
    """The acting party's GLN: the business location's, else the read point's."""
    for ref in (ev.biz_location, ev.read_point):
        if ref is not None and ref.gln:
            return ref.gln
    return None


def _amount(eq: EPCQuantity) -> float | None:
    """How much of a custody object an entry names: its quantity, or 1 for an instance (item, SSCC)."""
    if eq.ref.kind in ("item", "sscc"):
        return 1.0
    return float(eq.quantity) if eq.quantity is not None else None


def _ilmd_lot(ev: NormalizedEvent) -> str | None:
    """The lot number an ILMD declares (cbvmda:lotNumber in any notation)."""
    for key, value in (ev.ilmd or {}).items():
        if key.rsplit(":", 1)[-1].rsplit("#", 1)[-1] == "lotNumber" and isinstance(value, str):
            return value
    return None


def _dt(value: Any) -> datetime | None:
    """Epoch milliseconds (read back: the driver's DateTime conversion is slow per row), ISO text or a Neo4j DateTime
    as an aware datetime."""
    if value is None:
        return None
    if isinstance(value, int):
        return datetime.fromtimestamp(value / 1000, UTC)
    if isinstance(value, str):
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value.to_native()


class Held:
    """One party's custody of one object, as the HOLDS relationship keeps it (see _HOLDS)."""

    __slots__ = ("own", "shipped_in", "received", "unit")

    def __init__(self, own: float = 0.0, shipped_in: float = 0.0, received: float = 0.0, unit: str | None = None):
        self.own, self.shipped_in, self.received, self.unit = own, shipped_in, received, unit

    @property
    def quantity(self) -> float:
        """What the party has, in transit to it included."""
        return self.own + max(self.shipped_in, self.received)

    @property
    def pending(self) -> float:
        """Shipped to the party and not received yet."""
        return max(self.shipped_in - self.received, 0.0)

    def add(self, d_own: float, d_shipped: float, d_received: float) -> None:
        """Apply one custody change."""
        self.own += d_own
        self.shipped_in += d_shipped
        self.received += d_received


def legacy_custody(entry: list) -> tuple[str, str, float, float, float]:
    """A stored custody entry as (gln, key, own, shipped in, received) deltas; old events kept [gln, key, dq, dp]."""
    if len(entry) == 5:
        return entry[0], entry[1], entry[2], entry[3], entry[4]
    gln, key, dq, dp = entry
    shipped = max(dp, 0.0)
    return gln, key, dq - shipped, shipped, max(-dp, 0.0)




def lineage(ev: NormalizedEvent) -> list[tuple[str, str]]:
    """The downstream lineage edges (from key, to key) an event adds: transformations, packing, lot items."""
    out = [(a.ref.key, b.ref.key) for a in ev.inputs for b in ev.outputs
           if a.ref.kind != "class" and b.ref.kind != "class"]
    if ev.type == "AggregationEvent" and ev.action == "ADD" and ev.parent is not None:
        out += [(c.ref.key, ev.parent.key) for c in ev.children if c.ref.kind != "class"]
    for eq in (*ev.objects, *ev.children, *ev.inputs, *ev.outputs):
        if eq.ref.kind == "item" and eq.ref.lot is not None:
            out.append((Ref("lot", gtin=eq.ref.gtin, lot=eq.ref.lot).key, eq.ref.key))
    return out


def _node(state: dict[str, dict], ref: Ref) -> dict:
    """The simulated state of an object, made on first use (nothing known about it yet)."""
    node = state.get(ref.key)
    if node is None:
        node = {"status": "active", "first_time": None, "holders": {}, "exists": False, "owner": None,
                "lot_owner": None}
        state[ref.key] = node
    return node


def _thing(state: dict[str, dict], ref: Ref) -> ownership.Thing:
    """An object as the ownership rules see it at this point of the document."""
    node = _node(state, ref)
    return ownership.Thing(exists=node["exists"], owner=node["owner"], lot_owner=node["lot_owner"],
                           holders={gln: held.quantity for gln, held in node["holders"].items()})


class Ledger:
    """One document's events checked against the rules and applied to a simulated state of what they touch.

    Args:
        events: (index in the document, normalised event), in document order.
        policy: who captures and the rules that apply.
        job: the capture job: errors, warnings and duplicates go to it.
        existing: stored events with the document's eventIDs: event_id -> {content_hash, erroneous, custody,
            recorded_by, ...}.
        state: key -> {status, first_time, holders: {gln: Held}, exists, owner, lot_owner} of every object named.
        products: registered products named (GTIN -> ownership.Product); parties: registered parties named.
        stored_reach: key -> keys it already reaches downstream in the store (cycle checks).
        now: the time "the future" is measured from.
    """

    def __init__(self, events: list[tuple[int, NormalizedEvent]], policy: Policy, job: CaptureJob,
                 existing: dict[str, dict], state: dict[str, dict], products: dict[str, ownership.Product],
                 parties: set[str], stored_reach: dict[str, set[str]], now: datetime):
        self.events, self.policy, self.job, self.existing, self.state = events, policy, job, existing, state
        self.stored_reach, self.now = stored_reach, now
        # the view reads the state, not the ledger: a bound method here would be a reference cycle, and a
        # document's whole ledger would wait for the garbage collector instead of going when capture ends
        self.view = ownership.View(product=products.get, party_known=parties.__contains__,
                                   thing=partial(_thing, state))

    _lineage = staticmethod(lineage)

    def run(self) -> None:
        """Check every event in event-time order, applying each good one to the simulated state.

        Raises:
            Forbidden: an event is outside what the caller may record (nothing may be written).
        """
        self.good: list[tuple[int, NormalizedEvent, str, dict]] = []  # (index, event, content hash, plan)
        self.declared: list[tuple[int, NormalizedEvent, str]] = []
        # (gln, key) -> [own, shipped in, received, unit, custody entries that moved something (reversals count -1)]
        self.deltas: dict[tuple[str, str], list] = defaultdict(lambda: [0.0, 0.0, 0.0, None, 0])
        self.batch_edges: dict[str, set[str]] = defaultdict(set)
        seen: dict[str, str] = {}
        order = sorted(range(len(self.events)), key=lambda i: (self.events[i][1].event_time, i))
        # When each object comes into being in this document: using it before then is a time-order gap too.
        self.born: dict[str, datetime] = {}
        for _, ev in self.events:
            if ev.error_declaration is None:
                for eq in ev.outputs if ev.type == "TransformationEvent" else ev.objects if self._is_origin(ev) else []:
                    t = _dt(ev.event_time)
                    if eq.ref.key not in self.born or t < self.born[eq.ref.key]:
                        self.born[eq.ref.key] = t
        forbidden: list[dict] = []
        for i in order:
            index, ev = self.events[i]
            eid = ev.event_id
            chash = content_hash(ev.raw)
            if ev.error_declaration is not None and (eid in self.existing or eid in seen):
                problems, denied = self._declare(index, ev, chash)
                forbidden.extend(denied)
                self.job.errors.extend(problems)
                continue
            previous = seen.get(eid) or (self.existing[eid]["content_hash"] if eid in self.existing else None)
            if previous is not None:
                if previous == chash or "eventID" not in ev.raw:
                    self.job.duplicates.append(eid)
                else:
                    self.job.errors.append(error(index, eid, "conflict", (
                        f"event {eid} was captured before with different content; an eventID names one event"),
                        "eventID"))
                continue
            problems, denied = self._check(i, index, ev)
            if denied:
                forbidden.extend(denied)
                continue
            if problems:
                self.job.errors.extend(problems)
                continue
            seen[eid] = chash
            self.good.append((index, ev, chash, self._apply(ev)))
        if forbidden:
            first = forbidden[0]
            raise Forbidden(first["message"], details={"json": {"events": [f["message"] for f in forbidden]}})
    def _problem(self, out: list[dict], index: int, ev: NormalizedEvent, code: str, message: str,
                 location: str | None = None, strict_only: bool = False) -> None:
        """Record a rule problem: an error, or a warning when the rule is strict-only and the policy lenient."""
        entry = error(index, ev.event_id, code, message, location)
        if strict_only and not self.policy.strict:
            self.job.warnings.append(entry)
        else:
            out.append(entry)

    def _check(self, i: int, index: int, ev: NormalizedEvent) -> tuple[list[dict], list[dict]]:
        policy = self.policy
        problems: list[dict] = []
        denied: list[dict] = []
        denied.extend(error(index, ev.event_id, "forbidden", message)
                      for message in ownership.denials(ev, policy.role, policy.party_gln, self.view))
        if ev.error_declaration is not None:
            return problems, denied  # declared erroneous on arrival: stored, counts for nothing
        t = _dt(ev.event_time)
        if t > self.now + policy.max_future:
            self._problem(problems, index, ev, "time", (
                f"eventTime {ev.event_time} is more than {int(policy.max_future.total_seconds() // 60)} minutes "
                "in the future"), "eventTime", strict_only=True)
        origin = self._is_origin(ev)
        step, disp = ev.biz_step, ev.disposition
        destroying = step in DESTROY_STEPS or disp in DESTROY_DISPOSITIONS
        used = ev.inputs if ev.type == "TransformationEvent" else (ev.objects if ev.type != "AggregationEvent"
                                                                   and ev.type != "AssociationEvent"
                                                                   else ev.children)
        if policy.checks_master_data:
            problems.extend(error(index, ev.event_id, "not_found", message)
                            for message in ownership.unknown_master_data(ev, self.view))
        for eq in used:
            if eq.ref.kind not in CUSTODY_KINDS:
                continue
            node = _node(self.state, eq.ref)
            name = _name(eq.ref)
            if origin and ev.type == "ObjectEvent":
                continue
            if policy.require_known and not node["exists"]:
                problems.append(error(index, ev.event_id, "not_found", f"no {name} registered"))
                continue
            if node["status"] in BLOCKING_STATUSES:
                status = node["status"].replace("_", " ")
                if ev.type == "TransformationEvent":
                    self._problem(problems, index, ev, "lot_status", (
                        f"{name} is {status}: it may not be consumed as an input"), strict_only=True)
                elif (step in SHIP_STEPS | REMOVE_STEPS or disp in REMOVE_DISPOSITIONS) and not destroying:
                    # Destroying the stock is what a recall or hold asks of a holder: never refused.
                    problems.append(error(index, ev.event_id, "lot_status", (
                        f"{name} is {status}: it may not be shipped, sold or consumed, only destroyed")))
            first = min((x for x in (node["first_time"], self.born.get(eq.ref.key)) if x is not None), default=None)
            if first is not None and t < first:
                self._problem(problems, index, ev, "time", (
                    f"eventTime {ev.event_time} is before {name} existed "
                    f"({first.isoformat().replace('+00:00', 'Z')})"), "eventTime", strict_only=True)
            if policy.role == "producer" and step not in RECEIVE_STEPS:
                held = node["holders"].get(policy.party_gln)
                if held is None or held.quantity <= EPSILON:
                    denied.append(error(index, ev.event_id, "forbidden",
                                        f"party {policy.party_gln} does not hold {name}"))
        if ev.type == "TransformationEvent":
            self._check_transformation(i, index, ev, problems)
        self._check_balance(index, ev, problems)
        return problems, denied

    def _check_transformation(self, i: int, index: int, ev: NormalizedEvent, problems: list[dict]) -> None:
        for a in ev.inputs:
            for b in ev.outputs:
                if a.ref.kind == "class" or b.ref.kind == "class":
                    continue
                if a.ref.key == b.ref.key or self._reaches(b.ref.key, a.ref.key):
                    problems.append(error(index, ev.event_id, "cycle", (
                        f"{_name(b.ref)} is already upstream of {_name(a.ref)}: this transformation would make a "
                        "cycle")))
        by_uom_in: dict[str | None, float] = defaultdict(float)
        by_uom_out: dict[str | None, float] = defaultdict(float)
        for eq in ev.inputs:
            if eq.quantity is not None:
                by_uom_in[eq.uom] += float(eq.quantity)
        for eq in ev.outputs:
            if eq.quantity is not None:
                by_uom_out[eq.uom] += float(eq.quantity)
        for uom, out_qty in by_uom_out.items():
            in_qty = by_uom_in.get(uom)
            if in_qty is not None and out_qty > in_qty * self.policy.max_yield + EPSILON:
                self._problem(problems, index, ev, "mass_balance", (
                    f"outputs total {out_qty:g} {uom or ''} but inputs only {in_qty:g}: more than the yield "
                    f"tolerance x{self.policy.max_yield:g}").replace("  ", " "), strict_only=True)

    def _reaches(self, start: str, goal: str) -> bool:
        """Does ``start`` lead to ``goal`` downstream, through stored lineage and this document's edges so far?"""
        stack, seen = [start], {start}
        while stack:
            here = stack.pop()
            for nxt in (*self.batch_edges.get(here, ()), *self.stored_reach.get(here, ())):
                if nxt == goal:
                    return True
                if nxt not in seen:
                    seen.add(nxt)
                    stack.append(nxt)
        return False

    def _check_balance(self, index: int, ev: NormalizedEvent, problems: list[dict]) -> None:
        """Refuse (or warn about) taking more of a lot from a party than it holds, or receiving what nobody shipped."""
        for gln, ref, d_own, _ds, d_rec, _unit in self._plan_custody(ev):
            held = _node(self.state, ref)["holders"].get(gln) or Held()
            if d_own < 0 and held.quantity + d_own < -EPSILON:
                self._problem(problems, index, ev, "mass_balance", (
                    f"party {gln} holds {held.quantity:g} of {_name(ref)} and cannot ship, consume or destroy "
                    f"{-d_own:g}"), strict_only=True)
            if d_rec > 0 and held.pending + EPSILON < d_rec:
                self._problem(problems, index, ev, "receipt", (
                    f"party {gln} receives {d_rec:g} of {_name(ref)} but only {held.pending:g} was shipped to it "
                    "and not yet received"), strict_only=True)

    # -- custody planning --
    _is_origin = staticmethod(ownership.is_origin)

    def _plan_custody(self, ev: NormalizedEvent) -> list[tuple[str, Ref, float, float, float, str | None]]:
        """The HOLDS changes an event makes: (party GLN, object, own delta, shipped-in delta, received delta, unit).

        Every change is a plain delta (never "what is there"), so the custody of a set of events is the same
        whatever order and documents they arrive in.
        """
        here = _here(ev)
        out: list[tuple[str, Ref, float, float, float, str | None]] = []
        step, disp = ev.biz_step, ev.disposition
        if ev.type == "TransformationEvent":
            if here:
                for eq in ev.inputs:
                    amount = _amount(eq)
                    if eq.ref.kind in CUSTODY_KINDS and amount is not None:
                        out.append((here, eq.ref, -amount, 0.0, 0.0, eq.uom))
                for eq in ev.outputs:
                    amount = _amount(eq)
                    if eq.ref.kind in CUSTODY_KINDS and amount is not None:
                        out.append((here, eq.ref, amount, 0.0, 0.0, eq.uom))
            return out
        if ev.type != "ObjectEvent":
            return out
        for eq in ev.objects:
            amount = _amount(eq)
            if eq.ref.kind not in CUSTODY_KINDS or amount is None:
                continue
            if self._is_origin(ev):
                if here:
                    out.append((here, eq.ref, amount, 0.0, 0.0, eq.uom))
            elif ev.action == "DELETE" or step in REMOVE_STEPS or disp in REMOVE_DISPOSITIONS:
                if here:
                    out.append((here, eq.ref, -amount, 0.0, 0.0, eq.uom))
            elif step in SHIP_STEPS:
                source = _party_of(ev.sources) or here
                dest = _party_of(ev.destinations)
                if source:
                    out.append((source, eq.ref, -amount, 0.0, 0.0, eq.uom))
                if dest and dest != source:
                    out.append((dest, eq.ref, 0.0, amount, 0.0, eq.uom))
            elif step in RECEIVE_STEPS:
                receiver = _party_of(ev.destinations) or here
                if receiver:
                    out.append((receiver, eq.ref, 0.0, 0.0, amount, eq.uom))
        return out

    def _apply(self, ev: NormalizedEvent) -> dict:
        """Apply a good event to the simulated state; return its write plan."""
        custody: list[list] = []
        planned = self._plan_custody(ev) if ev.error_declaration is None else []
        for gln, ref, d_own, d_ship, d_rec, unit in planned:
            held = _node(self.state, ref)["holders"].setdefault(gln, Held(unit=unit))
            held.add(d_own, d_ship, d_rec)
            self._delta(gln, ref.key, d_own, d_ship, d_rec, unit)
            custody.append([gln, ref.key, d_own, d_ship, d_rec])
        t = _dt(ev.event_time)
        if ev.error_declaration is None:
            created = ev.outputs if ev.type == "TransformationEvent" else (ev.objects if self._is_origin(ev) else [])
            for eq in created:
                if eq.ref.kind in CUSTODY_KINDS:
                    node = _node(self.state, eq.ref)
                    if not node["exists"] and eq.ref.kind == "lot":
                        node["owner"] = _here(ev)  # as _write stores it: who first made the lot
                    node["exists"] = True
                    if node["first_time"] is None or t < node["first_time"]:
                        node["first_time"] = t
            for a, b in self._lineage(ev):
                self.batch_edges[a].add(b)
        return {"custody": custody}

    def _delta(self, gln: str, key: str, d_own: float, d_ship: float, d_rec: float, unit: str | None,
               reverse: bool = False) -> None:
        d = self.deltas[(gln, key)]
        d[0] += d_own
        d[1] += d_ship
        d[2] += d_rec
        d[3] = d[3] or unit
        # A party that custody touched keeps its HOLDS edge (at zero too): the same edges for any batching. The
        # edge counts the entries that touched it, so reversing the last of them (a declaration) removes it, as a
        # replay of the record without the erroneous event would never have made it.
        if any(abs(x) > EPSILON for x in (d_own, d_ship, d_rec)):
            d[4] += -1 if reverse else 1

    def _declare(self, index: int, ev: NormalizedEvent, chash: str) -> tuple[list[dict], list[dict]]:
        """An errorDeclaration of an event captured before (or earlier in this document): check who declares and
        that it repeats the event unchanged, then mark the event, reverse its custody and drop its lineage edges.
        The event itself stays in the record, as captured, with the declaration beside it.

        Returns:
            (rule problems, denials), as _check.
        """
        eid = ev.event_id
        prior = self.existing.get(eid)
        if prior is not None and prior.get("erroneous"):
            self.job.duplicates.append(eid)
            return [], []
        same_doc = next((k for k, (_, gev, _, plan) in enumerate(self.good)
                         if gev.event_id == eid and not plan.get("declared")), None)
        if prior is None and same_doc is None:
            self.job.duplicates.append(eid)  # declared twice in one document
            return [], []
        denied = [error(index, eid, "forbidden", m)
                  for m in ownership.denials(ev, self.policy.role, self.policy.party_gln, self.view)]
        recorder = prior.get("recorded_by") if prior is not None else self.policy.party_gln
        if self.policy.role != "admin" and recorder != self.policy.party_gln:
            denied.append(error(index, eid, "forbidden", (
                f"event {eid} was recorded by {recorder or 'an admin'}: only the party that recorded an event (or "
                "an admin) may declare it erroneous"), "errorDeclaration"))
        if denied:
            return [], denied
        original = content_hash({k: v for k, v in ev.raw.items() if k != "errorDeclaration"})
        stored = prior["content_hash"] if prior is not None else self.good[same_doc][2]
        if original != stored:
            return [error(index, eid, "conflict", (
                f"an errorDeclaration repeats event {eid} unchanged (EPCIS 2.0): this one differs from the event "
                "as captured; to say what really happened, capture corrective events and name them in "
                "correctiveEventIDs"), "errorDeclaration")], []
        if prior is not None:
            entries = [legacy_custody(entry) for entry in json.loads(prior.get("custody") or "[]")]
        else:
            entries = [tuple(entry) for entry in self.good[same_doc][3]["custody"]]
        problems: list[dict] = []
        for gln, key, d_own, d_ship, d_rec in entries:
            held = self.state.get(key, {}).get("holders", {}).get(gln) or Held()
            after = Held(held.own - d_own, held.shipped_in - d_ship, held.received - d_rec)
            if after.quantity < -EPSILON or after.received > after.shipped_in + EPSILON:
                self._problem(problems, index, ev, "mass_balance", (
                    f"declaring event {eid} erroneous would leave party {gln} with {after.quantity:g} of {key} "
                    f"({after.received:g} received of {max(after.shipped_in, 0.0):g} shipped to it): declare the "
                    "events that used what it moved (a receipt, a shipment onward) erroneous first"),
                    "errorDeclaration", strict_only=True)
        if problems:
            return problems, []
        for gln, key, d_own, d_ship, d_rec in entries:
            self._delta(gln, key, -d_own, -d_ship, -d_rec, None, reverse=True)
            held = self.state.get(key, {}).get("holders", {}).get(gln)
            if held is not None:
                held.add(-d_own, -d_ship, -d_rec)
        if prior is None:
            # Declared in the same document as the event: the good entry is replaced by the declaration.
            self.good[same_doc] = (index, ev, chash, {"custody": [], "declared": True})
        else:
            self.declared.append((index, ev, chash))
        return [], []

