import io
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest
import zxingcpp
from PIL import Image

from labels.errors import InvalidLabelData
from labels.fonts import find_cjk_font
from labels.render import (
    QUIET_ZONE,
    SIZES,
    _Qr,
    _Text,
    layout,
    qr_matrix,
    render_pdf_sheet,
    render_png,
    render_svg,
    sheet_grid,
)
from tests.labels.cases import GINSENG_GTIN, make_label, sample_labels

LABELS = sample_labels()


def _decode(img: Image.Image) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(img, formats=zxingcpp.BarcodeFormat.QRCode)]


@pytest.mark.parametrize("size", sorted(SIZES))
@pytest.mark.parametrize("label", LABELS, ids=lambda lb: lb.lot)
def test_png_qr_decodes_to_the_exact_uri(label, size):
    img = Image.open(io.BytesIO(render_png(label, size)))
    assert _decode(img) == [label.uri]


@pytest.mark.parametrize("dpi", [203, 300, 600])
def test_png_has_the_physical_size_at_its_dpi(dpi):
    img = Image.open(io.BytesIO(render_png(LABELS[0], "50x30", dpi=dpi)))
    assert img.size == (round(50 / 25.4 * dpi), round(30 / 25.4 * dpi))
    assert round(img.info["dpi"][0]) == dpi
    assert _decode(img) == [LABELS[0].uri]


def test_png_keeps_a_white_quiet_zone_of_four_modules_around_the_qr():
    dpi = 300
    label = LABELS[0]
    img = Image.open(io.BytesIO(render_png(label, "50x30", dpi=dpi))).convert("L")
    qr = next(op for op in layout(label, "50x30") if isinstance(op, _Qr))
    px = dpi / 25.4
    n = len(qr.matrix)
    module = int(qr.side * px) // n
    x0, y0 = round(qr.x * px), round(qr.y * px)
    zone = QUIET_ZONE * module
    side = n * module
    for box in [
        (x0, y0, x0 + side, y0 + zone),
        (x0, y0 + side - zone, x0 + side, y0 + side),
        (x0, y0, x0 + zone, y0 + side),
        (x0 + side - zone, y0, x0 + side, y0 + side),
    ]:
        assert img.crop(box).getextrema() == (255, 255)
    # and the symbol itself starts right inside it
    assert img.crop((x0 + zone, y0 + zone, x0 + zone + module, y0 + zone + module)).getextrema() == (0, 0)


def test_unknown_size_names_the_allowed_ones():
    with pytest.raises(ValueError, match="40x30, 50x30, 100x70"):
        render_png(LABELS[0], "60x40")
    with pytest.raises(InvalidLabelData):
        render_svg(LABELS[0], "A4")


def test_unknown_badge_is_refused():
    label = make_label(GINSENG_GTIN, "L1", badges=("halal",))
    with pytest.raises(InvalidLabelData, match="green_food"):
        render_png(label)


def test_label_shows_every_field_and_the_font_has_every_glyph():
    from fontTools.ttLib import TTFont

    label = LABELS[0]
    texts = [op.text for op in layout(label, "100x70") if isinstance(op, _Text)]
    joined = "\n".join(texts)
    for expected in (
        label.name_zh,
        label.name_en,
        label.lot,
        "2024-09-01",
        "2026-08-31",
        label.origin,
        "绿色食品",
        "有机",
        "地理标志",
        "GAP",
    ):
        # names may wrap onto two lines, so compare without the line breaks and spaces
        assert expected.replace(" ", "") in "".join(texts).replace(" ", "")
    assert "".join(t for t in texts if t.startswith("(")) == label.element_string
    font = find_cjk_font()
    with TTFont(font.path, fontNumber=font.index, lazy=True) as tt:
        cmap = tt.getBestCmap()
    missing = {ch for ch in joined if not ch.isspace() and ord(ch) not in cmap}
    assert not missing, f"would print as tofu: {missing}"


def test_long_names_are_fitted_not_overflowing():
    label = make_label(GINSENG_GTIN, "L1", name_zh="长白山人参" * 6, name_en="Changbai Mountain Ginseng " * 5)
    for size, spec in SIZES.items():
        try:
            img = Image.open(io.BytesIO(render_png(label, size)))
        except InvalidLabelData:
            assert size == "40x30"  # 30 Chinese characters of name do not fit it at 1.8 mm: refused, never cut
            continue
        assert _decode(img) == [label.uri]
        for op in layout(label, size):
            if isinstance(op, _Text):
                assert op.x >= 0 and op.y <= spec.height


# ---------------------------------------------------------------- SVG


def _svg_qr_to_image(svg: bytes, px_per_module: int = 6) -> tuple[Image.Image, list[list[bool]]]:
    """Rasterise our own SVG's QR path back into pixels (the path is the only dark geometry)."""
    root = ET.fromstring(svg)
    ns = {"svg": "http://www.w3.org/2000/svg"}
    path = root.find("svg:path[@class='qr']", ns)
    n = int(path.get("data-modules"))
    matrix = [[False] * n for _ in range(n)]
    for x, y, w in re.findall(r"M(\d+) (\d+)h(\d+)v1h-\3z", path.get("d")):
        for c in range(int(x), int(x) + int(w)):
            matrix[int(y)][c] = True
    raw = bytes(0 if v else 255 for row in matrix for v in row)
    img = Image.frombytes("L", (n, n), raw).resize((n * px_per_module, n * px_per_module), Image.NEAREST)
    return img, matrix


@pytest.mark.parametrize("label", LABELS, ids=lambda lb: lb.lot)
def test_svg_qr_decodes_to_the_exact_uri(label):
    svg = render_svg(label)
    img, matrix = _svg_qr_to_image(svg)
    assert [tuple(r) for r in matrix] == [tuple(r) for r in qr_matrix(label.uri)]
    assert _decode(img) == [label.uri]


def test_svg_is_well_formed_and_sized_in_mm_with_escaped_text():
    label = make_label(GINSENG_GTIN, "L&1=2?3", name_en="Ginseng <premium> & co")
    root = ET.fromstring(render_svg(label, "100x70"))
    assert root.get("width") == "100mm" and root.get("height") == "70mm"
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert any("Ginseng <premium> & co" in t for t in texts)
    assert any("L&1=2?3" in t for t in texts)


# ---------------------------------------------------------------- PDF


def _pdf_pages(pdf: bytes, tmp_path, dpi: int = 300) -> list[Image.Image]:
    if not shutil.which("pdftoppm"):
        pytest.skip("pdftoppm missing: install Debian package poppler-utils (make setup does)")
    src = tmp_path / "sheet.pdf"
    src.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-png", str(src), str(tmp_path / "page")], check=True)
    return [Image.open(p) for p in sorted(tmp_path.glob("page-*.png"))]


@pytest.mark.slow  # renders and decodes a whole sheet
def test_pdf_sheet_every_qr_decodes_to_its_uri(tmp_path):
    cols, rows = sheet_grid("50x30")
    labels = (LABELS * 5)[: cols * rows + 4]  # a full page and a few on the second
    pages = _pdf_pages(render_pdf_sheet(labels), tmp_path)
    assert len(pages) == 2
    decoded = sorted(text for page in pages for text in _decode(page))
    assert decoded == sorted(lb.uri for lb in labels)


@pytest.mark.slow  # renders a whole sheet per size
@pytest.mark.parametrize("size", sorted(SIZES))
def test_pdf_sheet_works_for_every_size(size, tmp_path):
    pages = _pdf_pages(render_pdf_sheet(LABELS[:3], size), tmp_path)
    assert sorted(t for p in pages for t in _decode(p)) == sorted(lb.uri for lb in LABELS[:3])


def test_pdf_sheet_embeds_the_cjk_font_and_lays_out_36_labels_a_page():
    pdf = render_pdf_sheet(LABELS[:1])
    assert b"/FontFile2" in pdf
    assert sheet_grid("50x30") == (4, 9)


def test_empty_sheet_is_refused():
    with pytest.raises(InvalidLabelData):
        render_pdf_sheet([])
