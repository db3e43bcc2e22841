import pytest
from fontTools.ttLib import TTFont

from certificates import fontbuild


def test_gb2312_set():
    chars = fontbuild.gb2312_characters()
    assert 7000 < len(chars) < 7600
    assert ord("压") in chars and ord("计") in chars
    assert ord("堃") not in chars  # rare: served by the fallback font


@pytest.mark.slow
def test_build_renames_and_subsets(tmp_path, monkeypatch):
    monkeypatch.setattr(
        fontbuild, "subset_codepoints", lambda: {ord(c) for c in "计量证书ABC123"}
    )
    path = fontbuild.build_font(fontbuild.FONT_SPECS[0], out_dir=tmp_path)
    font = TTFont(path)
    assert font["name"].getDebugName(1) == "Academy Cert Sans"
    cmap = font.getBestCmap()
    assert ord("计") in cmap and ord("A") in cmap
    assert ord("堃") not in cmap
    assert path.stat().st_size < 200_000


def test_glyph_priority_puts_common_characters_first():
    order = fontbuild.glyph_priority()
    assert len(order) == len(set(order))
    position = {codepoint: i for i, codepoint in enumerate(order)}
    assert position[ord("A")] < position[ord("，")] < position[ord("证")]
    # GB2312 level 1 (啊 … 座) before level 2 (亍 … 齄)
    assert position[ord("座")] < position[ord("亍")]
    assert set(order) <= fontbuild.subset_codepoints()


@pytest.mark.slow
def test_build_orders_glyphs_by_priority(tmp_path, monkeypatch):
    monkeypatch.setattr(
        fontbuild, "subset_codepoints", lambda: {ord(c) for c in "齄计量证书ABC"}
    )
    path = fontbuild.build_font(fontbuild.FONT_SPECS[0], out_dir=tmp_path)
    font = TTFont(path)
    cmap = font.getBestCmap()
    gid = {name: i for i, name in enumerate(font.getGlyphOrder())}
    assert font.getGlyphOrder()[0] == ".notdef"
    assert gid[cmap[ord("A")]] < gid[cmap[ord("计")]] < gid[cmap[ord("齄")]]
