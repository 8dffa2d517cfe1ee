"""What a packer needs from a label: no text under 1.8 mm character height, nothing cut off, safe margins, the lot's
dates, and a one-label PDF the size of the label; every code still decodes (zxing-cpp).

Character heights are measured independently of labels/render.py: from the font file's own glyph outlines
(fontTools), not from Pillow's metrics that the layout uses.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess

import pytest
import zxingcpp
from fontTools.ttLib import TTFont
from PIL import Image

from labels.errors import InvalidLabelData
from labels.fonts import find_cjk_font
from labels.render import SIZES, _Qr, _Text, layout, render_pdf, render_png
from tests.labels.cases import GINSENG_GTIN, RICE_GTIN, make_label, sample_labels

PT_MM = 25.4 / 72
LABELS = sample_labels()
LONG_ORIGIN = "吉林省白山市抚松县万良镇、吉林省通化市集安市清河镇"


def _ink_height_em(char: str) -> float:
    """The height of a glyph's outline as a fraction of the em, read from the font file."""
    font = find_cjk_font()
    with TTFont(font.path, fontNumber=font.index, lazy=False) as tt:
        name = tt.getBestCmap()[ord(char)]
        glyph = tt["glyf"][name]
        glyph.recalcBounds(tt["glyf"])
        return (glyph.yMax - glyph.yMin) / tt["head"].unitsPerEm


CJK_EM = _ink_height_em("国")


def _texts(label, size) -> list[_Text]:
    return [op for op in layout(label, size) if isinstance(op, _Text)]


def _fits(label, size) -> bool:
    try:
        layout(label, size)
    except InvalidLabelData:
        return False
    return True


CASES = [(lb, size) for size in sorted(SIZES) for lb in
         LABELS + [make_label(RICE_GTIN, "L-ORIGIN", origin=LONG_ORIGIN, serial=False)]]


@pytest.mark.parametrize("label, size", [c for c in CASES if _fits(*c)],
                         ids=lambda v: v if isinstance(v, str) else v.lot)
def test_no_text_is_under_1_8_mm_and_nothing_is_cut(label, size):
    texts = _texts(label, size)
    for t in texts:
        assert t.pt * PT_MM * CJK_EM >= 1.8 - 1e-9, (t.text, t.pt)
        assert "…" not in t.text
    joined = "".join(t.text for t in texts).replace(" ", "")
    for whole in (label.name_zh, label.lot, label.origin, label.production_date.isoformat(),
                  label.expiry_date.isoformat()):
        assert whole.replace(" ", "") in joined, whole
    assert "生产日期" in joined and "有效期至" in joined
    assert "".join(t.text for t in texts if t.varies) == label.element_string


@pytest.mark.parametrize("size", sorted(SIZES))
def test_everything_stays_inside_the_safe_margin(size):
    spec = SIZES[size]
    margin = 1.5 if size != "100x70" else 3.0
    font = find_cjk_font()
    from PIL import ImageFont
    for label in [lb for lb in LABELS if _fits(lb, size)]:
        for op in layout(label, size, font):
            if isinstance(op, _Qr):
                assert op.x >= margin and op.y >= margin
                assert op.x + op.side <= spec.width - margin and op.y + op.side <= spec.height - margin
            elif isinstance(op, _Text):
                face = ImageFont.truetype(font.path, 400, index=font.index)
                width = face.getlength(op.text) / 400 * op.pt * PT_MM
                assert op.x >= margin - 1e-9
                assert op.x + width <= spec.width - margin + 0.05, (size, op.text)
                assert op.y <= spec.height - margin + 1e-9


def test_a_long_origin_wraps_instead_of_being_cut():
    label = make_label(RICE_GTIN, "L-ORIGIN", origin=LONG_ORIGIN, serial=False)
    rows = [t.text for t in _texts(label, "100x70")]
    start = next(i for i, r in enumerate(rows) if r.startswith("产地"))
    assert "".join(rows[start:]).replace(" ", "").startswith("产地" + LONG_ORIGIN)
    assert len([r for r in rows[start:] if not r.startswith("(")]) >= 2  # it took more than one line


def test_text_that_cannot_fit_at_1_8_mm_is_refused_not_shrunk():
    label = make_label(GINSENG_GTIN, "L1", name_zh="长白山人参" * 6, origin=LONG_ORIGIN)
    with pytest.raises(InvalidLabelData, match="1.8 mm"):
        layout(label, "40x30")
    assert _fits(label, "100x70")


def _pdf_to_png(pdf: bytes, tmp_path) -> Image.Image:
    if not shutil.which("pdftoppm"):
        pytest.skip("pdftoppm missing: install Debian package poppler-utils (make setup does)")
    src = tmp_path / "label.pdf"
    src.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "600", "-gray", "-png", str(src), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == 1
    return Image.open(pages[0])


@pytest.mark.parametrize("size", sorted(SIZES))
def test_single_label_pdf_is_one_page_the_size_of_the_label(size, tmp_path):
    spec = SIZES[size]
    label = LABELS[1]
    pdf = render_pdf(label, size)
    box = re.search(rb"/MediaBox\s*\[\s*0(?:\.0+)?\s+0(?:\.0+)?\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)
    assert box, "no MediaBox"
    assert abs(float(box.group(1)) - spec.width / PT_MM) < 0.05
    assert abs(float(box.group(2)) - spec.height / PT_MM) < 0.05
    assert b"/FontFile2" in pdf
    img = _pdf_to_png(pdf, tmp_path)
    found = [r.text for r in zxingcpp.read_barcodes(img, formats=zxingcpp.BarcodeFormat.QRCode)]
    assert found == [label.uri]


@pytest.mark.parametrize("size", sorted(SIZES))
def test_png_labels_still_decode_at_203_dpi(size):
    for label in [lb for lb in LABELS if _fits(lb, size)]:
        img = Image.open(io.BytesIO(render_png(label, size, dpi=203)))
        found = [r.text for r in zxingcpp.read_barcodes(img, formats=zxingcpp.BarcodeFormat.QRCode)]
        assert found == [label.uri], (size, label.lot)
