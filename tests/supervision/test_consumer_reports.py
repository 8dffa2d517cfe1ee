"""Consumer reports (举报) through the real app and Neo4j: the form from the scan page, its spam defences (CSRF, a
signed form time, the honeypot, the per-address, per-phone and per-code limits), photo checks, the report number
and its public status page, and the regulators' queue. Each test reports on its own code, phone and address."""

from __future__ import annotations

import hashlib
import hmac
import io
import random
import re
import time
import uuid

import pytest

from graph import consumer_reports
from graph.errors import RuleViolation
from tests.factories import auth, gtin, lot_code
from tests.supervision.helpers import regulator_token

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _code():
    return f"https://id.gs1.org/01/{gtin()}/10/{lot_code()}"


def _phone():
    return "139" + f"{random.randrange(10**8):08d}"


def _address():
    return f"10.{random.randrange(256)}.{random.randrange(256)}.{random.randrange(1, 255)}"


def _signed(app, code, age=30):
    """The form token as the published recipe makes it, computed here: an HMAC over an issue time and the code."""
    key = hmac.new(app.config["SECRET_KEY"].encode(), b"tracegraph/report-form-key/v1", hashlib.sha256).digest()
    issued = int(time.time()) - age
    mac = hmac.new(key, f"tracegraph/report-form/v1|{issued}|{code}".encode(), hashlib.sha256).hexdigest()[:32]
    return f"{issued}.{mac}"


def _form(client, code, lang=""):
    page = client.get(f"/report?code={code}{lang}")
    assert page.status_code == 200
    return _CSRF.search(page.get_data(as_text=True)).group(1)


def _submit(app, client, code, phone, address, *, age=30, token=None, photo=None, **extra):
    data = {"csrf_token": _form(client, code), "code": code, "form_token": token or _signed(app, code, age),
            "text": "包装上的二维码扫出来是别的商品", "phone": phone, "website": "", **extra}
    body, boundary = _multipart(data, photo)
    return client.post("/report", data=body, content_type=f"multipart/form-data; boundary={boundary}",
                       environ_overrides={"REMOTE_ADDR": address})


def _multipart(fields, photo):
    """A multipart body built in memory (the test client spools large files to a temporary file it never closes)."""
    boundary = uuid.uuid4().hex
    out = io.BytesIO()
    for name, value in fields.items():
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
    if photo is not None:
        out.write(f'--{boundary}\r\nContent-Disposition: form-data; name="photo"; filename="{photo[0]}"\r\n'
                  "Content-Type: application/octet-stream\r\n\r\n".encode() + photo[1] + b"\r\n")
    out.write(f"--{boundary}--\r\n".encode())
    return out.getvalue(), boundary


def _stored(graph, code):
    rows = graph.query("MATCH (r:ConsumerReport {code: $c}) RETURN r {.*} AS r ORDER BY r.created_at", read=True,
                       c=code)
    return [row["r"] for row in rows]


def test_a_report_gets_a_number_and_a_public_status_page(app, client, graph):
    code, phone = _code(), _phone()
    r = _submit(app, client, code, phone, _address(), photo=("photo.png", PNG))
    assert r.status_code == 303, r.get_data(as_text=True)
    number = r.headers["Location"].split("/report/")[1].split("?")[0]
    assert re.fullmatch(r"JB-\d{8}-[0-9A-Z]{8}", number)
    [stored] = _stored(graph, code)
    assert stored["report_no"] == number and stored["state"] == "received" and stored["reward"] is False
    assert stored["photo_sha256"] == hashlib.sha256(PNG).hexdigest() and stored["photo_type"] == "image/png"
    assert stored["subject_key"].startswith("lot:")
    page = client.get(r.headers["Location"]).get_data(as_text=True)
    assert number in page and "已受理" in page and "举报已收到" in page
    assert phone not in page and "包装" not in page  # the status page shows no private data
    regulator = regulator_token(graph)
    r = client.post(f"/api/v1/reports/{number}/state", headers=auth(regulator),
                    json={"state": "investigating", "reward": True, "note": "已转稽查"})
    assert r.status_code == 200 and r.get_json()["reward"] is True
    assert r.get_json()["history"][0]["after"] == "investigating"
    photo = client.get(f"/api/v1/reports/{number}/photo", headers=auth(regulator))
    assert photo.status_code == 200 and photo.data == PNG and photo.mimetype == "image/png"
    assert client.get(f"/api/v1/reports/{number}/photo").status_code == 401
    en = client.get(f"/report/{number}?lang=en").get_data(as_text=True)
    assert "Under investigation" in en


def test_the_honeypot_refuses_and_writes_nothing(app, client, graph):
    code = _code()
    r = _submit(app, client, code, _phone(), _address(), website="http://cheap-pills.example")
    assert r.status_code == 400
    assert _stored(graph, code) == []


def test_a_form_sent_too_fast_or_forged_or_stale_is_refused(app, client, graph):
    code = _code()
    fresh = re.search(r'name="form_token" value="([^"]+)"', client.get(f"/report?code={code}").get_data(
        as_text=True)).group(1)
    assert _submit(app, client, code, _phone(), _address(), token=fresh).status_code == 400  # a bot's speed
    assert _submit(app, client, code, _phone(), _address(), age=3 * 3600).status_code == 400
    assert _submit(app, client, code, _phone(), _address(), token=_signed(app, _code())).status_code == 400
    assert _stored(graph, code) == []
    r = client.post("/report", data={"code": code, "form_token": _signed(app, code), "text": "x",
                                     "phone": _phone()}, environ_overrides={"REMOTE_ADDR": _address()})
    assert r.status_code == 400  # no CSRF token
    assert _stored(graph, code) == []


def test_one_address_files_five_reports_an_hour(app, client, graph):
    address = _address()
    codes = [_code() for _ in range(6)]
    for code in codes[:5]:
        assert _submit(app, client, code, _phone(), address).status_code == 303
    r = _submit(app, client, codes[5], _phone(), address)
    assert r.status_code == 429 and "12315" in r.get_data(as_text=True)
    assert _stored(graph, codes[5]) == []
    assert _submit(app, client, codes[5], _phone(), _address()).status_code == 303  # another address may
    spam = client.post("/report", data={"code": codes[5], "website": "x"}, environ_overrides={"REMOTE_ADDR": address})
    assert spam.status_code == 429  # a flood past the limit is refused before any other work


def test_one_phone_files_three_reports_a_day(app, client, graph):
    phone = _phone()
    codes = [_code() for _ in range(4)]
    for code in codes[:3]:
        assert _submit(app, client, code, phone, _address()).status_code == 303
    assert _submit(app, client, codes[3], phone, _address()).status_code == 429
    assert _stored(graph, codes[3]) == []


def test_one_code_draws_twenty_reports_a_day(graph):
    code = _code()
    report = {"code": code, "subject_key": None, "text": "t", "phone": "13900000000"}
    for n in range(20):
        consumer_reports.file_report(graph, report, f"digest-{uuid.uuid4().hex}-{n}")
    with pytest.raises(RuleViolation):
        consumer_reports.file_report(graph, report, f"digest-{uuid.uuid4().hex}")
    assert len(_stored(graph, code)) == 20


@pytest.mark.parametrize("photo", [("x.gif", b"GIF89a" + b"\x00" * 20), ("x.svg", b"<svg onload=alert(1)/>"),
                                   ("big.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * (2 * 1024 * 1024))])
def test_photos_other_than_small_jpeg_or_png_are_refused(app, client, graph, photo):
    code = _code()
    r = _submit(app, client, code, _phone(), _address(), photo=photo)
    assert r.status_code == 422 and "JPEG" in r.get_data(as_text=True)
    assert _stored(graph, code) == []


def test_bad_fields_show_the_form_again_in_the_readers_language(app, client, graph):
    code = _code()
    r = _submit(app, client, code, "12345", _address(), text="")
    text = r.get_data(as_text=True)
    assert r.status_code == 422 and "11 位手机号码" in text and "请描述问题" in text
    assert client.get("/report?code=not-a-code").status_code == 400
    assert "Report a violation" in client.get(f"/report?code={code}&lang=en").get_data(as_text=True)
    assert client.get("/report/JB-20261204-XXXXXXXX").status_code == 404
    assert client.get("/report/' OR 1=1").status_code == 404


def test_the_queue_is_for_regulators_only(app, client, graph, factory):
    code = _code()
    assert _submit(app, client, code, _phone(), _address()).status_code == 303
    number = _stored(graph, code)[0]["report_no"]
    producer = factory.party()["token"]
    assert client.get("/api/v1/reports", headers=auth(producer)).status_code == 403
    assert client.get(f"/api/v1/reports/{number}", headers=auth(producer)).status_code == 403
    assert client.post(f"/api/v1/reports/{number}/state", headers=auth(producer),
                       json={"state": "closed"}).status_code == 403
    assert client.get("/api/v1/reports").status_code == 401
    regulator = regulator_token(graph)
    queue = client.get("/api/v1/reports?state=received&per_page=500", headers=auth(regulator)).get_json()
    assert any(i["report_no"] == number and i["phone"] for i in queue["items"])
    assert client.post(f"/api/v1/reports/{number}/state", headers=auth(regulator),
                       json={"state": "closed", "note": "查无实据"}).status_code == 200
    r = client.post(f"/api/v1/reports/{number}/state", headers=auth(regulator), json={"state": "investigating"})
    assert r.status_code == 409  # closed is final
