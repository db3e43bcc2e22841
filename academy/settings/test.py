import os
import tempfile

from .base import *  # noqa: F403
from .base import DATABASES, STORAGES, TASKS, VAR_DIR

SECRET_KEY = "test-only-insecure-key"  # noqa: S105
DEBUG = False
ALLOWED_HOSTS = ["*"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests run tasks in-process so that a service's side effects can be asserted.
TASKS = {
    "default": {
        **TASKS["default"],
        "BACKEND": "django.tasks.backends.immediate.ImmediateBackend",
    }
}
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "academy-test",
    }
}
MEDIA_ROOT = tempfile.mkdtemp(prefix="academy-test-media-")
PRIVATE_MEDIA_ROOT = tempfile.mkdtemp(prefix="academy-test-private-")
STORAGES = {
    **STORAGES,
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": MEDIA_ROOT},
    },
    "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PRIVATE_MEDIA_ROOT, "base_url": None},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# allauth rate limits stay on in tests that check them (they override this).
ACCOUNT_RATE_LIMITS = False
WAGTAILADMIN_BASE_URL = "http://testserver"
ACADEMY_PUBLIC_BASE_URL = "http://testserver"
# The MFA gate is tested on its own (tests/users); other tests log in with
# force_login and exercise permissions, not the second factor.
ACADEMY_MFA_REQUIRED_ROLES: list[str] = []
# Assertions read English messages; the Chinese default of the product is
# tested explicitly (tests/home/test_home_page.py) with LANGUAGE_CODE overridden.
LANGUAGE_CODE = "en"

if os.environ.get("E2E") not in (None, "", "0") and (
    DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
):
    # The browser loads several resources at once. With the default in-memory
    # test database Django shares one connection between the live server's
    # threads, and parallel requests fail with "database table is locked"; a
    # file gives every thread its own connection and SQLite's busy timeout.
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / "e2e-test.sqlite3")}
