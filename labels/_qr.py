"""A faster QR encoder on top of ``qrcode``: same symbols, about 4x less time per code.

``qrcode`` places the data bit by bit and scores each of the 8 masks with per-module Python
loops; that is ~7 ms per label URI and the whole budget of a 100 labels/s renderer. Here the
data path for a version is computed once and reused, and the mask penalties (ISO/IEC 18004
7.8.3, scored exactly as ``qrcode.util.lost_point`` does) are counted on strings and ints.
Tests check that the chosen mask and the final matrix equal what ``qrcode`` produces.
"""

from __future__ import annotations

import re

import qrcode
from qrcode import util

_DATA_PATH: dict[int, tuple[tuple[int, int], ...]] = {}
_MASKS: dict[tuple[int, int], tuple[bool, ...]] = {}

_RUN5 = re.compile(r"0{5,}|1{5,}")
# Finder-like 1:1:3:1:1 with 4 light modules on one side; the lookahead counts overlaps.
_FINDER = re.compile(r"(?=10111010000|00001011101)")


def _data_path(modules: list[list[bool | None]], version: int) -> tuple[tuple[int, int], ...]:
    """The order in which data bits fill the free modules: fixed for a version."""
    path = _DATA_PATH.get(version)
    if path is not None:
        return path
    n = len(modules)
    out = []
    inc, row = -1, n - 1
    for col in range(n - 1, 0, -2):
        if col <= 6:
            col -= 1
        while True:
            for c in (col, col - 1):
                if modules[row][c] is None:
                    out.append((row, c))
            row += inc
            if row < 0 or row >= n:
                row -= inc
                inc = -inc
                break
    path = _DATA_PATH[version] = tuple(out)
    return path


def _mask_bits(version: int, mask: int, path: tuple[tuple[int, int], ...]) -> tuple[bool, ...]:
    key = (version, mask)
    bits = _MASKS.get(key)
    if bits is None:
        fn = util.mask_func(mask)
        bits = _MASKS[key] = tuple(bool(fn(r, c)) for r, c in path)
    return bits


_DIFF: dict[tuple[int, int], tuple[int, ...]] = {}
_TO_ASCII = bytes.maketrans(b"\x00\x01", b"01")


def _row_ints(modules: list[list[bool]]) -> list[int]:
    """Each row as an int, column 0 the most significant bit."""
    return [int(bytes(row).translate(_TO_ASCII), 2) for row in modules]


def _mask_diff(version: int, n: int, mask: int) -> tuple[int, ...]:
    """Per row, the data modules where ``mask`` and mask 0 differ: XOR turns one into the other."""
    key = (version, mask)
    rows = _DIFF.get(key)
    if rows is None:
        path = _DATA_PATH[version]
        acc = [0] * n
        for (r, c), m0, mi in zip(path, _mask_bits(version, 0, path), _mask_bits(version, mask, path), strict=True):
            if m0 != mi:
                acc[r] |= 1 << (n - 1 - c)
        rows = _DIFF[key] = tuple(acc)
    return rows


def _penalty_rows(ints: list[int], n: int) -> int:
    rows = [format(v, f"0{n}b") for v in ints]
    cols = ["".join(col) for col in zip(*rows, strict=True)]
    score = 0
    for line in rows + cols:
        for m in _RUN5.finditer(line):
            score += m.end() - m.start() - 2
        score += 40 * len(_FINDER.findall(line))
    full = (1 << n) - 1
    for a, b in zip(ints, ints[1:], strict=False):
        dark = a & b
        light = ~(a | b) & full
        score += 3 * ((dark & (dark >> 1)).bit_count() + (light & (light >> 1)).bit_count())
    dark_count = sum(v.bit_count() for v in ints)
    score += int(abs(dark_count / (n * n) * 100 - 50) / 5) * 10
    return score


def penalty(modules: list[list[bool]]) -> int:
    """Return the mask penalty score of a finished matrix (same value as ``qrcode.util.lost_point``)."""
    return _penalty_rows(_row_ints(modules), len(modules))


class FastQRCode(qrcode.QRCode):
    """``qrcode.QRCode`` with cached data placement and a string/int mask scorer."""

    def map_data(self, data, mask_pattern):  # noqa: D102 - overrides qrcode's method, same contract
        path = _data_path(self.modules, self.version)
        masks = _mask_bits(self.version, mask_pattern, path)
        bits = "".join(f"{b:08b}" for b in data).ljust(len(path), "0")
        modules = self.modules
        for (r, c), bit, flip in zip(path, bits, masks, strict=False):
            modules[r][c] = (bit == "1") != flip

    def best_mask_pattern(self):  # noqa: D102 - overrides qrcode's method, same contract
        # Place the data once (mask 0, format area light as qrcode scores it), then derive
        # the other seven candidates by XOR-ing whole rows instead of placing again.
        self.makeImpl(True, 0)
        n = self.modules_count
        base = _row_ints(self.modules)
        best, best_score = 0, None
        for i in range(8):
            diff = _mask_diff(self.version, n, i)
            score = _penalty_rows([a ^ d for a, d in zip(base, diff, strict=True)], n)
            if best_score is None or score < best_score:
                best, best_score = i, score
        return best
