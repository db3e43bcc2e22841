"""PDF rendering. The only module that imports WeasyPrint.

One ``FontConfiguration`` and one parsed base stylesheet are kept per process
and reused by every render (loading fonts is the expensive part). Resources
are fetched through ``RestrictedURLFetcher``: ``data:`` URIs and files inside
the project's static directories and the certificate font directory only;
no network and no other ``file://`` paths.
"""

from __future__ import annotations

import base64
import logging
import mimetypes
import threading
import zlib
from functools import cache
from pathlib import Path
from urllib import request
from urllib.parse import unquote, unquote_to_bytes, urlsplit

import pydyf
from django.conf import settings
from django.template.loader import render_to_string
from weasyprint import CSS, HTML, Attachment
from weasyprint.text import ffi as weasyprint_ffi
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

from .fontbuild import FONT_SPECS, family_stack, font_dir
from .renderer import EmbeddedFile

logger = logging.getLogger("academy.certificates.pdf")

BASE_CSS_TEMPLATE = "certificates/pdf/certificate.css"
# PDF/A-3b: archival PDF that may carry embedded files (the credential).
PDF_VARIANT = "pdf/a-3b"

_lock = threading.Lock()
_state: dict[str, object] = {}

# zlib level for PDF streams. pydyf uses 9; 6 (zlib's default) compresses the
# embedded font subsets 2-3 times faster for about 1 KB more per certificate.
STREAM_COMPRESSION_LEVEL = 6

_writing = threading.local()
_pydyf_stream_data = pydyf.Stream.data


def _stream_data(stream: pydyf.Stream) -> bytes:
    """``pydyf.Stream.data``, compressed once per write at our level.

    PDF/A needs a file identifier, for which pydyf serialises every object a
    second time (an MD5 over all object data), compressing every stream
    twice: about 8 of the 50 ms a certificate takes. While ``pydyf.PDF.write``
    runs the streams are final, so their serialisation is kept for that write;
    outside a write (``_writing.memo`` unset) pydyf's own code runs unchanged.
    """
    memo = getattr(_writing, "memo", None)
    if memo is None or not stream.compress:
        return _pydyf_stream_data.fget(stream)
    cached = memo.get(id(stream))
    if cached is not None and cached[0] is stream:
        return cached[1]
    raw = b"\n".join(pydyf._to_bytes(item) for item in stream.stream)
    extra = pydyf.Dictionary(stream.extra.copy())
    extra["Filter"] = "/FlateDecode"
    compressed = zlib.compress(raw, STREAM_COMPRESSION_LEVEL)
    extra["Length"] = len(compressed)
    data = b"\n".join((extra.data, b"stream", compressed, b"endstream"))
    memo[id(stream)] = (stream, data)
    return data


_pydyf_write = pydyf.PDF.write


def _write_once(pdf_document: pydyf.PDF, *args, **kwargs):
    _writing.memo = {}
    try:
        return _pydyf_write(pdf_document, *args, **kwargs)
    finally:
        _writing.memo = None


def install_stream_memo() -> None:
    """Install the two wrappers above (idempotent; done at import)."""
    if pydyf.PDF.write is not _write_once:
        pydyf.Stream.data = property(_stream_data)  # type: ignore[method-assign]
        pydyf.PDF.write = _write_once  # type: ignore[method-assign]


install_stream_memo()


class ResourceRefused(ValueError):
    pass


class RestrictedURLFetcher(URLFetcher):
    """Serves ``data:`` URIs and files below ``roots``; refuses everything else."""

    def __init__(self, roots: list[Path]):
        # The parent builds urllib handlers (and an SSL context, ~25 ms);
        # nothing here opens a network connection, so none are installed.
        request.OpenerDirector.__init__(self)
        self._timeout = 1
        self._http_headers = {}
        self._allowed_protocols = {"data", "file"}
        self._fail_on_errors = False
        self._request = None
        self.roots = [Path(root).resolve() for root in roots]
        self.fetched: list[str] = []
        self.refused: list[str] = []

    def fetch(self, url, headers=None):
        scheme = url.split(":", 1)[0].lower() if ":" in url else ""
        if scheme == "data":
            return _data_response(url)
        if scheme == "file":
            path = self._allowed_path(url)
            if path is not None:
                self.fetched.append(url)
                content_type = mimetypes.guess_type(path.name)[0]
                return URLFetcherResponse(
                    url,
                    body=path.read_bytes(),
                    headers={
                        "Content-Type": content_type or "application/octet-stream"
                    },
                )
        self.refused.append(url)
        logger.warning("Certificate renderer refused to fetch %s", url[:200])
        raise ResourceRefused(f"Refused to fetch {url[:200]}")

    def _allowed_path(self, url: str) -> Path | None:
        parts = urlsplit(url)
        if parts.netloc not in ("", "localhost"):
            return None
        try:
            path = Path(unquote(parts.path)).resolve(strict=True)
        except (OSError, RuntimeError):
            return None
        if not path.is_file():
            return None
        if any(path.is_relative_to(root) for root in self.roots):
            return path
        return None


def _data_response(url: str) -> URLFetcherResponse:
    header, _sep, payload = url[5:].partition(",")
    parts = header.split(";")
    content_type = parts[0] or "text/plain"
    if "base64" in parts[1:]:
        body = base64.b64decode(payload)
    else:
        body = unquote_to_bytes(payload)
    return URLFetcherResponse(url, body=body, headers={"Content-Type": content_type})


def allowed_roots() -> list[Path]:
    roots = [Path(directory) for directory in settings.STATICFILES_DIRS]
    roots.append(Path(__file__).resolve().parent / "static")
    roots.append(font_dir())
    return [root for root in roots if root.exists()]


def harfbuzz_subset_available() -> bool:
    """WeasyPrint subsets embedded fonts with HarfBuzz (not fontTools)."""
    library = getattr(weasyprint_ffi, "harfbuzz_subset", None)
    if not library:
        return False
    return bool(weasyprint_ffi.harfbuzz.hb_version_atleast(4, 1, 0))


def font_faces() -> list[dict[str, str]]:
    """@font-face entries for the subset fonts that have been built."""
    directory = font_dir()
    faces = []
    for spec in FONT_SPECS:
        path = directory / spec.output
        if path.exists():
            faces.append(
                {
                    "family": spec.family,
                    "weight": "700" if spec.style == "Bold" else "400",
                    "url": path.resolve().as_uri(),
                }
            )
    return faces


def _css_families(families: list[str], generic: str) -> str:
    return ", ".join([*(f'"{family}"' for family in families), generic])


def _shared() -> tuple[FontConfiguration, CSS]:
    """The per-process font configuration and parsed base stylesheet."""
    with _lock:
        if "font_config" not in _state:
            font_config = FontConfiguration()
            css_text = render_to_string(
                BASE_CSS_TEMPLATE,
                {
                    "font_faces": font_faces(),
                    "sans_stack": _css_families(family_stack("Sans"), "sans-serif"),
                    "serif_stack": _css_families(family_stack("Serif"), "serif"),
                },
            )
            stylesheet = CSS(
                string=css_text,
                font_config=font_config,
                url_fetcher=RestrictedURLFetcher(allowed_roots()),
            )
            _state["font_config"] = font_config
            _state["stylesheet"] = stylesheet
        return _state["font_config"], _state["stylesheet"]  # type: ignore[return-value]


def warm_up() -> None:
    """Load the fonts and the stylesheet before the first certificate."""
    _shared()


def reset() -> None:
    """Forget the cached font configuration (tests, font rebuilds)."""
    with _lock:
        _state.clear()


def _attachment(embedded: EmbeddedFile, fetcher: URLFetcher) -> Attachment:
    return Attachment(
        string=embedded.data,
        name=embedded.name,
        description=embedded.description or None,
        relationship=embedded.relationship,
        url_fetcher=fetcher,
    )


def _layout(html: str, fetcher: RestrictedURLFetcher):
    font_config, stylesheet = _shared()
    document = HTML(
        string=html,
        base_url=str(Path(settings.BASE_DIR) / "static") + "/",
        url_fetcher=fetcher,
    )
    return document.render(
        stylesheets=[stylesheet], font_config=font_config, pdf_variant=PDF_VARIANT
    )


def _write(document, fetcher: RestrictedURLFetcher, attachments) -> bytes:
    return document.write_pdf(
        pdf_variant=PDF_VARIANT,
        attachments=[_attachment(item, fetcher) for item in attachments or []],
    )


def html_to_pdf(
    html: str,
    *,
    fetcher: RestrictedURLFetcher | None = None,
    attachments: list[EmbeddedFile] | None = None,
) -> bytes:
    fetcher = fetcher or RestrictedURLFetcher(allowed_roots())
    return _write(_layout(html, fetcher), fetcher, attachments)


def render_certificate_html(context: dict) -> str:
    return render_to_string("certificates/pdf/certificate.html", context)


# Layouts tried in turn until the text clears the footer (certificate.css).
DENSITIES = ("", "dense", "denser")
FOOTER_CLEARANCE_PX = 2 * 96 / 25.4  # 2 mm, in CSS px


def fits_one_page(document) -> bool:
    """The page's text ends above its footer (the bottom of the element with
    id ``content-end`` above the top of ``footer-top``) and nothing spilled
    onto a second page."""
    if len(document.pages) != 1:
        return False
    anchors = document.pages[0].anchors
    if "footer-top" not in anchors:
        return True  # a design without the markers: nothing to check
    if "content-end" not in anchors:
        return False  # laid out below the bottom of the page
    # An anchor is (left, top, right, bottom) in CSS px.
    content_bottom, footer_top = anchors["content-end"][3], anchors["footer-top"][1]
    return content_bottom + FOOTER_CLEARANCE_PX <= footer_top


def _layout_attempts(context: dict):
    """Contexts from the roomiest layout to the tightest: the densities, then
    fewer printed scope rows (the verify page lists them all)."""
    for density in DENSITIES:
        yield {**context, "density": density}
    rows = list(context.get("scopes") or [])
    printed = len(rows)
    while printed > 0:
        printed = printed * 2 // 3
        yield {
            **context,
            "density": DENSITIES[-1],
            "scopes": rows[:printed],
            "scopes_not_printed": len(rows) - printed,
        }


def render_certificate(
    context: dict,
    *,
    fetcher: RestrictedURLFetcher | None = None,
    attachments: list[EmbeddedFile] | None = None,
) -> bytes:
    """PDF bytes for a certificate; ``context`` comes from ``rendering``.

    A typical certificate is laid out once. Long course titles, scopes or
    many scope rows are laid out again, tighter, until they clear the footer
    (WeasyPrint cannot shrink text to fit by itself).
    """
    fetcher = fetcher or RestrictedURLFetcher(allowed_roots())
    for attempt in _layout_attempts(context):
        document = _layout(render_certificate_html(attempt), fetcher)
        if fits_one_page(document):
            break
    else:
        logger.warning(
            "Certificate %s does not fit its page even in the tightest layout",
            context.get("serial"),
        )
    return _write(document, fetcher, attachments)


@cache
def weasyprint_version() -> str:
    import weasyprint

    return weasyprint.__version__
