"""Parties, products, lots and tokens through the API: validation, conflicts and who may write."""

from tests.factories import auth, bad_check_digit, gln, gtin, lot_code


def party_body(**fields):
    return {"gln": gln(), "name_zh": "抚松参园", "name_en": "Fusong ginseng farm", "roles": ["farm"],
            "region_code": "220621", "contact_phone": "13900000000", **fields}


def test_admin_registers_a_party_and_a_duplicate_gln_is_409(client, admin_token):
    body = party_body()
    created = client.post("/api/v1/parties", json=body, headers=auth(admin_token))
    assert created.status_code == 201, created.json
    assert created.json["gln"] == body["gln"]
    again = client.post("/api/v1/parties", json=body, headers=auth(admin_token))
    assert again.status_code == 409
    assert again.json["error"]["code"] == "conflict"
    assert body["gln"] in again.json["error"]["message"]


def test_gln_with_a_wrong_check_digit_is_422_naming_the_field(client, admin_token, graph):
    body = party_body(gln=bad_check_digit(gln()))
    response = client.post("/api/v1/parties", json=body, headers=auth(admin_token))
    assert response.status_code == 422
    assert "gln" in response.json["error"]["errors"]["json"]
    assert "check digit" in " ".join(response.json["error"]["errors"]["json"]["gln"]).lower()
    assert graph.query("MATCH (p:Party {gln: $g}) RETURN p", read=True, g=body["gln"]) == []


def test_gtin_with_a_wrong_check_digit_is_422_naming_the_field(client, factory):
    farm = factory.party()
    body = {"gtin": bad_check_digit(gtin()), "name_zh": "人参", "category": "ginseng", "owner_gln": farm["gln"]}
    response = client.post("/api/v1/products", json=body, headers=auth(farm["token"]))
    assert response.status_code == 422
    assert "gtin" in response.json["error"]["errors"]["json"]


def test_duplicate_gtin_is_409(client, factory):
    farm = factory.party()
    product = factory.product(farm["gln"])
    body = {"gtin": product["gtin"], "name_zh": "人参", "category": "ginseng", "owner_gln": farm["gln"]}
    response = client.post("/api/v1/products", json=body, headers=auth(farm["token"]))
    assert response.status_code == 409
    assert response.json["error"]["status"] == 409


def test_duplicate_lot_is_409_and_the_first_is_unchanged(client, factory):
    farm = factory.party()
    product = factory.product(farm["gln"])
    lot = factory.lot(product["gtin"], farm["gln"], quantity=50)
    body = {"gtin": product["gtin"], "lot": lot["lot"], "quantity": 999, "unit": "KGM",
            "production_date": "2026-09-20", "owner_gln": farm["gln"]}
    response = client.post("/api/v1/lots", json=body, headers=auth(farm["token"]))
    assert response.status_code == 409
    shown = client.get(f"/api/v1/lots/{product['gtin']}/{lot['lot']}", headers=auth(farm["token"])).json
    assert shown["quantity"] == 50
    assert shown["holders"] == [{"gln": farm["gln"], "quantity": 50, "unit": "KGM"}]


def test_producer_registers_a_lot_for_its_own_party(client, factory):
    farm = factory.party()
    product = factory.product(farm["gln"])
    body = {"gtin": product["gtin"], "lot": lot_code(), "quantity": 120.5, "unit": "KGM",
            "production_date": "2026-09-20", "expiry_date": "2028-09-19", "owner_gln": farm["gln"]}
    response = client.post("/api/v1/lots", json=body, headers=auth(farm["token"]))
    assert response.status_code == 201, response.json
    shown = client.get(f"/api/v1/lots/{product['gtin']}/{body['lot']}").json
    assert shown["status"] == "active"
    assert shown["expiry_date"] == "2028-09-19"


def test_producer_cannot_act_for_another_party(client, factory, graph):
    farm, other = factory.party(), factory.party()
    product = factory.product(other["gln"])
    body = {"gtin": product["gtin"], "lot": lot_code(), "quantity": 10, "unit": "KGM",
            "production_date": "2026-09-20", "owner_gln": other["gln"]}
    response = client.post("/api/v1/lots", json=body, headers=auth(farm["token"]))
    assert response.status_code == 403
    assert "owner_gln" in response.json["error"]["errors"]["json"]
    stored = graph.query("MATCH (l:Lot {gtin: $g}) RETURN l", read=True, g=product["gtin"])
    assert stored == []
    product_body = {"gtin": gtin(), "name_zh": "大米", "category": "rice", "owner_gln": other["gln"]}
    assert client.post("/api/v1/products", json=product_body, headers=auth(farm["token"])).status_code == 403


def test_missing_or_wrong_token_is_401_and_wrong_role_is_403(client, factory):
    body = party_body()
    assert client.post("/api/v1/parties", json=body).status_code == 401
    wrong = client.post("/api/v1/parties", json=body, headers=auth("tg_00000000_nope"))
    assert wrong.status_code == 401
    assert wrong.json["error"]["code"] == "unauthorized"
    farm = factory.party()
    forbidden = client.post("/api/v1/parties", json=body, headers=auth(farm["token"]))
    assert forbidden.status_code == 403


def test_tokens_are_stored_hashed_and_shown_once(client, admin_token, factory, graph):
    farm = factory.party()
    created = client.post("/api/v1/tokens", json={"role": "producer", "party_gln": farm["gln"]},
                          headers=auth(admin_token))
    assert created.status_code == 201
    token = created.json["token"]
    stored = graph.query("MATCH (t:Token {token_id: $id}) RETURN t {.*} AS t", read=True,
                         id=created.json["token_id"])[0]["t"]
    assert token not in [str(v) for v in stored.values()]
    assert stored["hash"] != token and len(stored["hash"]) == 64
    assert client.post("/api/v1/products", json={"gtin": gtin(), "name_zh": "米", "category": "rice",
                                                  "owner_gln": farm["gln"]}, headers=auth(token)).status_code == 201


def test_contacts_are_private(client, factory, admin_token):
    farm = factory.party()
    public = client.get(f"/api/v1/parties/{farm['gln']}").json
    assert "contact_phone" not in public
    private = client.get(f"/api/v1/parties/{farm['gln']}", headers=auth(admin_token)).json
    assert private["contact_phone"] == "13800000000"


def test_malformed_json_is_a_4xx_with_the_error_shape(client, admin_token):
    response = client.post("/api/v1/parties", data=b"{not json", headers={**auth(admin_token),
                                                                          "Content-Type": "application/json"})
    assert 400 <= response.status_code < 500
    assert response.json["error"]["status"] == response.status_code
