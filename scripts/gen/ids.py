"""GS1 keys for generated data: company prefixes, GLNs, GTINs, SSCCs and their Digital Link URIs.

Every company prefix is 9 digits, ``69`` + a 3-digit namespace + a 4-digit firm number: all keys fall under the
GS1 China prefixes 690-699, and two data sets generated with different namespaces never share a key (tests load
the same network twice into one database and compare the copies).
"""

from __future__ import annotations

from gs1.digital_link import DEFAULT_BASE as DL
from gs1.keys import check_digit


class Keys:
    """Allocates GS1 keys under one namespace."""

    def __init__(self, namespace: int = 0):
        """Keys under namespace 0-999 (the 3 digits after ``69`` in every company prefix)."""
        if not 0 <= namespace <= 999:
            raise ValueError("namespace must be 0-999")
        self.namespace = namespace
        self._sscc_next: dict[str, int] = {}

    def company_prefix(self, firm: int) -> str:
        """Return the 9-digit company prefix of firm number 0-9999."""
        return f"69{self.namespace:03d}{firm:04d}"

    @staticmethod
    def gln(prefix: str, ref: int) -> str:
        """Return the GLN for location reference 0-999 under a 9-digit company prefix."""
        body = f"{prefix}{ref:03d}"
        return body + check_digit(body)

    @staticmethod
    def gtin(prefix: str, ref: int) -> str:
        """Return the GTIN-14 (indicator 0) for item reference 0-999 under a 9-digit company prefix."""
        body = f"0{prefix}{ref:03d}"
        return body + check_digit(body)

    def sscc(self, prefix: str) -> str:
        """Return the next SSCC of a company (extension digit 0, 7-digit serial reference)."""
        n = self._sscc_next.get(prefix, 0)
        self._sscc_next[prefix] = n + 1
        body = f"{n // 10_000_000 % 10}{prefix}{n % 10_000_000:07d}"
        return body + check_digit(body)


def lot_uri(gtin: str, lot: str) -> str:
    """Digital Link of a lot (the LGTIN class)."""
    return f"{DL}/01/{gtin}/10/{lot}"


def item_uri(gtin: str, serial: str, lot: str | None = None) -> str:
    """Digital Link of a serialized item; with its lot so capture links the lot to the item (HAS_ITEM)."""
    return f"{DL}/01/{gtin}/10/{lot}/21/{serial}" if lot else f"{DL}/01/{gtin}/21/{serial}"


def sscc_uri(sscc: str) -> str:
    """Digital Link of a logistic unit."""
    return f"{DL}/00/{sscc}"


def location_uri(gln: str) -> str:
    """Digital Link of a physical location (AI 414)."""
    return f"{DL}/414/{gln}"


def party_uri(gln: str) -> str:
    """PGLN EPC URN of a party (our company prefixes are 9 digits).

    Not the AI 417 Digital Link: GS1's digital-link.js (1.x) rejects every /417/ URI as a wrong check digit,
    and gs1.identifiers maps both forms to the same ``party:{gln}`` key.
    """
    return f"urn:epc:id:pgln:{gln[:9]}.{gln[9:12]}"
