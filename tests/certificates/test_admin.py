import pytest
from django.urls import reverse

from certificates.models import Certificate, CertificateDesign

pytestmark = pytest.mark.django_db


@pytest.fixture
def coordinator_client(client, world):
    world.coordinator.is_superuser = True  # admin access without group setup
    world.coordinator.save()
    client.force_login(world.coordinator)
    return client


def test_listing_and_failed_filter(coordinator_client, certificate):
    url = reverse("wagtailsnippets_certificates_certificate:list")
    response = coordinator_client.get(url)
    assert response.status_code == 200
    assert certificate.serial in response.content.decode()
    response = coordinator_client.get(url, {"render_status": "failed"})
    assert certificate.serial not in response.content.decode()


def test_certificates_cannot_be_edited_in_admin(coordinator_client, certificate):
    edit = reverse(
        "wagtailsnippets_certificates_certificate:edit", args=[certificate.pk]
    )
    assert coordinator_client.get(edit).status_code in (302, 403)
    inspect = reverse(
        "wagtailsnippets_certificates_certificate:inspect", args=[certificate.pk]
    )
    assert coordinator_client.get(inspect).status_code == 200


def test_revoke_from_admin(coordinator_client, certificate, client):
    url = reverse("certificates_revoke", args=[certificate.pk])
    response = coordinator_client.post(url, {"reason": ""})
    assert response.status_code == 200
    certificate.refresh_from_db()
    assert certificate.revoked_at is None
    response = coordinator_client.post(url, {"reason": "证书持有人考核作弊"})
    assert response.status_code == 302
    certificate.refresh_from_db()
    assert certificate.revoked_reason == "证书持有人考核作弊"
    page = coordinator_client.get(
        reverse("certificates:verify_code", args=[certificate.code])
    )
    assert "cert-banner-revoked" in page.content.decode()


def test_reissue_and_issue_from_admin(coordinator_client, world, certificate, course):
    response = coordinator_client.post(
        reverse("certificates_reissue", args=[certificate.pk]),
        {"reason": "更正姓名", "holder_name": "刘 堃", "holder_latin_name": "Liu Kun"},
    )
    assert response.status_code == 302
    assert Certificate.objects.current().get(user=world.learner).holder_name == "刘 堃"
    response = coordinator_client.post(
        reverse("certificates_issue"),
        {"email": "nobody@example.cn", "course": course.pk, "reason": "x"},
    )
    assert response.status_code == 200
    assert (
        "No user" in response.content.decode() or "nobody" in response.content.decode()
    )
    response = coordinator_client.post(
        reverse("certificates_issue"),
        {"email": world.other_learner.email, "course": course.pk, "reason": "线下"},
    )
    assert response.status_code == 302
    assert Certificate.objects.filter(user=world.other_learner).exists()


def test_design_preview(coordinator_client):
    design = CertificateDesign.objects.create(name="预览")
    response = coordinator_client.get(
        reverse("certificates_design_preview", args=[design.pk])
    )
    assert response.status_code == 200
    assert response.content.startswith(b"%PDF")


@pytest.mark.parametrize("who", ["hr", "learner", "expert"])
def test_non_coordinators_get_no_admin_actions(client, world, certificate, who):
    client.force_login(getattr(world, who))
    for url in (
        reverse("certificates_revoke", args=[certificate.pk]),
        reverse("certificates_issue"),
    ):
        response = client.post(url, {"reason": "x"})
        assert response.status_code in (302, 403)
    certificate.refresh_from_db()
    assert certificate.revoked_at is None


def test_second_default_design_is_a_clear_error(coordinator_client):
    from django.core.exceptions import ValidationError

    CertificateDesign.objects.create(name="甲", is_default=True)
    second = CertificateDesign(name="乙", is_default=True)
    with pytest.raises(ValidationError) as caught:
        second.full_clean()
    assert "already the default design" in str(caught.value)
    assert CertificateDesign.objects.filter(is_default=True).count() == 1
