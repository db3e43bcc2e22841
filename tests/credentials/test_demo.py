import io

import pytest

from credentials import demo
from credentials.models import Credential, SigningKey

pytestmark = pytest.mark.django_db


def test_demo_is_idempotent(certificate):
    out = io.StringIO()
    demo.load(stdout=out)
    demo.load(stdout=out)
    assert Credential.objects.filter(certificate=certificate).count() == 1
    assert SigningKey.objects.count() == 1
    assert "0 new credential(s)" in out.getvalue()


def test_demo_story_scoped_certificate_and_renewal(
    home_page, client, django_capture_on_commit_callbacks
):
    from certificates import demo as certificates_demo
    from certificates.models import Certificate
    from courses import demo as courses_demo
    from credentials import services
    from credentials.models import Procedure
    from organizations import demo as organizations_demo
    from users.models import User

    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        organizations_demo.load(stdout=out)
        courses_demo.load(stdout=out)
        certificates_demo.load(stdout=out)
        demo.load(stdout=out)
        demo.load(stdout=out)
    technician = User.objects.get(email=demo.TECHNICIAN)
    current = Certificate.objects.current().get(
        user=technician, course__code=demo.COURSE_CODE
    )
    credential = current.credential
    assert credential.scopes[0]["procedure"] == "JJG 52"
    assert services.credential_verify(token=credential.jwt).valid
    assert (
        Certificate.objects.filter(user=technician, course__code="PG-101").count() == 1
    )
    # A coordinator records JJG 52-2024: the technician's credential needs renewal.
    coordinator = User.objects.get(email=demo.COORDINATOR)
    _revision, marked = services.procedure_revision_record(
        actor=coordinator,
        procedure=Procedure.objects.get(code="JJG 52"),
        revision="2024",
    )
    assert marked >= 1
    credential.refresh_from_db()
    assert credential.renewal_required_at is not None


def test_done_when_chain_revision_refresher_superseding_certificate(
    home_page, client, settings, django_capture_on_commit_callbacks
):
    """Issue 9 "Done when", at service level on the demo data: liu.kun holds
    the scoped JJG 52-2013 certificate; the coordinator records revision 2024;
    the verify page says renewal required and the e-mail links the refresher;
    completing the refresher issues a superseding certificate whose
    credential (embedded in its PDF) verifies with JJG 52-2024."""
    import io as _io

    from django.core import mail
    from django.core.cache import cache
    from django.urls import reverse
    from pypdf import PdfReader

    from certificates import demo as certificates_demo
    from certificates.models import Certificate
    from courses import demo as courses_demo
    from courses.models import CoursePage, LessonPage
    from courses.services import enrollment_create, heartbeat_record, lesson_open
    from credentials import services
    from credentials.models import Procedure
    from organizations import demo as organizations_demo
    from users.models import User

    from .helpers import status_bit, verify_independently

    settings.ACADEMY_PUBLIC_BASE_URL = "https://academy.example.cn"
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        organizations_demo.load(stdout=out)
        courses_demo.load(stdout=out)
        certificates_demo.load(stdout=out)
        demo.load(stdout=out)
    technician = User.objects.get(email=demo.TECHNICIAN)
    coordinator = User.objects.get(email=demo.COORDINATOR)
    old = Certificate.objects.current().get(user=technician, course__code="PG-101")
    assert old.credential.scopes[0]["revision"] == "2013"
    refresher = CoursePage.objects.get(code=demo.REFRESHER_CODE)
    assert refresher.live and refresher.title == "JJG 52 修订要点"

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.procedure_revision_record(
            actor=coordinator,
            procedure=Procedure.objects.get(code="JJG 52"),
            revision="2024",
        )
    renewal_mail = next(m for m in mail.outbox if technician.email in m.to)
    assert "JJG 52 修订要点" in renewal_mail.body
    cache.clear()
    page = client.get(reverse("certificates:verify_code", args=[old.code]))
    assert "cert-banner-renewal_required" in page.content.decode()

    # The technician completes the refresher course.
    lesson = LessonPage.objects.descendant_of(refresher).get()
    with django_capture_on_commit_callbacks(execute=True):
        enrollment_create(user=technician, course=refresher)
        lesson_open(user=technician, lesson=lesson)
        heartbeat_record(user=technician, lesson=lesson, delta_seconds=30)
    old.refresh_from_db()
    assert old.superseded_at is not None
    new = Certificate.objects.current().get(user=technician, course__code="PG-101")
    assert new.replaces == old and new.pk != old.pk
    assert not Certificate.objects.filter(user=technician, course=refresher).exists()
    credential = new.credential
    assert credential.renewal_required_at is None
    assert credential.scopes[0]["revision"] == "2024"
    assert old.credential.events.filter(kind="renewed").exists()

    # The new credential verifies (signature, status); the old one is revoked
    # by supersession; a tampered copy fails.
    claims = verify_independently(client, credential.jwt)
    assert claims["vc"]["credentialSubject"]["achievement"]["alignment"][0][
        "targetName"
    ] == ("JJG 52-2024")
    for entry in claims["vc"]["credentialStatus"]:
        assert status_bit(client, entry) == 0
    old_entry = old.credential.payload["credentialStatus"][0]
    assert status_bit(client, old_entry) == 1
    assert services.credential_verify(token=credential.jwt).valid
    header, payload, signature = credential.jwt.split(".")
    tampered = f"{header}.{payload[:-3]}AAA.{signature}"
    assert not services.credential_verify(token=tampered).valid
    # The new PDF carries the new credential.
    new.refresh_from_db()
    with new.pdf.open("rb") as handle:
        reader = PdfReader(_io.BytesIO(handle.read()))
    assert reader.attachments["credential.jwt"][0].decode() == credential.jwt
    cache.clear()
    page = client.get(reverse("certificates:verify_code", args=[new.code]))
    html = page.content.decode()
    assert "cert-banner-valid" in html and "JJG 52-2024" in html
