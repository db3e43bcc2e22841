"""Security headers and the structured security log.

Django's built-in CSP middleware sends ``SECURE_CSP`` (nonce-based, strict) on
public and learner pages. The Wagtail admin's editor needs inline scripts and
styles, so ``PathSecurityPolicyMiddleware`` gives ``/admin/`` its own policy.
"""

from __future__ import annotations

import json
import logging

from django.conf import settings

security_logger = logging.getLogger("academy.security")


def security_event(event: str, *, request=None, **fields) -> None:
    """Emit one structured security event (one JSON line).

    Raw IP addresses are not logged; a keyed hash lets repeated events from one
    client be correlated without storing the address.
    """
    record: dict[str, object] = {"event": event, **fields}
    if request is not None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            record.setdefault("user_id", user.pk)
        record["client"] = client_fingerprint(request)
        record["path"] = request.path
    security_logger.info(
        json.dumps(record, ensure_ascii=False, default=str), extra={"security": record}
    )


def client_fingerprint(request) -> str:
    import hashlib
    import hmac

    address = request.META.get("REMOTE_ADDR", "")
    digest = hmac.new(
        settings.SECRET_KEY.encode(), address.encode(), hashlib.sha256
    ).hexdigest()
    return digest[:16]


class PathSecurityPolicyMiddleware:
    """Per-path CSP plus headers Django does not send by itself."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        for prefix, policy in getattr(settings, "ACADEMY_CSP_BY_PATH", {}).items():
            if request.path.startswith(prefix):
                response._csp_config = policy
                break
        if request.path.startswith("/admin/"):
            # Wagtail's live preview shows admin-served pages in an iframe.
            response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        response.headers.setdefault(
            "Permissions-Policy",
            "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
        )
        response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        return response
