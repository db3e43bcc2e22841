import re

import pytest
from django.core import mail
from django.urls import reverse

from organizations.models import Invitation, Membership
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db


def people_url(company):
    return reverse("organizations:company_people", args=[company.pk])


class TestCompanyPeople:
    def test_hr_sees_own_employees_only(self, client, world):
        client.force_login(world.hr)
        response = client.get(people_url(world.partner_sme))
        assert response.status_code == 200
        html = response.content.decode()
        assert world.learner.name in html
        assert world.other_learner.name not in html

    @pytest.mark.parametrize("role", ["learner", "expert", "other_hr", "lead_hr"])
    def test_others_are_forbidden(self, client, world, role):
        client.force_login(getattr(world, role))
        assert client.get(people_url(world.partner_sme)).status_code == 403

    def test_anonymous_is_sent_to_login(self, client, world):
        response = client.get(people_url(world.partner_sme))
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]

    def test_my_company_redirects_hr_to_their_dashboard(self, client, world):
        client.force_login(world.hr)
        response = client.get(reverse("organizations:my_companies"))
        assert response["Location"] == reverse(
            "hr:dashboard", args=[world.partner_sme.pk]
        )

    def test_query_count_does_not_grow_with_employees(
        self, client, world, django_assert_max_num_queries
    ):
        client.force_login(world.hr)
        client.get(people_url(world.partner_sme))
        MembershipFactory.create_batch(40, company=world.partner_sme)
        with django_assert_max_num_queries(20):
            response = client.get(people_url(world.partner_sme))
        assert response.status_code == 200

    def test_filters_by_department(self, client, world):
        MembershipFactory(company=world.partner_sme, department="计量室")
        client.force_login(world.hr)
        response = client.get(people_url(world.partner_sme), {"department": "计量室"})
        assert world.learner.name not in response.content.decode()


class TestInviteViews:
    def test_hr_invites_through_the_form(self, client, world):
        client.force_login(world.hr)
        response = client.post(
            people_url(world.partner_sme),
            {"email": "new@example.cn", "name": "赵喆", "role": "learner"},
        )
        assert response.status_code == 302
        assert Invitation.objects.filter(email="new@example.cn").exists()

    def test_form_shows_clear_error_for_member_of_other_company(self, client, world):
        client.force_login(world.hr)
        response = client.post(
            people_url(world.partner_sme),
            {"email": world.other_learner.email, "role": "learner"},
        )
        assert response.status_code == 200
        assert "another company" in response.content.decode() or "其他企业" in (
            response.content.decode()
        )
        assert not Invitation.objects.exists()

    def test_hr_cannot_post_invitation_into_other_company(self, client, world):
        client.force_login(world.hr)
        response = client.post(
            people_url(world.other_sme), {"email": "x@example.cn", "role": "learner"}
        )
        assert response.status_code == 403
        assert not Invitation.objects.exists()

    def test_hr_cannot_end_membership_in_other_company(self, client, world):
        membership = Membership.objects.get(user=world.other_learner)
        client.force_login(world.hr)
        url = reverse(
            "organizations:membership_end", args=[world.other_sme.pk, membership.pk]
        )
        assert client.post(url).status_code == 403
        membership.refresh_from_db()
        assert membership.ended_on is None


class TestInvitationSignupFlow:
    def test_invitee_signs_up_verifies_and_becomes_member(
        self, client, world, settings, django_capture_on_commit_callbacks
    ):
        settings.ACCOUNT_RATE_LIMITS = False
        client.force_login(world.hr)
        with django_capture_on_commit_callbacks(execute=True):
            client.post(
                people_url(world.partner_sme),
                {
                    "email": "newbie@example.cn",
                    "name": "孙赟",
                    "role": "learner",
                    "employee_number": "HZ-0300",
                },
            )
        client.logout()
        invite_mail = mail.outbox[-1]
        token = Invitation.objects.get().token
        assert f"/invitations/{token}/" in invite_mail.body
        landing = client.get(reverse("organizations:invitation_accept", args=[token]))
        assert landing.status_code == 200

        response = client.post(
            reverse("account_signup"),
            {
                "email": "newbie@example.cn",
                "name": "孙赟",
                "password1": "a-long-Password-2026",
                "password2": "a-long-Password-2026",
            },
        )
        assert response.status_code == 302
        assert not Membership.objects.filter(user__email="newbie@example.cn").exists()
        confirmation = mail.outbox[-1].body
        key_url = re.search(
            r"http://testserver(/accounts/confirm-email/\S+/)", confirmation
        )
        assert key_url, confirmation
        client.post(key_url.group(1))
        membership = Membership.objects.get(user__email="newbie@example.cn")
        assert membership.company == world.partner_sme
        assert membership.employee_number == "HZ-0300"
        assert membership.user.name == "孙赟"
