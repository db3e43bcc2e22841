"""Static files storage of the deployed site (``collectstatic`` plus
WhiteNoise): hashed, compressed files named by ``staticfiles.json``."""

from __future__ import annotations

from django.conf import settings
from whitenoise.storage import CompressedManifestStaticFilesStorage

# Templates name a few dozen files; a name beyond this many is looked up
# every time instead of growing the memo without bound.
_MEMO_LIMIT = 4096


class MemoizedManifestStaticFilesStorage(CompressedManifestStaticFilesStorage):
    """Computes each file's URL once per process.

    A running process reads the manifest once and never changes it, yet
    Django parses, looks up and re-quotes the name on every ``{% static %}``:
    about 100,000 CPU instructions each, five times on every page (measured
    on the verify page, bench/certificates/README.md). A setting change in
    tests builds a new storage, and so a new memo. In DEBUG, and for a name
    missing from the manifest (which raises), nothing is remembered."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._urls: dict[str, str] = {}

    def url(self, name, force=False):
        if force or settings.DEBUG:
            return super().url(name, force)
        try:
            return self._urls[name]
        except KeyError:
            url = super().url(name)
            if len(self._urls) < _MEMO_LIMIT:
                self._urls[name] = url
            return url

    def post_process(self, *args, **kwargs):
        # collectstatic rewrites the manifest: URLs remembered before are stale.
        self._urls.clear()
        yield from super().post_process(*args, **kwargs)
        self._urls.clear()
