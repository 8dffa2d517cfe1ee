"""GS1 Digital Link URIs: percent-encoding of AI values, building GTIN URIs and element strings, parsing paths.

The one home of the GS1 resolver base (DEFAULT_BASE) and of Digital Link building and parsing: labels/ adds only
what printing needs (a printable resolver host, the YYMMDD window), app/ and graph/ build and parse through here.

Percent-encoding follows the GS1 Digital Link URI syntax (ABNF ``XSYMBOL``): of character set 82 only the
digits, letters and ``- . _`` stay literal; every other symbol is written as ``%XX`` with upper-case hex,
e.g. ``/`` -> ``%2F``, ``%`` -> ``%25``, ``+`` -> ``%2B``, ``&`` -> ``%26``. ``"`` is written ``%22`` because
RFC 3986 forbids a literal double quote in a URI (GS1's digital-link.js grammar only accepts it literally).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import quote, unquote, urlsplit

from gs1.errors import InvalidIdentifier
from gs1.keys import validate_charset82, validate_gln, validate_gtin, validate_lot, validate_serial, validate_sscc

DEFAULT_BASE = "https://id.gs1.org"

# Primary keys and, for each, the key qualifiers in the order the standard requires in the path.
PRIMARY_KEYS: dict[str, tuple[str, ...]] = {
    "01": ("22", "10", "21"),
    "8006": ("22", "10", "21"),
    "8010": ("8011",),
    "414": ("254",),
    "417": (),
    "00": (),
    "253": (),
    "255": (),
    "401": (),
    "402": (),
    "8003": (),
    "8004": (),
    "8013": (),
    "8017": ("8019",),
    "8018": ("8019",),
}

_DATE_AIS = frozenset({"11", "12", "13", "15", "16", "17"})
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_YYMMDD = re.compile(r"\d{2}(0[1-9]|1[0-2])(0[0-9]|[12]\d|3[01])")


def encode_value(value: str) -> str:
    """Percent-encode an AI value for a Digital Link path segment or query value."""
    # quote() keeps A-Z a-z 0-9 and "_.-~" literal; "~" is not in set 82, so the result is exactly the DL rule.
    return quote(value, safe="")


def decode_value(text: str) -> str:
    """Decode a percent-encoded Digital Link value, rejecting malformed escapes.

    Raises:
        InvalidIdentifier: a ``%`` not followed by two hex digits, or bytes that are not UTF-8.
    """
    if _BAD_ESCAPE.search(text):
        raise InvalidIdentifier(f"malformed percent-escape in {text!r}")
    try:
        return unquote(text, errors="strict")
    except UnicodeDecodeError as e:
        raise InvalidIdentifier(f"percent-escapes in {text!r} are not UTF-8") from e


def validate_yymmdd(value: str, name: str = "date") -> str:
    """Validate a GS1 YYMMDD date (DD may be 00, meaning the last day of the month) and return it.

    Raises:
        InvalidIdentifier: not six digits or not a plausible month/day.
    """
    if not isinstance(value, str) or not _YYMMDD.fullmatch(value):
        raise InvalidIdentifier(f"{name} {value!r} is not a YYMMDD date")
    return value


@dataclass(frozen=True)
class DigitalLinkParts:
    """The GS1 element string carried by a Digital Link URI."""

    primary_ai: str
    primary_value: str
    qualifiers: dict[str, str] = field(default_factory=dict)
    query: dict[str, str] = field(default_factory=dict)
    prefix: str = ""


@dataclass(frozen=True)
class GtinPath:
    """A GTIN Digital Link path: GTIN-14, optional lot and serial, and the AI query attributes."""

    gtin: str
    lot: str | None = None
    serial: str | None = None
    query: dict[str, str] = field(default_factory=dict)


def _split_segments(path: str) -> tuple[list[str], int]:
    segments = path.split("/")
    if segments and segments[0] == "":
        segments = segments[1:]
    if segments and segments[-1] == "":
        segments = segments[:-1]
    # The identifier part is right-anchored: a resolver may put its own path in front of it.
    for i, seg in enumerate(segments):
        if seg in PRIMARY_KEYS and (len(segments) - i) % 2 == 0:
            return segments, i
    raise InvalidIdentifier(f"no GS1 primary key found in Digital Link path {path!r}")


def _parse_query(query: str) -> dict[str, str]:
    result: dict[str, str] = {}
    if not query:
        return result
    for part in query.split("&"):
        if not part:
            continue
        name, sep, value = part.partition("=")
        # Only numeric AIs are GS1 data attributes; other parameters (linkType, ...) belong to the resolver.
        if sep and name.isdigit():
            result[name] = decode_value(value)
    return result


def parse_elements(uri_or_path: str) -> DigitalLinkParts:
    """Parse a Digital Link URI (any host) or its path into primary key, qualifiers and query AIs.

    Values are percent-decoded; check digits and qualifier order are validated.

    Raises:
        InvalidIdentifier: no primary key, bad qualifier, bad check digit or bad value.
    """
    if uri_or_path.startswith(("http://", "https://", "HTTP://", "HTTPS://")):
        parts = urlsplit(uri_or_path)
        path, query = parts.path, parts.query
    else:
        path, _, query = uri_or_path.partition("?")
    segments, start = _split_segments(path)
    primary_ai = segments[start]
    primary_value = decode_value(segments[start + 1])
    allowed = PRIMARY_KEYS[primary_ai]
    qualifiers: dict[str, str] = {}
    last_index = -1
    for j in range(start + 2, len(segments), 2):
        ai = segments[j]
        if ai not in allowed:
            raise InvalidIdentifier(f"AI {ai} is not a key qualifier of AI {primary_ai} in {uri_or_path!r}")
        index = allowed.index(ai)
        if index <= last_index:
            raise InvalidIdentifier(f"key qualifier AI {ai} is out of order in {uri_or_path!r}")
        last_index = index
        qualifiers[ai] = decode_value(segments[j + 1])
    if primary_ai in ("01", "8006"):
        gtin = primary_value[:14] if primary_ai == "8006" else primary_value
        validate_gtin(gtin)
    elif primary_ai in ("414", "417"):
        validate_gln(primary_value)
    elif primary_ai == "00":
        validate_sscc(primary_value)
    if "10" in qualifiers:
        validate_lot(qualifiers["10"])
    if "21" in qualifiers:
        validate_serial(qualifiers["21"])
    if "254" in qualifiers:
        validate_charset82(qualifiers["254"], "GLN extension (AI 254)", 20)
    query_ais = _parse_query(query)
    for ai in _DATE_AIS.intersection(query_ais):
        validate_yymmdd(query_ais[ai], f"AI {ai}")
    prefix = "/" + "/".join(segments[:start]) if start else ""
    return DigitalLinkParts(primary_ai, primary_value, qualifiers, query_ais, prefix)


def parse_path(path: str) -> GtinPath:
    """Parse a GTIN Digital Link path (or full URI) into GTIN-14, lot, serial and query AIs (e.g. 17, 11).

    Args:
        path: e.g. ``/01/09520123456788/10/ABC1/21/xyz?17=261231``; a full ``https://`` URI is also accepted.

    Returns:
        A GtinPath with decoded values; GTIN-8/12/13 are normalised to GTIN-14.

    Raises:
        InvalidIdentifier: not a GTIN (AI 01) Digital Link, bad check digit, bad lot/serial or bad date.
    """
    parts = parse_elements(path)
    if parts.primary_ai != "01":
        raise InvalidIdentifier(f"Digital Link {path!r} identifies AI {parts.primary_ai}, not a GTIN (AI 01)")
    return GtinPath(
        gtin=validate_gtin(parts.primary_value),
        lot=parts.qualifiers.get("10"),
        serial=parts.qualifiers.get("21"),
        query=dict(parts.query),
    )


def build_path(primary_ai: str, primary_value: str, qualifiers: list[tuple[str, str]] | None = None) -> str:
    """Return the path ``/{ai}/{value}[/{ai}/{value}...]`` with every value percent-encoded."""
    out = [f"/{primary_ai}/{encode_value(primary_value)}"]
    for ai, value in qualifiers or ():
        out.append(f"/{ai}/{encode_value(value)}")
    return "".join(out)


def build_uri(
    base: str,
    gtin: str,
    lot: str | None = None,
    serial: str | None = None,
    query: dict[str, str] | None = None,
) -> str:
    """Build a GS1 Digital Link URI for a GTIN with optional lot, serial and AI query attributes.

    Args:
        base: scheme, host and optional path prefix, e.g. ``https://id.gs1.org`` (a trailing ``/`` is ignored).
        gtin: GTIN-8/12/13/14; written as GTIN-14.
        lot: batch/lot (AI 10), 1-20 characters of set 82.
        serial: serial number (AI 21), 1-20 characters of set 82.
        query: data attributes keyed by AI, e.g. ``{"17": "261231", "11": "250930"}``; written in AI order.

    Returns:
        The URI, e.g. ``https://id.gs1.org/01/09520123456788/10/ABC1/21/xyz?17=261231``.

    Raises:
        InvalidIdentifier: bad GTIN, lot, serial, query AI or date value, or a base that is not http(s).
    """
    if not base.startswith(("https://", "http://")):
        raise InvalidIdentifier(f"Digital Link base {base!r} must start with https:// or http://")
    qualifiers: list[tuple[str, str]] = []
    if lot is not None:
        qualifiers.append(("10", validate_lot(lot)))
    if serial is not None:
        qualifiers.append(("21", validate_serial(serial)))
    uri = base.rstrip("/") + build_path("01", validate_gtin(gtin), qualifiers)
    if query:
        params = []
        for ai in sorted(query, key=lambda a: (len(a), a)):
            value = query[ai]
            if not ai.isdigit():
                raise InvalidIdentifier(f"query key {ai!r} is not a GS1 Application Identifier")
            if ai in _DATE_AIS:
                validate_yymmdd(value, f"AI {ai}")
            else:
                validate_charset82(value, f"AI {ai}", 90)
            params.append(f"{ai}={encode_value(value)}")
        uri += "?" + "&".join(params)
    return uri


def element_string(
    gtin: str,
    lot: str | None = None,
    serial: str | None = None,
    query: dict[str, str] | None = None,
) -> str:
    """Return the bracketed human-readable GS1 element string, e.g. ``(01)...(11)...(17)...(10)...(21)...``.

    GS1 concatenation puts predefined-length AIs (01 and the dates 11-17) before variable-length ones (10, 21),
    as the Digital Link standard does when it converts a URI to an element string, so the text printed under a
    code reads the same as what a scanner reports. Values are written as they are, not percent-encoded.

    Args:
        gtin: GTIN-8/12/13/14; written as GTIN-14.
        lot: batch/lot (AI 10).
        serial: serial number (AI 21).
        query: data attributes keyed by AI; the dates (AIs 11-17) are written, in AI order, other AIs are not.

    Raises:
        InvalidIdentifier: bad GTIN, lot, serial or date.
    """
    parts = [f"(01){validate_gtin(gtin)}"]
    query = query or {}
    for ai in sorted(_DATE_AIS.intersection(query)):
        parts.append(f"({ai}){validate_yymmdd(query[ai], f'AI {ai}')}")
    if lot is not None:
        parts.append(f"(10){validate_lot(lot)}")
    if serial is not None:
        parts.append(f"(21){validate_serial(serial)}")
    return "".join(parts)
