"""Per-client rate limit for the public verify pages (shared cache)."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import DEFAULT_CACHE_ALIAS, cache, caches
from django.core.cache.backends.redis import RedisCache


def client_ip(request) -> str:
    header = getattr(settings, "CERTIFICATES_CLIENT_IP_HEADER", "")
    if header and request.META.get(header):
        return request.META[header].split(",")[0].strip()
    return request.META.get("REMOTE_ADDR", "")


def allow(
    client: str,
    *,
    name: str = "verify",
    setting: str = "CERTIFICATES_VERIFY_RATE_LIMIT",
    default: tuple[int, int] = (30, 60),
) -> bool:
    """At most CERTIFICATES_VERIFY_RATE_LIMIT verifications per window (or the
    limit in ``setting``, counted separately under ``name``)."""
    limit, window = getattr(settings, setting, default)
    if not limit:
        return True
    bucket = int(time.time() // window)
    key = f"certificates:{name}:{client}:{bucket}"
    backend = caches[DEFAULT_CACHE_ALIAS]
    if isinstance(backend, RedisCache):
        return _count_in_redis(backend, key, window) <= limit
    # Count first: under load the bucket exists, and incr alone is one cache
    # round trip fewer than add-then-incr.
    try:
        count = cache.incr(key)
    except ValueError:  # first request of this client in this window
        if cache.add(key, 1, timeout=window + 5):
            return True
        try:
            count = cache.incr(key)  # a concurrent request created it
        except ValueError:  # expired meanwhile
            return True
    return count <= limit


def _count_in_redis(backend: RedisCache, key: str, window: int) -> int:
    """One round trip instead of Django's three (``incr`` checks ``exists``
    first, and the first request of a window adds the key): SET NX creates
    the window's counter with its lifetime (and leaves an existing one and its
    lifetime alone), INCR counts. Plain Redis commands since 2.6.12; the value
    is the plain integer Django's Redis serializer stores for ints, so
    ``cache.get`` reads the same count."""
    full_key = backend.make_and_validate_key(key)
    client = backend._cache.get_client(full_key, write=True)
    pipeline = client.pipeline(transaction=False)
    pipeline.set(full_key, 0, ex=window + 5, nx=True)
    pipeline.incr(full_key)
    _, count = pipeline.execute()
    return count
