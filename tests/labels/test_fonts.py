import pytest

from labels import fonts
from labels.errors import FontMissing
from labels.fonts import find_cjk_font
from labels.render import render_png
from tests.labels.cases import GINSENG_GTIN, make_label

DEJAVU = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


@pytest.fixture(autouse=True)
def fresh_font_lookup():
    find_cjk_font.cache_clear()
    yield
    find_cjk_font.cache_clear()


def test_a_cjk_font_is_installed_for_development():
    font = find_cjk_font()
    assert fonts._has_cjk(font.path, font.index)


def test_env_variable_wins(monkeypatch):
    found = find_cjk_font()
    find_cjk_font.cache_clear()
    monkeypatch.setenv("LABEL_FONT_PATH", found.path)
    assert find_cjk_font().path == found.path


def test_env_variable_pointing_nowhere_says_what_to_do(monkeypatch, tmp_path):
    monkeypatch.setenv("LABEL_FONT_PATH", str(tmp_path / "missing.ttf"))
    with pytest.raises(FontMissing, match="LABEL_FONT_PATH") as info:
        find_cjk_font()
    assert "fonts-wqy-microhei" in str(info.value)


def test_font_without_chinese_glyphs_is_refused(monkeypatch):
    import os

    if not os.path.exists(DEJAVU):
        pytest.skip("DejaVu Sans not installed; it only serves as a font without Chinese glyphs")
    monkeypatch.setenv("LABEL_FONT_PATH", DEJAVU)
    with pytest.raises(FontMissing, match="Chinese"):
        find_cjk_font()


def test_no_font_anywhere_fails_clearly_instead_of_printing_tofu(monkeypatch):
    monkeypatch.delenv("LABEL_FONT_PATH", raising=False)
    monkeypatch.setattr(fonts, "KNOWN_PATHS", ())
    monkeypatch.setattr(fonts, "_fc_list_candidates", lambda: [])
    with pytest.raises(FontMissing, match="apt-get install fonts-wqy-microhei"):
        render_png(make_label(GINSENG_GTIN, "L1"))
