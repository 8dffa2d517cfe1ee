"""Every URI the label tests print must be accepted by GS1's digital-link.js (scripts/validate_dl.js)."""

import json
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest

from labels.digital_link import build_uri
from labels.serials import make_serial
from tests.labels.cases import AWKWARD_LOTS, BASE, BEEF_GTIN, GINSENG_GTIN, KEY, RICE_GTIN, sample_labels

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "validate_dl.js"


def _validate(uris: list[str]) -> list[dict]:
    if not shutil.which("node"):
        pytest.skip("node is not installed; digital-link.js cannot run")
    if not (ROOT / "node_modules" / "digital-link.js").is_dir():
        pytest.skip("node_modules/digital-link.js missing: run `npm ci` (make setup does)")
    proc = subprocess.run(
        ["node", str(SCRIPT)], input="\n".join(uris) + "\n", capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert proc.returncode in (0, 1), proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines()]


def _all_test_uris() -> list[str]:
    uris = [lb.uri for lb in sample_labels()]
    for gtin in (GINSENG_GTIN, RICE_GTIN, BEEF_GTIN):
        for lot in AWKWARD_LOTS:
            uris.append(build_uri(BASE, gtin, lot))
            uris.append(build_uri(BASE, gtin, lot, make_serial(KEY, gtin, lot), expiry=date(2027, 1, 31)))
            uris.append(build_uri(BASE + "/dl", gtin, lot, lot[::-1], date(2049, 12, 31), date(2000, 1, 1)))
    return uris


def test_every_uri_the_tests_print_passes_gs1_digital_link_validation():
    uris = _all_test_uris()
    results = _validate(uris)
    assert [r["uri"] for r in results] == uris
    rejected = [r for r in results if not r["valid"]]
    assert not rejected, rejected


def test_validator_rejects_what_gs1_rejects():
    bad = [
        "https://id.tracegraph.cn/01/06901234567893/10/L1",  # wrong check digit
        "https://id.tracegraph.cn/01/06901234567892/10/A%22B",  # %22 is not in the 1.2 grammar
        "https://id.tracegraph.cn/01/06901234567892/10/L1?17=260831&11=240901",  # not canonical order
        "not a uri",
    ]
    results = _validate(bad)
    assert [r["valid"] for r in results] == [False] * len(bad)
    assert all(r["error"] for r in results)
