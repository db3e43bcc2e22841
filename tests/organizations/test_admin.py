"""Coordinators manage companies and partnerships in the Wagtail admin."""

import pytest
from allauth.mfa.models import Authenticator
from django.urls import reverse

from organizations.models import Company

pytestmark = pytest.mark.django_db


def with_totp(user):
    Authenticator.objects.create(
        user=user, type=Authenticator.Type.TOTP, data={"secret": "x"}
    )
    return user


def test_coordinator_lists_and_edits_companies(client, world):
    from organizations.services import groups_ensure

    groups_ensure()
    client.force_login(with_totp(world.coordinator))
    listing = client.get(reverse("wagtailsnippets_organizations_company:list"))
    assert listing.status_code == 200
    assert world.partner_sme.name in listing.content.decode()
    edit_url = reverse(
        "wagtailsnippets_organizations_company:edit", args=[world.partner_sme.pk]
    )
    response = client.post(
        edit_url,
        {
            "name": world.partner_sme.name,
            "short_name": "恒准",
            "kind": "sme",
            "credit_code": "91350100M000100Y44",  # wrong check character
            "region": "江苏省苏州市",
            "industry": "压力仪表",
            "address": "",
            "is_active": "on",
        },
    )
    assert response.status_code == 200  # form redisplayed with the error
    assert "check character" in response.content.decode() or "校验" in (
        response.content.decode()
    )
    world.partner_sme.refresh_from_db()
    assert world.partner_sme.short_name != "恒准"


@pytest.mark.parametrize("role", ["hr", "learner", "other_hr"])
def test_company_people_cannot_enter_the_admin(client, world, role):
    client.force_login(getattr(world, role))
    response = client.get(reverse("wagtailsnippets_organizations_company:list"))
    assert response.status_code in (302, 403)
    assert Company.objects.count() == 4
