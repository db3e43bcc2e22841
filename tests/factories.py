"""factory_boy factories shared by every app's tests.

Apps add their own factories here (one section per app) so fixtures in
``tests/conftest.py`` can compose them.
"""

import factory
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group

from organizations.demo import demo_credit_code
from organizations.models import (
    COORDINATOR_GROUP_NAME,
    Company,
    CompanyKind,
    Invitation,
    Membership,
    Partnership,
    PartnershipMode,
    Role,
)
from users.models import User

PASSWORD = "correct-horse-battery-staple"  # noqa: S105


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.cn")
    name = factory.Sequence(lambda n: f"测试用户{n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def verified_email(self, create, extracted, **kwargs):
        if create and extracted is not False:
            EmailAddress.objects.create(
                user=self, email=self.email, verified=True, primary=True
            )
        if create:
            self.save()


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company

    name = factory.Sequence(lambda n: f"测试企业{n}有限公司")
    short_name = factory.Sequence(lambda n: f"测试{n}")
    kind = CompanyKind.SME
    credit_code = factory.Sequence(lambda n: demo_credit_code(50_000 + n))
    region = "江苏省苏州市"
    industry = "仪器仪表"


class LeadCompanyFactory(CompanyFactory):
    kind = CompanyKind.LEAD


class PartnershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partnership

    lead = factory.SubFactory(LeadCompanyFactory)
    sme = factory.SubFactory(CompanyFactory)
    mode = PartnershipMode.SUPPLY_CHAIN


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    company = factory.SubFactory(CompanyFactory)
    role = Role.LEARNER
    employee_number = factory.Sequence(lambda n: f"E{n:05d}")
    department = "质检部"


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invitation

    company = factory.SubFactory(CompanyFactory)
    email = factory.Sequence(lambda n: f"invitee{n}@example.cn")
    role = Role.LEARNER


def make_coordinator(**kwargs) -> User:
    user = UserFactory(**kwargs)
    group, _created = Group.objects.get_or_create(name=COORDINATOR_GROUP_NAME)
    user.groups.add(group)
    return user
