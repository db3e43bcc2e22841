"""Bridges from allauth's account events to the organisations services.

allauth announces these events only through signals, so this is where the
platform reacts to "this person now owns this verified e-mail address".
"""

from allauth.account.signals import email_confirmed, user_logged_in
from django.conf import settings
from django.contrib.auth.signals import user_login_failed as user_login_failed_signal
from django.db.models.signals import post_save
from django.dispatch import receiver


@receiver(email_confirmed)
def accept_invitations_on_email_confirmed(sender, request, email_address, **kwargs):
    from organizations.services import invitation_accept_pending_for_user

    invitation_accept_pending_for_user(user=email_address.user)


@receiver(user_logged_in)
def accept_invitations_on_login(sender, request, user, **kwargs):
    from organizations.services import invitation_accept_pending_for_user

    invitation_accept_pending_for_user(user=user)


@receiver(user_login_failed_signal)
def log_failed_login(sender, credentials, request=None, **kwargs):
    import hashlib

    from academy.security import security_event

    login = str(credentials.get("email") or credentials.get("username") or "")
    security_event(
        "login_failed",
        request=request,
        login_hash=hashlib.sha256(login.lower().encode()).hexdigest()[:16],
    )


@receiver(post_save, sender=settings.AUTH_USER_MODEL)
def end_sessions_of_deactivated_user(sender, instance, **kwargs):
    if instance.is_active:
        return
    from allauth.usersessions.models import UserSession

    for session in UserSession.objects.filter(user=instance):
        session.end()
