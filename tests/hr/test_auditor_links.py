"""Auditor links (issue 9): time-limited, revocable, hashed token, logged,
read-only competence matrix of one company only."""

import re
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from hr.models import AuditorAccess, AuditorLink
from hr.selectors import company_scopes
from hr.services import auditor_link_create, auditor_link_revoke, auditor_token_hash
from tests.factories import MembershipFactory

from .factories import certificate, credential, scope

pytestmark = pytest.mark.django_db


def _holder(world, course, company, **fields):
    user = fields.pop("user", None) or MembershipFactory(company=company).user
    cert = certificate(
        user=user,
        course=course,
        company=company,
        valid_until=timezone.localdate() + timedelta(days=400),
    )
    credential(cert)
    return user, cert


@pytest.fixture
def holders(world, course, course2):
    scope(course)
    scope(course2, instrument_class="数字压力计", range_max="100", level="approve")
    a, cert_a = _holder(world, course, world.partner_sme, user=world.learner)
    a2, cert_a2 = _holder(world, course2, world.partner_sme)
    b, cert_b = _holder(world, course, world.other_sme, user=world.other_learner)
    # A member of A without any certificate: not shown to auditors.
    nobody = MembershipFactory(company=world.partner_sme).user
    return {
        "a": a,
        "a2": a2,
        "b": b,
        "nobody": nobody,
        "cert_a": cert_a,
        "cert_a2": cert_a2,
        "cert_b": cert_b,
    }


def _in(days):
    return timezone.localdate() + timedelta(days=days)


def _create(world, **fields):
    values = {
        "created_by": world.hr,
        "company": world.partner_sme,
        "label": "ISO/IEC 17025 audit 2026",
        "expires_on": _in(30),
    }
    values.update(fields)
    return auditor_link_create(**values)


def test_create_shows_the_url_once_and_stores_only_a_hash(client, world, holders):
    client.force_login(world.hr)
    url = reverse("hr:auditor_links", args=[world.partner_sme.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url, {"label": "ISO/IEC 17025 audit 2026", "expires_on": _in(30).isoformat()}
    )
    assert response.status_code == 302
    link = AuditorLink.objects.get()
    first = client.get(response["Location"]).content.decode()
    match = re.search(r'value="(http://testserver/audit/([^/"]+)/)"', first)
    assert match, first
    token = match.group(2)
    assert len(token) >= 40
    assert link.token_hash == auditor_token_hash(token) != token
    assert token not in str(AuditorLink.objects.values_list().get())
    assert "shown only once" in first
    again = client.get(response["Location"]).content.decode()
    assert token not in again and "shown only once" not in again
    # The link works without an account.
    client.logout()
    assert client.get(match.group(1)).status_code == 200


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"label": "  "}, "Give the link a label"),
        ({"expires_on": None}, "Choose the date"),
        ({"expires_on": _in(-1)}, "must not be in the past"),
        ({"expires_on": _in(91)}, "at most 90 days"),
        ({"scope_keys": ["0123456789ab"]}, "not held or taught"),
    ],
)
def test_bad_input_is_refused_and_changes_nothing(world, holders, fields, message):
    with pytest.raises(ValidationError, match=message):
        _create(world, **fields)
    assert not AuditorLink.objects.exists()


def test_bad_form_input_is_explained(client, world, holders):
    client.force_login(world.hr)
    url = reverse("hr:auditor_links", args=[world.partner_sme.pk])
    response = client.post(url, {"label": "audit", "expires_on": _in(200).isoformat()})
    assert response.status_code == 400
    assert "at most 90 days" in response.content.decode()
    response = client.post(url, {"label": "audit"})
    assert response.status_code == 400
    assert not AuditorLink.objects.exists()


def test_only_hr_of_the_company_creates_and_revokes(world, holders):
    with pytest.raises(PermissionDenied):
        _create(world, created_by=world.other_hr)
    with pytest.raises(PermissionDenied):
        _create(world, created_by=world.learner)
    link, _token = _create(world)
    with pytest.raises(PermissionDenied):
        auditor_link_revoke(revoked_by=world.other_hr, link=link)
    link.refresh_from_db()
    assert link.revoked_at is None


def test_other_company_hr_cannot_see_or_revoke(client, world, holders):
    link, _token = _create(world)
    client.force_login(world.other_hr)
    a = world.partner_sme.pk
    b = world.other_sme.pk
    assert client.get(reverse("hr:auditor_links", args=[a])).status_code == 403
    assert client.get(reverse("hr:auditor_link", args=[a, link.pk])).status_code == 403
    # Through their own company's URL: not found.
    assert client.get(reverse("hr:auditor_link", args=[b, link.pk])).status_code == 404
    response = client.post(reverse("hr:auditor_link_revoke", args=[b, link.pk]))
    assert response.status_code == 404
    links_page = client.get(reverse("hr:auditor_links", args=[b])).content.decode()
    assert reverse("hr:auditor_link", args=[a, link.pk]) not in links_page
    assert "No auditor links yet" in links_page
    link.refresh_from_db()
    assert link.revoked_at is None


def test_auditor_sees_only_this_company_and_no_contact_data(client, world, holders):
    _link, token = _create(world)
    response = client.get(reverse("hr:auditor_view", args=[token]))
    assert response.status_code == 200
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert response["Referrer-Policy"] == "no-referrer"
    html = response.content.decode()
    ids = {row.membership.user_id for row in response.context["rows"]}
    assert ids == {holders["a"].pk, holders["a2"].pk}  # holders of A only
    assert world.other_learner.name not in html
    assert holders["nobody"].pk not in ids
    for person in (holders["a"], holders["a2"]):
        assert person.email not in html
    assert "@" not in re.sub(r"<(script|style)[^>]*>.*?</\1>", "", html, flags=re.S)
    assert reverse("certificates:verify_code", args=[holders["cert_a"].code]) in html
    assert holders["cert_b"].code not in html
    assert "弹簧管式压力表" in html and "May perform" in html
    # Read-only: no forms that change anything (but the language switch),
    # no links into the HR workspace.
    assert html.count('method="post"') == html.count('setlang/" method="post"')
    assert (
        reverse("hr:employee", args=[world.partner_sme.pk, holders["a"].pk]) not in html
    )


def test_scope_limited_link_shows_only_those_scopes(client, world, holders):
    gauges = next(
        c
        for c in company_scopes(company=world.partner_sme)
        if c.instrument_class == "弹簧管式压力表"
    )
    link, token = _create(world, scope_keys=[gauges.key])
    assert link.scope_keys == [gauges.key]
    response = client.get(reverse("hr:auditor_view", args=[token]))
    assert [c.key for c in response.context["columns"]] == [gauges.key]
    ids = {row.membership.user_id for row in response.context["rows"]}
    assert ids == {holders["a"].pk}
    assert "数字压力计" not in response.content.decode()
    # Asking for another scope in the query string does not widen the view.
    others = [c.key for c in company_scopes(company=world.partner_sme)]
    other = next(k for k in others if k != gauges.key)
    response = client.get(reverse("hr:auditor_view", args=[token]), {"scope": other})
    assert [c.key for c in response.context["columns"]] == [gauges.key]


def test_access_is_logged_with_a_hashed_client(client, world, holders):
    link, token = _create(world)
    client.get(reverse("hr:auditor_view", args=[token]), REMOTE_ADDR="203.0.113.9")
    access = AuditorAccess.objects.get()
    assert access.link == link and access.outcome == "ok"
    assert "203.0.113.9" not in access.client and len(access.client) == 32
    client.force_login(world.hr)
    page = client.get(reverse("hr:auditor_link", args=[world.partner_sme.pk, link.pk]))
    html = page.content.decode()
    assert "Access log" in html and access.client[:10] in html
    assert "Opened" in html


@pytest.mark.parametrize("state", ["expired", "revoked"])
def test_expired_or_revoked_link_is_gone(client, world, holders, state):
    link, token = _create(world)
    if state == "expired":
        AuditorLink.objects.filter(pk=link.pk).update(expires_on=_in(-1))
        text = "expired"
    else:
        auditor_link_revoke(revoked_by=world.hr, link=link)
        text = "withdrawn"
    response = client.get(reverse("hr:auditor_view", args=[token]))
    assert response.status_code == 410
    html = response.content.decode()
    assert text in html
    # Nothing about the company or its people leaks.
    assert world.partner_sme.name not in html
    assert world.learner.name not in html and "JJG" not in html
    assert AuditorAccess.objects.get().outcome == state


def test_link_valid_through_its_last_day(client, world, holders):
    _link, token = _create(world, expires_on=timezone.localdate())
    assert client.get(reverse("hr:auditor_view", args=[token])).status_code == 200


def test_unknown_token_is_404_and_logs_nothing(client, world, holders):
    _create(world)
    for token in ("x" * 43, "a" * 500):
        response = client.get(reverse("hr:auditor_view", args=[token]))
        assert response.status_code == 404
        assert world.partner_sme.name not in response.content.decode()
    assert not AuditorAccess.objects.exists()


def test_revoke_via_page_and_twice(client, world, holders):
    link, _token = _create(world)
    client.force_login(world.hr)
    url = reverse("hr:auditor_link_revoke", args=[world.partner_sme.pk, link.pk])
    assert client.get(url).status_code == 405
    response = client.post(url, follow=True)
    assert "has been revoked" in response.content.decode()
    link.refresh_from_db()
    revoked_at = link.revoked_at
    assert revoked_at is not None and link.revoked_by == world.hr
    response = client.post(url, follow=True)
    assert "already been revoked" in response.content.decode()
    link.refresh_from_db()
    assert link.revoked_at == revoked_at


def test_auditor_view_query_count_does_not_grow(
    client, world, course, holders, django_assert_max_num_queries
):
    _link, token = _create(world)
    url = reverse("hr:auditor_view", args=[token])
    client.get(url)
    with django_assert_max_num_queries(25) as small:
        assert client.get(url).status_code == 200
    for _ in range(25):
        _holder(world, course, world.partner_sme)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(url)
    assert len(response.context["rows"]) == 27


def test_certificates_earned_at_another_company_stay_there(
    client, world, course, holders
):
    """A person employed by A and B whose certificate was issued at B: A's
    auditor sees nothing of it (nor the person, who holds nothing at A)."""
    both = MembershipFactory(company=world.other_sme).user
    MembershipFactory(company=world.partner_sme, user=both)
    _user, cert = _holder(world, course, world.other_sme, user=both)
    _link, token = _create(world)
    response = client.get(reverse("hr:auditor_view", args=[token]))
    ids = {row.membership.user_id for row in response.context["rows"]}
    assert both.pk not in ids
    assert cert.code not in response.content.decode()
