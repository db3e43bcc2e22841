"""The certificates verify page /v/<code> shows the credential's scopes,
status (suspended, renewal required) and history, never contact data."""

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from credentials import services

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()


def _page(client, certificate) -> str:
    response = client.get(reverse("certificates:verify_code", args=[certificate.code]))
    assert response.status_code == 200
    return response.content.decode()


def _assert_no_contact_data(html, world, certificate):
    assert world.learner.email not in html
    if world.learner.phone:
        assert world.learner.phone not in html
    if certificate.employee_number:
        assert certificate.employee_number not in html
    for user in (world.coordinator, world.hr):
        assert user.email not in html


def test_scope_and_history_shown(client, world, certificate, scoped_credential):
    html = _page(client, certificate)
    assert "cert-banner-valid" in html
    expected_texts = (
        "弹簧管式压力表",
        "0~60 MPa",
        "1.6级",
        "JJG 52-2013",
        "May perform",
    )
    for expected in expected_texts:
        assert expected in html
    assert "Status history" in html and "Issued" in html
    assert scoped_credential.urn in html
    _assert_no_contact_data(html, world, certificate)


def test_renewal_required_banner_with_reason(
    client, world, jjg52, certificate, scoped_credential
):
    services.procedure_revision_record(
        actor=world.coordinator, procedure=jjg52, revision="2024"
    )
    html = _page(client, certificate)
    assert "cert-banner-renewal_required" in html
    assert "cert-banner-valid" not in html
    assert "JJG 52 was revised to 2024." in html
    assert "Renewal required" in html
    # The history names what and why, never who.
    assert world.coordinator.name not in html
    _assert_no_contact_data(html, world, certificate)


def test_suspended_banner_with_date_and_reason(
    client, world, certificate, scoped_credential
):
    suspended = services.credential_suspend(
        actor=world.hr, credential=scoped_credential, reason="能力验证结果不满意"
    )
    html = _page(client, certificate)
    assert "cert-banner-suspended" in html
    assert "cert-banner-valid" not in html
    assert "能力验证结果不满意" in html
    assert timezone.localdate(suspended.suspended_at).isoformat() in html
    services.credential_reinstate(actor=world.hr, credential=scoped_credential)
    html = _page(client, certificate)
    assert "cert-banner-valid" in html
    assert "Reinstated" in html and "Suspended" in html


def test_revoked_banner_wins_over_credential_flags(
    client, world, certificate, scoped_credential
):
    from certificates.services import certificate_revoke

    services.credential_suspend(
        actor=world.hr, credential=scoped_credential, reason="能力验证结果不满意"
    )
    certificate_revoke(actor=world.coordinator, certificate=certificate, reason="误发")
    html = _page(client, certificate)
    assert "cert-banner-revoked" in html and "cert-banner-suspended" not in html


def test_certificate_without_credential_still_verifies(client, certificate):
    html = _page(client, certificate)
    assert "cert-banner-valid" in html and "Status history" not in html


def test_query_count_does_not_grow_with_history(
    client, world, certificate, scoped_credential, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        _page(client, certificate)
    for _round in range(5):
        services.credential_suspend(
            actor=world.hr, credential=scoped_credential, reason="能力验证结果不满意"
        )
        services.credential_reinstate(actor=world.hr, credential=scoped_credential)
    cache.clear()
    with django_assert_num_queries(len(few.captured_queries)):
        html = _page(client, certificate)
    assert html.count("Reinstated") >= 5
    assert len(few.captured_queries) <= 5
