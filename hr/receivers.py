"""Signal receivers: pending invitees are enrolled when they sign up."""

from __future__ import annotations

from django.dispatch import receiver

from organizations.signals import invitation_accepted


@receiver(invitation_accepted, dispatch_uid="hr_enrol_invitee")
def enrol_invitee(sender, invitation, membership, **kwargs) -> None:
    from .services import assignments_enrol_invitee

    assignments_enrol_invitee(invitation=invitation, membership=membership)
