from hashlib import sha256

from allauth.account.adapter import get_adapter as get_account_adapter
from allauth.mfa.utils import is_mfa_enabled
from allauth.usersessions import app_settings as usersessions_settings
from allauth.usersessions.middleware import UserSessionsMiddleware
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.http import HttpRequest
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _

MFA_REQUIRED_MESSAGE = _(
    "Your role requires two-factor authentication. Please set up an "
    "authenticator app to continue."
)

# Paths a user without MFA may still reach: the MFA set-up itself, logging
# out, language switching and static assets.
_ALLOWED_PREFIXES = ("/accounts/", "/i18n/", "/static/", "/media/", "/v/", "/verify")


class RequireMfaMiddleware:
    """Sends users whose role demands MFA to the authenticator set-up first."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not request.path.startswith(_ALLOWED_PREFIXES)
            and request.path != "/"
            and _mfa_required(user)
            and not is_mfa_enabled(user)
        ):
            messages.warning(request, MFA_REQUIRED_MESSAGE)
            return redirect("mfa_activate_totp")
        return self.get_response(request)


def _mfa_required(user) -> bool:
    from organizations.permissions import user_roles

    required = set(getattr(settings, "ACADEMY_MFA_REQUIRED_ROLES", []))
    return bool(required & user_roles(user))


class ThrottledUserSessionsMiddleware(UserSessionsMiddleware):
    """allauth's ``UserSessionsMiddleware`` with the activity update throttled.

    With ``USERSESSIONS_TRACK_ACTIVITY`` allauth selects and saves the
    session's ``UserSession`` row in its own transaction on *every* request
    (three queries and a commit), which dominates cheap requests such as the
    lesson heartbeat. This subclass does the same update at most once per
    ``ACADEMY_USERSESSIONS_ACTIVITY_SECONDS`` (default 60) per session, and
    at once whenever the client's IP address or user agent changes (so
    allauth's ``session_client_changed`` signal still fires on the first
    request from a new client). Between updates it costs one cache read.
    ``last_seen_at`` is therefore accurate to that interval.
    """

    def __call__(self, request: HttpRequest):
        if (
            usersessions_settings.TRACK_ACTIVITY
            and hasattr(request, "session")
            and request.session.session_key
            and hasattr(request, "user")
            and request.user.is_authenticated
        ):
            self._track(request)
        return self.get_response(request)

    @staticmethod
    def _track(request: HttpRequest) -> None:
        seconds = getattr(settings, "ACADEMY_USERSESSIONS_ACTIVITY_SECONDS", 60)
        if not seconds:
            UserSession.objects.create_from_request(request)
            return
        session_key = request.session.session_key
        key = "users:session-seen:" + sha256(session_key.encode()).hexdigest()
        client = "\x1f".join(
            (
                str(request.user.pk),
                get_account_adapter().get_client_ip(request),
                request.META.get("HTTP_USER_AGENT", ""),
            )
        )
        fingerprint = sha256(client.encode()).hexdigest()
        if cache.get(key) == fingerprint:
            return
        UserSession.objects.create_from_request(request)
        cache.set(key, fingerprint, timeout=seconds)
