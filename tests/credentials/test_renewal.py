import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from credentials import services
from credentials.models import CredentialEvent, ProcedureRevision

pytestmark = pytest.mark.django_db


def test_revision_marks_renewal_required_and_notifies(
    client,
    world,
    jjg52,
    scoped_credential,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        revision, marked = services.procedure_revision_record(
            actor=world.coordinator, procedure=jjg52, revision="2024"
        )
    assert (revision.revision, marked) == ("2024", 1)
    scoped_credential.refresh_from_db()
    assert scoped_credential.renewal_required_at is not None
    assert "JJG 52 was revised to 2024" in scoped_credential.renewal_reason
    event = CredentialEvent.objects.get(kind="renewal_required")
    assert event.by == world.coordinator and event.credential == scoped_credential
    assert len(mail.outbox) == 1
    assert set(mail.outbox[0].to) == {world.learner.email, world.hr.email}
    assert "Renewal required" in mail.outbox[0].subject
    # Still valid (signature, status), but marked.
    report = services.credential_verify(token=scoped_credential.jwt)
    assert report.valid and report.as_dict()["renewal_required"] is True
    page = client.post(
        reverse("credentials:verify"), {"token": scoped_credential.jwt}
    ).content.decode()
    assert "Renewal required" in page and "History" in page
    # Recording it again refuses and changes nothing.
    with pytest.raises(ValidationError, match="already recorded"):
        services.procedure_revision_record(
            actor=world.coordinator, procedure=jjg52, revision="2024"
        )
    assert ProcedureRevision.objects.filter(procedure=jjg52).count() == 2
    assert CredentialEvent.objects.filter(kind="renewal_required").count() == 1


def test_blank_revision_is_refused(world, jjg52, scoped_credential):
    with pytest.raises(ValidationError, match="Enter the new revision"):
        services.procedure_revision_record(
            actor=world.coordinator, procedure=jjg52, revision="  "
        )
    scoped_credential.refresh_from_db()
    assert scoped_credential.renewal_required_at is None


def test_other_procedures_and_superseded_certificates_are_untouched(
    world,
    jjg52,
    scoped_credential,
):
    from credentials.models import Procedure

    other = Procedure.objects.create(code="JJG 49")
    assert (
        services.procedure_revision_record(
            actor=world.coordinator, procedure=other, revision="2013"
        )[1]
        == 0
    )
    scoped_credential.refresh_from_db()
    assert scoped_credential.renewal_required_at is None


def test_suspension_is_logged(world, credential):
    services.credential_suspend(
        actor=world.hr, credential=credential, reason="能力验证不满意"
    )
    services.credential_reinstate(actor=world.hr, credential=credential)
    kinds = list(credential.events.values_list("kind", "by"))
    assert kinds == [
        ("issued", None),
        ("suspended", world.hr.pk),
        ("reinstated", world.hr.pk),
    ]
