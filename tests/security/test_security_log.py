"""Certificate revocations and exports each emit exactly one structured
``academy.security`` event (JSON, no raw IP address)."""

import json
import logging

import pytest
from django.urls import reverse

from certificates import services as certificate_services
from hr.models import ExportJob, ExportStatus
from tests.certificates.factories import make_completed_enrollment, make_course

pytestmark = pytest.mark.django_db


@pytest.fixture
def events(caplog):
    caplog.set_level(logging.INFO, logger="academy.security")

    def collect(name=None):
        found = [
            json.loads(record.getMessage())
            for record in caplog.records
            if record.name == "academy.security"
        ]
        return [e for e in found if name is None or e["event"] == name]

    return collect


@pytest.fixture
def certificate(world, home_page, django_capture_on_commit_callbacks):
    course = make_course(
        parent=home_page, publisher=world.lead, certificate_signatory=world.expert
    )
    with django_capture_on_commit_callbacks(execute=True):
        issued = certificate_services.certificate_issue_for_enrollment(
            enrollment=make_completed_enrollment(user=world.learner, course=course)
        )
    issued.refresh_from_db()
    return issued


def test_revocation_emits_exactly_one_event(
    client, world, certificate, events, django_capture_on_commit_callbacks
):
    world.coordinator.is_superuser = True
    world.coordinator.save()
    client.force_login(world.coordinator)
    url = reverse("certificates_revoke", args=[certificate.pk])
    with django_capture_on_commit_callbacks(execute=True):
        refused = client.post(url, {"reason": ""})  # no reason: nothing happens
    assert refused.status_code == 200
    assert events("certificate_revoked") == []
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"reason": "考核作弊"})
    assert response.status_code == 302
    [event] = events("certificate_revoked")
    assert event["certificate_id"] == certificate.pk
    assert event["serial"] == certificate.serial
    assert event["user_id"] == world.coordinator.pk
    assert "127.0.0.1" not in json.dumps(events())


def test_rolled_back_revocation_emits_nothing(
    world, certificate, events, django_capture_on_commit_callbacks
):
    from django.db import transaction

    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        certificate_services.certificate_revoke(
            actor=world.coordinator, certificate=certificate, reason="误操作"
        )
        raise RuntimeError("the request failed after the revocation")
    assert events("certificate_revoked") == []


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_hr_export_download_emits_exactly_one_event(
    client, world, certificate, events, fmt, django_capture_on_commit_callbacks
):
    client.force_login(world.hr)
    company = world.partner_sme
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("hr:exports", args=[company.pk]), {"kind": "matrix", "fmt": fmt}
        )
    job = ExportJob.objects.get()
    assert job.status == ExportStatus.DONE
    client.get(reverse("hr:export_status", args=[company.pk, job.pk]))
    assert events("export_downloaded") == []  # requesting and waiting: no egress
    response = client.get(reverse("hr:export_download", args=[company.pk, job.pk]))
    assert response.status_code == 200
    [event] = events("export_downloaded")
    assert event["export"] == f"matrix.{fmt}"
    assert (event["company_id"], event["job_id"]) == (company.pk, job.pk)
    assert event["user_id"] == world.hr.pk
    # Another company's HR is refused, and that is logged as denied, not export.
    client.force_login(world.other_hr)
    client.get(reverse("hr:export_download", args=[company.pk, job.pk]))
    assert len(events("export_downloaded")) == 1


def test_certificate_zip_emits_exactly_one_event(client, world, certificate, events):
    client.force_login(world.hr)
    response = client.get(
        reverse("certificates:company_zip", args=[world.partner_sme.pk])
    )
    assert response.status_code == 200
    b"".join(response.streaming_content)
    [event] = events("export_downloaded")
    assert event["export"] == "certificates_zip"
    assert event["company_id"] == world.partner_sme.pk


def test_hr_downloading_a_certificate_is_logged_once(
    client, world, certificate, events
):
    client.force_login(world.hr)
    response = client.get(reverse("certificates:download", args=[certificate.pk]))
    assert response.status_code == 200
    [event] = events("certificate_downloaded")
    assert event["certificate_id"] == certificate.pk
