"""Fresh, valid test data: random GS1 keys with correct check digits, parties with tokens, products, lots."""

from __future__ import annotations

import random
import uuid

from graph import lots, parties, products, tokens

_rng = random.SystemRandom()


def check_digit(body: str) -> str:
    """GS1 mod-10 check digit of the digits before it (an independent reference for the tests)."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return str((10 - total % 10) % 10)


# Under GS1 China's 699: generated data sets own the namespaces 69100-69899 (scripts/gen/ids.py), and tests that
# load one look for a namespace no test has touched, even in a kept test database that has seen a thousand runs.
def gln() -> str:
    """A fresh 13-digit GLN under a GS1 China prefix (699, outside the generated data's namespaces)."""
    body = "699" + "".join(_rng.choice("0123456789") for _ in range(9))
    return body + check_digit(body)


def gtin() -> str:
    """A fresh GTIN-14 under a GS1 China prefix (699, as gln)."""
    body = "0699" + "".join(_rng.choice("0123456789") for _ in range(9))
    return body + check_digit(body)


def lot_code() -> str:
    """A fresh lot number."""
    return "T" + uuid.uuid4().hex[:10].upper()


def bad_check_digit(key: str) -> str:
    """The same key with a wrong check digit."""
    return key[:-1] + str((int(key[-1]) + 1) % 10)


def auth(token: str) -> dict:
    """The Authorization header for a token."""
    return {"Authorization": f"Bearer {token}"}


class Factory:
    """Creates records directly through graph/ (arranging a test), returning what a test needs."""

    def __init__(self, graph, admin_token: str):
        self.graph = graph
        self.admin_token = admin_token

    def party(self, roles=("farm",), role="producer", **fields) -> dict:
        """A party and a token acting for it."""
        # Test parties hold the tests' GS1 range (0699...) unless a test gives them a company prefix of their own.
        record = {"gln": gln(), "name_zh": "测试农场", "name_en": "Test farm", "roles": list(roles),
                  "region_code": "220621", "region_zh": "抚松县", "contact_phone": "13800000000",
                  "company_prefixes": ["699"], **fields}
        parties.create(self.graph, record)
        record["token"] = tokens.create(self.graph, role, record["gln"], "test")["token"]
        return record

    def product(self, owner_gln: str, **fields) -> dict:
        """A product owned by a party."""
        record = {"gtin": gtin(), "name_zh": "人参", "name_en": "Ginseng", "category": "ginseng",
                  "unit": "KGM", "owner_gln": owner_gln, **fields}
        products.create(self.graph, record)
        return record

    def lot(self, gtin_: str, owner_gln: str, quantity: float = 100.0, **fields) -> dict:
        """A lot held by its owner."""
        record = {"gtin": gtin_, "lot": lot_code(), "quantity": quantity, "unit": "KGM",
                  "production_date": "2026-09-20", "expiry_date": None, "owner_gln": owner_gln, **fields}
        lots.create(self.graph, record)
        return record
