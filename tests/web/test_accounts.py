"""Accounts on the real app and Neo4j: log-in answers, lockout per account, CSRF, sessions ending, admin pages,
one party's lots never shown to another, and page writes audited under the user's principal."""

from __future__ import annotations

import json
import re

from graph import users
from tests.factories import auth
from tests.web.helpers import PASSWORD, audit_entries, csrf, login, make_user, post


def _failed(response) -> bool:
    return response.status_code == 401 and 'id="login-failed"' in response.get_data(as_text=True)


def _logged_in(client) -> bool:
    return client.get("/work/").status_code == 200


def test_log_in_with_user_name_or_phone_and_see_home(client, graph, factory):
    farm = factory.party()
    phone = "139" + str(abs(hash(farm["gln"])))[:8].rjust(8, "0")
    user = make_user(graph, party_gln=farm["gln"], phone=phone)
    response = login(client, user["username"])
    assert response.status_code == 303 and response.headers["Location"].endswith("/work/")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie  # not production
    home = client.get("/work/")
    assert home.status_code == 200 and "测试农场" in home.get_data(as_text=True)
    other = client.application.test_client()
    assert login(other, phone).status_code == 303


def test_wrong_password_and_unknown_user_get_the_same_answer(client, graph, factory):
    user = make_user(graph, party_gln=factory.party()["gln"])
    wrong = login(client, user["username"], "not the password")
    unknown = login(client, "nobody-" + user["username"], "not the password")
    assert _failed(wrong) and _failed(unknown)
    # the same page but for the echoed name and the form's CSRF token (it carries a time stamp)
    same = [re.sub(r'name="csrf_token" value="[^"]+"', "", r.get_data(as_text=True)) for r in (wrong, unknown)]
    assert same[0] == same[1].replace("nobody-", "")
    assert not _logged_in(client)


def test_a_disabled_user_cannot_log_in_and_its_session_ends(client, graph, factory):
    user = make_user(graph, party_gln=factory.party()["gln"])
    assert login(client, user["username"]).status_code == 303
    users.set_disabled(graph, user["user_id"], True)
    assert client.get("/work/").status_code == 302  # back to the log-in page
    assert _failed(login(client, user["username"]))


def test_lockout_after_n_failures_refuses_even_the_right_password(app, client, graph, factory):
    user = make_user(graph, party_gln=factory.party()["gln"])
    limit = app.config["LOGIN_MAX_FAILURES"]
    for _ in range(limit - 1):
        assert _failed(login(client, user["username"], "wrong password"))
    assert login(client, user["username"]).status_code == 303  # a success before the limit clears the count
    client.post("/work/logout", data={"csrf_token": csrf(client, "/work/")})
    for _ in range(limit):
        assert _failed(login(client, user["username"], "wrong password"))
    locked = login(client, user["username"])
    assert _failed(locked) and not _logged_in(client)
    # the same answer as for a wrong password: a locked account is not told apart
    assert "login-failed" in locked.get_data(as_text=True)
    # per account, not per address: another account from the same client still logs in
    neighbour = make_user(graph, party_gln=factory.party()["gln"])
    assert login(client, neighbour["username"]).status_code == 303
    # the lock ends after LOGIN_LOCK_MINUTES
    graph.query("MATCH (u:User {user_id: $id}) SET u.locked_until = datetime() - duration('PT1S')",
                id=user["user_id"])
    assert login(app.test_client(), user["username"]).status_code == 303


def test_a_form_without_its_csrf_token_is_refused_with_a_page_in_the_users_language(client, graph, factory):
    user = make_user(graph, party_gln=factory.party()["gln"])
    refused = client.post("/work/login", data={"login": user["username"], "password": PASSWORD})
    assert refused.status_code == 400 and "页面已过期" in refused.get_data(as_text=True)
    assert not _logged_in(client)
    client.set_cookie("lang", "en")
    refused = client.post("/work/login", data={"login": user["username"], "password": PASSWORD, "csrf_token": "x"})
    assert refused.status_code == 400 and "This page expired" in refused.get_data(as_text=True)
    assert login(client, user["username"]).status_code == 303
    # a logged-in user's write without the token is refused too, and writes nothing
    before = _without_csrf(client.get("/work/").get_data(as_text=True))
    assert client.post("/work/logout").status_code == 400
    assert _without_csrf(client.get("/work/").get_data(as_text=True)) == before


def _without_csrf(page: str) -> str:
    """The page less its CSRF tokens, which carry the second they were made in."""
    return re.sub(r'name="csrf_token"[^>]*value="[^"]*"|value="[^"]*"[^>]*name="csrf_token"', "csrf", page)


def test_the_api_keeps_bearer_tokens_and_needs_no_csrf(client, factory):
    farm = factory.party()
    product = factory.product(farm["gln"])
    body = {"gtin": product["gtin"], "lot": "CSRF" + farm["gln"][-6:], "quantity": 5, "unit": "KGM",
            "production_date": "2026-09-20", "owner_gln": farm["gln"]}
    assert client.post("/api/v1/lots", json=body, headers=auth(farm["token"])).status_code == 201
    paths = client.get("/openapi.json").get_json()["paths"]
    assert not [p for p in paths if p.startswith("/work")]


def test_logout_ends_the_session_and_a_copied_cookie(app, client, graph, factory):
    user = make_user(graph, party_gln=factory.party()["gln"])
    login(client, user["username"])
    copy = app.test_client()
    copy.set_cookie("tg_session", client.get_cookie("tg_session").value)
    assert _logged_in(copy)
    response = client.post("/work/logout", data={"csrf_token": csrf(client, "/work/")})
    assert response.status_code == 303
    assert not _logged_in(client) and not _logged_in(copy)


def test_a_password_change_ends_the_other_sessions_and_keeps_this_one(app, client, graph, factory):
    user = make_user(graph, party_gln=factory.party()["gln"])
    login(client, user["username"])
    elsewhere = app.test_client()
    login(elsewhere, user["username"])
    wrong = post(client, "/work/password", {"current_password": "nope nope", "new_password": "a new secret 1",
                                            "new_password_again": "a new secret 1"}, "/work/password")
    assert wrong.status_code == 422 and _logged_in(elsewhere)
    changed = post(client, "/work/password", {"current_password": PASSWORD, "new_password": "a new secret 1",
                                              "new_password_again": "a new secret 1"}, "/work/password")
    assert changed.status_code == 303
    assert _logged_in(client) and not _logged_in(elsewhere)
    assert _failed(login(app.test_client(), user["username"]))
    assert login(app.test_client(), user["username"], "a new secret 1").status_code == 303
    stored = graph.query("MATCH (u:User {user_id: $id}) RETURN u.password_hash AS h", read=True, id=user["user_id"])
    assert stored[0]["h"].startswith("$argon2id$") and "a new secret 1" not in stored[0]["h"]


def test_admin_creates_disables_and_resets_accounts(app, client, graph, factory):
    admin = make_user(graph, role="admin")
    farm = factory.party()
    login(client, admin["username"])
    name = "new" + farm["gln"][-8:]
    made = post(client, "/work/admin/users", {"username": name, "display_name": "李四", "phone": "",
                                              "role": "producer", "party_gln": farm["gln"]}, "/work/admin/users")
    page = made.get_data(as_text=True)
    assert made.status_code == 201 and 'id="issued"' in page
    first_password = page.split('class="mono big">')[1].split("<")[0]
    assert "$argon2" not in page and "password_hash" not in page
    worker = app.test_client()
    assert login(worker, name, first_password).status_code == 303
    taken = post(client, "/work/admin/users", {"username": name, "role": "producer", "party_gln": farm["gln"]},
                 "/work/admin/users")
    assert taken.status_code == 409
    user_id = graph.query("MATCH (u:User {username: $n}) RETURN u.user_id AS id", read=True, n=name)[0]["id"]

    reset = post(client, f"/work/admin/users/{user_id}/reset", {}, "/work/admin/users")
    new_password = reset.get_data(as_text=True).split('class="mono big">')[1].split("<")[0]
    assert new_password != first_password and not _logged_in(worker)
    assert login(worker, name, new_password).status_code == 303
    # a reset password is replaced first (tests/web/test_password_reset.py)
    new_password = "chosen by the worker"
    assert post(worker, "/work/password", {"current_password": reset.get_data(as_text=True).split(
        'class="mono big">')[1].split("<")[0], "new_password": new_password, "new_password_again": new_password},
        "/work/password").status_code == 303

    assert post(client, f"/work/admin/users/{user_id}/disable", {}, "/work/admin/users").status_code == 303
    assert not _logged_in(worker) and _failed(login(worker, name, new_password))
    assert post(client, f"/work/admin/users/{user_id}/enable", {}, "/work/admin/users").status_code == 303
    assert login(worker, name, new_password).status_code == 303
    # a producer may not open the admin pages
    assert worker.get("/work/admin/users").status_code == 403
    assert post(worker, f"/work/admin/users/{admin['user_id']}/disable", {}).status_code == 403


def test_another_partys_lots_are_never_shown(client, graph, factory):
    mine, theirs = factory.party(name_zh="我的参园"), factory.party(name_zh="别人的参园")
    my_lot = factory.lot(factory.product(mine["gln"], name_zh="我的人参")["gtin"], mine["gln"])
    their_product = factory.product(theirs["gln"], name_zh="别人的人参")
    their_lot = factory.lot(their_product["gtin"], theirs["gln"])
    user = make_user(graph, party_gln=mine["gln"])
    login(client, user["username"])
    home = client.get("/work/").get_data(as_text=True)
    assert my_lot["lot"] in home and their_lot["lot"] not in home and "别人的人参" not in home
    assert client.get(f"/work/lots/{my_lot['gtin']}/{my_lot['lot']}").status_code == 200
    assert client.get(f"/work/lots/{their_lot['gtin']}/{their_lot['lot']}").status_code == 404
    assert client.get(f"/work/lots/{their_lot['gtin']}/NO-SUCH-LOT").status_code == 404
    # nor can a form ship it
    refused = post(client, "/work/ship", {"lot_key": f"{their_lot['gtin']}|{their_lot['lot']}",
                                          "destination_gln": mine["gln"], "quantity": "1"}, "/work/ship")
    assert refused.status_code == 422
    assert graph.query("MATCH (:Party {gln: $g})-[h:HOLDS]->(:Lot {lot: $l}) RETURN h.quantity AS q", read=True,
                       g=theirs["gln"], l=their_lot["lot"])[0]["q"] == their_lot["quantity"]


def test_a_harvest_shipment_and_receipt_made_on_pages_are_audited_under_the_users(app, client, graph, factory):
    farm, shop = factory.party(name_zh="页面参园"), factory.party(roles=("retailer",), name_zh="页面参店")
    product = factory.product(farm["gln"], name_zh="页面人参")
    grower = make_user(graph, party_gln=farm["gln"])
    login(client, grower["username"])
    lot = "PG" + farm["gln"][-8:]
    made = post(client, "/work/batch", {"origin": "harvest", "gtin": product["gtin"], "lot": lot, "quantity": "120",
                                        "unit": "KGM", "production_date": "2026-09-18"}, "/work/batch")
    assert made.status_code == 303, made.get_data(as_text=True)
    assert "页面人参" in client.get(made.headers["Location"]).get_data(as_text=True)
    principal = f"token:user:{grower['user_id']}"
    [entry] = audit_entries(graph, "/work/batch", principal)
    assert (entry["role"], entry["party_gln"], entry["outcome"]) == ("producer", farm["gln"], "done")
    stored = graph.query("MATCH (e:Event)-[:OBJECT]->(:Lot {lot: $l}) RETURN e.token_id AS t", read=True, l=lot)
    assert [r["t"] for r in stored] == [f"user:{grower['user_id']}"]

    too_much = post(client, "/work/ship", {"lot_key": f"{product['gtin']}|{lot}", "destination_gln": shop["gln"],
                                           "quantity": "121"}, "/work/ship")
    assert too_much.status_code == 422 and "120" in too_much.get_data(as_text=True)
    shipped = post(client, "/work/ship", {"lot_key": f"{product['gtin']}|{lot}", "destination_gln": shop["gln"],
                                          "quantity": "20", "document": "DN-1"}, "/work/ship")
    assert shipped.status_code == 303
    assert len(audit_entries(graph, "/work/ship", principal)) == 2  # the refused one and the shipment

    clerk = make_user(graph, party_gln=shop["gln"])
    counter = app.test_client()
    login(counter, clerk["username"])
    home = counter.get("/work/").get_data(as_text=True)
    assert "页面参园" in home and 'action="/work/receive"' in home
    received = post(counter, "/work/receive", {"gtin": product["gtin"], "lot": lot, "source_gln": farm["gln"]})
    assert received.status_code == 303
    holds = graph.query("MATCH (:Party {gln: $g})-[h:HOLDS]->(:Lot {lot: $l}) RETURN h.quantity AS q, h.pending AS p",
                        read=True, g=shop["gln"], l=lot)[0]
    assert (holds["q"], holds["p"]) == (20, 0)
    [entry] = audit_entries(graph, "/work/receive", f"token:user:{clerk['user_id']}")
    assert entry["party_gln"] == shop["gln"] and json.dumps(entry).count(PASSWORD) == 0
    assert 'action="/work/receive"' not in counter.get("/work/").get_data(as_text=True)


def test_home_warns_of_my_held_lot_and_failed_inspection_but_not_of_anothers(client, graph, factory, admin_token):
    farm, other = factory.party(), factory.party()
    lab = factory.party(roles=("lab",), role="lab")
    product = factory.product(farm["gln"], name_zh="警示人参")
    held, failed = factory.lot(product["gtin"], farm["gln"]), factory.lot(product["gtin"], farm["gln"])
    theirs = factory.lot(factory.product(other["gln"])["gtin"], other["gln"])
    for lot in (held, theirs):
        response = client.post(f"/api/v1/lots/{lot['gtin']}/{lot['lot']}/hold", json={"reason": "镉超标调查"},
                               headers=auth(admin_token))
        assert response.status_code == 200
    report = "JL-" + failed["lot"]
    inspection = {"lab_gln": lab["gln"], "gtin": failed["gtin"], "lot": failed["lot"], "report_no": report,
                  "sample_id": "S1", "date": "2026-09-25", "standard": "GB 2762-2022", "verdict": "fail",
                  "results": [{"item": "cadmium", "value": 0.31, "limit": 0.2, "unit": "mg/kg", "pass": False}]}
    assert client.post("/api/v1/inspections", json=inspection, headers=auth(lab["token"])).status_code == 201
    login(client, make_user(graph, party_gln=farm["gln"])["username"])
    warnings = client.get("/work/").get_data(as_text=True).split('id="warnings"')[1].split("</section>")[0]
    assert held["lot"] in warnings and "暂停销售" in warnings
    assert failed["lot"] in warnings and report in warnings and "检验不合格" in warnings
    assert theirs["lot"] not in warnings
