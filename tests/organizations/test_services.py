from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import override

from organizations.models import (
    Company,
    CompanyKind,
    Invitation,
    Membership,
    Partnership,
    PartnershipMode,
    Role,
)
from organizations.services import (
    company_create,
    invitation_accept,
    invitation_accept_pending_for_user,
    invitation_create,
    invitation_revoke,
    membership_create,
    membership_end,
    partnership_create,
)
from tests.factories import (
    CompanyFactory,
    InvitationFactory,
    LeadCompanyFactory,
    MembershipFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


class TestCompanyCreate:
    def test_creates_company_with_normalised_code(self):
        company = company_create(
            name="苏州恒准压力仪表有限公司",
            kind=CompanyKind.SME,
            credit_code="91350100m000100y43",
            region="江苏省苏州市",
        )
        assert company.credit_code == "91350100M000100Y43"

    def test_invalid_credit_code_is_rejected_and_nothing_saved(self):
        with pytest.raises(ValidationError) as excinfo:
            company_create(
                name="坏代码公司",
                kind=CompanyKind.SME,
                credit_code="91350100M000100Y44",
                region="上海市",
            )
        assert "credit_code" in excinfo.value.message_dict
        assert not Company.objects.filter(name="坏代码公司").exists()

    def test_error_message_is_translated(self):
        texts = {}
        for language in ("zh-hans", "en"):
            with override(language):
                with pytest.raises(ValidationError) as excinfo:
                    company_create(
                        name="甲",
                        kind=CompanyKind.SME,
                        credit_code="123",
                        region="上海",
                    )
                texts[language] = excinfo.value.message_dict["credit_code"][0]
        assert "18" in texts["en"] and "characters" in texts["en"]
        assert "统一社会信用代码" in texts["zh-hans"]


class TestPartnershipCreate:
    def test_links_lead_and_sme(self):
        lead, sme = LeadCompanyFactory(), CompanyFactory()
        partnership = partnership_create(
            lead=lead, sme=sme, mode=PartnershipMode.SAME_FIELD
        )
        assert partnership.status == "active"

    def test_kinds_must_match_roles(self):
        sme_a, sme_b = CompanyFactory(), CompanyFactory()
        with pytest.raises(ValidationError):
            partnership_create(lead=sme_a, sme=sme_b, mode=PartnershipMode.SAME_FIELD)
        assert not Partnership.objects.exists()

    def test_duplicate_pair_is_rejected(self):
        lead, sme = LeadCompanyFactory(), CompanyFactory()
        partnership_create(lead=lead, sme=sme, mode=PartnershipMode.SAME_FIELD)
        with pytest.raises(ValidationError):
            partnership_create(lead=lead, sme=sme, mode=PartnershipMode.SUPPLY_CHAIN)
        assert Partnership.objects.count() == 1


class TestMemberships:
    def test_duplicate_membership_is_rejected(self):
        user, company = UserFactory(name="刘堃"), CompanyFactory()
        membership_create(user=user, company=company, role=Role.LEARNER)
        with pytest.raises(ValidationError) as excinfo:
            membership_create(user=user, company=company, role=Role.LEARNER)
        assert "刘堃" in excinfo.value.messages[0]
        assert Membership.objects.filter(user=user).count() == 1

    def test_same_person_may_hold_two_roles(self):
        user, company = UserFactory(), CompanyFactory()
        membership_create(user=user, company=company, role=Role.LEARNER)
        membership_create(user=user, company=company, role=Role.HR)
        assert Membership.objects.filter(user=user).count() == 2

    def test_ended_membership_allows_rejoining(self):
        user, company = UserFactory(), CompanyFactory()
        first = membership_create(
            user=user,
            company=company,
            role=Role.LEARNER,
            started_on=timezone.localdate() - timedelta(days=30),
        )
        membership_end(membership=first)
        membership_create(user=user, company=company, role=Role.LEARNER)
        assert Membership.objects.active().filter(user=user).count() == 1

    def test_cannot_end_before_start(self):
        membership = MembershipFactory()
        with pytest.raises(ValidationError):
            membership_end(
                membership=membership,
                ended_on=membership.started_on - timedelta(days=1),
            )
        membership.refresh_from_db()
        assert membership.ended_on is None


class TestInvitations:
    def test_hr_invites_and_email_is_sent(
        self, world, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            invitation = invitation_create(
                invited_by=world.hr,
                company=world.partner_sme,
                email="  New.Person@Example.cn ",
                name="赵喆",
                employee_number="HZ-0200",
                department="生产部",
            )
        assert invitation.email == "new.person@example.cn"
        assert len(mail.outbox) == 1
        assert invitation.token in mail.outbox[0].body
        assert world.partner_sme.name in mail.outbox[0].subject

    def test_hr_cannot_invite_into_another_company(self, world):
        with pytest.raises(PermissionDenied):
            invitation_create(
                invited_by=world.hr, company=world.other_sme, email="x@example.cn"
            )
        assert not Invitation.objects.exists()

    def test_learner_cannot_invite(self, world):
        with pytest.raises(PermissionDenied):
            invitation_create(
                invited_by=world.learner, company=world.partner_sme, email="x@e.cn"
            )

    def test_email_of_another_companys_member_is_rejected(self, world):
        with pytest.raises(ValidationError) as excinfo:
            invitation_create(
                invited_by=world.hr,
                company=world.partner_sme,
                email=world.other_learner.email.upper(),
            )
        assert excinfo.value.code == "elsewhere"
        assert not Invitation.objects.exists()

    def test_existing_member_is_rejected(self, world):
        with pytest.raises(ValidationError) as excinfo:
            invitation_create(
                invited_by=world.hr,
                company=world.partner_sme,
                email=world.learner.email,
            )
        assert excinfo.value.code == "member"

    def test_second_pending_invitation_is_rejected(self, world):
        invitation_create(
            invited_by=world.hr, company=world.partner_sme, email="a@example.cn"
        )
        with pytest.raises(ValidationError) as excinfo:
            invitation_create(
                invited_by=world.hr, company=world.partner_sme, email="A@example.cn"
            )
        assert excinfo.value.code == "pending"
        assert Invitation.objects.count() == 1

    def test_expired_invitation_can_be_replaced(self, world):
        old = InvitationFactory(
            company=world.partner_sme,
            email="late@example.cn",
            expires_at=timezone.now() - timedelta(days=1),
        )
        new = invitation_create(
            invited_by=world.hr, company=world.partner_sme, email="late@example.cn"
        )
        old.refresh_from_db()
        assert old.revoked_at is not None
        assert new.pk != old.pk

    def test_accepting_creates_membership_with_hr_data(self, world):
        invitation = invitation_create(
            invited_by=world.hr,
            company=world.partner_sme,
            email="new@example.cn",
            role=Role.LEARNER,
            employee_number="HZ-0999",
            department="质检部",
        )
        newcomer = UserFactory(email="new@example.cn")
        membership = invitation_accept(invitation=invitation, user=newcomer)
        assert membership.company == world.partner_sme
        assert membership.employee_number == "HZ-0999"
        invitation.refresh_from_db()
        assert invitation.accepted_by == newcomer

    def test_expired_invitation_cannot_be_accepted(self, world):
        invitation = InvitationFactory(
            company=world.partner_sme,
            email="late@example.cn",
            expires_at=timezone.now() - timedelta(minutes=1),
        )
        late = UserFactory(email="late@example.cn")
        with pytest.raises(ValidationError) as excinfo:
            invitation_accept(invitation=invitation, user=late)
        assert excinfo.value.code == "expired"
        assert not Membership.objects.filter(user=late).exists()

    def test_invitation_for_someone_else_cannot_be_accepted(self, world):
        invitation = InvitationFactory(company=world.partner_sme, email="a@e.cn")
        with pytest.raises(ValidationError) as excinfo:
            invitation_accept(invitation=invitation, user=world.other_learner)
        assert excinfo.value.code == "wrong_email"

    def test_unverified_address_cannot_accept(self, world):
        invitation = InvitationFactory(company=world.partner_sme, email="u@e.cn")
        unverified = UserFactory(email="u@e.cn", verified_email=False)
        with pytest.raises(ValidationError) as excinfo:
            invitation_accept(invitation=invitation, user=unverified)
        assert excinfo.value.code == "unverified"
        assert not Membership.objects.filter(user=unverified).exists()

    def test_revoked_invitation_cannot_be_accepted(self, world):
        invitation = invitation_create(
            invited_by=world.hr, company=world.partner_sme, email="r@e.cn"
        )
        invitation_revoke(invitation=invitation, revoked_by=world.hr)
        with pytest.raises(ValidationError):
            invitation_accept(invitation=invitation, user=UserFactory(email="r@e.cn"))

    def test_other_hr_cannot_revoke(self, world):
        invitation = invitation_create(
            invited_by=world.hr, company=world.partner_sme, email="r@e.cn"
        )
        with pytest.raises(PermissionDenied):
            invitation_revoke(invitation=invitation, revoked_by=world.other_hr)
        invitation.refresh_from_db()
        assert invitation.revoked_at is None

    def test_pending_invitations_accepted_on_login(self, world):
        invitation_create(
            invited_by=world.hr, company=world.partner_sme, email="p@e.cn"
        )
        person = UserFactory(email="p@e.cn")
        memberships = invitation_accept_pending_for_user(user=person)
        assert [m.company for m in memberships] == [world.partner_sme]
        # Idempotent: nothing more the second time.
        assert invitation_accept_pending_for_user(user=person) == []
