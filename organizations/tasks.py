from django.tasks import task


@task(queue_name="email")
def invitation_send_email_task(invitation_id: int) -> None:
    """Send one invitation e-mail (re-fetched: it may have been revoked since)."""
    from .models import Invitation
    from .services import invitation_send_email

    invitation = (
        Invitation.objects.select_related("company").filter(pk=invitation_id).first()
    )
    if invitation is None or invitation.accepted_at or invitation.revoked_at:
        return
    invitation_send_email(invitation=invitation)
