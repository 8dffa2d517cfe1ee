"""Label sheets for people at a printer: a header line (run, lot, count, date) and a start position on a partly
used sheet; without either the sheet is what it always was."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import zxingcpp
from PIL import Image

from labels.errors import InvalidLabelData
from labels.render import A4, SIZES, render_pdf_sheet, sheet_grid, sheet_header_ops, sheet_slots
from tests.labels.cases import sample_labels

LABELS = sample_labels()
DPI = 200


def _pages(pdf: bytes, tmp_path) -> list[Image.Image]:
    if not shutil.which("pdftoppm"):
        pytest.skip("pdftoppm missing: install Debian package poppler-utils (make setup does)")
    (tmp_path / "sheet.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", str(DPI), "-gray", "-png", str(tmp_path / "sheet.pdf"), str(tmp_path / "p")],
                   check=True)
    return [Image.open(p) for p in sorted(tmp_path.glob("p-*.png"))]


def _text(pdf: bytes, tmp_path) -> str:
    if not shutil.which("pdftotext"):
        pytest.skip("pdftotext missing: install Debian package poppler-utils (make setup does)")
    (tmp_path / "sheet.pdf").write_bytes(pdf)
    return subprocess.run(["pdftotext", "-layout", str(tmp_path / "sheet.pdf"), "-"], check=True,
                          capture_output=True, text=True).stdout


def _cells(page: Image.Image, size: str) -> dict[str, int]:
    """Each decoded QR's URI -> the grid cell (row * columns + column) its centre lies in, counted independently
    from the page geometry (A4, the grid centred)."""
    spec = SIZES[size]
    cols, rows = sheet_grid(size)
    ox, oy = (A4[0] - cols * spec.width) / 2, (A4[1] - rows * spec.height) / 2
    px = DPI / 25.4
    out = {}
    for r in zxingcpp.read_barcodes(page, formats=zxingcpp.BarcodeFormat.QRCode):
        p = r.position
        cx = (p.top_left.x + p.bottom_right.x) / 2 / px
        cy = (p.top_left.y + p.bottom_right.y) / 2 / px
        out[r.text] = int((cy - oy) // spec.height) * cols + int((cx - ox) // spec.width)
    return out


def test_slots_fill_the_grid_from_the_start_position_and_run_onto_a_new_page():
    cols, rows = sheet_grid("50x30")
    first = sheet_slots(1, "50x30")[0]
    assert first[0] == 0
    slots = sheet_slots(4, "50x30", skip=cols + 1)  # second row, second cell
    assert slots[0] == (0, first[1] + 50, first[2] + 30)
    last = sheet_slots(3, "50x30", skip=cols * rows - 1)
    assert [s[0] for s in last] == [0, 1, 1]
    assert last[1][1:] == first[1:]  # the next page starts at its first cell


@pytest.mark.parametrize("skip", [-1, 36, 100])
def test_a_start_position_outside_the_page_is_refused(skip):
    with pytest.raises(InvalidLabelData, match="start position"):
        sheet_slots(2, "50x30", skip)
    with pytest.raises(InvalidLabelData):
        render_pdf_sheet(LABELS[:1], "50x30", skip=skip)


def test_the_header_sits_above_the_grid_inside_the_page_at_every_size():
    for size, spec in SIZES.items():
        cols, rows = sheet_grid(size)
        top = (A4[1] - rows * spec.height) / 2
        (op,) = sheet_header_ops("印刷批次 R · 批号 L · 10 枚 · 2026-03-01", size, 0, 1)
        assert 0 < op.y < top and op.x >= 0
        many = sheet_header_ops("R" * 400, size, 1, 3)[0]
        assert many.text.endswith("…")  # cut to the grid's width, never off the page
        assert sheet_header_ops("H", size, 1, 3)[0].text == "H · 2/3"


def test_the_header_is_printed_on_every_page_and_only_when_asked(tmp_path):
    header = "印刷批次 run-7 · 批号 L1 · 40 枚 · 2026-03-01"
    with_header = _text(render_pdf_sheet((LABELS * 6)[:40], "50x30", header=header), tmp_path)
    assert with_header.count("run-7") == 2 and "1/2" in with_header and "2/2" in with_header
    assert "印刷批次" in with_header
    without = _text(render_pdf_sheet(LABELS[:2], "50x30"), tmp_path)
    assert "印刷批次" not in without


@pytest.mark.slow  # rasterises and decodes a page
def test_the_start_position_leaves_the_first_cells_empty(tmp_path):
    labels = LABELS[:3]
    (page,) = _pages(render_pdf_sheet(labels, "50x30", skip=5), tmp_path)
    assert _cells(page, "50x30") == {lb.uri: 5 + i for i, lb in enumerate(labels)}
    (tmp_path / "plain").mkdir()
    (page,) = _pages(render_pdf_sheet(labels, "50x30"), tmp_path / "plain")
    assert _cells(page, "50x30") == {lb.uri: i for i, lb in enumerate(labels)}
