"""A password an admin reset (admin page or `flask users reset`) must be replaced by the user before any other
workbench page: on the real app and Neo4j."""

from __future__ import annotations

from tests.web.helpers import csrf, login, make_user, post


def _must_change(graph, user_id: str) -> bool:
    return graph.query("MATCH (u:User {user_id: $id}) RETURN coalesce(u.must_change, false) AS m", read=True,
                       id=user_id)[0]["m"]


def _sent_to_password_page(response) -> bool:
    return response.status_code == 302 and response.headers["Location"].endswith("/work/password")


def _change(client, current: str, new: str):
    return post(client, "/work/password", {"current_password": current, "new_password": new,
                                           "new_password_again": new}, "/work/password")


def test_after_an_admin_reset_every_page_asks_for_a_new_password_first(app, client, graph, factory):
    farm = factory.party()
    lot = factory.lot(factory.product(farm["gln"])["gtin"], farm["gln"])
    worker = make_user(graph, party_gln=farm["gln"])
    admin = make_user(graph, role="admin")
    login(client, admin["username"])
    reset = post(client, f"/work/admin/users/{worker['user_id']}/reset", {}, "/work/admin/users")
    one_time = reset.get_data(as_text=True).split('class="mono big">')[1].split("<")[0]

    phone = app.test_client()
    assert login(phone, worker["username"], one_time).status_code == 303
    for path in ("/work/", f"/work/lots/{lot['gtin']}/{lot['lot']}", "/work/batch", "/work/ship", "/work/import",
                 f"/work/labels/{lot['gtin']}/{lot['lot']}"):
        assert _sent_to_password_page(phone.get(path)), path
    page = phone.get("/work/password")
    assert page.status_code == 200 and 'id="must-change"' in page.get_data(as_text=True)
    # a form post elsewhere is refused with the page in the user's language, and writes nothing
    refused = phone.post("/work/ship", data={"lot_key": f"{lot['gtin']}|{lot['lot']}", "quantity": "1",
                                             "destination_gln": farm["gln"],
                                             "csrf_token": csrf(phone, "/work/password")})
    assert refused.status_code == 403 and "请先修改密码" in refused.get_data(as_text=True)
    phone.set_cookie("lang", "en")
    assert "Change your password first" in phone.post("/work/ship", data={
        "csrf_token": csrf(phone, "/work/password")}).get_data(as_text=True)
    phone.set_cookie("lang", "zh")
    assert graph.query("MATCH (:Party {gln: $g})-[h:HOLDS]->(:Lot {lot: $l}) RETURN h.quantity AS q", read=True,
                       g=farm["gln"], l=lot["lot"])[0]["q"] == lot["quantity"]
    assert _must_change(graph, worker["user_id"])

    assert _change(phone, one_time, "my own secret 7").status_code == 303
    assert not _must_change(graph, worker["user_id"])
    home = phone.get("/work/")
    assert home.status_code == 200 and 'id="must-change"' not in phone.get("/work/password").get_data(as_text=True)
    assert login(app.test_client(), worker["username"], "my own secret 7").status_code == 303


def test_flask_users_reset_also_asks_for_a_new_password_at_the_next_log_in(app, graph, factory):
    worker = make_user(graph, party_gln=factory.party()["gln"])
    result = app.test_cli_runner().invoke(args=["users", "reset", worker["username"], "--password-stdin"],
                                          input="handed over 123\n")
    assert result.exit_code == 0, result.output
    phone = app.test_client()
    assert login(phone, worker["username"], "handed over 123").status_code == 303
    assert _sent_to_password_page(phone.get("/work/"))
    assert _change(phone, "handed over 123", "chosen by me 456").status_code == 303
    assert phone.get("/work/").status_code == 200


def test_a_users_own_change_asks_for_nothing_more(app, client, graph, factory):
    worker = make_user(graph, party_gln=factory.party()["gln"])
    login(client, worker["username"])
    assert _change(client, worker["password"], "another secret 9").status_code == 303
    assert client.get("/work/").status_code == 200 and not _must_change(graph, worker["user_id"])
