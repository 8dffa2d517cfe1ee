"""Shared label data for the label tests: every URI printed here must also pass digital-link.js."""

from __future__ import annotations

from datetime import date

from gs1.keys import CHARSET_82
from labels.digital_link import build_uri, element_string
from labels.render import LabelData
from labels.serials import make_serial

BASE = "https://id.tracegraph.cn"
KEY = "test-secret-key-for-serials-0123456789"
GINSENG_GTIN = "06901234567892"
RICE_GTIN = "6901234567885"  # GTIN-13: printed URIs carry it padded to 14 digits
BEEF_GTIN = "06951234567897"

# Every set-82 character except '"', which no URI spelling lets digital-link.js accept.
AWKWARD_LOTS = [
    "A/B%C",
    "FS-2024_01.5",
    "L&1=2?3",
    "x!'()*+,",
    ":;<=>",
    "lot%20x",
    "".join(sorted(CHARSET_82 - {'"'}))[:20],
]


def make_label(
    gtin: str,
    lot: str,
    *,
    serial: bool = True,
    name_zh: str = "长白山人参",
    name_en: str = "Changbai Ginseng",
    origin: str = "抚松县",
    badges: tuple[str, ...] = ("green_food", "gi"),
) -> LabelData:
    """Build a consistent LabelData: the URI and element string come from the same identifiers."""
    production, expiry = date(2024, 9, 1), date(2026, 8, 31)
    ser = make_serial(KEY, gtin, lot) if serial else None
    return LabelData(
        uri=build_uri(BASE, gtin, lot, ser, expiry, production),
        element_string=element_string(gtin, lot, ser, expiry, production),
        name_zh=name_zh,
        name_en=name_en,
        lot=lot,
        production_date=production,
        expiry_date=expiry,
        origin=origin,
        badges=list(badges),
        serial=ser,
    )


def sample_labels() -> list[LabelData]:
    """One label per product chain plus the awkward lots."""
    labels = [
        make_label(
            GINSENG_GTIN,
            "FS2024-0901",
            name_zh="长白山人参 生晒参 五年根",
            name_en="Changbai Mountain Ginseng, dried, 5-year root",
            badges=("green_food", "organic", "gi", "gap"),
        ),
        make_label(
            RICE_GTIN,
            "SL-2024-10-A",
            serial=False,
            name_zh="舒兰大米 5kg",
            name_en="Shulan Rice 5 kg",
            origin="舒兰市",
            badges=("green_food", "gi"),
        ),
        make_label(
            BEEF_GTIN,
            "YB/CUT/0042",
            name_zh="延边黄牛 西冷",
            name_en="Yanbian Yellow Cattle Sirloin",
            origin="延边州",
            badges=("gap",),
        ),
    ]
    labels += [make_label(GINSENG_GTIN, lot, badges=()) for lot in AWKWARD_LOTS]
    return labels
