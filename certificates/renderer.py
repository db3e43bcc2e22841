"""Where certificate PDFs are rendered: in this process, or in renderer processes.

A task worker is a whole Django process: about 130 MB before it renders
anything (Wagtail, allauth, the API, every app's models). WeasyPrint's
Pango/fontconfig caches and the transient copies it makes of embedded font
files come on top. With ``CERTIFICATES_RENDER_PROCESSES`` > 0 the PDF is
rendered in a pool of *renderer processes* instead: spawned (not forked, so
none of the worker's memory is inherited), configuring only Django's template
engine, importing only ``certificates.pdf``. That keeps a renderer below
150 MB over hundreds of renders (about 113 MB, flat), isolates the worker
from a crash or hang in the native Pango/HarfBuzz stack (a hung render is
killed after ``CERTIFICATES_RENDER_TIMEOUT`` seconds) and lets a renderer be
replaced after ``CERTIFICATES_RENDERER_MAX_RENDERS`` renders, so memory
cannot creep. A renderer unused for ``CERTIFICATES_RENDERER_IDLE_SECONDS`` is
stopped (a web process that rendered one admin preview does not keep it).

With 0 (development, tests) the PDF is rendered in the calling process.

This module imports neither WeasyPrint nor any model: the renderer processes
import it to run ``_render_in_renderer``.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

logger = logging.getLogger("academy.certificates.renderer")

# glibc malloc tuning for the renderer (mallopt). Each render, WeasyPrint
# copies every embedded font file into memory (3-9 MB for the built subsets,
# 19-25 MB for a full system collection used as a last resort). Left to
# itself glibc raises its mmap threshold after the first such copy and the
# heap fragments: 154 -> 162 MB over 200 renders, still growing. Fixing the
# thresholds keeps the renderer flat (measured in bench/certificates):
# - copies of 16 MB and more get their own mapping, returned when freed;
# - the heap is trimmed only when 64 MB are free at its top: trimming after
#   every render (the default once a threshold is set) costs ~6 ms of page
#   faults per certificate when the next render grows it again.
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
MMAP_THRESHOLD_BYTES = 16 * 1024 * 1024
TRIM_THRESHOLD_BYTES = 64 * 1024 * 1024


class RendererError(RuntimeError):
    """The renderer process failed to deliver a PDF (crashed or timed out)."""


@dataclass(frozen=True)
class EmbeddedFile:
    """A file carried inside the PDF (PDF/A-3 associated file)."""

    name: str
    data: bytes
    description: str = ""
    # ISO 32000-2 7.11.3: the credential is data the certificate stands for.
    relationship: str = "Data"


def render_processes() -> int:
    return int(getattr(settings, "CERTIFICATES_RENDER_PROCESSES", 0) or 0)


def render_certificate_pdf(
    context: dict, *, attachments: list[EmbeddedFile] | None = None
) -> bytes:
    """The PDF bytes of a certificate context (from ``rendering``)."""
    if render_processes() <= 0:
        from . import pdf

        return pdf.render_certificate(context, attachments=attachments)
    timeout = float(getattr(settings, "CERTIFICATES_RENDER_TIMEOUT", 60))
    pool = _pool()
    _begin_render()
    try:
        future = pool.submit(_render_in_renderer, context, list(attachments or []))
        return future.result(timeout=timeout)
    except FutureTimeout:
        _discard(pool, kill=True)
        raise RendererError(
            f"The certificate renderer did not finish within {timeout:g} s; "
            "it was stopped and will be replaced."
        ) from None
    except BrokenProcessPool as error:
        _discard(pool, kill=True)
        raise RendererError(
            "The certificate renderer process stopped unexpectedly; "
            "it will be replaced."
        ) from error
    finally:
        _end_render(pool)


# --- the pool, in the calling process --------------------------------------

_lock = threading.Lock()
_current: ProcessPoolExecutor | None = None
# Idle renderers are stopped: a web process that rendered one admin preview
# should not keep a ~110 MB renderer for the rest of its life.
_in_flight = 0
_last_used = 0.0
_reaper: threading.Timer | None = None


def _idle_seconds() -> float:
    return float(getattr(settings, "CERTIFICATES_RENDERER_IDLE_SECONDS", 300))


def _begin_render() -> None:
    global _in_flight
    with _lock:
        _in_flight += 1


def _end_render(pool: ProcessPoolExecutor) -> None:
    global _in_flight, _last_used
    with _lock:
        _in_flight -= 1
        _last_used = time.monotonic()
    _arm_reaper(pool, _idle_seconds())


def _arm_reaper(pool: ProcessPoolExecutor, delay: float) -> None:
    global _reaper
    if delay <= 0:
        return
    with _lock:
        if _reaper is not None and _reaper.is_alive():
            if _reaper.args[0] is pool:
                return
            _reaper.cancel()  # armed for a pool that has been replaced
        _reaper = threading.Timer(delay, _reap_if_idle, args=(pool,))
        _reaper.daemon = True
        _reaper.start()


def _reap_if_idle(pool: ProcessPoolExecutor) -> None:
    global _reaper
    with _lock:
        _reaper = None
        if _current is not pool:
            return  # replaced or shut down meanwhile
        remaining = _idle_seconds() - (time.monotonic() - _last_used)
        busy = _in_flight > 0
    if busy or remaining > 0.01:
        _arm_reaper(pool, max(remaining, 0.05))
        return
    logger.info("Stopping the idle certificate renderer")
    _discard(pool, kill=False)


def _renderer_settings() -> dict:
    """The little of the project's settings a renderer needs."""
    from .fontbuild import font_dir

    return {
        "BASE_DIR": str(settings.BASE_DIR),
        "VAR_DIR": str(getattr(settings, "VAR_DIR", Path(settings.BASE_DIR) / "var")),
        "CERTIFICATES_FONT_DIR": str(font_dir()),
        "STATICFILES_DIRS": [str(path) for path in settings.STATICFILES_DIRS],
        "TEMPLATE_DIRS": [
            str(directory)
            for engine in settings.TEMPLATES
            if engine["BACKEND"].endswith(".DjangoTemplates")
            for directory in engine.get("DIRS", [])
        ],
    }


def _pool() -> ProcessPoolExecutor:
    global _current
    with _lock:
        if _current is None:
            recycle = int(getattr(settings, "CERTIFICATES_RENDERER_MAX_RENDERS", 0))
            _current = ProcessPoolExecutor(
                max_workers=render_processes(),
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_renderer,
                initargs=(_renderer_settings(),),
                max_tasks_per_child=recycle or None,
            )
        return _current


def _discard(pool: ProcessPoolExecutor, *, kill: bool) -> None:
    global _current
    with _lock:
        if _current is pool:
            _current = None
    if kill:
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.kill()
    pool.shutdown(wait=False, cancel_futures=True)


def shutdown() -> None:
    """Stop the renderer processes (tests; they also stop at exit)."""
    global _current, _reaper
    with _lock:
        pool, _current = _current, None
        if _reaper is not None:
            _reaper.cancel()
            _reaper = None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


def renderer_pids() -> list[int]:
    """Process ids of the running renderers (benchmarks, health checks)."""
    pool = _current
    if pool is None:
        return []
    return sorted((getattr(pool, "_processes", None) or {}).keys())


def _forget_pool_after_fork() -> None:
    # A forked child (e.g. a pre-forking web server) must not share the
    # parent's pool and its pipes; it starts its own when it first renders.
    global _current, _lock, _reaper, _in_flight
    _current = None
    _reaper = None
    _in_flight = 0
    _lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_pool_after_fork)


# --- in the renderer process ------------------------------------------------


def _limit_malloc_mmap_threshold() -> None:
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc: nothing to tune
        return
    libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
    libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES)


def _start_renderer(config: dict) -> None:
    _limit_malloc_mmap_threshold()
    import django
    from django.conf import settings as renderer_settings

    renderer_settings.configure(
        DEBUG=False,
        BASE_DIR=Path(config["BASE_DIR"]),
        VAR_DIR=Path(config["VAR_DIR"]),
        CERTIFICATES_FONT_DIR=Path(config["CERTIFICATES_FONT_DIR"]),
        STATICFILES_DIRS=config["STATICFILES_DIRS"],
        INSTALLED_APPS=[],
        USE_I18N=False,
        TEMPLATES=[
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "DIRS": config["TEMPLATE_DIRS"],
            }
        ],
        LOGGING_CONFIG=None,
    )
    django.setup()
    logging.basicConfig(level=logging.WARNING)
    from . import pdf

    pdf.warm_up()


def _render_in_renderer(context: dict, attachments: list[EmbeddedFile]) -> bytes:
    from . import pdf

    return pdf.render_certificate(context, attachments=attachments)


def _describe_renderer() -> dict:
    """What a renderer process has loaded (tests, diagnostics)."""
    import sys

    from django.conf import settings as renderer_settings

    return {
        "pid": os.getpid(),
        "installed_apps": list(renderer_settings.INSTALLED_APPS),
        "imports_wagtail": "wagtail" in sys.modules,
        "imports_models": "certificates.models" in sys.modules,
        "imports_weasyprint": "weasyprint" in sys.modules,
    }
