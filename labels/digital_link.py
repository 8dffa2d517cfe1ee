"""What a printed GS1 label adds to a Digital Link: a resolver host that can be printed, values a validator accepts
on paper, dates in the YYMMDD window, and errors as InvalidLabelData.

The URI and the element string themselves are built by ``gs1.digital_link``, the one builder the resolver and
capture use too, so a label and the resolver can never disagree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

from gs1 import digital_link as dl
from gs1 import keys
from gs1.errors import InvalidIdentifier
from labels.errors import InvalidLabelData

# The standard says '"' becomes %22, but GS1's validator (digital-link.js, grammar 1.2) only
# accepts a raw '"', which is not a legal URI character at all. No spelling passes both, and
# every printed URI must pass the validator, so such lots and serials are refused.
_UNPRINTABLE_IN_URI = frozenset('"')

_MAX_LOT = 20  # AI 10: X..20
_MAX_SERIAL = 20  # AI 21: X..20


def normalize_gtin(gtin: str) -> str:
    """Return ``gtin`` (GTIN-8/12/13/14) as the 14-digit form Digital Link requires.

    Raises:
        InvalidLabelData: if the length, characters or check digit are wrong.
    """
    try:
        return keys.validate_gtin(gtin)
    except ValueError as exc:
        raise InvalidLabelData(str(exc)) from exc


def _check_ai_value(name: str, value: str, max_len: int) -> None:
    if not isinstance(value, str) or not 1 <= len(value) <= max_len:
        raise InvalidLabelData(f"{name} must be 1-{max_len} characters, got {value!r}")
    bad = sorted({ch for ch in value if ch not in keys.CHARSET_82})
    if bad:
        raise InvalidLabelData(f"{name} {value!r} has characters outside GS1 set 82: {''.join(bad)!r}")
    if _UNPRINTABLE_IN_URI & set(value):
        raise InvalidLabelData(f"{name} {value!r} contains '\"', which no Digital Link validator accepts")


def _yymmdd(name: str, value: date) -> str:
    if not isinstance(value, date):
        raise InvalidLabelData(f"{name} must be a date, got {value!r}")
    # YYMMDD maps YY onto a sliding century window (GS1 GenSpecs 7.12); 2000-2049 is
    # unambiguous for any window centred on today, and our products expire within years.
    if not 2000 <= value.year <= 2049:
        raise InvalidLabelData(f"{name} {value.isoformat()} is outside the printable YYMMDD range 2000-2049")
    return value.strftime("%y%m%d")


_BASE_HOST = re.compile(r"^[A-Za-z0-9.-]+(:[0-9]{1,5})?$")


def _check_base(base: str) -> str:
    parts = urlsplit(base)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise InvalidLabelData(f"resolver base must be http(s)://host[/path] without query, got {base!r}")
    if not _BASE_HOST.match(parts.netloc):
        raise InvalidLabelData(f"resolver host {parts.netloc!r} must be a plain hostname[:port]")
    return base.rstrip("/")


@dataclass(frozen=True)
class LabelIds:
    """The GS1 data one label carries: product, lot, optional serial and dates."""

    gtin: str
    lot: str
    serial: str | None = None
    expiry: date | None = None
    production: date | None = None


def build_uri(
    base: str,
    gtin: str,
    lot: str,
    serial: str | None = None,
    expiry: date | None = None,
    production: date | None = None,
) -> str:
    """Return the Digital Link URI ``{base}/01/{gtin14}/10/{lot}[/21/{serial}][?11=..&17=..]``.

    Path qualifiers follow the order the grammar fixes for AI 01 (10 before 21). Dates go in
    the query as data attributes, fixed-length AIs in ascending AI order (11, then 17), which
    is the order GS1's syntax engine emits and the canonical order digital-link.js re-encodes.

    Args:
        base: resolver stem, e.g. ``https://id.example.cn`` (a trailing ``/`` is dropped).
        gtin: GTIN-8/12/13/14 with a correct check digit.
        lot: AI 10 value, 1-20 characters of set 82.
        serial: AI 21 value, 1-20 characters of set 82, for item-level labels.
        expiry: AI 17 expiry date.
        production: AI 11 production date.

    Raises:
        InvalidLabelData: if any value cannot be encoded.
    """
    stem = _check_base(base)
    gtin14 = normalize_gtin(gtin)
    _check_ai_value("lot", lot, _MAX_LOT)
    if serial is not None:
        _check_ai_value("serial", serial, _MAX_SERIAL)
    return _built(dl.build_uri, stem, gtin14, lot, serial, _dates(production, expiry))


def element_string(
    gtin: str,
    lot: str,
    serial: str | None = None,
    expiry: date | None = None,
    production: date | None = None,
) -> str:
    """Return the bracketed human-readable element string, e.g. ``(01)...(11)...(17)...(10)...(21)...``.

    GS1 concatenation puts predefined-length AIs (01, 11, 17) before variable-length ones
    (10, 21), as the Digital Link standard does when it converts a URI to an element string;
    the printed text then reads the same as what a scanner reports.

    Args:
        gtin: GTIN-8/12/13/14 with a correct check digit.
        lot: AI 10 value.
        serial: AI 21 value.
        expiry: AI 17 expiry date.
        production: AI 11 production date.

    Raises:
        InvalidLabelData: if any value cannot be encoded.
    """
    gtin14 = normalize_gtin(gtin)
    query = _dates(production, expiry)
    _check_ai_value("lot", lot, _MAX_LOT)
    if serial is not None:
        _check_ai_value("serial", serial, _MAX_SERIAL)
    return _built(dl.element_string, gtin14, lot, serial, query)


def _dates(production: date | None, expiry: date | None) -> dict[str, str]:
    query = {}
    if production is not None:
        query["11"] = _yymmdd("production date", production)
    if expiry is not None:
        query["17"] = _yymmdd("expiry date", expiry)
    return query


def _built(builder, *args) -> str:
    # Everything was checked above with the label's own messages; gs1 checks again and must agree.
    try:
        return builder(*args)
    except InvalidIdentifier as exc:
        raise InvalidLabelData(str(exc)) from exc


def build(base: str, ids: LabelIds) -> tuple[str, str]:
    """Return ``(uri, element_string)`` for one label's identifiers.

    Args:
        base: resolver stem, see :func:`build_uri`.
        ids: the label's GS1 data.

    Raises:
        InvalidLabelData: if any value cannot be encoded.
    """
    return (
        build_uri(base, ids.gtin, ids.lot, ids.serial, ids.expiry, ids.production),
        element_string(ids.gtin, ids.lot, ids.serial, ids.expiry, ids.production),
    )
