"""The printed 承诺达标合格证: every field and commitment on the page in glyphs the font has, the chosen basis
ticked, the QR decoding to the lot's Digital Link in PNG and PDF, and what cannot be printed refused."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import date

import pytest
import zxingcpp
from PIL import Image

from labels.certificate import (
    BASES,
    COMMITMENTS,
    EMPTY,
    HEIGHT,
    TICK,
    WIDTH,
    CertificateData,
    layout,
    render_certificate_pdf,
    render_certificate_png,
)
from labels.errors import InvalidLabelData
from labels.fonts import find_cjk_font
from labels.render import _Qr, _Text
from tests.labels.cases import GINSENG_GTIN, make_label
from tests.labels.test_sheet import _pages, _text

CERT = CertificateData(
    number="HGZ-20260301-0001", product_name="长白山人参", quantity="500 公斤", origin="吉林省抚松县",
    producer_name="抚松县参业合作社", producer_contact="13800000000", issued_on=date(2026, 3, 1),
    basis="commissioned_test", uri=make_label(GINSENG_GTIN, "L1", serial=False).uri, lot="L1",
    basis_detail="检测报告 JL-2026-0042 · 吉林省农产品质量检测中心 · 2026-02-27", inputs=["HGZ-20260220-0003"])


def _texts(cert: CertificateData) -> list[str]:
    return [op.text for op in layout(cert) if isinstance(op, _Text)]


def test_every_field_commitment_and_the_ticked_basis_are_printed_in_glyphs_the_font_has():
    from fontTools.ttLib import TTFont

    joined = "\n".join(_texts(CERT))
    for expected in ("承诺达标合格证", CERT.number, CERT.product_name, CERT.quantity, CERT.origin, CERT.producer_name,
                     CERT.producer_contact, "2026-03-01", CERT.lot, CERT.basis_detail, "HGZ-20260220-0003",
                     *COMMITMENTS):
        assert expected in joined
    assert f"{TICK} 委托检测" in joined and f"{EMPTY} 自我检测" in joined and f"{EMPTY} 内部质量控制" in joined
    self_test = "\n".join(_texts(replace(CERT, basis="self_test")))
    assert f"{TICK} 自我检测" in self_test and f"{EMPTY} 委托检测" in self_test
    font = find_cjk_font()
    with TTFont(font.path, fontNumber=font.index, lazy=True) as tt:
        cmap = tt.getBestCmap()
    assert not {ch for ch in joined if not ch.isspace() and ord(ch) not in cmap}


def test_everything_stays_on_the_page_and_clear_of_the_qr():
    ops = layout(CERT)
    (qr,) = [op for op in ops if isinstance(op, _Qr)]
    assert qr.x + qr.side <= WIDTH and qr.y + qr.side <= HEIGHT
    for op in ops:
        if isinstance(op, _Text):
            assert 0 <= op.x < WIDTH and 0 < op.y <= HEIGHT
            assert op.y < qr.y or op.x < qr.x  # nothing printed over the code


def test_png_and_pdf_qr_decode_to_the_lots_digital_link(tmp_path):
    png = Image.open(io.BytesIO(render_certificate_png(CERT, 300)))
    assert png.size == (round(WIDTH / 25.4 * 300), round(HEIGHT / 25.4 * 300))
    assert [r.text for r in zxingcpp.read_barcodes(png)] == [CERT.uri]
    pdf = render_certificate_pdf(CERT)
    (page,) = _pages(pdf, tmp_path)
    assert [r.text for r in zxingcpp.read_barcodes(page)] == [CERT.uri]
    assert CERT.number in _text(pdf, tmp_path)


def test_what_cannot_be_printed_is_refused():
    with pytest.raises(InvalidLabelData, match=", ".join(BASES)):
        layout(replace(CERT, basis="guess"))
    with pytest.raises(InvalidLabelData):
        layout(replace(CERT, number=""))
    with pytest.raises(InvalidLabelData, match="does not fit"):
        layout(replace(CERT, inputs=[f"HGZ-20260220-{n:04d}" for n in range(200)]))
    with pytest.raises(InvalidLabelData):
        render_certificate_png(CERT, 20)
