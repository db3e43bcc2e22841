"""Build the compact subset fonts embedded in certificate PDFs.

Noto Sans/Serif CJK SC cut down to GB2312 (6,763 hanzi and its symbols),
Latin, CJK punctuation and full-width forms, and renamed so that the subset
can never be mistaken for the full system font. The full font stays the CSS
fallback for rare characters (堃, 㛃, 𠮷 …).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

FONT_SOURCE_DIR = Path("/usr/share/fonts/opentype/noto")
SUBSET_FAMILY_SANS = "Academy Cert Sans"
SUBSET_FAMILY_SERIF = "Academy Cert Serif"

MAIN, EXTRA = "main", "extra"


@dataclass(frozen=True)
class FontSpec:
    source: str
    index: int  # font number inside the .ttc collection (2 = SC)
    family: str
    style: str  # "Regular" / "Bold"
    output: str
    # MAIN: GB2312, Latin and punctuation. EXTRA: the other CJK ideographs of
    # the source font, for rare characters in names (堃, 喆, 赟, 㛃, 𠮷), split
    # in chunks of EXTRA_CHUNK_GLYPHS (``chunk`` counts from 1; the last chunk
    # takes whatever is left).
    coverage: str = MAIN
    chunk: int = 0


# WeasyPrint subsets keeping glyph ids, so a character at glyph id N embeds
# N empty slots (≈ 3.8 bytes each in the PDF): one 23,400-glyph extra font
# made a name with 㛃 cost 56 KB. Chunks of 4,096 keep any rare character
# under ≈ 16 KB and make its subsetting cheaper.
EXTRA_CHUNK_GLYPHS = 4096
EXTRA_CHUNKS = 6

_SOURCES = {
    "Sans": ("NotoSansCJK-Regular.ttc", "Regular", SUBSET_FAMILY_SANS),
    "Serif": ("NotoSerifCJK-Bold.ttc", "Bold", SUBSET_FAMILY_SERIF),
}


def _suffix(style: str) -> str:
    return "-bold" if style == "Bold" else ""


def _main_spec(kind: str) -> FontSpec:
    source, style, family = _SOURCES[kind]
    return FontSpec(
        source, 2, family, style, f"cert-{kind.lower()}{_suffix(style)}.otf"
    )


def _extra_specs(kind: str) -> list[FontSpec]:
    source, style, _family = _SOURCES[kind]
    return [
        FontSpec(
            source,
            2,
            f"Academy Cert {kind} Extra {chunk}",
            style,
            f"cert-{kind.lower()}-extra-{chunk}{_suffix(style)}.otf",
            coverage=EXTRA,
            chunk=chunk,
        )
        for chunk in range(1, EXTRA_CHUNKS + 1)
    ]


FONT_SPECS = [
    _main_spec("Sans"),
    _main_spec("Serif"),
    # Without the extra subsets, a rare character falls back to the full
    # system font collection: WeasyPrint then copies the whole 19-25 MB file
    # and HarfBuzz desubroutinises and subsets it on every such render
    # (+10-25 ms, up to +70 KB of PDF). They are desubroutinised once, here.
    *_extra_specs("Sans"),
    *_extra_specs("Serif"),
]


def family_stack(kind: str) -> list[str]:
    """CSS font families for ``kind`` ("Sans" or "Serif"), in fallback order:
    main subset, extra chunks, then the full system fonts."""
    other = "Serif" if kind == "Sans" else "Sans"
    return [
        _SOURCES[kind][2],
        *(spec.family for spec in _extra_specs(kind)),
        f"Noto {kind} CJK SC",
        _SOURCES[other][2],
        f"Noto {other} CJK SC",
    ]


# CJK Unified Ideographs and its extensions, compatibility ideographs, and
# the supplementary ideographic plane (names use characters from all of them).
CJK_IDEOGRAPH_RANGES = (
    range(0x4E00, 0xA000),  # URO: most rare name characters (堃 喆 赟 昇)
    range(0x3400, 0x4DC0),  # Extension A (㛃)
    range(0xF900, 0xFB00),  # compatibility ideographs
    range(0x20000, 0x323B0),  # extensions B-H (𠮷)
)


def font_dir() -> Path:
    default = Path(getattr(settings, "VAR_DIR", Path(settings.BASE_DIR) / "var"))
    return Path(getattr(settings, "CERTIFICATES_FONT_DIR", default / "fonts"))


def font_source_dir() -> Path:
    return Path(getattr(settings, "CERTIFICATES_FONT_SOURCE_DIR", FONT_SOURCE_DIR))


def gb2312_characters() -> set[int]:
    codepoints: set[int] = set()
    for high in range(0xA1, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                char = bytes((high, low)).decode("gb2312")
            except UnicodeDecodeError:
                continue
            codepoints.add(ord(char))
    return codepoints


def subset_codepoints() -> set[int]:
    codepoints = gb2312_characters()
    codepoints |= set(range(0x20, 0x7F))  # ASCII
    codepoints |= set(range(0xA0, 0x180))  # Latin-1, Latin Extended-A (pinyin)
    codepoints |= {0x01CD, 0x01CE, 0x01CF, 0x01D0, 0x01D1, 0x01D2, 0x01D3, 0x01D4}
    codepoints |= set(range(0x01D5, 0x01DD))  # ü with tones
    codepoints |= set(range(0x2000, 0x2070))  # general punctuation
    codepoints |= set(range(0x2100, 0x2160))  # letterlike (℃, №)
    codepoints |= set(range(0x3000, 0x3040))  # CJK symbols and punctuation
    codepoints |= set(range(0xFF00, 0xFFF0))  # full-width forms
    codepoints |= {0x00B0, 0x00B1, 0x00B5, 0x00D7, 0x03BC, 0x03A9, 0x2103}
    return codepoints


def extra_codepoints(available: set[int]) -> list[int]:
    """The CJK ideographs of a source font that the main subset lacks, in
    glyph order: URO first (where most rare name characters are), then the
    extensions."""
    main = subset_codepoints()
    return [
        codepoint
        for block in CJK_IDEOGRAPH_RANGES
        for codepoint in block
        if codepoint in available and codepoint not in main
    ]


def extra_chunk(codepoints: list[int], chunk: int) -> list[int]:
    """The code points of extra font ``chunk`` (1-based; the last takes the rest)."""
    start = (chunk - 1) * EXTRA_CHUNK_GLYPHS
    if chunk >= EXTRA_CHUNKS:
        return codepoints[start:]
    return codepoints[start : start + EXTRA_CHUNK_GLYPHS]


def glyph_priority() -> list[int]:
    """Code points in the order their glyphs get ids in the built font.

    WeasyPrint subsets with HarfBuzz keeping glyph ids, so an embedded font
    holds an (empty) slot for every glyph id below the highest one used: a
    single character at glyph id 13,000 costs ~30 KB of PDF and ~4 ms of
    subsetting. Ordering the glyphs Latin and punctuation first, then GB2312
    level 1 (the 3,755 common hanzi), then level 2 keeps typical certificate
    text below glyph id ~4,500.
    """
    first = [
        *range(0x20, 0x7F),
        *range(0xA0, 0x180),
        *range(0x2000, 0x2070),
        *range(0x3000, 0x3040),
        *range(0xFF00, 0xFFF0),
    ]
    level_1, level_2 = [], []
    for high in range(0xB0, 0xF8):
        for low in range(0xA1, 0xFF):
            try:
                char = bytes((high, low)).decode("gb2312")
            except UnicodeDecodeError:
                continue
            (level_1 if high < 0xD8 else level_2).append(ord(char))
    return first + level_1 + level_2


def _reorder_glyphs(font, priority: list[int]) -> None:
    from fontTools.ttLib.reorderGlyphs import reorderGlyphs

    order = font.getGlyphOrder()
    cmap = font.getBestCmap()
    new_order = [order[0]]  # .notdef stays glyph 0
    seen = {order[0]}
    for codepoint in priority:
        glyph = cmap.get(codepoint)
        if glyph is not None and glyph not in seen:
            new_order.append(glyph)
            seen.add(glyph)
    new_order += [glyph for glyph in order if glyph not in seen]
    reorderGlyphs(font, new_order)


def build_font(spec: FontSpec, *, out_dir: Path, desubroutinize: bool = True) -> Path:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(font_source_dir() / spec.source, fontNumber=spec.index, lazy=False)
    if spec.coverage == EXTRA:
        priority = extra_chunk(extra_codepoints(set(font.getBestCmap())), spec.chunk)
        wanted = set(priority)
    else:
        priority = glyph_priority()
        wanted = subset_codepoints()
    options = subset.Options()
    # The extra font only ever sets isolated rare ideographs in horizontal
    # text; its layout features would pull the main subset's glyphs back in.
    options.layout_features = ["*"] if spec.coverage == MAIN else []
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.hinting = False
    # WeasyPrint asks HarfBuzz to desubroutinize on every render; doing it
    # once here makes each render's subsetting cheaper.
    options.desubroutinize = desubroutinize
    options.notdef_outline = True
    subsetter = subset.Subsetter(options=options)
    subsetter.populate(unicodes=wanted)
    subsetter.subset(font)
    _reorder_glyphs(font, priority)
    _rename(font, spec)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / spec.output
    # Written under a temporary name and moved into place: a renderer never
    # sees half a font, and an interrupted build leaves the old one.
    partial = path.with_name(path.name + ".partial")
    font.save(partial)
    partial.replace(path)
    stamp_path(path).write_text(_build_stamp(spec))
    return path


def _rename(font, spec: FontSpec) -> None:
    name_table = font["name"]
    full = f"{spec.family} {spec.style}"
    postscript = f"{spec.family.replace(' ', '')}-{spec.style}"
    for record in list(name_table.names):
        if record.nameID in (1, 16):
            record.string = spec.family
        elif record.nameID in (2, 17):
            record.string = spec.style
        elif record.nameID == 3:
            record.string = f"{postscript};subset"
        elif record.nameID == 4:
            record.string = full
        elif record.nameID == 6:
            record.string = postscript
    if "CFF " in font:
        cff = font["CFF "].cff
        cff.fontNames = [postscript]
        top = cff.topDictIndex[0]
        top.FullName = full
        top.FamilyName = spec.family


def _build_stamp(spec: FontSpec) -> str:
    """What a built font depends on: this module's code and its source font."""
    import hashlib

    source = font_source_dir() / spec.source
    stat = source.stat()
    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update(f"{spec}|{stat.st_size}|{stat.st_mtime_ns}".encode())
    return digest.hexdigest()


def stamp_path(path: Path) -> Path:
    """Where the build stamp of the font at ``path`` is kept."""
    return path.with_name(path.name + ".stamp")


def up_to_date(spec: FontSpec, *, out_dir: Path) -> bool:
    path = out_dir / spec.output
    try:
        return stamp_path(path).read_text() == _build_stamp(spec) and path.exists()
    except OSError:
        return False


def built_font_paths() -> dict[str, Path]:
    """The subset fonts that exist, keyed by output name."""
    directory = font_dir()
    return {
        spec.output: directory / spec.output
        for spec in FONT_SPECS
        if (directory / spec.output).exists()
    }
