"""The deployed static files storage computes each URL once per process,
and forgets them when collectstatic writes a new manifest."""

import pytest
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.files.storage import storages
from django.core.management import call_command
from django.test import override_settings

from academy.staticfiles import MemoizedManifestStaticFilesStorage


@pytest.fixture
def collected(tmp_path):
    source = tmp_path / "static"
    (source / "css").mkdir(parents=True)
    (source / "css" / "site.css").write_text("body { color: #123; }")
    storages = {
        "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
        "staticfiles": {
            "BACKEND": "academy.staticfiles.MemoizedManifestStaticFilesStorage"
        },
    }
    with override_settings(
        STORAGES=storages,
        STATIC_ROOT=tmp_path / "collected",
        STATICFILES_DIRS=[source],
        STATIC_URL="/static/",
        DEBUG=False,
    ):
        call_command("collectstatic", interactive=False, verbosity=0)
        yield source


def test_url_is_the_hashed_one_and_computed_once(collected, monkeypatch):
    url = staticfiles_storage.url("css/site.css")
    storage = storages["staticfiles"]
    assert isinstance(storage, MemoizedManifestStaticFilesStorage)
    assert url.startswith("/static/css/site.") and url.endswith(".css")
    assert url != "/static/css/site.css"

    lookups = []
    original = storage.stored_name
    monkeypatch.setattr(
        storage, "stored_name", lambda name: lookups.append(name) or original(name)
    )
    assert staticfiles_storage.url("css/site.css") == url
    assert lookups == []
    assert staticfiles_storage.url("css/site.css", force=True) == url
    assert lookups == ["css/site.css"]


def test_a_name_missing_from_the_manifest_raises_every_time(collected):
    for _ in range(2):
        with pytest.raises(ValueError, match="Missing staticfiles manifest entry"):
            staticfiles_storage.url("css/missing.css")
    assert "css/missing.css" not in storages["staticfiles"]._urls


def test_debug_serves_the_plain_name_and_remembers_nothing(collected):
    with override_settings(DEBUG=True):
        assert staticfiles_storage.url("css/site.css") == "/static/css/site.css"
    assert storages["staticfiles"]._urls == {}


def test_collectstatic_replaces_remembered_urls(collected):
    before = staticfiles_storage.url("css/site.css")
    (collected / "css" / "site.css").write_text("body { color: #456; }")
    call_command("collectstatic", interactive=False, verbosity=0)
    after = staticfiles_storage.url("css/site.css")
    assert after != before
    assert after.startswith("/static/css/site.")
