"""Render a 承诺达标合格证 (commitment certificate of an edible farm product) to PDF and PNG bytes.

One A6 page (105 x 148 mm): the fields the 2025 measures list (product, quantity, origin, producer and contact,
issue date), the three commitments ticked, the basis ticked with its report or record, the inputs' certificates of
a mixed lot, and the lot's Digital Link QR code. One layout pass in mm, painted by Pillow and by fpdf2, like the
product labels (labels/render.py), whose text measuring, QR building and painting it shares.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import date

from fpdf import FPDF
from PIL import Image, ImageDraw

from labels.errors import InvalidLabelData
from labels.fonts import FontFile, find_cjk_font
from labels.render import _LINE, _PT_MM, _Box, _fit, _metrics, _pack_rows, _paint, _Qr, _Text, pdf_qr, qr_matrix

WIDTH, HEIGHT = 105.0, 148.0
MARGIN = 6.0
QR_SIDE = 30.0  # quiet zone included: a ~41-module code at 0.73 mm a module, easy for any phone

TITLE = "承诺达标合格证"
SUBTITLE = "Commitment certificate of conformity"
# The commitments are fixed words, not the producer's: every certificate makes the same three.
COMMITMENTS = (
    "不使用禁用农药兽药、停用兽药和非法添加物",
    "常规农药兽药残留不超标",
    "对承诺的真实性负责",
)
BASES = {
    "commissioned_test": "委托检测",
    "self_test": "自我检测",
    "quality_control": "内部质量控制",
}
TICK, EMPTY = "■", "□"  # filled and empty boxes: in every CJK font (☑ is not)


@dataclass
class CertificateData:
    """Everything one certificate shows; ``uri`` is exactly what its QR encodes (the lot's Digital Link)."""

    number: str
    product_name: str
    quantity: str  # with its unit, as people write it ("500 公斤")
    origin: str
    producer_name: str
    producer_contact: str
    issued_on: date
    basis: str  # a key of BASES
    uri: str
    lot: str = ""
    basis_detail: str = ""  # the report (number, lab, date) of a test, or the self-test record
    inputs: list[str] = field(default_factory=list)  # certificate numbers of a mixed lot's inputs


def _wrap(m, text: str, max_w: float, pt: float) -> list[str]:
    """Break ``text`` into lines no wider than ``max_w`` mm (at spaces where possible, else anywhere: Chinese)."""
    lines: list[str] = []
    rest = text
    while rest:
        # The longest prefix that fits, by bisection (a prefix's width grows with its length).
        low, high = 1, len(rest)
        while low < high:
            mid = (low + high + 1) // 2
            if m.width(rest[:mid], pt) <= max_w:
                low = mid
            else:
                high = mid - 1
        cut = low
        if cut < len(rest):
            space = rest.rfind(" ", 0, cut + 1)
            if space > 0:
                cut = space
        lines.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return lines


def layout(cert: CertificateData, font: FontFile | None = None) -> list:
    """Return the certificate's drawing operations in mm on its A6 page.

    Args:
        cert: what to print.
        font: CJK font to measure with; found with :func:`labels.fonts.find_cjk_font` if omitted.

    Raises:
        InvalidLabelData: an unknown basis, an empty number, or a URI too long for a QR code.
        FontMissing: if no CJK font is installed.
    """
    if cert.basis not in BASES:
        raise InvalidLabelData(f"unknown basis {cert.basis!r}; allowed: {', '.join(BASES)}")
    if not cert.number:
        raise InvalidLabelData("a certificate needs its number")
    font = font or find_cjk_font()
    m = _metrics(font)
    inner = WIDTH - 2 * MARGIN
    ops: list = [_Box(MARGIN / 2, MARGIN / 2, WIDTH - MARGIN, HEIGHT - MARGIN, 1.5, 0.4)]

    def centred(text: str, y: float, pt: float) -> None:
        text, pt = _fit(m, text, inner, pt, 5.0)
        ops.append(_Text((WIDTH - m.width(text, pt)) / 2, y, pt, text))

    def line(text: str, y: float, pt: float, x: float = MARGIN, width: float = inner) -> float:
        for part in _wrap(m, text, width - (x - MARGIN), pt):
            ops.append(_Text(x, y + m.ascent * pt * _PT_MM, pt, part))
            y += pt * _PT_MM * _LINE
        return y

    centred(TITLE, MARGIN + 8.5, 18.0)
    centred(SUBTITLE, MARGIN + 13.0, 6.5)
    y = line(f"编号 No. {cert.number}", MARGIN + 16.0, 8.0)
    y += 1.0
    body = 9.0
    rows = [
        ("产品名称", cert.product_name),
        ("数量（重量）", cert.quantity),
        ("产地", cert.origin),
        ("生产者", cert.producer_name),
        ("联系方式", cert.producer_contact),
        ("开具日期", cert.issued_on.isoformat()),
    ]
    if cert.lot:
        rows.append(("批号", cert.lot))
    label_w = max(m.width(k, body) for k, _ in rows) + 2.5
    for key, value in rows:
        ops.append(_Text(MARGIN, y + m.ascent * body * _PT_MM, body, key))
        y = line(value or "—", y, body, MARGIN + label_w)
        y += 0.6
    y += 1.5
    y = line("我承诺对产品质量安全以及合格证真实性负责：", y, 8.5)
    for words in COMMITMENTS:
        y = line(f"{TICK} {words}", y, 8.5, MARGIN + 2.0)
    y += 1.5
    y = line("承诺依据：" + "  ".join(f"{TICK if k == cert.basis else EMPTY} {v}" for k, v in BASES.items()),
             y, 8.0)
    if cert.basis_detail:
        y = line(cert.basis_detail, y, 7.5, MARGIN + 2.0)
    if cert.inputs:
        y = line("原料合格证：" + "、".join(cert.inputs), y + 0.8, 7.5)

    # The QR takes the bottom right corner; the signature line and the scan hint sit beside it.
    qr_top = HEIGHT - MARGIN - QR_SIDE
    if y > qr_top - 1.0:
        raise InvalidLabelData("the certificate's text does not fit its page (too many inputs or a long record)")
    ops.append(_Qr(WIDTH - MARGIN - QR_SIDE, qr_top, QR_SIDE, qr_matrix(cert.uri)))
    side_w = inner - QR_SIDE - 2.0
    line("扫码查看产品追溯信息", qr_top + 4.0, 7.5, MARGIN, side_w + MARGIN)
    ops.append(_Text(MARGIN, HEIGHT - MARGIN - 9.0, 8.5, "生产者盖章或签名："))
    ops.append(_Box(MARGIN, HEIGHT - MARGIN - 2.0, side_w, 0.0, 0.0, 0.2))
    return ops


def render_certificate_png(cert: CertificateData, dpi: int = 300) -> bytes:
    """Render the certificate as a grayscale PNG of its physical size at ``dpi``.

    Args:
        cert: what to print.
        dpi: resolution, 72-1200.

    Raises:
        InvalidLabelData: see :func:`layout`, or the dpi is out of range.
        FontMissing: if no CJK font is installed.
    """
    if not 72 <= dpi <= 1200:
        raise InvalidLabelData(f"dpi must be between 72 and 1200, got {dpi}")
    font = find_cjk_font()
    ops = layout(cert, font)
    px = dpi / 25.4
    img = Image.new("L", (round(WIDTH * px), round(HEIGHT * px)), 255)
    draw = ImageDraw.Draw(img)
    _paint(draw, [op for op in ops if not isinstance(op, _Qr)], px, dpi, font)
    for op in ops:
        if isinstance(op, _Qr):
            n = len(op.matrix)
            module = max(1, int(op.side * px) // n)  # whole pixels a module: sharp edges scan best
            small = Image.frombytes("1", (n, n), _pack_rows(op.matrix))
            img.paste(small.resize((n * module, n * module), Image.NEAREST), (round(op.x * px), round(op.y * px)))
    buf = io.BytesIO()
    img.save(buf, "PNG", dpi=(dpi, dpi), compress_level=1)
    return buf.getvalue()


def render_certificate_pdf(cert: CertificateData) -> bytes:
    """Render the certificate as a one-page A6 PDF with the CJK font embedded and the QR as vector squares.

    Args:
        cert: what to print.

    Raises:
        InvalidLabelData: see :func:`layout`.
        FontMissing: if no CJK font is installed.
    """
    font = find_cjk_font()
    ops = layout(cert, font)
    pdf = FPDF(unit="mm", format=(WIDTH, HEIGHT))
    pdf.set_auto_page_break(False)
    pdf.set_margin(0)
    pdf.set_creator("TraceGraph certificates")
    pdf.set_title(f"{TITLE} {cert.number}")
    pdf.add_font("cjk", fname=font.path, collection_font_number=font.index)
    pdf.set_font("cjk", size=9)
    pdf.set_draw_color(0)
    pdf.set_fill_color(0)
    pdf.add_page()
    for op in ops:
        if isinstance(op, _Qr):
            pdf_qr(pdf, op)
        elif isinstance(op, _Text):
            pdf.set_font_size(op.pt)
            pdf.text(op.x, op.y, op.text)
        elif isinstance(op, _Box):
            pdf.set_line_width(op.line)
            if op.h == 0:
                pdf.line(op.x, op.y, op.x + op.w, op.y)
            else:
                pdf.rect(op.x, op.y, op.w, op.h, style="D", round_corners=True, corner_radius=op.r)
    return bytes(pdf.output())
