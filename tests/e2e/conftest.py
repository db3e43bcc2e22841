"""Real-browser end-to-end tests: Debian's headless Chromium driven by Playwright.

They run only with ``E2E=1`` (``scripts/e2e`` sets it): they need
``/usr/bin/chromium`` and take a while. No browser is ever downloaded;
Playwright only drives the system Chromium through ``executable_path``.

Every page opened through the ``browser_page`` factory records console
errors, uncaught exceptions and Content-Security-Policy violations; a test
fails if any were seen. On failure, a screenshot of every open page is saved
to ``var/e2e-screenshots/``.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings

CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(django_settings.BASE_DIR) / "var" / "e2e-screenshots"

# Reports CSP violations to the console, where the listener below sees them.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", function (event) {
  console.error("CSP violation: " + event.violatedDirective + " blocked " +
                (event.blockedURI || "inline") + " at " + event.sourceFile +
                ":" + event.lineNumber);
});
"""


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "e2e: real-browser test (headless Chromium); run with E2E=1"
    )


def _enabled() -> bool:
    return os.environ.get("E2E", "") not in ("", "0")


if _enabled():
    # Playwright's sync API runs an event loop in the test thread; Django's
    # ORM calls made by the test itself (fixtures, assertions) are still
    # synchronous and safe there.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def pytest_collection_modifyitems(config, items):
    if _enabled():
        return
    skip = pytest.mark.skip(reason="browser test: run scripts/e2e (or set E2E=1)")
    for item in items:
        if "e2e" in item.keywords:
            item.add_marker(skip)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, args=LAUNCH_ARGS, headless=True
        )
        yield launched
        launched.close()


@pytest.fixture(autouse=True)
def _e2e_settings(settings, live_server):
    """Locmem mail the test can read, tasks in-process, our live URL in links."""
    settings.MAILERS = {
        "default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    }
    settings.ACADEMY_PUBLIC_BASE_URL = live_server.url
    settings.WAGTAILADMIN_BASE_URL = live_server.url
    settings.ACCOUNT_RATE_LIMITS = False
    settings.ACADEMY_MFA_REQUIRED_ROLES = []
    settings.COURSES_HEARTBEAT_SECONDS = 1
    settings.CERTIFICATES_RENDER_BACKOFF = 0


@pytest.fixture(autouse=True)
def _wagtail_locale(transactional_db):
    """A transactional test flushes the tables, including the default Locale
    that Wagtail's data migration created; put it back before pages are made."""
    from wagtail.coreutils import get_supported_content_language_variant
    from wagtail.models import Locale

    Locale.objects.get_or_create(
        language_code=get_supported_content_language_variant(
            django_settings.LANGUAGE_CODE
        )
    )


# Requests the browser makes by itself that are not the page's own.
IGNORED_URLS: tuple[str, ...] = ()


def _ignored(url: str) -> bool:
    return bool(IGNORED_URLS) and url.split("?")[0].endswith(IGNORED_URLS)


class PageProblems:
    def __init__(self):
        self.items: list[str] = []

    def watch(self, page, label: str) -> None:
        def on_console(message):
            where = (message.location or {}).get("url", "")
            if message.type == "error" and not _ignored(where):
                self.items.append(f"[{label}] console error: {message.text} ({where})")

        def on_response(response):
            if (
                response.status >= 400
                and response.request.resource_type != "document"
                and not _ignored(response.url)
            ):
                self.items.append(
                    f"[{label}] {response.status} for {response.request.resource_type}"
                    f" {response.url}"
                )

        page.on("console", on_console)
        page.on("response", on_response)
        page.on(
            "pageerror", lambda error: self.items.append(f"[{label}] JS error: {error}")
        )


@pytest.fixture
def browser_page(browser, request, live_server):
    """``browser_page("label")`` opens a fresh context (own cookies) and page."""
    problems = PageProblems()
    contexts = []
    pages: list[tuple[str, object]] = []

    def open_page(label: str = "page"):
        context = browser.new_context(
            base_url=live_server.url,
            locale="en-US",
            extra_http_headers={"Accept-Language": "en"},
            accept_downloads=True,
        )
        context.set_default_timeout(20_000)
        context.add_init_script(CSP_LISTENER)
        contexts.append(context)
        page = context.new_page()
        problems.watch(page, label)
        pages.append((label, page))
        return page

    yield open_page

    failed = getattr(request.node, "rep_call", None)
    if (failed is not None and failed.failed) or problems.items:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        base = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
        for label, page in pages:
            try:
                page.screenshot(path=str(SCREENSHOTS / f"{base}-{label}.png"))
            except Exception:  # noqa: BLE001, S112 - best effort on a broken page
                continue
    # Leave every page first: the Wagtail editor releases its editing session
    # with a beacon on unload. Let the live server finish those requests
    # before the database is flushed.
    for _label, page in pages:
        try:
            page.goto("about:blank")
        except Exception:  # noqa: BLE001, S112 - best effort on a broken page
            continue
    time.sleep(2.0)
    for context in contexts:
        context.close()
    assert not problems.items, "\n".join(problems.items)
