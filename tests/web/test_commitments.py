"""承诺达标合格证 on the real app and Neo4j: issued from the lot page by the lot's owner with a self-test or a
commissioned test citing that lot's inspection (refused without one), numbered, audited, printed as PDF and PNG with
the lot's Digital Link, shown on the consumer page; a mixed lot cites its inputs' certificates."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
import zxingcpp
from PIL import Image

from graph import commitments
from graph.errors import Forbidden, RuleViolation
from tests.factories import auth, lot_code
from tests.labels.test_sheet import _pages, _text
from tests.web.helpers import audit_entries, login, make_user, post

FORM = {"product_name": "长白山人参", "quantity": "25", "origin": "抚松县", "producer_name": "测试农场",
        "producer_contact": "13800000000", "basis": "quality_control", "inspection_key": "", "basis_detail": ""}


@pytest.fixture
def farm(graph, factory):
    """A farm with a ginseng lot and its logged-in user's details."""
    party = factory.party()
    product = factory.product(party["gln"])
    made = factory.lot(product["gtin"], party["gln"])
    return {"party": party, "gtin": product["gtin"], "lot": made["lot"],
            "user": make_user(graph, party_gln=party["gln"])}


def _url(x: dict) -> str:
    return f"/work/certificates/{x['gtin']}/{x['lot']}"


def _issue(client, x: dict, **fields):
    return post(client, _url(x), {**FORM, **fields}, _url(x))


def _stored(graph, x: dict) -> list[dict]:
    return [r["c"] for r in graph.query(
        "MATCH (c:CommitmentCertificate)-[:FOR_LOT]->(:Lot {key: $k}) RETURN c {.*} AS c ORDER BY c.number",
        read=True, k=f"lot:{x['gtin']}:{x['lot']}")]


def _inspection(client, factory, x: dict, verdict: str = "pass") -> dict:
    lab = factory.party(roles=("lab",), role="lab", name_zh="吉林省检测中心")
    body = {"lab_gln": lab["gln"], "gtin": x["gtin"], "lot": x["lot"], "report_no": "R-" + lot_code(),
            "sample_id": "S-1", "date": "2026-09-25", "standard": "GB 2763-2021", "verdict": verdict,
            "results": [{"item": "毒死蜱", "value": 0.01, "limit": 0.02, "unit": "mg/kg", "pass": verdict == "pass"}]}
    done = client.post("/api/v1/inspections", json=body, headers=auth(lab["token"]))
    assert done.status_code == 201, done.json
    return {**body, "key": f"{lab['gln']}:{body['report_no']}"}


def _issued_number(response) -> str:
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    return re.search(r"issued=(HGZ-\d{8}-\d{4,})", response.headers["Location"]).group(1)


def test_a_self_test_certificate_is_numbered_kept_audited_and_shown_to_consumers(client, graph, farm, tmp_path):
    login(client, farm["user"]["username"])
    form = client.get(_url(farm)).get_data(as_text=True)
    assert "承诺达标合格证" in form and 'value="抚松县"' in form and 'value="100"' in form  # filled from the records
    refused = _issue(client, farm, basis="self_test")
    assert refused.status_code == 422 and "basis_detail" in refused.get_data(as_text=True)
    assert _stored(graph, farm) == []
    number = _issued_number(_issue(client, farm, basis="self_test", basis_detail="速测卡 有机磷 阴性"))
    assert re.fullmatch(r"HGZ-\d{8}-\d{4}", number)
    [cert] = _stored(graph, farm)
    assert (cert["number"], cert["basis"], cert["quantity"], cert["producer_gln"]) == (
        number, "self_test", 25.0, farm["party"]["gln"])
    assert cert["commitments"] == list(commitments.COMMITMENTS)
    assert cert["created_by"] == f"user:{farm['user']['user_id']}"
    refusal, entry = audit_entries(graph, _url(farm), f"token:user:{farm['user']['user_id']}")
    assert (refusal["outcome"], refusal["status"]) == ("refused", 422)
    assert entry["outcome"] == "committed" and number in entry["detail"]  # in the certificate's own transaction
    listed = client.get(_url(farm) + f"?issued={number}").get_data(as_text=True)
    assert number in listed and "自我检测" in listed
    # the consumer page of the lot shows its number, date and basis; the JSON view too
    consumer = client.get(f"/01/{farm['gtin']}/10/{farm['lot']}").get_data(as_text=True)
    assert number in consumer and "承诺达标合格证" in consumer and "自我检测" in consumer
    facts = client.get(f"/01/{farm['gtin']}/10/{farm['lot']}", headers={"Accept": "application/json"}).json
    assert facts["commitments"] == [{"number": number, "issued_on": cert["issued_on"].iso_format(),
                                     "basis": "self_test"}]
    assert number[4:12] == cert["issued_on"].iso_format().replace("-", "")
    assert "13800000000" not in consumer  # the producer's contact is on the paper, not on the public page


def test_numbers_are_unique_and_count_up_within_a_day(client, graph, farm):
    login(client, farm["user"]["username"])
    first = _issued_number(_issue(client, farm))
    second = _issued_number(_issue(client, farm, quantity="5"))  # a second shipment of the same lot
    assert first != second and first[:13] == second[:13]
    assert int(second.rsplit("-", 1)[1]) > int(first.rsplit("-", 1)[1])


def test_a_commissioned_test_must_cite_a_passing_inspection_of_that_lot(client, graph, factory, farm, tmp_path):
    login(client, farm["user"]["username"])
    refused = _issue(client, farm, basis="commissioned_test")
    assert refused.status_code == 422 and "inspection of this lot" in refused.get_data(as_text=True)
    # another lot's inspection is not this lot's
    other = {**farm, "lot": factory.lot(farm["gtin"], farm["party"]["gln"])["lot"]}
    elsewhere = _inspection(client, factory, other)
    assert _issue(client, farm, basis="commissioned_test", inspection_key=elsewhere["key"]).status_code == 422
    failed = _inspection(client, factory, farm, verdict="fail")
    assert _issue(client, farm, basis="commissioned_test", inspection_key=failed["key"]).status_code == 422
    assert _stored(graph, farm) == []
    passed = _inspection(client, factory, farm)
    number = _issued_number(_issue(client, farm, basis="commissioned_test", inspection_key=passed["key"]))
    [cert] = _stored(graph, farm)
    assert (cert["basis"], cert["report_no"], cert["inspection_key"]) == (
        "commissioned_test", passed["report_no"], passed["key"])
    cited = graph.query("MATCH (:CommitmentCertificate {number: $n})-[:BASED_ON]->(i:Inspection) RETURN i.key AS k",
                        read=True, n=number)
    assert cited == [{"k": passed["key"]}]

    # printed: the PDF and the PNG carry the lot's Digital Link (the lot label's own URI) and the report
    lot_uri = client.get(f"/work/labels/{farm['gtin']}/{farm['lot']}/label.png").headers["X-Digital-Link"]
    pdf = client.get(f"/work/certificate/{number}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    decoded = [r.text for page in _pages(pdf.data, tmp_path) for r in zxingcpp.read_barcodes(page)]
    assert decoded == [lot_uri] and pdf.headers["X-Digital-Link"] == lot_uri
    text = _text(pdf.data, tmp_path)
    assert number in text and passed["report_no"] in text and "委托检测" in text and "13800000000" in text
    png = client.get(f"/work/certificate/{number}.png")
    assert png.mimetype == "image/png"
    assert [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png.data)))] == [lot_uri]


def test_only_the_lots_owner_issues_or_prints_a_certificate(app, client, graph, factory, farm):
    login(client, farm["user"]["username"])
    number = _issued_number(_issue(client, farm))
    stranger = app.test_client()
    login(stranger, make_user(graph, party_gln=factory.party()["gln"])["username"])
    assert stranger.get(_url(farm)).status_code == 403
    assert post(stranger, _url(farm), FORM).status_code == 403
    assert stranger.get(f"/work/certificate/{number}.pdf").status_code == 403
    assert len(_stored(graph, farm)) == 1


def test_a_mixed_lot_cites_its_inputs_certificates_and_is_refused_while_one_has_none(client, graph, factory, farm):
    login(client, farm["user"]["username"])
    second = {**farm, "lot": factory.lot(farm["gtin"], farm["party"]["gln"])["lot"]}
    mixed = {**farm, "lot": lot_code()}
    made = client.post("/api/v1/transformations", headers=auth(farm["party"]["token"]), json={
        "party_gln": farm["party"]["gln"],
        "inputs": [{"gtin": farm["gtin"], "lot": farm["lot"], "quantity": 50, "unit": "KGM"},
                   {"gtin": farm["gtin"], "lot": second["lot"], "quantity": 50, "unit": "KGM"}],
        "outputs": [{"gtin": farm["gtin"], "lot": mixed["lot"], "quantity": 100, "unit": "KGM"}]})
    assert made.status_code == 201, made.json
    first_cert = _issued_number(_issue(client, farm))
    refused = _issue(client, mixed)
    assert refused.status_code == 422 and second["lot"] in refused.get_data(as_text=True)
    assert _stored(graph, mixed) == []
    second_cert = _issued_number(_issue(client, second))
    number = _issued_number(_issue(client, mixed))
    [cert] = _stored(graph, mixed)
    assert cert["inputs"] == sorted([first_cert, second_cert])
    cites = graph.query("MATCH (:CommitmentCertificate {number: $n})-[:CITES]->(c) RETURN c.number AS n ORDER BY n",
                        read=True, n=number)
    assert [r["n"] for r in cites] == sorted([first_cert, second_cert])


def _facts(**over) -> dict:
    return {"owner_gln": "G", "inspections": [{"key": "L:1", "report_no": "1", "verdict": "pass"},
                                              {"key": "L:2", "report_no": "2", "verdict": "fail"}],
            "inputs": [], **over}


def test_issuing_rules_without_a_database():
    ok = {"basis": "quality_control", "quantity": 1.0}
    assert commitments.check_issue(ok, _facts(), "G") == {"inspection": None, "inputs": []}
    with pytest.raises(Forbidden):
        commitments.check_issue(ok, _facts(), "OTHER")
    assert commitments.check_issue(ok, _facts(), None, admin=True)["inputs"] == []
    for bad in ({"basis": "guess", "quantity": 1.0}, {**ok, "quantity": 0},
                {"basis": "commissioned_test", "quantity": 1.0, "inspection_key": "L:2"},
                {"basis": "commissioned_test", "quantity": 1.0, "inspection_key": "X:9"},
                {"basis": "self_test", "quantity": 1.0, "basis_detail": "  "},
                {**ok, "inspection_key": "L:1"}, {**ok, "basis_detail": "x" * 201}):
        with pytest.raises(RuleViolation):
            commitments.check_issue(bad, _facts(), "G")
    cited = commitments.check_issue({"basis": "commissioned_test", "quantity": 1.0, "inspection_key": "L:1"},
                                    _facts(), "G")
    assert cited["inspection"]["report_no"] == "1"
    inputs = [{"lot": "A", "category": "paddy", "certificates": ["HGZ-2", "HGZ-1"]},
              {"lot": "B", "category": "other", "certificates": []}]
    assert commitments.check_issue(ok, _facts(inputs=inputs), "G")["inputs"] == ["HGZ-1", "HGZ-2"]
    with pytest.raises(RuleViolation, match="C"):
        commitments.check_issue(ok, _facts(inputs=[*inputs, {"lot": "C", "category": "rice", "certificates": []}]),
                                "G")
    assert commitments.number_of(date(2026, 3, 1), 7) == "HGZ-20260301-0007"
    assert commitments.number_of(date(2026, 3, 1), 12345) == "HGZ-20260301-12345"
