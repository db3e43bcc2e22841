import io
import logging
from pathlib import Path

import pytest
from django.conf import settings
from pypdf import PdfReader

from certificates import pdf
from certificates.admin_views import sample_certificate
from certificates.rendering import certificate_context

pytestmark = pytest.mark.django_db


def _text(data: bytes) -> tuple[int, str]:
    reader = PdfReader(io.BytesIO(data))
    return len(reader.pages), "".join(page.extract_text() for page in reader.pages)


def test_stored_pdf_has_the_facts(certificate):
    pages, text = _text(certificate.pdf.read())
    assert pages == 1
    compact = text.replace(" ", "").replace("\n", "")
    assert "刘堃" in compact
    assert certificate.course_title in compact
    assert certificate.serial in compact
    assert certificate.code_display in compact
    assert "CERTIFICATEOFCOMPLETION" in compact.upper()
    assert "李建国" in compact


def test_qr_code_is_vector(certificate):
    page = PdfReader(io.BytesIO(certificate.pdf.read())).pages[0]
    xobjects = page["/Resources"].get("/XObject", {})
    subtypes = {str(x.get_object()["/Subtype"]) for x in xobjects.values()}
    assert "/Image" not in subtypes  # the QR is drawn as paths, not a bitmap


def test_a4_landscape(certificate):
    page = PdfReader(io.BytesIO(certificate.pdf.read())).pages[0]
    width, height = float(page.mediabox.width), float(page.mediabox.height)
    assert round(width) == 842 and round(height) == 595


def test_rare_characters_render_with_embedded_fonts():
    certificate = sample_certificate()
    certificate.holder_name = "张喆赟"
    certificate.holder_latin_name = ""
    certificate.course_title = "昇㛃𠮷堃 测量不确定度评定"
    data = pdf.render_certificate(certificate_context(certificate))
    reader = PdfReader(io.BytesIO(data))
    text = reader.pages[0].extract_text().replace(" ", "")
    for char in "喆赟昇㛃𠮷堃":
        assert char in text
    fonts = reader.pages[0]["/Resources"]["/Font"]
    for font in fonts.values():
        descendant = font.get_object()["/DescendantFonts"][0].get_object()
        descriptor = descendant["/FontDescriptor"].get_object()
        assert any(
            key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")
        )
        # Subsetted: the name carries a six-letter subset tag.
        assert "+" in str(descriptor["/FontName"])


def test_harfbuzz_subsetting_not_fonttools(caplog):
    assert pdf.harfbuzz_subset_available(), "install libharfbuzz-subset0"
    caplog.set_level(logging.WARNING, logger="weasyprint")
    pdf.render_certificate(certificate_context(sample_certificate()))
    assert not [r for r in caplog.records if "fontTools" in r.getMessage()]


def test_one_font_configuration_per_process():
    first = pdf._shared()
    second = pdf._shared()
    assert first[0] is second[0]
    assert first[1] is second[1]


HOSTILE = [
    '<img src="file:///etc/passwd">',
    '<link rel="stylesheet" href="http://example.com/x.css">',
    "<style>@import url(http://example.com/evil.css);</style>",
    '<svg><image href="http://example.com/x.png"/></svg>',
]


@pytest.mark.parametrize("payload", HOSTILE)
def test_html_in_names_renders_as_text_and_fetches_nothing(payload, monkeypatch):
    certificate = sample_certificate()
    certificate.holder_name = "刘堃" + payload
    certificate.course_title = "压力表" + payload
    certificate.scope = "http://example.com/x.png " + payload
    fetcher = pdf.RestrictedURLFetcher(pdf.allowed_roots())
    data = pdf.render_certificate(certificate_context(certificate), fetcher=fetcher)
    _pages, text = _text(data)
    assert "passwd" in text or "example.com" in text
    assert fetcher.refused == []
    assert all(url.startswith("file:") is False for url in fetcher.fetched)


def test_fetcher_refuses_network_and_foreign_files(tmp_path):
    fetcher = pdf.RestrictedURLFetcher(pdf.allowed_roots())
    for url in [
        "file:///etc/passwd",
        "http://example.com/a.png",
        "https://example.com/a.png",
        "ftp://example.com/a",
        f"file://{settings.BASE_DIR}/static/../academy/settings/base.py",
        "file://remote-host/etc/passwd",
    ]:
        with pytest.raises(pdf.ResourceRefused):
            fetcher.fetch(url)
    assert len(fetcher.refused) == 6


def test_fetcher_serves_static_files_and_data_uris(tmp_path):
    static_file = Path(settings.BASE_DIR) / "static" / "certificates" / "verify.js"
    fetcher = pdf.RestrictedURLFetcher(pdf.allowed_roots())
    response = fetcher.fetch(static_file.as_uri())
    assert b"SHA-256" in response.read()
    response = fetcher.fetch("data:text/plain;base64,aGVsbG8=")
    assert response.read() == b"hello"


def test_symlink_out_of_static_is_refused(tmp_path, settings):
    root = tmp_path / "static"
    root.mkdir()
    (root / "link").symlink_to("/etc/passwd")
    fetcher = pdf.RestrictedURLFetcher([root])
    with pytest.raises(pdf.ResourceRefused):
        fetcher.fetch((root / "link").as_uri())


def test_seal_image_is_embedded(db):
    from wagtail.images.models import Image
    from wagtail.images.tests.utils import get_test_image_file

    from certificates.models import CertificateDesign

    image = Image.objects.create(title="seal", file=get_test_image_file())
    design = CertificateDesign.objects.create(name="带公章", seal_image=image)
    data = pdf.render_certificate(certificate_context(sample_certificate(design)))
    page = PdfReader(io.BytesIO(data)).pages[0]
    xobjects = page["/Resources"].get("/XObject", {})
    subtypes = set()
    for xobject in xobjects.values():
        obj = xobject.get_object()
        subtypes.add(str(obj["/Subtype"]))
        for inner in obj.get("/Resources", {}).get("/XObject", {}).values():
            subtypes.add(str(inner.get_object()["/Subtype"]))
    assert "/Image" in subtypes


def _embedded_font_names(data: bytes) -> set[str]:
    fonts = PdfReader(io.BytesIO(data)).pages[0]["/Resources"]["/Font"]
    names = set()
    for font in fonts.values():
        descendant = font.get_object()["/DescendantFonts"][0].get_object()
        names.add(str(descendant["/FontDescriptor"].get_object()["/FontName"]))
    return names


@pytest.mark.slow
def test_rare_name_characters_come_from_the_built_extra_subset(
    tmp_path, monkeypatch, settings
):
    from certificates import fontbuild

    monkeypatch.setattr(
        fontbuild,
        "subset_codepoints",
        lambda: {ord(c) for c in "计量证书刘王ABCDEFGHIJKLMNOPQRSTUVWXYZ"},
    )
    monkeypatch.setattr(
        fontbuild,
        "extra_codepoints",
        lambda available: [ord(c) for c in "喆堃" if ord(c) in available],
    )
    for spec in fontbuild.FONT_SPECS:
        if spec.chunk <= 1:  # the rest would be empty here
            fontbuild.build_font(spec, out_dir=tmp_path)
    settings.CERTIFICATES_FONT_DIR = tmp_path
    pdf.reset()
    try:
        certificate = sample_certificate()
        certificate.holder_name = "刘堃喆"
        data = pdf.render_certificate(certificate_context(certificate))
    finally:
        pdf.reset()
    names = {name.replace("-", "") for name in _embedded_font_names(data)}
    assert any("AcademyCertSerifExtra" in name for name in names), names
    text = PdfReader(io.BytesIO(data)).pages[0].extract_text().replace(" ", "")
    assert "刘堃喆" in text


def test_each_stream_is_compressed_once_per_write(monkeypatch):
    import zlib
    from collections import Counter

    html = pdf.render_certificate_html(certificate_context(sample_certificate()))
    compressed = Counter()
    real_compress = zlib.compress

    def counting_compress(data, level=-1):
        compressed[data] += 1
        return real_compress(data, level)

    monkeypatch.setattr(pdf.zlib, "compress", counting_compress)
    pdf.html_to_pdf(html)
    assert compressed, "streams are compressed through the memo"
    assert max(compressed.values()) == 1
    assert pdf._writing.memo is None  # nothing is kept after the write


def test_stream_memo_changes_nothing_but_the_compression_level(monkeypatch):
    import pydyf

    html = pdf.render_certificate_html(certificate_context(sample_certificate()))
    ours = PdfReader(io.BytesIO(pdf.html_to_pdf(html))).pages[0]
    monkeypatch.setattr(pydyf.Stream, "data", pdf._pydyf_stream_data)
    monkeypatch.setattr(pydyf.PDF, "write", pdf._pydyf_write)
    theirs = PdfReader(io.BytesIO(pdf.html_to_pdf(html))).pages[0]
    assert ours.get_contents().get_data() == theirs.get_contents().get_data()
    assert ours.extract_text() == theirs.extract_text()


LONG_TITLE = (
    "电能计量装置现场检验与电能表检定、校准及测量不确定度评定综合实践（高级研修班）"
)
LONG_TITLE_EN = (
    "Field inspection of electrical energy metering devices, verification and "
    "calibration of watt-hour meters, and evaluation of measurement uncertainty"
)


def _word_boxes(data: bytes, tmp_path) -> list[tuple[str, float, float]]:
    """(word, top, bottom) in PDF points, from poppler's pdftotext."""
    import re
    import shutil
    import subprocess

    pdftotext = shutil.which("pdftotext")
    assert pdftotext, "install poppler-utils (scripts/bootstrap.sh does)"
    path = tmp_path / "certificate.pdf"
    path.write_bytes(data)
    html = subprocess.run(  # noqa: S603 - fixed argv, our own file
        [pdftotext, "-bbox", str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    pattern = r'yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)<'
    return [
        (word, float(top), float(bottom))
        for top, bottom, word in re.findall(pattern, html)
    ]


@pytest.mark.parametrize(
    ("title", "title_en", "scope_rows"),
    [
        ("压力表检定与校准", "Verification of Pressure Gauges", 0),
        (LONG_TITLE, LONG_TITLE_EN, 0),
        (LONG_TITLE, LONG_TITLE_EN, 6),
        (LONG_TITLE * 2, LONG_TITLE_EN * 2, 12),
    ],
)
def test_long_texts_stay_above_the_footer(tmp_path, title, title_en, scope_rows):
    certificate = sample_certificate()
    certificate.course_title, certificate.course_title_en = title, title_en
    scopes = certificate.sample_scopes * scope_rows
    data = pdf.render_certificate(certificate_context(certificate, scopes=scopes))
    assert len(PdfReader(io.BytesIO(data)).pages) == 1
    words = _word_boxes(data, tmp_path)
    footer_top = min(top for word, top, _ in words if word == "证书编号")
    facts_bottom = max(bottom for word, _, bottom in words if word == "Nov")
    assert facts_bottom < footer_top


def test_scope_rows_that_do_not_fit_are_counted_not_dropped_silently():
    certificate = sample_certificate()
    certificate.course_title, certificate.course_title_en = LONG_TITLE, LONG_TITLE_EN
    scopes = certificate.sample_scopes * 30
    data = pdf.render_certificate(certificate_context(certificate, scopes=scopes))
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text().replace(" ", "")
    printed = text.count("弹簧管式一般压力表")
    assert 0 < printed < 30
    assert f"另有{30 - printed}项授权范围" in text


def test_a_typical_certificate_is_laid_out_once(monkeypatch):
    layouts = []
    real_layout = pdf._layout
    monkeypatch.setattr(
        pdf,
        "_layout",
        lambda html, fetcher: layouts.append(1) or real_layout(html, fetcher),
    )
    pdf.render_certificate(certificate_context(sample_certificate()))
    assert len(layouts) == 1
