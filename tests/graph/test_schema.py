"""The schema migrations create every uniqueness constraint, idempotently."""

from graph.migrate import migrate, pending

EXPECTED = {
    ("Party", "gln"), ("Location", "key"), ("Product", "gtin"), ("Lot", "key"), ("Item", "key"),
    ("LogisticUnit", "key"), ("Event", "event_id"), ("Capture", "capture_id"), ("Inspection", "key"),
    ("Certificate", "key"), ("Token", "hash"), ("Token", "token_id"), ("Recall", "recall_id"),
}


def test_every_business_key_has_a_uniqueness_constraint(graph):
    rows = graph.query("SHOW CONSTRAINTS YIELD type, labelsOrTypes, properties RETURN *", read=True)
    present = {(r["labelsOrTypes"][0], r["properties"][0]) for r in rows if r["type"] == "UNIQUENESS"}
    assert EXPECTED <= present, f"missing: {EXPECTED - present}"


def test_migrate_twice_changes_nothing(graph):
    assert migrate(graph) == []
    assert pending(graph) == []


def test_lots_carry_no_status_index(graph):
    """No query finds lots by status; every lot created and every recall paid for one (V0006 drops it)."""
    rows = graph.query("SHOW INDEXES YIELD labelsOrTypes, properties RETURN *", read=True)
    on_lots = {tuple(r["properties"] or ()) for r in rows if (r["labelsOrTypes"] or [None])[0] == "Lot"}
    assert ("key",) in on_lots and ("gtin",) in on_lots  # the query answers
    assert ("status",) not in on_lots
