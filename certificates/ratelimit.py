"""Per-client rate limit for the public verify pages (shared cache)."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache


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
