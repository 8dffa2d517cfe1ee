import random
import string

import pytest
import qrcode
from qrcode import util
from qrcode.constants import ERROR_CORRECT_H, ERROR_CORRECT_M

from labels._qr import FastQRCode, penalty
from labels.render import QUIET_ZONE, qr_matrix


def _matrix(cls, data, ec):
    code = cls(error_correction=ec, border=QUIET_ZONE)
    code.add_data(data)
    code.make(fit=True)
    return code.get_matrix()


@pytest.mark.slow  # every version and level against the reference encoder: seconds
def test_fast_encoder_produces_exactly_the_qrcode_symbol():
    rng = random.Random(7)
    alphabet = string.ascii_letters + string.digits + "%-/?&="
    for i in range(50):
        data = f"https://id.tracegraph.cn/01/0690123456789{i % 10}/10/" + "".join(
            rng.choices(alphabet, k=rng.randint(1, 300))
        )
        for ec in (ERROR_CORRECT_M, ERROR_CORRECT_H):
            assert _matrix(FastQRCode, data, ec) == _matrix(qrcode.QRCode, data, ec)


def test_penalty_score_equals_qrcode_lost_point():
    code = qrcode.QRCode()
    code.add_data("https://id.tracegraph.cn/01/06901234567892/10/L1/21/ABCDEFGHJK234567")
    code.make()
    for mask in range(8):
        code.makeImpl(True, mask)
        assert penalty(code.modules) == util.lost_point(code.modules)


def test_matrix_carries_a_four_module_quiet_zone():
    m = qr_matrix("https://id.tracegraph.cn/01/06901234567892/10/L1")
    n = len(m)
    for k in range(QUIET_ZONE):
        assert not any(m[k]) and not any(m[n - 1 - k])
        assert not any(row[k] or row[n - 1 - k] for row in m)
    assert any(m[QUIET_ZONE])
