"""Consumer reports (举报), pure: numbers, states, photo checks, the signed form and the per-code/phone limits.

The form a consumer fills in carries a token signed by the server (HMAC over the issue time and the code): a
submission must come between MIN_FILL_SECONDS and MAX_FORM_AGE after its form was issued (bots post at once, or
replay old forms), with the hidden honeypot field empty. Beyond the per-address rate limit (Flask-Limiter), a
phone number may file PHONE_PER_DAY reports a day and one code draws CODE_PER_DAY.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

STATES = ("received", "investigating", "closed")
TRANSITIONS = {"received": ("investigating", "closed"), "investigating": ("closed",), "closed": ()}
PHONE = re.compile(r"^1[3-9]\d{9}$")
NUMBER = re.compile(r"^JB-\d{8}-[0-9A-HJ-NP-Z]{8}$")
_ALPHABET = "0123456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I or O: read over the phone
TEXT_MAX = 500
CODE_MAX = 300
PHOTO_MAX_BYTES = 2 * 1024 * 1024
PHOTO_TYPES = {"image/jpeg": b"\xff\xd8\xff", "image/png": b"\x89PNG\r\n\x1a\n"}
MIN_FILL_SECONDS = 3
MAX_FORM_AGE = 2 * 3600
PHONE_PER_DAY = 3
CODE_PER_DAY = 20
_DOMAIN = b"tracegraph/report-form/v1"


def new_number(day: str) -> str:
    """A report number for a day (yyyymmdd): JB-20261204-7K3M9Q2D, unguessable (40 random bits)."""
    return f"JB-{day}-" + "".join(secrets.choice(_ALPHABET) for _ in range(8))


def transition_error(before: str, after: str) -> str | None:
    """Why a report cannot move from ``before`` to ``after`` (None: it can; the same state keeps it)."""
    if after not in STATES:
        return f"state: one of {', '.join(STATES)}"
    if after == before or after in TRANSITIONS.get(before, ()):
        return None
    return f"a {before} report cannot become {after}"


def photo_type(data: bytes) -> str | None:
    """The MIME type of a JPEG or PNG photo by its first bytes, or None for anything else or too large."""
    if not data or len(data) > PHOTO_MAX_BYTES:
        return None
    for mime, magic in PHOTO_TYPES.items():
        if data.startswith(magic):
            return mime
    return None


def normal_phone(text: str | None) -> str | None:
    """A mainland mobile number without spaces or dashes, or None when it is not one."""
    digits = re.sub(r"[\s-]", "", text or "")
    return digits if PHONE.match(digits) else None


def phone_digest(key: bytes, phone: str) -> str:
    """A keyed hash of a phone number: counted for limits without the number being searchable."""
    return hmac.new(key, b"phone:" + phone.encode(), hashlib.sha256).hexdigest()


def _mac(key: bytes, issued: int, code: str) -> str:
    return hmac.new(key, _DOMAIN + f"|{issued}|{code}".encode(), hashlib.sha256).hexdigest()[:32]


def form_token(key: bytes, issued: int, code: str) -> str:
    """The token a report form carries: its issue time (Unix seconds) and a MAC binding it to the code."""
    return f"{issued}.{_mac(key, issued, code)}"


def form_error(key: bytes, token: str | None, code: str, now: int, honeypot: str | None) -> str | None:
    """Why a submitted form is refused as automated (honeypot filled, bad or missing token, too fast, too old)."""
    if honeypot:
        return "honeypot"
    issued_text, _, mac = (token or "").partition(".")
    if not issued_text.isdigit() or not hmac.compare_digest(mac, _mac(key, int(issued_text), code)):
        return "bad_token"
    age = now - int(issued_text)
    if age < MIN_FILL_SECONDS:
        return "too_fast"
    if age > MAX_FORM_AGE:
        return "expired"
    return None


def limit_error(phone_count: int, code_count: int) -> str | None:
    """Why one more report is refused given today's counts for its phone and its code, or None."""
    if phone_count >= PHONE_PER_DAY:
        return "phone_limit"
    if code_count >= CODE_PER_DAY:
        return "code_limit"
    return None
