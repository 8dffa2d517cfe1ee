"""双随机 draws, pure: targets and inspectors drawn at random from a recorded seed, conflicts of interest excluded.

A draw is a pure function of the seed and the candidate lists: both lists are sorted (and de-duplicated) before
anything is drawn, so whoever holds the published seed and candidates recomputes the same draw, whatever order the
database returned them in. A different seed gives (almost always) a different draw.
"""

from __future__ import annotations

import hashlib
import random
import secrets
from dataclasses import dataclass, field

MAX_TARGETS = 500
MAX_INSPECTORS_PER_TARGET = 5
# Why an inspector may not inspect a party (recorded with the draw so a reader sees what was excluded).
CONFLICT_KINDS = ("former_employer", "inspected_last_time")


def new_seed() -> str:
    """A fresh random seed (32 hex characters) for a draw that names none."""
    return secrets.token_hex(16)


def rng_of(seed: str) -> random.Random:
    """The random generator of a seed: Mersenne Twister seeded by the SHA-256 of the seed's UTF-8 text."""
    return random.Random(int.from_bytes(hashlib.sha256(seed.encode("utf-8")).digest(), "big"))


@dataclass
class Assignment:
    """One drawn target and the inspectors drawn for it (fewer than asked when too few are free of conflicts)."""

    party_gln: str
    inspector_ids: list[str]
    short: bool = False


@dataclass
class Draw:
    """What a draw picked, in draw order, and what it excluded."""

    seed: str
    assignments: list[Assignment] = field(default_factory=list)
    excluded: list[dict] = field(default_factory=list)


def conflicted(inspector: str, party: str, conflicts: dict[str, dict[str, str]]) -> str | None:
    """The conflict kind that keeps an inspector from a party, or None."""
    return conflicts.get(inspector, {}).get(party)


def draw(seed: str, targets: list[str], inspectors: list[str], count: int, per_target: int,
         conflicts: dict[str, dict[str, str]] | None = None) -> Draw:
    """Draw ``count`` targets and ``per_target`` inspectors for each, reproducibly from ``seed``.

    Args:
        seed: the recorded seed.
        targets: candidate party GLNs (order and repeats do not matter).
        inspectors: candidate inspector user ids (order and repeats do not matter).
        count: how many targets (all candidates when fewer).
        per_target: inspectors per target.
        conflicts: {inspector: {party: conflict kind}}: pairs never drawn together.

    Returns:
        The Draw: targets in draw order, each with its inspectors in draw order; ``excluded`` lists every
        conflicting pair met ({"inspector", "party", "kind"}).

    Raises:
        ValueError: count or per_target out of range.
    """
    if not 1 <= count <= MAX_TARGETS:
        raise ValueError(f"count: 1..{MAX_TARGETS}")
    if not 1 <= per_target <= MAX_INSPECTORS_PER_TARGET:
        raise ValueError(f"per_target: 1..{MAX_INSPECTORS_PER_TARGET}")
    conflicts = conflicts or {}
    rng = rng_of(seed)
    pool_targets = sorted(set(targets))
    pool_inspectors = sorted(set(inspectors))
    chosen = rng.sample(pool_targets, min(count, len(pool_targets)))
    out = Draw(seed=seed)
    for party in chosen:
        free = []
        for inspector in pool_inspectors:
            kind = conflicted(inspector, party, conflicts)
            if kind:
                out.excluded.append({"inspector": inspector, "party": party, "kind": kind})
            else:
                free.append(inspector)
        picked = rng.sample(free, min(per_target, len(free)))
        out.assignments.append(Assignment(party, picked, short=len(picked) < per_target))
    return out


def conflicts_of(former_employers: dict[str, list[str]], last_inspected: dict[str, list[str]]) -> dict:
    """Build the conflicts map from each inspector's former employers and the parties of their last inspection."""
    out: dict[str, dict[str, str]] = {}
    for inspector, parties in last_inspected.items():
        for party in parties:
            out.setdefault(inspector, {})[party] = "inspected_last_time"
    for inspector, parties in former_employers.items():
        for party in parties:
            out.setdefault(inspector, {})[party] = "former_employer"  # the stronger reason wins
    return out


RESULTS = ("pass", "issues_found", "fail", "not_operating")
PLAN_STATES = ("draft", "drawn", "completed")


def plan_state_after_result(recorded: int, total: int) -> str:
    """A drawn plan is completed once every drawn target has a result."""
    return "completed" if total and recorded >= total else "drawn"
