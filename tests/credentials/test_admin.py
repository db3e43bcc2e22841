"""Wagtail admin: recording a procedure revision."""

import pytest
from django.contrib.auth.models import Permission
from django.core import mail
from django.urls import reverse

from credentials.models import CompetenceScope, CredentialEvent, ProcedureRevision
from credentials.permissions import can_record_procedure_revision

pytestmark = pytest.mark.django_db


def _denied(response) -> bool:
    # Wagtail turns PermissionDenied into a redirect to the dashboard.
    return response.status_code == 403 or (
        response.status_code == 302 and response.url == reverse("wagtailadmin_home")
    )


def _admin_client(client, user):
    user.user_permissions.add(
        Permission.objects.get(
            codename="access_admin", content_type__app_label="wagtailadmin"
        )
    )
    client.force_login(user)
    return client


@pytest.fixture
def coordinator_client(client, world):
    world.coordinator.is_superuser = True  # admin access without group setup
    world.coordinator.save()
    client.force_login(world.coordinator)
    return client


def test_coordinator_records_a_revision(
    coordinator_client,
    world,
    jjg52,
    scoped_credential,
    django_capture_on_commit_callbacks,
):
    listing = coordinator_client.get(reverse("credentials_procedure_revisions"))
    assert listing.status_code == 200 and "JJG 52" in listing.content.decode()
    snippets = coordinator_client.get(
        reverse("wagtailsnippets_credentials_procedure:list")
    )
    url = reverse("credentials_procedure_revise", args=[jjg52.pk])
    assert url in snippets.content.decode()  # the row button
    with django_capture_on_commit_callbacks(execute=True):
        response = coordinator_client.post(
            url, {"revision": " 2024 ", "effective_on": "2026-12-01"}
        )
    assert response.status_code == 302
    revision = ProcedureRevision.objects.get(procedure=jjg52, revision="2024")
    assert str(revision.effective_on) == "2026-12-01"
    scoped_credential.refresh_from_db()
    assert scoped_credential.renewal_required_at is not None
    assert CompetenceScope.objects.get().procedure_revision == revision
    assert len(mail.outbox) == 1
    event = CredentialEvent.objects.get(kind="renewal_required")
    assert event.by == world.coordinator


@pytest.mark.parametrize(
    ("revision", "message"),
    [
        ("   ", "Enter the new revision"),
        ("2013", "already recorded"),
        ("x" * 31, "at most 30"),
    ],
)
def test_bad_revision_is_refused_and_changes_nothing(
    coordinator_client,
    jjg52,
    scoped_credential,
    revision,
    message,
):
    url = reverse("credentials_procedure_revise", args=[jjg52.pk])
    response = coordinator_client.post(url, {"revision": revision})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert ProcedureRevision.objects.filter(procedure=jjg52).count() == 1
    scoped_credential.refresh_from_db()
    assert scoped_credential.renewal_required_at is None
    assert not CredentialEvent.objects.filter(kind="renewal_required").exists()


def test_publishing_enterprise_expert_may_record(
    client,
    world,
    jjg52,
    scoped_credential,
):
    # world.expert is an expert of world.lead, which publishes the course.
    expert_client = _admin_client(client, world.expert)
    url = reverse("credentials_procedure_revise", args=[jjg52.pk])
    assert (
        expert_client.get(reverse("credentials_procedure_revisions")).status_code == 200
    )
    response = expert_client.post(url, {"revision": "2024"})
    assert response.status_code == 302
    assert ProcedureRevision.objects.filter(revision="2024").exists()


@pytest.mark.parametrize("who", ["other_expert", "hr", "lead_hr", "learner"])
def test_others_may_not_record(client, world, jjg52, scoped_credential, who):
    user = getattr(world, who)
    assert not can_record_procedure_revision(user, jjg52)
    other = _admin_client(client, user)
    url = reverse("credentials_procedure_revise", args=[jjg52.pk])
    assert _denied(other.get(url))
    assert _denied(other.post(url, {"revision": "2024"}))
    assert ProcedureRevision.objects.filter(procedure=jjg52).count() == 1
    scoped_credential.refresh_from_db()
    assert scoped_credential.renewal_required_at is None


def test_service_refuses_unauthorised_actor(world, jjg52):
    from django.core.exceptions import PermissionDenied

    from credentials import services

    with pytest.raises(PermissionDenied):
        services.procedure_revision_record(
            actor=world.hr, procedure=jjg52, revision="2024"
        )
    assert ProcedureRevision.objects.filter(procedure=jjg52).count() == 1
