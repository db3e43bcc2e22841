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


def test_extra_codepoints_are_the_ideographs_the_main_subset_lacks():
    main = fontbuild.subset_codepoints()
    available = {ord(c) for c in "计量证书A"} | {ord(c) for c in "𠮷㛃堃喆"}
    order = fontbuild.extra_codepoints(available)
    # URO (堃 U+5803, 喆 U+5586) first, then Extension A (㛃), then B (𠮷).
    assert order == [ord("喆"), ord("堃"), ord("㛃"), ord("𠮷")]
    assert not set(order) & main


def _build_tiny_fonts(out_dir, monkeypatch):
    monkeypatch.setattr(
        fontbuild, "subset_codepoints", lambda: {ord(c) for c in "计量证书ABC"}
    )
    return {
        spec.output: fontbuild.build_font(spec, out_dir=out_dir)
        for spec in fontbuild.FONT_SPECS
        if spec.chunk <= 2
    }


@pytest.mark.slow
def test_extra_fonts_hold_rare_characters_only(tmp_path, monkeypatch):
    monkeypatch.setattr(
        fontbuild,
        "extra_codepoints",
        lambda available: [ord(c) for c in "喆堃㛃" if ord(c) in available],
    )
    paths = _build_tiny_fonts(tmp_path, monkeypatch)
    extra = TTFont(paths["cert-sans-extra-1.otf"])
    assert extra["name"].getDebugName(1) == "Academy Cert Sans Extra 1"
    cmap = extra.getBestCmap()
    assert {ord("喆"), ord("堃"), ord("㛃")} <= set(cmap)
    assert ord("计") not in cmap and ord("A") not in cmap
    order = {name: gid for gid, name in enumerate(extra.getGlyphOrder())}
    assert order[cmap[ord("喆")]] < order[cmap[ord("堃")]] < order[cmap[ord("㛃")]]
    serif = TTFont(paths["cert-serif-extra-1-bold.otf"])
    assert serif["name"].getDebugName(1) == "Academy Cert Serif Extra 1"
    # Later chunks hold none of these characters.
    assert ord("喆") not in (TTFont(paths["cert-sans-extra-2.otf"]).getBestCmap() or {})


@pytest.mark.slow
def test_built_fonts_are_rebuilt_only_when_out_of_date(tmp_path, monkeypatch):
    monkeypatch.setattr(
        fontbuild, "subset_codepoints", lambda: {ord(c) for c in "计量ABC"}
    )
    spec = fontbuild.FONT_SPECS[0]
    assert not fontbuild.up_to_date(spec, out_dir=tmp_path)
    path = fontbuild.build_font(spec, out_dir=tmp_path)
    assert fontbuild.up_to_date(spec, out_dir=tmp_path)
    assert not path.with_name(path.name + ".partial").exists()
    # A changed build (code or source font) makes the font out of date …
    real_stamp = fontbuild._build_stamp
    monkeypatch.setattr(fontbuild, "_build_stamp", lambda spec: "changed")
    assert not fontbuild.up_to_date(spec, out_dir=tmp_path)
    # … and so does a missing font file next to a current stamp.
    monkeypatch.setattr(fontbuild, "_build_stamp", real_stamp)
    path.unlink()
    assert not fontbuild.up_to_date(spec, out_dir=tmp_path)


def test_extra_fonts_are_chunked_so_no_rare_character_sits_far_in(monkeypatch):
    monkeypatch.setattr(fontbuild, "EXTRA_CHUNK_GLYPHS", 3)
    monkeypatch.setattr(fontbuild, "EXTRA_CHUNKS", 3)
    codepoints = list(range(100, 110))
    chunks = [fontbuild.extra_chunk(codepoints, chunk) for chunk in (1, 2, 3)]
    assert chunks == [[100, 101, 102], [103, 104, 105], [106, 107, 108, 109]]


def test_font_families_fall_back_main_then_extra_chunks_then_system():
    stack = fontbuild.family_stack("Serif")
    assert stack[0] == "Academy Cert Serif"
    extras = [family for family in stack if "Extra" in family]
    assert extras == [
        f"Academy Cert Serif Extra {n}" for n in range(1, fontbuild.EXTRA_CHUNKS + 1)
    ]
    assert stack.index("Noto Serif CJK SC") > stack.index(extras[-1])
    built = {spec.family for spec in fontbuild.FONT_SPECS}
    assert set(extras) <= built


def test_build_command_explains_missing_source_fonts(tmp_path, settings):
    from django.core.management import CommandError, call_command

    settings.CERTIFICATES_FONT_SOURCE_DIR = tmp_path / "nowhere"
    with pytest.raises(CommandError, match="fonts-noto-cjk"):
        call_command("build_certificate_fonts", output=str(tmp_path / "out"))
    assert not (tmp_path / "out").exists()  # nothing half-built


@pytest.mark.slow
def test_build_command_skips_fonts_that_are_up_to_date(tmp_path, monkeypatch):
    from io import StringIO

    from django.core.management import call_command

    monkeypatch.setattr(
        fontbuild, "subset_codepoints", lambda: {ord(c) for c in "计量ABC"}
    )
    monkeypatch.setattr(fontbuild, "extra_codepoints", lambda available: [ord("堃")])
    monkeypatch.setattr(
        "certificates.management.commands.build_certificate_fonts.FONT_SPECS",
        fontbuild.FONT_SPECS[:3],
    )
    monkeypatch.setattr(fontbuild, "FONT_SPECS", fontbuild.FONT_SPECS[:3])
    (tmp_path / "cert-old-layout.otf").write_bytes(b"stale")
    first = StringIO()
    call_command("build_certificate_fonts", output=str(tmp_path), jobs=1, stdout=first)
    assert "KiB" in first.getvalue()
    assert not (tmp_path / "cert-old-layout.otf").exists()
    second = StringIO()
    call_command("build_certificate_fonts", output=str(tmp_path), jobs=1, stdout=second)
    assert second.getvalue().count("is up to date") == 3
