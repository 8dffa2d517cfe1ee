"""Render product labels (QR + Chinese/English text + GS1 element string) to PNG, SVG and PDF bytes.

One layout pass turns a label into drawing operations in millimetres; three small back ends
(Pillow, SVG text, fpdf2) paint the same operations, so every format shows the same label.
"""

from __future__ import annotations

import functools
import io
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from xml.sax.saxutils import escape

import qrcode
from fpdf import FPDF
from PIL import Image, ImageDraw, ImageFont
from qrcode.constants import ERROR_CORRECT_M

from labels._qr import FastQRCode
from labels.errors import InvalidLabelData
from labels.fonts import FontFile, find_cjk_font

# Level M restores ~15% of damaged modules: enough for scuffs on a bag or a gift box, while
# Q/H would add a QR version (4 more modules a side) for a ~100-character URI and make the
# modules too small to scan reliably at the 20 mm print size.
ERROR_CORRECTION = ERROR_CORRECT_M
# ISO/IEC 18004 asks for a 4-module light margin; the label's white stock counts only if
# we reserve it, since die-cut edges and neighbouring labels can come right up to the code.
QUIET_ZONE = 4

BADGES = {"green_food": "绿色食品", "organic": "有机", "gi": "地理标志", "gap": "GAP"}

_PT_MM = 25.4 / 72
_LINE = 1.22  # line height as a multiple of the font size


@dataclass
class LabelData:
    """Everything one printed label shows; ``uri`` is exactly what the QR encodes."""

    uri: str
    element_string: str
    name_zh: str
    name_en: str
    lot: str
    production_date: date | None
    expiry_date: date | None
    origin: str
    badges: list[str] = field(default_factory=list)
    serial: str | None = None


@dataclass(frozen=True)
class _Spec:
    width: float
    height: float
    margin: float
    qr: float  # largest QR side, quiet zone included
    gap: float
    title_pt: float
    body_pt: float
    min_pt: float


# Sizes in mm. QR sides leave room for a 2-line element string below and a text column
# beside; all keep modules >= 0.35 mm for a ~41-module (version 6) code plus quiet zone.
# Margins keep text and code 1.5 mm inside a die-cut edge (cutting drifts up to about 1 mm on label stock). min_pt is
# a floor for the size's own look; every text is also kept at or above MIN_CHAR_MM (see min_pt below).
SIZES: dict[str, _Spec] = {
    "40x30": _Spec(40, 30, 1.5, 19.0, 0.8, 7.0, 6.0, 3.5),
    "50x30": _Spec(50, 30, 1.5, 21.0, 1.0, 8.0, 6.5, 3.5),
    "100x70": _Spec(100, 70, 3.0, 50.0, 2.5, 16.0, 10.0, 6.0),
}

# GB 7718 asks for mandatory label text at least 1.8 mm high. We measure the printed ink of a Chinese character (国)
# with the font that prints it, and never set text smaller than makes it 1.8 mm (digits and Latin share the size).
MIN_CHAR_MM = 1.8
# Smallest QR module we print (mm): below it, phone cameras at arm's length start to miss codes.
MIN_MODULE_MM = 0.30


@dataclass(frozen=True)
class _Text:
    x: float
    y: float  # baseline
    pt: float
    text: str
    varies: bool = False  # differs from label to label of a lot (the element string with its serial)


@dataclass(frozen=True)
class _Box:
    x: float
    y: float
    w: float
    h: float
    r: float
    line: float


@dataclass(frozen=True)
class _Qr:
    x: float
    y: float
    side: float
    matrix: tuple[tuple[bool, ...], ...]


def _spec(size: str) -> _Spec:
    try:
        return SIZES[size]
    except KeyError:
        raise InvalidLabelData(f"unknown label size {size!r}; allowed: {', '.join(SIZES)}") from None


def qr_matrix(data: str) -> tuple[tuple[bool, ...], ...]:
    """Return the QR module matrix for ``data``, quiet zone included (True = dark).

    Args:
        data: the text to encode, normally a Digital Link URI.

    Raises:
        InvalidLabelData: if ``data`` is empty or too long for a QR code at level M.
    """
    if not data:
        raise InvalidLabelData("QR data is empty")
    code = FastQRCode(error_correction=ERROR_CORRECTION, border=QUIET_ZONE, box_size=1)
    code.add_data(data)
    try:
        code.make(fit=True)
    except qrcode.exceptions.DataOverflowError as e:
        raise InvalidLabelData(f"{len(data)} characters do not fit in a QR code") from e
    return tuple(tuple(row) for row in code.get_matrix())


class _Metrics:
    """Text widths and ascent in mm from one reference-size font, shared by every back end."""

    _REF_PX = 200

    def __init__(self, font: FontFile):
        self._font = ImageFont.truetype(font.path, self._REF_PX, index=font.index)
        ascent, _ = self._font.getmetrics()
        self.ascent = ascent / self._REF_PX  # per unit of font size

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - one instance per font, kept for the process
    def _em_width(self, text: str) -> float:
        return self._font.getlength(text) / self._REF_PX

    def width(self, text: str, pt: float) -> float:
        return self._em_width(text) * pt * _PT_MM


@functools.lru_cache(maxsize=4)
def _metrics(font: FontFile) -> _Metrics:
    return _Metrics(font)


@functools.lru_cache(maxsize=64)
def _pil_font(font: FontFile, px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(font.path, px, index=font.index)


def _fit(m: _Metrics, text: str, max_w: float, pt: float, min_pt: float) -> tuple[str, float]:
    """Shrink to fit ``max_w`` mm down to ``min_pt``, then cut with an ellipsis."""
    w = m.width(text, pt)
    if w <= max_w:
        return text, pt
    pt = max(min_pt, pt * max_w / w * 0.999)
    if m.width(text, pt) <= max_w:
        return text, pt
    while len(text) > 1 and m.width(text + "…", pt) > max_w:
        text = text[:-1]
    return text + "…", pt


def _wrap_fit(m: _Metrics, text: str, max_w: float, pt: float, min_pt: float) -> tuple[list[str], float]:
    """Like :func:`_fit`, but a name that would shrink by more than a fifth breaks onto two lines first."""
    one, one_pt = _fit(m, text, max_w, pt, min_pt)
    if one == text and one_pt >= pt * 0.8:
        return [one], one_pt
    # Break at the last space that fits (Latin names) or anywhere (Chinese has no spaces).
    cut = len(text)
    while cut > 1 and m.width(text[:cut].rstrip(), pt) > max_w:
        cut -= 1
    space = text.rfind(" ", 0, cut + 1)
    if space > 0:
        cut = space
    first, rest = text[:cut].rstrip(), text[cut:].strip()
    if not rest:
        return [one], one_pt
    first, pt1 = _fit(m, first, max_w, pt, min_pt)
    rest, pt2 = _fit(m, rest, max_w, pt1, min_pt)
    return [first, rest], min(pt1, pt2)


@functools.lru_cache(maxsize=4)
def min_pt(font: FontFile) -> float:
    """Return the smallest font size (pt) at which ``font`` prints a Chinese character MIN_CHAR_MM tall.

    Args:
        font: the font the label is printed with.
    """
    face = ImageFont.truetype(font.path, 1000, index=font.index)
    top, bottom = face.getbbox("国")[1::2]
    # Rasterised at 1000 px the box may be a pixel off the outline: round up to the next 0.1 pt to stay above.
    return math.ceil(MIN_CHAR_MM / ((bottom - top) / 1000 * _PT_MM) * 10 + 0.5) / 10


def _wrap(m: _Metrics, text: str, max_w: float, pt: float) -> list[str]:
    """Break ``text`` into lines no wider than ``max_w`` mm at ``pt``: at spaces where it can, else between
    characters (Chinese has no spaces). Nothing is cut."""
    lines: list[str] = []
    rest = text.strip()
    while rest:
        if m.width(rest, pt) <= max_w:
            lines.append(rest)
            break
        cut = 1
        while cut < len(rest) and m.width(rest[:cut + 1], pt) <= max_w:
            cut += 1
        space = rest.rfind(" ", 0, cut + 1)
        if space > 0:
            cut = space
        lines.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    return lines


def _split_element_string(es: str) -> list[str]:
    """Break before AI (10): fixed-length AIs on line 1, lot and serial on line 2."""
    cut = es.find("(10)")
    return [es[:cut], es[cut:]] if cut > 0 else [es]


def _badge_ops(m: _Metrics, keys: Sequence[str], x0: float, y0: float, max_w: float, pt: float) -> tuple[list, float]:
    ops: list = []
    pad = 0.35 * pt * _PT_MM
    h = pt * _PT_MM * 1.45
    x, y = x0, y0
    for key in keys:
        try:
            word = BADGES[key]
        except KeyError:
            raise InvalidLabelData(f"unknown badge {key!r}; allowed: {', '.join(BADGES)}") from None
        w = m.width(word, pt) + 2 * pad
        if x > x0 and x + w > x0 + max_w:
            x, y = x0, y + h + pad
        ops.append(_Box(x, y, w, h, h * 0.25, max(0.12, pt * 0.02)))
        ops.append(_Text(x + pad, y + h / 2 + (m.ascent - 0.5 * 0.95) * pt * _PT_MM, pt, word))
        x += w + pad
    return ops, (y + h - y0) if keys else 0.0


def _fmt(d: date | None) -> str:
    return d.isoformat() if d else "—"


def layout(label: LabelData, size: str = "50x30", font: FontFile | None = None) -> list:
    """Return the label's drawing operations in mm for one of :data:`SIZES`.

    No text is set below :func:`min_pt` (Chinese characters 1.8 mm tall) and none is cut: a row that does not fit
    its line wraps (the origin may take several lines), the column shrinks as a whole down to that floor, then the
    English name and the badges give way, then the QR shrinks down to MIN_MODULE_MM modules.

    Args:
        label: what to print.
        size: ``"40x30"``, ``"50x30"`` or ``"100x70"`` (width x height, mm).
        font: CJK font to measure with; found with :func:`labels.fonts.find_cjk_font` if omitted.

    Raises:
        InvalidLabelData: if the size or a badge is unknown, the URI does not fit a QR code, or the mandatory text
            does not fit the label at 1.8 mm (choose a larger size).
        FontMissing: if no CJK font is installed.
    """
    s = _spec(size)
    font = font or find_cjk_font()
    m = _metrics(font)
    floor = max(s.min_pt, min_pt(font))
    matrix = qr_matrix(label.uri)
    inner_w = s.width - 2 * s.margin

    # Element string strip at the bottom, across the full width: split before (10), then wrapped if still too wide.
    hri_pt = max(s.body_pt, floor)
    lines = [label.element_string]
    if m.width(label.element_string, hri_pt) > inner_w:
        lines = [part for ln in _split_element_string(label.element_string) for part in _wrap(m, ln, inner_w, hri_pt)]
    ops: list = []
    line_h = hri_pt * _PT_MM * _LINE
    y = s.height - s.margin - len(lines) * line_h
    hri_top = y
    for ln in lines:
        ops.append(_Text(s.margin, y + m.ascent * hri_pt * _PT_MM, hri_pt, ln, varies=True))
        y += line_h

    mandatory = [
        (label.name_zh, s.title_pt, "name"),
        (f"批号 {label.lot}", s.body_pt, "row"),
        (f"生产日期 {_fmt(label.production_date)}", s.body_pt, "row"),
        (f"有效期至 {_fmt(label.expiry_date)}", s.body_pt, "row"),
        (f"产地 {label.origin}", s.body_pt, "row"),
    ]
    full_qr = min(s.qr, hri_top - s.gap - s.margin)
    smallest_qr = len(matrix) * MIN_MODULE_MM
    if full_qr < smallest_qr:
        raise InvalidLabelData(f"the code and its element string do not fit a {size} label with QR modules of "
                               f"{MIN_MODULE_MM} mm or more; choose a larger size ({', '.join(SIZES)})")
    col_bottom = hri_top - s.gap * 0.5
    # Keep the QR whole, then the English name and badges, and shrink the text first (down to the floor).
    for qr_side in sorted({full_qr, (full_qr + smallest_qr) / 2, smallest_qr}, reverse=True):
        x0 = s.margin + qr_side + s.gap
        col_w = s.width - s.margin - x0
        for optional in ((True, True), (True, False), (False, False)):
            for scale in (1.0, 0.92, 0.85, 0.78, 0.72, 0.66, 0.6, 0.5):
                col, y = _column(m, label, mandatory, optional, x0, col_w, s, scale, floor)
                if y <= col_bottom:
                    ops.append(_Qr(s.margin, s.margin, qr_side, matrix))
                    return ops + col
                if all(max(floor, pt * scale) == floor for _, pt, _ in mandatory):
                    break  # every row is at the floor already: shrinking more changes nothing
    raise InvalidLabelData(f"the label text does not fit a {size} label at {MIN_CHAR_MM} mm character height; "
                           f"shorten the name or origin, or choose a larger size ({', '.join(SIZES)})")


def _column(m: _Metrics, label: LabelData, mandatory: list, optional: tuple[bool, bool], x0: float, col_w: float,
            s: _Spec, scale: float, floor: float) -> tuple[list, float]:
    """The text column beside the QR at ``scale``: (its operations, the y it ends at). ``optional`` says whether the
    English name and the badges are included."""
    with_en, with_badges = optional
    rows = list(mandatory)
    if with_en and label.name_en:
        rows.insert(1, (label.name_en, s.body_pt * 0.95, "name"))
    col: list = []
    y = s.margin
    for text, pt, _kind in rows:
        fpt = max(floor, pt * scale)
        for part in _wrap(m, text, col_w, fpt):
            col.append(_Text(x0, y + m.ascent * fpt * _PT_MM, fpt, part))
            y += fpt * _PT_MM * _LINE
    if with_badges and label.badges:
        badge_ops, badge_h = _badge_ops(m, label.badges, x0, y + 0.3, col_w, max(floor, s.body_pt * 0.85 * scale))
        col.extend(badge_ops)
        y += 0.3 + badge_h
    elif label.badges:
        for key in label.badges:  # an unknown badge is refused whether or not it is printed
            if key not in BADGES:
                raise InvalidLabelData(f"unknown badge {key!r}; allowed: {', '.join(BADGES)}")
    return col, y


# ---------------------------------------------------------------- PNG


_BACKGROUNDS: dict[tuple, Image.Image] = {}
_BACKGROUND_CACHE = 64


def _background(fixed: tuple, spec: _Spec, dpi: int, font: FontFile) -> Image.Image:
    """The label with its fixed text and badges drawn: the same for every label of a lot, so drawn once.

    Text rendering is a quarter of a label's time; a print run only changes the serial, its QR and the element
    string, which are painted over a copy of this.
    """
    key = (fixed, spec, dpi, font)
    img = _BACKGROUNDS.get(key)
    if img is None:
        px = dpi / 25.4
        img = Image.new("L", (round(spec.width * px), round(spec.height * px)), 255)
        _paint(ImageDraw.Draw(img), fixed, px, dpi, font)
        if len(_BACKGROUNDS) >= _BACKGROUND_CACHE:
            _BACKGROUNDS.pop(next(iter(_BACKGROUNDS)))
        _BACKGROUNDS[key] = img
    return img


def _paint(draw: ImageDraw.ImageDraw, ops: Iterable, px: float, dpi: int, font: FontFile) -> None:
    for op in ops:
        if isinstance(op, _Text):
            draw.text(
                (op.x * px, op.y * px),
                op.text,
                fill=0,
                anchor="ls",
                font=_pil_font(font, max(1, round(op.pt * dpi / 72))),
            )
        elif isinstance(op, _Box):
            draw.rounded_rectangle(
                (op.x * px, op.y * px, (op.x + op.w) * px, (op.y + op.h) * px),
                radius=op.r * px,
                outline=0,
                width=max(1, round(op.line * px)),
            )


def _draw_png(ops: Iterable, spec: _Spec, dpi: int, font: FontFile) -> Image.Image:
    px = dpi / 25.4
    ops = list(ops)
    fixed = tuple(op for op in ops if not isinstance(op, _Qr) and not getattr(op, "varies", False))
    img = _background(fixed, spec, dpi, font).copy()
    _paint(ImageDraw.Draw(img), [op for op in ops if isinstance(op, _Text) and op.varies], px, dpi, font)
    for op in ops:
        if isinstance(op, _Qr):
            n = len(op.matrix)
            # Whole pixels per module: a fractional module size smears edges and hurts scanning. The QR is built
            # 1-bit (a module per pixel, dark = 0) and scaled as such, then pasted into the grayscale label.
            module = max(1, int(op.side * px) // n)
            small = Image.frombytes("1", (n, n), _pack_rows(op.matrix))
            img.paste(small.resize((n * module, n * module), Image.NEAREST), (round(op.x * px), round(op.y * px)))
    return img


_LIGHT = bytes.maketrans(b"\x00\x01", b"10")


def _pack_rows(matrix: Sequence[Sequence[bool]]) -> bytes:
    """The matrix as 1-bit rows, MSB first, each padded to whole bytes (Pillow's raw "1" layout; 1 = light)."""
    n = len(matrix)
    width = (n + 7) // 8
    out = bytearray()
    for row in matrix:
        bits = bytes(row).translate(_LIGHT).ljust(width * 8, b"0")
        out += int(bits, 2).to_bytes(width, "big")
    return bytes(out)


def render_png(label: LabelData, size: str = "50x30", dpi: int = 300) -> bytes:
    """Render one label as a grayscale PNG at ``dpi`` with the physical size recorded.

    Args:
        label: what to print.
        size: one of :data:`SIZES` (``"40x30"``, ``"50x30"``, ``"100x70"``).
        dpi: printer resolution; 203 and 300 are common for thermal label printers.

    Raises:
        InvalidLabelData: if the size or a badge is unknown, the dpi is out of range, or the URI is too long.
        FontMissing: if no CJK font is installed.
    """
    if not 72 <= dpi <= 1200:
        raise InvalidLabelData(f"dpi must be between 72 and 1200, got {dpi}")
    spec = _spec(size)
    font = find_cjk_font()
    img = _draw_png(layout(label, size, font), spec, dpi, font)
    buf = io.BytesIO()
    # Level 1 compresses these mostly-white images nearly as well as 6 at a third of the time.
    img.save(buf, "PNG", dpi=(dpi, dpi), compress_level=1)
    return buf.getvalue()


# ---------------------------------------------------------------- SVG

_SVG_FONTS = "'WenQuanYi Micro Hei','Noto Sans CJK SC','Source Han Sans SC','PingFang SC','Microsoft YaHei',sans-serif"


def _qr_path(matrix: Sequence[Sequence[bool]]) -> str:
    """One path of horizontal runs in module units: far smaller than a rect per module."""
    parts = []
    for r, row in enumerate(matrix):
        c, n = 0, len(row)
        while c < n:
            if row[c]:
                start = c
                while c < n and row[c]:
                    c += 1
                parts.append(f"M{start} {r}h{c - start}v1h-{c - start}z")
            else:
                c += 1
    return "".join(parts)


def render_svg(label: LabelData, size: str = "50x30") -> bytes:
    """Render one label as a standalone SVG document (UTF-8) sized in millimetres.

    Text is left as SVG text naming common CJK fonts, so the viewer's font draws it; the QR
    is a single vector path with the quiet zone kept white.

    Args:
        label: what to print.
        size: one of :data:`SIZES`.

    Raises:
        InvalidLabelData: if the size or a badge is unknown, or the URI is too long.
        FontMissing: if no CJK font is installed (needed to measure text for the layout).
    """
    spec = _spec(size)
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{spec.width}mm" height="{spec.height}mm" '
        f'viewBox="0 0 {spec.width} {spec.height}">',
        f'<rect x="0" y="0" width="{spec.width}" height="{spec.height}" fill="#fff"/>',
    ]
    for op in layout(label, size):
        if isinstance(op, _Qr):
            n = len(op.matrix)
            out.append(
                f'<path class="qr" data-modules="{n}" '
                f'transform="translate({op.x:.3f} {op.y:.3f}) scale({op.side / n:.5f})" '
                f'fill="#000" shape-rendering="crispEdges" d="{_qr_path(op.matrix)}"/>'
            )
        elif isinstance(op, _Text):
            out.append(
                f'<text x="{op.x:.3f}" y="{op.y:.3f}" font-size="{op.pt * _PT_MM:.3f}" '
                f'font-family="{_SVG_FONTS}" fill="#000">{escape(op.text)}</text>'
            )
        elif isinstance(op, _Box):
            out.append(
                f'<rect x="{op.x:.3f}" y="{op.y:.3f}" width="{op.w:.3f}" height="{op.h:.3f}" rx="{op.r:.3f}" '
                f'fill="none" stroke="#000" stroke-width="{op.line:.3f}"/>'
            )
    out.append("</svg>")
    return "\n".join(out).encode("utf-8")


# ---------------------------------------------------------------- PDF

A4 = (210.0, 297.0)
SHEET_MARGIN = 5.0


def sheet_grid(size: str = "50x30") -> tuple[int, int]:
    """Return ``(columns, rows)`` of ``size`` labels on one A4 sheet.

    Args:
        size: one of :data:`SIZES`.

    Raises:
        InvalidLabelData: if the size is unknown.
    """
    s = _spec(size)
    return int((A4[0] - 2 * SHEET_MARGIN) // s.width), int((A4[1] - 2 * SHEET_MARGIN) // s.height)


HEADER_PT = 7.0  # the sheet's header line: small, in the sheet's top margin, never on a label


def sheet_slots(count: int, size: str = "50x30", skip: int = 0) -> list[tuple[int, float, float]]:
    """Return where each of ``count`` labels goes on A4 sheets: ``(page, x, y)`` of its cell's top left corner, mm.

    The grid is centred on the page; labels fill it left to right, top to bottom. ``skip`` leaves the first cells
    of the first page empty (a sheet already partly used), so its first label goes into cell ``skip``.

    Args:
        count: how many labels.
        size: one of :data:`SIZES`.
        skip: cells of the first page already used, 0 to one less than the cells of a page.

    Raises:
        InvalidLabelData: if the size is unknown or ``skip`` is outside the page.
    """
    spec = _spec(size)
    cols, rows = sheet_grid(size)
    per_page = cols * rows
    if not 0 <= skip < per_page:
        raise InvalidLabelData(f"start position must be 0-{per_page - 1} on a {size} sheet, got {skip}")
    ox = (A4[0] - cols * spec.width) / 2
    oy = (A4[1] - rows * spec.height) / 2
    out = []
    for i in range(skip, skip + count):
        slot = i % per_page
        out.append((i // per_page, ox + (slot % cols) * spec.width, oy + (slot // cols) * spec.height))
    return out


def sheet_header_ops(header: str, size: str, page: int, pages: int, font: FontFile | None = None) -> list:
    """Return the header line of one sheet page: ``header`` (and ``page/pages`` when there are several) in mm.

    It sits in the top margin above the grid, as wide as the grid, so it never covers or moves a label.

    Args:
        header: the text (run, lot, count, date).
        size: one of :data:`SIZES` (the grid's width and top margin).
        page: this page, from 0.
        pages: the number of pages.
        font: CJK font to measure with; found if omitted.

    Raises:
        InvalidLabelData: if the size is unknown.
        FontMissing: if no CJK font is installed.
    """
    spec = _spec(size)
    cols, rows = sheet_grid(size)
    ox = (A4[0] - cols * spec.width) / 2
    oy = (A4[1] - rows * spec.height) / 2
    text = header if pages == 1 else f"{header} · {page + 1}/{pages}"
    m = _metrics(font or find_cjk_font())
    fitted, pt = _fit(m, text, cols * spec.width, HEADER_PT, 4.0)
    # Baseline 1.2 mm above the grid's top cut guide; the margin is at least 8 mm at every size.
    return [_Text(ox, oy - 1.2, pt, fitted)]


def render_pdf_sheet(labels: Sequence[LabelData], size: str = "50x30", header: str | None = None,
                     skip: int = 0) -> bytes:
    """Render many labels onto A4 pages (4 x 9 = 36 per page at 50x30) with the CJK font embedded.

    The QR is drawn as filled vector rectangles, one per horizontal run of dark modules,
    which keeps the file small and the edges sharp at any printer resolution. Without ``header`` and ``skip``
    the sheet is exactly what it always was.

    Args:
        labels: the labels, placed left to right, top to bottom.
        size: one of :data:`SIZES`.
        header: a line printed above the grid on every page (run, lot, count, date); None prints none.
        skip: leave the first ``skip`` cells of the first page empty (a partly used sheet); see :func:`sheet_slots`.

    Raises:
        InvalidLabelData: if there are no labels, the size or a badge is unknown, a URI is too long, or ``skip``
            is outside the page.
        FontMissing: if no CJK font is installed.
    """
    if not labels:
        raise InvalidLabelData("a label sheet needs at least one label")
    spec = _spec(size)
    slots = sheet_slots(len(labels), size, skip)
    font = find_cjk_font()
    cols, rows = sheet_grid(size)
    ox = (A4[0] - cols * spec.width) / 2
    oy = (A4[1] - rows * spec.height) / 2
    pages = slots[-1][0] + 1

    pdf = FPDF(unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margin(0)
    pdf.set_creator("TraceGraph labels")
    pdf.add_font("cjk", fname=font.path, collection_font_number=font.index)
    pdf.set_font("cjk", size=8)
    pdf.set_draw_color(0)
    pdf.set_fill_color(0)
    current_pt = 8.0

    page = -1
    for label, (on_page, lx, ly) in zip(labels, slots, strict=True):
        if on_page != page:
            page = on_page
            pdf.add_page()
            # Light cut guides between labels; grey so a scanner never mistakes them for modules.
            pdf.set_draw_color(200)
            pdf.set_line_width(0.1)
            for c in range(cols + 1):
                pdf.line(ox + c * spec.width, oy, ox + c * spec.width, oy + rows * spec.height)
            for r in range(rows + 1):
                pdf.line(ox, oy + r * spec.height, ox + cols * spec.width, oy + r * spec.height)
            pdf.set_draw_color(0)
            if header:
                for op in sheet_header_ops(header, size, page, pages, font):
                    pdf.set_font_size(op.pt)
                    current_pt = op.pt
                    pdf.text(op.x, op.y, op.text)
        current_pt = _pdf_ops(pdf, layout(label, size, font), lx, ly, current_pt)
    return bytes(pdf.output())


def pdf_qr(pdf: FPDF, op: _Qr, dx: float = 0.0, dy: float = 0.0) -> None:
    """Draw a QR symbol at (op.x + dx, op.y + dy) mm: each run of dark modules in a row as one filled rectangle."""
    n = len(op.matrix)
    mod = op.side / n
    for r, row in enumerate(op.matrix):
        c = 0
        while c < n:
            if row[c]:
                start = c
                while c < n and row[c]:
                    c += 1
                pdf.rect(dx + op.x + start * mod, dy + op.y + r * mod, (c - start) * mod, mod, style="F")
            else:
                c += 1


def _pdf_ops(pdf: FPDF, ops: Iterable, lx: float, ly: float, current_pt: float) -> float:
    """Draw one label's operations at (lx, ly) mm; return the font size left set."""
    for op in ops:
        if isinstance(op, _Qr):
            pdf_qr(pdf, op, lx, ly)
        elif isinstance(op, _Text):
            if op.pt != current_pt:
                pdf.set_font_size(op.pt)
                current_pt = op.pt
            pdf.text(lx + op.x, ly + op.y, op.text)
        elif isinstance(op, _Box):
            pdf.set_line_width(op.line)
            pdf.rect(lx + op.x, ly + op.y, op.w, op.h, style="D", round_corners=True, corner_radius=op.r)
    return current_pt


def render_pdf(label: LabelData, size: str = "50x30") -> bytes:
    """Render one label as a PDF whose page is the label itself (for label printers), the CJK font embedded.

    Args:
        label: what to print.
        size: one of :data:`SIZES`; the page is that many millimetres wide and high.

    Raises:
        InvalidLabelData: if the size or a badge is unknown, the URI is too long, or the text does not fit.
        FontMissing: if no CJK font is installed.
    """
    spec = _spec(size)
    font = find_cjk_font()
    ops = layout(label, size, font)
    pdf = FPDF(unit="mm", format=(spec.width, spec.height))  # portrait keeps (width, height) as given
    pdf.set_auto_page_break(False)
    pdf.set_margin(0)
    pdf.set_creator("TraceGraph labels")
    pdf.add_font("cjk", fname=font.path, collection_font_number=font.index)
    pdf.set_font("cjk", size=8)
    pdf.set_draw_color(0)
    pdf.set_fill_color(0)
    pdf.add_page()
    _pdf_ops(pdf, ops, 0.0, 0.0, 8.0)
    return bytes(pdf.output())
