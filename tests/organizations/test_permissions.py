"""Permission predicates as tables: each role x own / partner / unrelated company."""

import pytest
from django.contrib.auth.models import AnonymousUser

from organizations.models import Company, Invitation, Membership, Partnership
from organizations.permissions import (
    can_author_for_company,
    can_invite_to_company,
    can_manage_company,
    can_manage_partnerships,
    can_view_company,
    can_view_company_people,
    can_view_member,
    user_roles,
)
from tests.factories import InvitationFactory

pytestmark = pytest.mark.django_db

ROLES = [
    "anonymous",
    "coordinator",
    "expert",
    "lead_hr",
    "hr",
    "learner",
    "other_hr",
    "other_learner",
]
# The companies, seen from the partner SME's side: its own company, its lead
# enterprise partner, and an unrelated SME.
COMPANIES = ["partner_sme", "lead", "other_sme"]


def actor(world, role):
    return AnonymousUser() if role == "anonymous" else getattr(world, role)


# Expected answers: role -> (partner_sme, lead, other_sme)
VIEW_COMPANY = {
    "anonymous": (False, False, False),
    "coordinator": (True, True, True),
    "expert": (True, True, False),  # the expert's lead and its partner
    "lead_hr": (True, True, False),
    "hr": (True, True, False),
    "learner": (True, True, False),
    "other_hr": (False, False, True),
    "other_learner": (False, False, True),
}
VIEW_PEOPLE = {
    "anonymous": (False, False, False),
    "coordinator": (True, True, True),
    "expert": (False, False, False),
    "lead_hr": (False, True, False),
    "hr": (True, False, False),
    "learner": (False, False, False),
    "other_hr": (False, False, True),
    "other_learner": (False, False, False),
}
AUTHOR = {
    "anonymous": (False, False, False),
    "coordinator": (True, True, True),
    "expert": (False, True, False),
    "lead_hr": (False, False, False),
    "hr": (False, False, False),
    "learner": (False, False, False),
    "other_hr": (False, False, False),
    "other_learner": (False, False, False),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("company_index", range(3))
def test_can_view_company(world, role, company_index):
    company = getattr(world, COMPANIES[company_index])
    assert (
        can_view_company(actor(world, role), company)
        is VIEW_COMPANY[role][company_index]
    )


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("company_index", range(3))
def test_can_view_company_people_and_invite(world, role, company_index):
    company = getattr(world, COMPANIES[company_index])
    expected = VIEW_PEOPLE[role][company_index]
    assert can_view_company_people(actor(world, role), company) is expected
    assert can_invite_to_company(actor(world, role), company) is expected


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("company_index", range(3))
def test_can_author_for_company(world, role, company_index):
    company = getattr(world, COMPANIES[company_index])
    assert (
        can_author_for_company(actor(world, role), company)
        is AUTHOR[role][company_index]
    )


@pytest.mark.parametrize("role", ROLES)
def test_only_coordinators_manage_companies_and_partnerships(world, role):
    expected = role == "coordinator"
    assert can_manage_partnerships(actor(world, role)) is expected
    assert can_manage_company(actor(world, role), world.lead) is expected


def test_hr_sees_people_only_while_they_are_members(world):
    from organizations.services import membership_end

    assert can_view_member(world.hr, world.learner)
    assert not can_view_member(world.hr, world.other_learner)
    assert not can_view_member(world.other_hr, world.learner)
    membership = Membership.objects.get(user=world.learner)
    membership.started_on = membership.started_on.replace(year=2020)
    membership.save()
    membership_end(membership=membership)
    world.hr.__dict__.pop("_academy_permission_cache", None)
    assert not can_view_member(world.hr, world.learner)


def test_inactive_company_cannot_receive_invitations(world):
    world.partner_sme.is_active = False
    world.partner_sme.save()
    assert not can_invite_to_company(world.hr, world.partner_sme)


def test_deactivated_user_loses_every_right(world):
    world.hr.is_active = False
    world.hr.save()
    world.hr.__dict__.pop("_academy_permission_cache", None)
    assert not can_view_company_people(world.hr, world.partner_sme)


def test_user_roles(world):
    assert user_roles(world.coordinator) == {"coordinator"}
    assert user_roles(world.hr) == {"hr"}
    assert user_roles(AnonymousUser()) == set()


class TestForUserQuerysets:
    @pytest.mark.parametrize(
        ("role", "expected"),
        [
            ("anonymous", set()),
            ("hr", {"partner_sme", "lead"}),
            ("learner", {"partner_sme", "lead"}),
            ("expert", {"partner_sme", "lead"}),
            ("other_hr", {"other_sme", "other_lead"}),
            ("coordinator", {"partner_sme", "lead", "other_sme", "other_lead"}),
        ],
    )
    def test_companies(self, world, role, expected):
        names = {
            getattr(world, key).pk: key
            for key in ("partner_sme", "lead", "other_sme", "other_lead")
        }
        visible = Company.objects.for_user(actor(world, role))
        assert {names[c.pk] for c in visible} == expected

    def test_memberships_for_hr_are_their_company_only(self, world):
        visible = Membership.objects.for_user(world.hr)
        assert {m.company_id for m in visible} == {world.partner_sme.pk}
        assert Membership.objects.for_user(world.learner).get().user == world.learner
        assert not Membership.objects.for_user(AnonymousUser()).exists()

    def test_invitations_for_hr_are_their_company_only(self, world):
        own = InvitationFactory(company=world.partner_sme)
        InvitationFactory(company=world.other_sme)
        assert list(Invitation.objects.for_user(world.hr)) == [own]
        assert not Invitation.objects.for_user(world.learner).exists()
        assert Invitation.objects.for_user(world.coordinator).count() == 2

    def test_partnerships(self, world):
        assert {p.sme for p in Partnership.objects.for_user(world.hr)} == {
            world.partner_sme
        }
        assert Partnership.objects.for_user(world.coordinator).count() == 2
