from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.contrib import messages
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
