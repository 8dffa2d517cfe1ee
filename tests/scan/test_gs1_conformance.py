"""The resolver against the checks of GS1's own resolver conformance suite (github.com/gs1/GS1DL-resolver-testsuite,
GS1DigitalLinkResolverTestSuite.js at e3485a5), each test named after the suite's check id and making the same
request the suite's PHP helper makes (curl: `Accept: */*`, an Origin, no redirects followed).

Checks that need the internet are left to the suite itself (docs/resolver.md): HTTPS on the resolver's host (isHttps,
tlsOK), the HTTP version probe (httpVersion), GS1's description-file schema and ratified link-type list, which it
fetches online (rdFile's schema part, linkTypesDefined). The linkset schema is GS1's, kept in tests/scan/schemas.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote

import jsonschema
import pytest

from tests import factories
from tests.scan.conftest import item_path

ROOT = "http://localhost"  # the test client's host: anchors and links are the URIs the client asked about
ORIGIN = "https://ref.gs1.org/test-suites/resolver/"
CURL = {"Accept": "*/*", "Origin": ORIGIN}
LINKSET = {"Accept": "application/linkset+json", "Origin": ORIGIN}
SCHEMA = json.loads((Path(__file__).parent / "schemas" / "gs1-linkset-schema.json").read_text("utf-8"))
VOC = "https://ref.gs1.org/voc/"
REQUIRED_TYPES = ("pip", "traceability", "recallStatus", "certificationInfo", "epcis")


@pytest.fixture(scope="module")
def dl(chain) -> str:
    """The path of a genuine box's Digital Link (the URI one would give the suite)."""
    return item_path(chain, chain.serials[0])


def _linkset(client, path: str) -> dict:
    answer = client.get(path + "?linkType=linkset", headers=CURL)
    assert answer.status_code == 200, answer.get_data(as_text=True)
    return json.loads(answer.get_data(as_text=True))


def _entry(linkset: dict, anchor: str) -> dict:
    return next(e for e in linkset["linkset"] if e["anchor"] == anchor)


def test_rdFile_the_description_file_names_root_keys_and_link_types(client):
    answer = client.get("/.well-known/gs1resolver", headers={"Accept": "application/json", "Origin": ORIGIN})
    assert answer.status_code == 200 and answer.mimetype == "application/json"
    body = answer.json
    assert body["resolverRoot"] == ROOT
    assert {"01", "00", "414"} <= set(body["supportedPrimaryKeys"])
    assert {"namespace": VOC, "prefix": "gs1:"} in body["supportedLinkType"]
    assert answer.headers["Access-Control-Allow-Origin"] == "*"


def test_basicWalkUp_an_unknown_lot_of_a_known_gtin_is_answered_not_404(client, chain):
    unknown = f"/01/{chain.box_gtin}/10/KL8G"
    answer = client.get(unknown, headers=CURL)
    assert answer.status_code == 307
    assert answer.headers["Location"] == f"{ROOT}/page{unknown}"
    page = client.get(unknown, headers={"Accept": "text/html"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "疑似假冒" in html and "长白山人参礼盒" in html and 'href="tel:12315"' in html
    # none of a genuine lot's credentials on a code the brand never registered
    assert chain.box_lot not in html and "地理标志" not in html and "吉林省农产品质量安全检测中心" not in html


def test_basicWalkUp_an_unknown_serial_is_answered_with_its_lot_not_404(client, chain):
    answer = client.get(f"/01/{chain.box_gtin}/10/{chain.box_lot}/21/NOSUCHSERIAL", headers=CURL)
    assert answer.status_code == 307


def test_an_unregistered_gtin_is_404(client):
    path = f"/01/{factories.gtin()}/10/L1"
    assert client.get(path, headers=CURL).status_code == 404
    assert client.get(path + "?linkType=linkset", headers=CURL).status_code == 404
    page = client.get(path, headers={"Accept": "text/html"})
    assert page.status_code == 404 and "未找到此编码" in page.get_data(as_text=True)


def test_corsCheck_methodsCheck_linkOnRedirect_legacyLinkHeaders_on_options(client, dl):
    answer = client.options(dl, headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET,HEAD,OPTIONS"})
    assert answer.status_code in (200, 204)
    assert answer.headers["Access-Control-Allow-Origin"] == "*"
    methods = answer.headers["Access-Control-Allow-Methods"]
    assert "GET" in methods and "HEAD" in methods and "OPTIONS" in methods
    link = answer.headers["Link"]
    assert f'<{ROOT}{dl}?linkType=linkset>; rel="linkset"' in link
    assert 'rel="gs1:' not in link  # every link in the Link header was deprecated by resolver standard 1.0


def test_methodsCheck_head_answers_like_get_without_a_body(client, dl):
    for headers in (CURL, {"Accept": "text/html"}, LINKSET):
        got, head = client.get(dl, headers=headers), client.head(dl, headers=headers)
        assert head.status_code == got.status_code
        assert head.headers.get("Location") == got.headers.get("Location")
        assert head.get_data() == b""


def test_cors_on_every_json_answer(client, dl, chain):
    for path, headers in ((dl, {"Accept": "application/json"}), (dl, LINKSET),
                          (f"/01/{chain.box_gtin}", {"Accept": "application/json"}),
                          (dl + "/foo", {"Accept": "application/json"})):
        assert client.get(path, headers=headers).headers["Access-Control-Allow-Origin"] == "*", path


def test_reportWith400_noErrorWith200_bad_syntax_is_400(client, dl, chain):
    for bad in (dl + "/foo", f"/01/{factories.bad_check_digit(chain.box_gtin)}/10/{chain.box_lot}",
                f"/01/{chain.box_gtin}/21/S1/10/{chain.box_lot}"):
        answer = client.get(bad, headers=CURL)
        assert answer.status_code == 400, bad
    page = client.get(dl + "/foo?lang=en", headers={"Accept": "text/html"})
    assert page.status_code == 400 and "Code not recognised" in page.get_data(as_text=True)


def test_trailingSlash_is_tolerated(client, dl):
    plain, slash = client.get(dl, headers=CURL), client.get(dl + "/", headers=CURL)
    assert (plain.status_code, plain.headers.get("Location")) == (slash.status_code, slash.headers.get("Location"))


def test_qsPassedOn_the_query_is_passed_on_when_redirecting(client, dl):
    answer = client.get(dl + "?foo=bar&17=281007", headers=CURL)
    assert answer.status_code == 307
    assert answer.headers["Location"] == f"{ROOT}/page{dl}?foo=bar&17=281007"


def test_ltLinksetNoRedirect_linkType_linkset_returns_the_linkset(client, dl):
    answer = client.get(dl + "?linkType=linkset", headers=CURL)
    assert answer.status_code == 200 and "Location" not in answer.headers
    assert _entry(json.loads(answer.get_data(as_text=True)), ROOT + dl)


def test_ltAcceptHeader_declaredContentType_accept_linkset_json_returns_the_linkset(client, dl):
    for query in ("", "?linkType=all"):
        answer = client.get(dl + query, headers=LINKSET)
        assert answer.status_code == 200 and "Location" not in answer.headers
        assert answer.headers["Content-Type"].startswith("application/linkset+json")
        assert _entry(json.loads(answer.get_data(as_text=True)), ROOT + dl)


def test_validLinkset_linksetJsonldCheck_the_linkset_validates_against_gs1s_schema(client, dl, chain):
    for path in (dl, f"/01/{chain.box_gtin}/10/{chain.box_lot}", f"/01/{chain.box_gtin}",
                 f"/01/{chain.box_gtin}/10/KL8G", f"/01/{chain.box_gtin}/10/{quote('A/B', safe='')}"):
        answer = client.get(path, headers=LINKSET)
        body = json.loads(answer.get_data(as_text=True))
        errors = [e.message for e in jsonschema.Draft7Validator(SCHEMA).iter_errors(body)]
        assert errors == [], (path, errors)
        assert [e["anchor"] for e in body["linkset"]] == [ROOT + path]
        link = answer.headers["Link"]
        assert 'rel="http://www.w3.org/ns/json-ld#context"' in link and 'type="application/ld+json"' in link


def test_the_schema_copy_refuses_what_gs1_refuses():
    """The kept schema is the real one: a CURIE as a key, or a link without a title, is refused."""
    validator = jsonschema.Draft7Validator(SCHEMA)
    good = {"anchor": f"{ROOT}/01/09506000134369", "itemDescription": "x",
            f"{VOC}pip": [{"href": f"{ROOT}/page/01/09506000134369", "title": "t"}]}
    assert not list(validator.iter_errors({"linkset": [good]}))
    assert list(validator.iter_errors({"linkset": [{**good, "gs1:pip": good[f"{VOC}pip"]}]}))
    assert list(validator.iter_errors({"linkset": [{**good, f"{VOC}pip": [{"href": f"{ROOT}/x"}]}]}))


def test_defaultLinkExists_singleDefaultLink_defaultTarget(client, dl):
    entry = _entry(_linkset(client, dl), ROOT + dl)
    default = entry[VOC + "defaultLink"]
    assert len(default) == 1 and set(default[0]) == {"href", "title"}
    answer = client.get(dl, headers=CURL)
    assert answer.status_code == 307 and answer.headers["Location"] == default[0]["href"]
    assert answer.headers["Location"] == f"{ROOT}/page{dl}"


def test_loFor_each_link_type_redirects_307_to_its_target(client, dl):
    entry = _entry(_linkset(client, dl), ROOT + dl)
    for name in REQUIRED_TYPES:
        targets = entry[VOC + name]
        assert len(targets) == 1, name
        for asked in (f"gs1:{name}", f"{VOC}{name}", f"https://gs1.org/voc/{name}"):
            answer = client.get(f"{dl}?linkType={quote(asked, safe=':')}", headers=CURL)
            assert answer.status_code == 307, asked
            assert answer.headers["Location"] == targets[0]["href"], asked
            assert 'rel="linkset"' in answer.headers["Link"]
    # a link type asked for keeps the other parameters of the query
    answer = client.get(f"{dl}?linkType=gs1:traceability&lang=en", headers=CURL)
    assert answer.headers["Location"] == f"{ROOT}/page{dl}?lang=en#chain"


def test_specificLinkTypeNotFound_a_missing_link_type_is_404(client, dl):
    for asked in ("gs1:nosuchlt", "gs1:defaultLinkMulti", "https://example.com/rel"):
        assert client.get(f"{dl}?linkType={asked}", headers=CURL).status_code == 404, asked
    page = client.get(f"{dl}?linkType=gs1:nosuchlt&lang=en", headers={"Accept": "text/html"})
    assert page.status_code == 404 and "No such link" in page.get_data(as_text=True)


def test_a_browser_gets_the_default_link_in_place_with_the_linkset_link(client, dl):
    page = client.get(dl, headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert f'<{ROOT}{dl}?linkType=linkset>; rel="linkset"' in page.headers["Link"]
    followed = client.get(f"/page{dl}", headers=CURL)
    assert followed.status_code == 200 and followed.mimetype == "text/html"
    assert 'data-verdict="genuine"' in followed.get_data(as_text=True)


def test_a_gtin_only_code_gets_the_product_page(client, chain):
    page = client.get(f"/01/{chain.box_gtin}", headers={"Accept": "text/html"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "产品已登记" in html and "长白山人参礼盒" in html and 'data-verdict="product"' in html
    english = client.get(f"/01/{chain.box_gtin}?lang=en", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "Product registered" in english
    facts = client.get(f"/01/{chain.box_gtin}", headers={"Accept": "application/json"}).json
    assert facts["product"]["gtin"] == chain.box_gtin and facts["authenticity"]["verdict"] == "product"


@pytest.mark.parametrize("lang, words", [("zh", ("物流单元码不对公众开放", "位置码不对公众开放", "状态码")),
                                         ("en", ("Logistic unit codes are not public", "Location codes are not public",
                                                 "Status"))])
def test_sscc_and_gln_get_a_clear_404_page_in_the_users_language(client, lang, words):
    html = {"Accept": "text/html"}
    body = "0" + "6991234" + "000000001"
    sscc = body + factories.check_digit(body)
    gln = factories.gln()
    first = client.get(f"/00/{sscc}?lang={lang}", headers=html)
    assert first.status_code == 404 and words[0] in first.get_data(as_text=True)
    second = client.get(f"/414/{gln}?lang={lang}", headers=html)
    assert second.status_code == 404 and words[1] in second.get_data(as_text=True)
    assert words[2] in second.get_data(as_text=True) and "HTTP" not in second.get_data(as_text=True)
    assert client.get(f"/00/{factories.bad_check_digit(sscc)}", headers=html).status_code == 400
    assert client.get(f"/414/{gln}/254/KL8G", headers=CURL).status_code == 404
