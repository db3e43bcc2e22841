"""End to end: completing a course (through courses' services) issues a
certificate whose PDF shows the Chinese name and whose verify page says
valid; a coordinator revokes it and the page says revoked."""

import io

import pytest
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from certificates import services
from certificates.models import Certificate, RenderStatus
from courses.models import LessonPage, LessonProgress, ModulePage
from courses.services import enrollment_create, enrollment_recheck_completion

pytestmark = pytest.mark.django_db


def test_completion_to_verification(
    client, world, course, django_capture_on_commit_callbacks
):
    module = ModulePage(title="第一单元", slug="m1")
    course.add_child(instance=module)
    lesson = LessonPage(title="压力表的结构", slug="l1")
    module.add_child(instance=lesson)
    with django_capture_on_commit_callbacks(execute=True):
        enrollment = enrollment_create(user=world.learner, course=course)
    now = timezone.now()
    LessonProgress.objects.create(
        enrollment=enrollment,
        lesson=lesson,
        first_seen_at=now,
        last_seen_at=now,
        completed_at=now,
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert enrollment_recheck_completion(user=world.learner, course=course)
    certificate = Certificate.objects.get(user=world.learner, course=course)
    assert certificate.render_status == RenderStatus.READY
    text = PdfReader(io.BytesIO(certificate.pdf.read())).pages[0].extract_text()
    assert "刘堃" in text.replace(" ", "")
    url = reverse("certificates:verify_code", args=[certificate.code])
    assert certificate.code in certificate_context_url(certificate)
    assert "cert-banner-valid" in client.get(url).content.decode()

    # A second recheck does not issue again.
    with django_capture_on_commit_callbacks(execute=True):
        enrollment_recheck_completion(user=world.learner, course=course)
    assert Certificate.objects.filter(user=world.learner).count() == 1

    services.certificate_revoke(
        actor=world.coordinator, certificate=certificate, reason="违规"
    )
    assert "cert-banner-revoked" in client.get(url).content.decode()


def certificate_context_url(certificate) -> str:
    from certificates.rendering import certificate_context

    context = certificate_context(certificate)
    assert context["qr_data_uri"].startswith("data:image/svg+xml")
    assert context["verify_url"] == (
        "https://academy.example.cn"
        + reverse("certificates:verify_code", args=[certificate.code])
    )
    return context["verify_url"]
