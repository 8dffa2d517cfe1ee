"""gs1/linkset.py and app/web/resolver_links.py: link types as asked for, linksets as GS1's schema wants them, the
query a redirect passes on (pure; no database)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from app.web import resolver_links as links
from gs1 import linkset
from gs1.digital_link import parse_path

SCHEMA = json.loads((Path(__file__).parent / "schemas" / "gs1-linkset-schema.json").read_text("utf-8"))
ROOT = "https://trace.example.cn"
INFO = {"product": {"name_zh": "长白山人参礼盒", "name_en": "Ginseng gift box"}, "lot_known": True,
        "item_known": False}


@pytest.mark.parametrize("asked, name", [
    ("gs1:pip", "pip"), ("https://ref.gs1.org/voc/pip", "pip"), ("https://gs1.org/voc/traceability", "traceability"),
    ("http://gs1.org/voc/recallStatus", "recallStatus"), ("https://www.gs1.org/voc/epcis", "epcis"),
    ("gs1:", None), ("pip", None), ("https://example.com/voc/pip", None), ("gs1:pip/../x", None), (None, None),
])
def test_link_types_are_read_in_every_gs1_spelling(asked, name):
    assert linkset.link_type(asked) == name


def test_a_code_has_every_required_link_type_and_its_linkset_validates():
    code = parse_path("/01/09506000134352/10/A%2FB/21/S1")
    body = links.linkset_of(code, ROOT, INFO)
    assert list(jsonschema.Draft7Validator(SCHEMA).iter_errors(body)) == []
    entry = body["linkset"][0]
    assert entry["anchor"] == ROOT + "/01/09506000134352/10/A%2FB/21/S1"
    for name in ("defaultLink", "pip", "traceability", "recallStatus", "certificationInfo", "epcis"):
        assert len(entry["https://ref.gs1.org/voc/" + name]) == 1, name
    assert entry["https://ref.gs1.org/voc/defaultLink"] == [
        {"href": ROOT + "/page/01/09506000134352/10/A%2FB/21/S1", "title": "产品追溯 Product trace"}]
    assert "未登记 not registered" in entry["itemDescription"] and "S1" in entry["itemDescription"]


@pytest.mark.parametrize("query, kept", [
    ("linkType=gs1:pip", ""), ("linkType=gs1:pip&lang=en", "lang=en"), ("17=281007&linkType=x&foo=bar",
                                                                           "17=281007&foo=bar"),
    ("link%54ype=gs1:pip&a=1", "a=1"), ("", ""),
])
def test_a_redirect_passes_on_the_query_except_linkType(query, kept):
    assert links.passed_on(query) == kept


def test_the_query_goes_before_a_fragment():
    assert links.with_query("https://x/p#chain", "lang=en") == "https://x/p?lang=en#chain"
    assert links.with_query("https://x/p?a=1", "b=2") == "https://x/p?a=1&b=2"
    assert links.with_query("https://x/p", "") == "https://x/p"


def test_the_link_header_names_the_linkset_and_the_context():
    assert linkset.linkset_link_header(ROOT + "/01/1") == (
        f'<{ROOT}/01/1?linkType=linkset>; rel="linkset"; type="application/linkset+json"')
    assert 'rel="http://www.w3.org/ns/json-ld#context"' in linkset.context_link_header()
