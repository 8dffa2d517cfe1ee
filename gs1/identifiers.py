"""Parse EPCIS identifiers (EPC URNs and GS1 Digital Link URIs) into one canonical reference.

The URN and the Digital Link form of the same object map to the same ``Ref.key``, the graph's business key.
A URN carries the GS1 company prefix length, so URN -> GTIN/GLN/SSCC needs no lookup table; the reverse
(Digital Link -> URN) would need it, so this module never produces URNs.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import lru_cache

from gs1 import digital_link as dl
from gs1.errors import InvalidIdentifier
from gs1.keys import (
    check_digit,
    validate_charset82,
    validate_gln,
    validate_gtin,
    validate_lot,
    validate_serial,
    validate_sscc,
)

KINDS = ("item", "lot", "class", "sscc", "location", "party", "other")
GS1_BASE = dl.DEFAULT_BASE


# --- the graph's business keys ----------------------------------------------------------------------------------
# One prefix per kind, then the GS1 key fields joined by ':'. Lots, serials and GLN extensions may contain ':'
# themselves, so a key is split from the left (prefix, then the fixed-length GTIN/GLN), never from the right.
_PREFIX = {"item": "item:", "lot": "lot:", "class": "class:", "sscc": "sscc:", "location": "loc:",
           "party": "party:", "other": "other:"}
_KIND_OF_PREFIX = {prefix[:-1]: kind for kind, prefix in _PREFIX.items()}


def key_prefix(kind: str) -> str:
    """Return the prefix every business key of ``kind`` starts with, e.g. ``"lot:"`` (for STARTS WITH tests).

    Raises:
        KeyError: ``kind`` is not one of KINDS.
    """
    return _PREFIX[kind]


def key_kind(key: str) -> str:
    """Return the kind (one of KINDS) of a business key, or "" when it has no known prefix."""
    return _KIND_OF_PREFIX.get(key.partition(":")[0], "")


def item_key(gtin: str, serial: str) -> str:
    """Return an item's business key (GTIN-14 + serial, AI 21)."""
    return f"{_PREFIX['item']}{gtin}:{serial}"


def lot_key(gtin: str, lot: str) -> str:
    """Return a lot's business key (GTIN-14 + batch/lot, AI 10), as capture derives it from an LGTIN or a DL."""
    return f"{_PREFIX['lot']}{gtin}:{lot}"


def class_key(gtin: str) -> str:
    """Return a product class's business key (GTIN-14 alone)."""
    return f"{_PREFIX['class']}{gtin}"


def sscc_key(sscc: str) -> str:
    """Return a logistic unit's business key (SSCC)."""
    return f"{_PREFIX['sscc']}{sscc}"


def location_key(gln: str, ext: str | None = None) -> str:
    """Return a location's business key (GLN, optional extension AI 254); also the prefix of its sub-locations."""
    return f"{_PREFIX['location']}{gln}:{ext}" if ext is not None else f"{_PREFIX['location']}{gln}"


def party_key(gln: str) -> str:
    """Return a party's business key (party GLN, AI 417)."""
    return f"{_PREFIX['party']}{gln}"


def ref_from_key(key: str) -> Ref:
    """Return the Ref a business key of an item, lot, class, SSCC, location or party stands for.

    The Ref's ``uri`` is its canonical Digital Link under the GS1 base.

    Args:
        key: a key as ``Ref.key`` returns it, e.g. ``lot:06901234567892:2024/R1``.

    Raises:
        InvalidIdentifier: the key has no known prefix, or is of kind 'other' (its URI is the key's rest).
    """
    kind, rest = key_kind(key), key.partition(":")[2]
    if kind in ("item", "lot"):
        gtin, _, value = rest.partition(":")
        ref = Ref(kind, gtin=gtin, serial=value) if kind == "item" else Ref(kind, gtin=gtin, lot=value)
    elif kind == "class":
        ref = Ref(kind, gtin=rest)
    elif kind == "sscc":
        ref = Ref(kind, sscc=rest)
    elif kind == "location":
        gln, sep, ext = rest.partition(":")
        ref = Ref(kind, gln=gln, ext=ext if sep else None)
    elif kind == "party":
        ref = Ref(kind, gln=rest)
    else:
        raise InvalidIdentifier(f"{key!r} is not the business key of a GS1-identified object")
    return replace(ref, uri=ref.digital_link())


@dataclass(frozen=True, slots=True)
class Ref:
    """A canonical reference to a thing named in an EPCIS event.

    ``kind`` is one of item (GTIN+serial), lot (GTIN+lot), class (GTIN only), sscc, location (GLN + optional
    extension), party (GLN) or other; ``uri`` is the identifier exactly as received.
    """

    kind: str
    gtin: str | None = None
    lot: str | None = None
    serial: str | None = None
    gln: str | None = None
    ext: str | None = None
    sscc: str | None = None
    uri: str = ""
    canonical: str | None = None  # canonical Digital Link of a GS1 key of kind 'other' (GRAI, GIAI, ...)
    # the key, made once on first use: capture asks a Ref for it dozens of times per event
    _key: str | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def key(self) -> str:
        """Return the stable business key, identical for the URN and the Digital Link form."""
        key = self._key
        if key is None:
            key = self._make_key()
            object.__setattr__(self, "_key", key)  # frozen: the cache is the one slot that may be set, once
        return key

    def _make_key(self) -> str:
        kind = self.kind
        if kind == "item":
            return item_key(self.gtin, self.serial)
        if kind == "lot":
            return lot_key(self.gtin, self.lot)
        if kind == "class":
            return class_key(self.gtin)
        if kind == "sscc":
            return sscc_key(self.sscc)
        if kind == "location":
            return location_key(self.gln, self.ext)
        if kind == "party":
            return party_key(self.gln)
        return f"{_PREFIX['other']}{self.canonical or self.uri}"

    def digital_link(self, base: str = GS1_BASE) -> str:
        """Return the canonical GS1 Digital Link URI under ``base`` (the received URI for non-GS1 'other')."""
        base = base.rstrip("/")
        kind = self.kind
        if kind in ("item", "lot", "class"):
            quals = []
            if self.lot is not None:
                quals.append(("10", self.lot))
            if self.serial is not None:
                quals.append(("21", self.serial))
            return base + dl.build_path("01", self.gtin or "", quals)
        if kind == "sscc":
            return base + dl.build_path("00", self.sscc)
        if kind == "location":
            return base + dl.build_path("414", self.gln or "", [("254", self.ext)] if self.ext is not None else [])
        if kind == "party":
            return base + dl.build_path("417", self.gln)
        if self.canonical:
            return base + self.canonical[len(GS1_BASE):]
        return self.uri


# --- EPC pure identity URNs (GS1 EPC Tag Data Standard) -------------------------------------------------------

def _company_prefix(cp: str, uri: str) -> str:
    if not (6 <= len(cp) <= 12 and cp.isascii() and cp.isdigit()):
        raise InvalidIdentifier(f"{uri!r}: GS1 company prefix {cp!r} must be 6-12 digits")
    return cp


def _digits(value: str, length: int, what: str, uri: str) -> str:
    if len(value) != length or not value.isascii() or not value.isdigit():
        raise InvalidIdentifier(f"{uri!r}: {what} {value!r} must be {length} digits for this company prefix")
    return value


def _epc_value(escaped: str, what: str, max_length: int, uri: str) -> str:
    # EPC URNs escape " % & / < > ? as %XX; other set-82 characters appear literally.
    value = dl.decode_value(escaped) if "%" in escaped else escaped
    try:
        return validate_charset82(value, what, max_length)
    except InvalidIdentifier as e:
        raise InvalidIdentifier(f"{uri!r}: {e}") from None


def _parts(body: str, count: int, uri: str) -> list[str]:
    parts = body.split(".", count - 1)
    if len(parts) != count:
        raise InvalidIdentifier(f"{uri!r} must have {count} dot-separated fields")
    return parts


def _gtin_from(cp: str, item_ref: str, uri: str) -> str:
    _company_prefix(cp, uri)
    _digits(item_ref, 13 - len(cp), "item reference", uri)
    body = item_ref[0] + cp + item_ref[1:]
    return body + check_digit(body)


def _gln_from(cp: str, ref: str, uri: str, what: str = "location reference") -> str:
    _company_prefix(cp, uri)
    _digits(ref, 12 - len(cp), what, uri)
    body = cp + ref
    return body + check_digit(body)


def _numeric_key(cp: str, ref: str, total: int, uri: str, lead: str = "") -> str:
    _company_prefix(cp, uri)
    _digits(ref, total - 1 - len(lead) - len(cp), "reference", uri)
    body = lead + cp + ref
    return body + check_digit(body)


def _other_epc_to_dl(scheme: str, body: str, uri: str, pattern: bool) -> str | None:
    """Canonical Digital Link for the GS1-keyed EPC schemes that are not items, lots, SSCCs or GLNs."""
    if scheme == "grai":
        cp, asset_type, serial = _parts(body, 3, uri)
        key = _numeric_key(cp, asset_type, 14, uri, lead="0")
        if pattern or serial == "*":
            return f"{GS1_BASE}/8003/{key}"
        return f"{GS1_BASE}/8003/{key}{dl.encode_value(_epc_value(serial, 'GRAI serial', 16, uri))}"
    if scheme == "giai" and not pattern:
        cp, asset_ref = _parts(body, 2, uri)
        _company_prefix(cp, uri)
        asset = _epc_value(asset_ref, "GIAI asset reference", 30 - len(cp), uri)
        return f"{GS1_BASE}/8004/{cp}{dl.encode_value(asset)}"
    if scheme in ("gsrn", "gsrnp") and not pattern:
        cp, ref = _parts(body, 2, uri)
        return f"{GS1_BASE}/{'8018' if scheme == 'gsrn' else '8017'}/{_numeric_key(cp, ref, 18, uri)}"
    if scheme in ("gdti", "sgcn"):
        cp, doc_type, serial = _parts(body, 3, uri)
        key = _numeric_key(cp, doc_type, 13, uri)
        ai = "253" if scheme == "gdti" else "255"
        if pattern or serial in ("", "*"):
            return f"{GS1_BASE}/{ai}/{key}"
        return f"{GS1_BASE}/{ai}/{key}{dl.encode_value(_epc_value(serial, 'serial', 17, uri))}"
    if scheme == "ginc" and not pattern:
        cp, ref = _parts(body, 2, uri)
        _company_prefix(cp, uri)
        return f"{GS1_BASE}/401/{cp}{dl.encode_value(_epc_value(ref, 'consignment reference', 30 - len(cp), uri))}"
    if scheme == "gsin" and not pattern:
        cp, ref = _parts(body, 2, uri)
        return f"{GS1_BASE}/402/{_numeric_key(cp, ref, 17, uri)}"
    if scheme == "itip":
        cp, item_ref, piece, total, serial = _parts(body, 5, uri)
        gtin = _gtin_from(cp, item_ref, uri)
        key = gtin + _digits(piece, 2, "piece", uri) + _digits(total, 2, "total", uri)
        if pattern or serial == "*":
            return f"{GS1_BASE}/8006/{key}"
        return f"{GS1_BASE}/8006/{key}/21/{dl.encode_value(_epc_value(serial, 'serial (AI 21)', 20, uri))}"
    if scheme == "upui":
        cp, item_ref, tpx = _parts(body, 3, uri)
        gtin = _gtin_from(cp, item_ref, uri)
        if pattern or tpx == "*":
            return f"{GS1_BASE}/01/{gtin}"
        return f"{GS1_BASE}/01/{gtin}/235/{dl.encode_value(_epc_value(tpx, 'TPX (AI 235)', 28, uri))}"
    if scheme == "cpi":
        cp, part_ref, serial = _parts(body, 3, uri)
        _company_prefix(cp, uri)
        cpid = dl.decode_value(part_ref)
        if pattern or serial == "*":
            return f"{GS1_BASE}/8010/{dl.encode_value(cp + cpid)}"
        return f"{GS1_BASE}/8010/{dl.encode_value(cp + cpid)}/8011/{_digits(serial, len(serial), 'serial', uri)}"
    return None


def _parse_urn(uri: str) -> Ref:
    # urn:epc:{id|class|idpat}:{scheme}:{body}
    pieces = uri.split(":", 4)
    if len(pieces) != 5:
        return Ref("other", uri=uri)
    _, _, family, scheme, body = pieces
    if family == "id":
        if scheme == "sgtin":
            cp, item_ref, serial = _parts(body, 3, uri)
            return Ref("item", gtin=_gtin_from(cp, item_ref, uri),
                       serial=_epc_value(serial, "serial (AI 21)", 20, uri), uri=uri)
        if scheme == "sscc":
            cp, serial_ref = _parts(body, 2, uri)
            _company_prefix(cp, uri)
            _digits(serial_ref, 17 - len(cp), "serial reference", uri)
            sscc = serial_ref[0] + cp + serial_ref[1:]
            return Ref("sscc", sscc=sscc + check_digit(sscc), uri=uri)
        if scheme == "sgln":
            cp, loc_ref, ext = _parts(body, 3, uri)
            gln = _gln_from(cp, loc_ref, uri)
            # TDS: extension "0" means "no extension", i.e. the plain GLN (AI 414 without AI 254).
            extension = None if ext == "0" else _epc_value(ext, "GLN extension (AI 254)", 20, uri)
            return Ref("location", gln=gln, ext=extension, uri=uri)
        if scheme == "pgln":
            cp, party_ref = _parts(body, 2, uri)
            return Ref("party", gln=_gln_from(cp, party_ref, uri, "party reference"), uri=uri)
        return Ref("other", uri=uri, canonical=_other_epc_to_dl(scheme, body, uri, pattern=False))
    if family == "class" and scheme == "lgtin":
        cp, item_ref, lot = _parts(body, 3, uri)
        return Ref("lot", gtin=_gtin_from(cp, item_ref, uri), lot=_epc_value(lot, "lot (AI 10)", 20, uri), uri=uri)
    if family == "idpat":
        if scheme == "sgtin":
            cp, item_ref, rest = _parts(body, 3, uri)
            if rest != "*":
                raise InvalidIdentifier(f"{uri!r}: an EPC pattern must end in '*' after the item reference")
            return Ref("class", gtin=_gtin_from(cp, item_ref, uri), uri=uri)
        return Ref("other", uri=uri, canonical=_other_epc_to_dl(scheme, body, uri, pattern=True))
    return Ref("other", uri=uri)


# --- GS1 Digital Link URIs ------------------------------------------------------------------------------------

def _parse_digital_link(uri: str) -> Ref | None:
    try:
        parts = dl.parse_elements(uri)
    except InvalidIdentifier as e:
        if str(e).startswith("no GS1 primary key"):
            return None
        raise InvalidIdentifier(f"{uri!r}: {e}") from None
    ai, value, quals = parts.primary_ai, parts.primary_value, parts.qualifiers
    if ai == "01":
        gtin = validate_gtin(value)
        lot, serial = quals.get("10"), quals.get("21")
        kind = "item" if serial is not None else "lot" if lot is not None else "class"
        return Ref(kind, gtin=gtin, lot=lot, serial=serial, uri=uri)
    if ai == "414":
        ext = quals.get("254")
        return Ref("location", gln=value, ext=None if ext == "0" else ext, uri=uri)
    if ai == "417":
        return Ref("party", gln=value, uri=uri)
    if ai == "00":
        return Ref("sscc", sscc=value, uri=uri)
    # Most fine-grained level only, as the CBV event hash's "constrained canonical" form requires.
    quals_in_order = [(q, quals[q]) for q in dl.PRIMARY_KEYS[ai] if q in quals and q != "22"]
    if ai == "8006" and "21" in quals:
        quals_in_order = [("21", quals["21"])]
    return Ref("other", uri=uri, canonical=GS1_BASE + dl.build_path(ai, value, quals_in_order))


def _looks_like_uri(value: str) -> bool:
    colon = value.find(":")
    if colon <= 0 or not value[0].isascii() or not value[0].isalpha():
        return False
    return all(c.isascii() and (c.isalnum() or c in "+.-") for c in value[1:colon])


def parse_identifier(uri: str) -> Ref:
    """Parse an EPCIS identifier (EPC URN, EPC class/pattern URN, Digital Link or any other URI) into a Ref.

    Args:
        uri: e.g. ``urn:epc:id:sgtin:0614141.107346.2017`` or ``https://id.gs1.org/01/09520123456788/21/xyz``.

    Returns:
        A Ref; GS1 keys carry check-digit-validated GTIN-14/GLN/SSCC, other URIs are kind 'other'.

    Raises:
        InvalidIdentifier: not a URI, or a GS1 identifier with a bad structure, check digit or character.
    """
    if not isinstance(uri, str):
        raise InvalidIdentifier(f"identifier must be a string, got {type(uri).__name__}")
    return _parse_cached(uri)


@lru_cache(maxsize=65536)
def _parse_cached(uri: str) -> Ref:
    # Capture sees the same locations, parties and lots many times over; a Ref is immutable, so it is shared.
    # Errors are not cached (lru_cache stores only returned values).
    if uri != uri.strip() or not uri:
        raise InvalidIdentifier(f"identifier {uri!r} is empty or has surrounding whitespace")
    if uri.startswith("urn:epc:"):
        return _parse_urn(uri)
    if uri.startswith(("https://", "http://")):
        ref = _parse_digital_link(uri)
        if ref is not None:
            return ref
        return Ref("other", uri=uri)
    if not _looks_like_uri(uri):
        raise InvalidIdentifier(f"identifier {uri!r} is not a URI")
    return Ref("other", uri=uri)


def parse_location(uri: str) -> Ref:
    """Parse a readPoint/bizLocation or source/destination id into a location, party or other Ref.

    Raises:
        InvalidIdentifier: malformed, or a GS1 key of a product or logistic unit rather than a place or party.
    """
    ref = parse_identifier(uri)
    if ref.kind in ("item", "lot", "class", "sscc"):
        raise InvalidIdentifier(f"{uri!r} identifies a {ref.kind}, not a location or party")
    return ref


__all__ = ["KINDS", "Ref", "class_key", "item_key", "key_kind", "key_prefix", "location_key", "lot_key",
           "parse_identifier", "parse_location", "party_key", "ref_from_key", "sscc_key", "validate_gln",
           "validate_lot", "validate_serial", "validate_sscc"]
