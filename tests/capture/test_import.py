"""`flask epcis import`: streams a document in chunks; a re-run skips what is already captured."""

from __future__ import annotations

import json

from tests.capture.helpers import commission, document, event_path, ship
from tests.factories import auth, gtin, lot_code


def test_import_streams_chunks_and_is_resumable(app, client, factory, tmp_path):
    farm, mill = factory.party(), factory.party()
    g, lot = gtin(), lot_code()
    events = [commission(farm["gln"], g, lot, 10)] + [
        ship(farm["gln"], mill["gln"], g, lot, 1, when=f"2026-09-21T08:0{i}:00+08:00") for i in range(4)]
    path = tmp_path / "history.jsonld"
    path.write_text(json.dumps(document(*events)))
    runner = app.test_cli_runner()
    first = runner.invoke(args=["epcis", "import", str(path), "--chunk", "2"])
    assert first.exit_code == 0, first.output
    assert "captured 5, already there 0, errors 0" in first.output
    again = runner.invoke(args=["epcis", "import", str(path), "--chunk", "2"])
    assert "captured 0, already there 5" in again.output
    assert client.get(event_path(events[-1]["eventID"]), headers=auth(factory.admin_token)).status_code == 200
