"""Naming course reviewers: ``Membership.may_review_courses``."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from organizations.models import Membership, Role
from organizations.permissions import (
    can_set_course_reviewer,
    course_reviewer_company_ids,
    is_course_reviewer,
)
from organizations.services import membership_set_course_reviewer
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(settings):
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def fresh(user):
    """The user as the next request loads it (predicates memoise per object)."""
    return type(user).objects.get(pk=user.pk)


def expert_membership(world) -> Membership:
    return world.expert.memberships.get(role=Role.EXPERT)


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", False),
        ("coordinator", True),
        ("lead_hr", True),  # HR of the expert's own lead enterprise
        ("hr", False),  # HR of a partner SME
        ("other_hr", False),
        ("expert", False),  # not even for themselves
        ("other_expert", False),
        ("learner", False),
    ],
)
def test_who_may_name_reviewers(world, role, expected):
    user = AnonymousUser() if role == "anonymous" else getattr(world, role)
    assert can_set_course_reviewer(user, expert_membership(world)) is expected


class TestService:
    def test_coordinator_names_and_unnames(self, world):
        membership = expert_membership(world)
        assert not is_course_reviewer(world.expert, world.lead)
        membership_set_course_reviewer(
            actor=world.coordinator, membership=membership, value=True
        )
        membership.refresh_from_db()
        assert membership.may_review_courses
        assert is_course_reviewer(fresh(world.expert), world.lead)
        assert course_reviewer_company_ids(fresh(world.expert)) == {world.lead.pk}
        # Idempotent, then back off.
        membership_set_course_reviewer(
            actor=world.coordinator, membership=membership, value=True
        )
        membership_set_course_reviewer(
            actor=world.coordinator, membership=membership, value=False
        )
        membership.refresh_from_db()
        assert not membership.may_review_courses
        assert not is_course_reviewer(fresh(world.expert), world.lead)

    def test_hr_of_the_enterprise_names_a_reviewer(self, world):
        membership = membership_set_course_reviewer(
            actor=world.lead_hr, membership=expert_membership(world), value=True
        )
        assert membership.may_review_courses

    @pytest.mark.parametrize("role", ["hr", "other_hr", "expert", "other_expert"])
    def test_others_are_refused(self, world, role):
        membership = expert_membership(world)
        with pytest.raises(PermissionDenied) as error:
            membership_set_course_reviewer(
                actor=getattr(world, role), membership=membership, value=True
            )
        assert "Only coordinators and HR of" in str(error.value)
        membership.refresh_from_db()
        assert not membership.may_review_courses

    @pytest.mark.parametrize("which", ["learner", "lead_hr", "expert_at_sme"], ids=str)
    def test_only_expert_memberships_of_lead_enterprises(self, world, which):
        if which == "learner":
            membership = world.learner.memberships.get()
        elif which == "lead_hr":
            membership = world.lead_hr.memberships.get()
        else:
            membership = MembershipFactory(company=world.partner_sme, role=Role.EXPERT)
        with pytest.raises(ValidationError) as error:
            membership_set_course_reviewer(
                actor=world.coordinator, membership=membership, value=True
            )
        assert error.value.messages == [
            "Only experts of a lead enterprise can review its courses."
        ]
        membership.refresh_from_db()
        assert not membership.may_review_courses

    def test_ended_membership_cannot_be_named(self, world):
        membership = expert_membership(world)
        Membership.objects.filter(pk=membership.pk).update(
            ended_on=timezone.localdate() - timedelta(days=1),
            started_on=timezone.localdate() - timedelta(days=30),
        )
        with pytest.raises(ValidationError) as error:
            membership_set_course_reviewer(
                actor=world.coordinator, membership=membership, value=True
            )
        assert "no longer works at" in error.value.messages[0]
        membership.refresh_from_db()
        assert not membership.may_review_courses

    def test_flag_on_an_ended_membership_does_not_count(self, world):
        membership = membership_set_course_reviewer(
            actor=world.coordinator, membership=expert_membership(world), value=True
        )
        Membership.objects.filter(pk=membership.pk).update(
            ended_on=timezone.localdate(),
            started_on=timezone.localdate() - timedelta(days=30),
        )
        assert course_reviewer_company_ids(fresh(world.expert)) == frozenset()


class TestSnippetForm:
    @pytest.fixture(autouse=True)
    def _admin(self, settings):
        from organizations.services import groups_ensure

        settings.ACADEMY_MFA_REQUIRED_ROLES = []
        groups_ensure()

    def post(self, client, membership, **extra):
        url = reverse(
            "wagtailsnippets_organizations_membership:edit", args=[membership.pk]
        )
        data = {
            "user": membership.user_id,
            "company": membership.company_id,
            "role": membership.role,
            "employee_number": membership.employee_number,
            "department": membership.department,
            "started_on": membership.started_on.isoformat(),
            "ended_on": "",
            **extra,
        }
        return client.post(url, data)

    def test_coordinator_flags_an_expert(self, client, world):
        client.force_login(world.coordinator)
        membership = expert_membership(world)
        response = self.post(client, membership, may_review_courses="on")
        assert response.status_code == 302
        membership.refresh_from_db()
        assert membership.may_review_courses

    def test_flag_on_a_learner_is_refused(self, client, world):
        client.force_login(world.coordinator)
        membership = world.learner.memberships.get()
        response = self.post(client, membership, may_review_courses="on")
        assert response.status_code == 200  # form redisplayed with the error
        assert "Only experts of a lead enterprise can review its courses." in (
            response.content.decode()
        )
        membership.refresh_from_db()
        assert not membership.may_review_courses


class TestPeoplePage:
    """HR of the lead enterprise names reviewers on the "People" page."""

    @pytest.fixture(autouse=True)
    def _no_mfa(self, settings):
        settings.ACADEMY_MFA_REQUIRED_ROLES = []

    def url(self, membership):
        return reverse(
            "organizations:membership_course_reviewer",
            args=[membership.company_id, membership.pk],
        )

    def test_hr_names_and_stops_a_reviewer(self, client, world):
        membership = expert_membership(world)
        client.force_login(world.lead_hr)
        people = reverse("organizations:company_people", args=[world.lead.pk])
        assert "Name course reviewer" in client.get(people).content.decode()
        response = client.post(self.url(membership), {"value": "1"}, follow=True)
        assert "now reviews changes to" in response.content.decode()
        assert "Stop course review" in response.content.decode()
        membership.refresh_from_db()
        assert membership.may_review_courses
        client.post(self.url(membership), {"value": "0"})
        membership.refresh_from_db()
        assert not membership.may_review_courses

    @pytest.mark.parametrize("role", ["hr", "other_hr", "expert", "learner"])
    def test_others_are_refused(self, client, world, role):
        membership = expert_membership(world)
        client.force_login(getattr(world, role))
        response = client.post(self.url(membership), {"value": "1"})
        assert response.status_code == 403
        membership.refresh_from_db()
        assert not membership.may_review_courses

    @pytest.mark.parametrize("value", ["", "yes", "2"])
    def test_bad_value_changes_nothing(self, client, world, value):
        membership = expert_membership(world)
        client.force_login(world.lead_hr)
        response = client.post(self.url(membership), {"value": value}, follow=True)
        assert "Choose whether this expert reviews course changes." in (
            response.content.decode()
        )
        membership.refresh_from_db()
        assert not membership.may_review_courses

    def test_learner_membership_is_refused_with_a_message(self, client, world):
        membership = world.learner.memberships.get()
        client.force_login(world.hr)
        response = client.post(self.url(membership), {"value": "1"}, follow=True)
        assert "Only experts of a lead enterprise can review its courses." in (
            response.content.decode()
        )
        membership.refresh_from_db()
        assert not membership.may_review_courses
