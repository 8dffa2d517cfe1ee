"""The golden files' helpers replace only what is volatile, and read a page as a person sees it."""

from app.web.resolver import origin_regions
from tests.golden.golden import normalise, visible_text


def test_normalise_names_volatile_values_and_keeps_the_rest():
    answer = {"created_at": "2026-12-04T08:48:08Z", "opened_by": None, "title": "RC-20261204-7E65E46F",
              "events": [{"event_id": "urn:uuid:0b6a4f4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"},
                         {"event_id": "urn:uuid:7a1c0d5e-0000-4000-8000-000000000035"},
                         {"event_id": "urn:uuid:0b6a4f4e-1c2d-4e5f-8a9b-0c1d2e3f4a5b", "quantity": 28600},
                         {"event_id": "urn:uuid:99999999-1c2d-4e5f-8a9b-0c1d2e3f4a5b", "eid": "4:abc"}],
              "node": "4:0f0e0d0c-0b0a-0908-0706-050403020100:17", "date": "2026-10-05"}
    assert normalise(answer) == {
        "created_at": "<created_at>", "opened_by": None, "title": "<recall-id>",
        "events": [{"event_id": "<uuid-1>"}, {"event_id": "urn:uuid:7a1c0d5e-0000-4000-8000-000000000035"},
                   {"event_id": "<uuid-1>", "quantity": 28600}, {"event_id": "<uuid-2>", "eid": "<eid>"}],
        "node": "<element-id>", "date": "2026-10-05"}


def test_visible_text_is_the_main_content_a_line_per_block():
    html = """<html><head><title>x</title><script>var a = 1;</script></head><body><header>brand</header>
    <main><section><h1>正品</h1><p>此单品码 <strong>已登记</strong>，
       验证通过。</p><svg><text>icon</text></svg>
    <table><tr><th>项目</th><th>结果</th></tr><tr><td>镉 Cd</td><td>0.26</td></tr></table>
    <p>a &amp; b</p></section></main><footer>12315</footer></body></html>"""
    assert visible_text(html) == "正品\n此单品码 已登记， 验证通过。\n项目 | 结果\n镉 Cd | 0.26\na & b\n"


def test_origin_regions_are_each_named_once_in_the_pages_language():
    farms = [{"region_zh": "吉林省通化市梅河口市", "region_en": "Meihekou, Tonghua"},
             {"region_zh": "吉林省吉林市舒兰市", "region_en": "Shulan, Jilin City"},
             {"region_zh": "吉林省通化市梅河口市", "region_en": "Meihekou, Tonghua"}, {"region_zh": "抚松县"}, {}]
    assert origin_regions(farms, "zh") == "吉林省通化市梅河口市、吉林省吉林市舒兰市、抚松县"
    assert origin_regions(farms, "en") == "Meihekou, Tonghua; Shulan, Jilin City; 抚松县"
