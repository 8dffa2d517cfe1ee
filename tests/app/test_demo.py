"""The demo province loads through the app's own API, twice without change, and tells a coherent story."""

from app import demo
from tests.factories import auth


def test_demo_loads_idempotently_and_reads_back(app, client, graph):
    first = demo.load(app)
    counts = graph.query("MATCH (e:Event) WHERE e.event_id STARTS WITH 'urn:uuid:7a1c0d5e-' RETURN count(e) AS n",
                         read=True)[0]["n"]
    second = demo.load(app)
    assert graph.query("MATCH (e:Event) WHERE e.event_id STARTS WITH 'urn:uuid:7a1c0d5e-' RETURN count(e) AS n",
                       read=True)[0]["n"] == counts == len(first["data"].events)
    data = second["data"]
    regulator = auth(second["tokens"]["regulator:regulator"])

    # Rice: the Shulan farm lot feeds both mills' blends, and from there both supermarkets.
    gtin, lot = data.lots["SLC2026-1005"]
    trace = client.get(f"/api/v1/lots/{gtin}/{lot}/trace?direction=forward", headers=regulator)
    assert trace.status_code == 200, trace.json
    text = str(trace.json)
    for retailer in ("eurasia", "rtmart_jilin"):
        assert demo.P[retailer]["gln"] in text
    assert data.lots["SLM2026-1015"][1] in text and data.lots["MHM2026-1016"][1] in text

    # The failing cadmium test led to a recall of the Meihekou bags.
    recalled = client.get("/api/v1/lots/{}/{}".format(*data.recall_lot)).json
    assert recalled["status"] == "recalled"

    # A signed gift box scans as genuine, back to the Fusong farm.
    box_gtin, box_lot, serial = data.items["box1"]
    page = client.get(f"/01/{box_gtin}/10/{box_lot}/21/{serial}", headers={"Accept": "application/json"})
    assert page.status_code == 200
    body = str(page.json)
    assert "抚松" in body
    assert "13943900001" not in body  # no private contact data on the public page


def test_demo_load_prints_the_workbench_users_of_the_demo_parties(app):
    """`make run` runs `flask demo load --if-empty`: on a demo store it names the accounts people log in with."""
    from app import demo
    from graph import users

    result = app.test_cli_runner().invoke(args=["demo", "load", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert "Workbench users" in result.output
    graph = app.extensions["graph"]
    assert users.existing_usernames(graph, list(demo.P)) == set(demo.P)
