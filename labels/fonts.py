"""Find a CJK-capable font file; labels must never print Chinese as empty boxes."""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from labels.errors import FontMissing

ENV_VAR = "LABEL_FONT_PATH"

# Tried in order after LABEL_FONT_PATH. WenQuanYi Micro Hei first: it is small (5 MB), has
# Latin glyphs of its own, and fpdf2 2.8 reads its .ttc directly (collection_font_number).
KNOWN_PATHS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/System/Library/Fonts/PingFang.ttc",
)

# Characters every label prints; a font lacking any of them would produce tofu.
_PROBE = "人参大米牛肉绿色食品有机地理标志产地批号生产日期有效期至抚松县延边"

_HELP = (
    "No CJK font found for labels. Install one (Debian/Ubuntu: apt-get install fonts-wqy-microhei) "
    f"or set {ENV_VAR} to a .ttf/.ttc/.otf file that contains Chinese glyphs."
)


@dataclass(frozen=True)
class FontFile:
    """A font file and, for a .ttc collection, which face to use."""

    path: str
    index: int = 0


def _has_cjk(path: str, index: int) -> bool:
    try:
        from fontTools.ttLib import TTFont  # fpdf2 dependency, so always present

        with TTFont(path, fontNumber=index, lazy=True) as font:
            cmap = font.getBestCmap() or {}
            return all(ord(ch) in cmap for ch in _PROBE)
    except Exception:
        # Unreadable or non-font files are skipped like missing ones.
        return False


def _fc_list_candidates() -> list[str]:
    fc_list = shutil.which("fc-list")
    if not fc_list:
        return []
    try:
        out = subprocess.run(
            [fc_list, ":lang=zh", "file"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    files = sorted({line.split(":", 1)[0].strip() for line in out.splitlines() if line.strip()})
    # fpdf2 embeds TrueType outlines; CFF-based .otf faces are a last resort.
    return sorted(files, key=lambda f: (f.lower().endswith(".otf"), f))


@functools.lru_cache(maxsize=1)
def find_cjk_font() -> FontFile:
    """Return the CJK font to use: ``$LABEL_FONT_PATH``, then known paths, then fc-list.

    Cached for the life of the process; call ``find_cjk_font.cache_clear()`` after changing
    the environment.

    Raises:
        FontMissing: if ``LABEL_FONT_PATH`` is set but unusable, or no CJK font is installed.
    """
    env = os.environ.get(ENV_VAR)
    if env:
        if not Path(env).is_file():
            raise FontMissing(f"{ENV_VAR}={env!r} is not a file. {_HELP}")
        if not _has_cjk(env, 0):
            raise FontMissing(f"{ENV_VAR}={env!r} is not a font with Chinese glyphs. {_HELP}")
        return FontFile(env, 0)
    for path in (*KNOWN_PATHS, *_fc_list_candidates()):
        if Path(path).is_file() and _has_cjk(path, 0):
            return FontFile(path, 0)
    raise FontMissing(_HELP)
