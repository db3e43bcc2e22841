"""State changes for companies, partnerships, memberships and invitations."""

from __future__ import annotations

import logging
from datetime import date

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from users.models import User

from .models import (
    COORDINATOR_GROUP_NAME,
    EXPERT_GROUP_NAME,
    MEMBERSHIP_REVIEWER_NOT_EXPERT,
    Company,
    CompanyKind,
    Invitation,
    Membership,
    Partnership,
    PartnershipMode,
    PartnershipStatus,
    Role,
)
from .permissions import can_invite_to_company, clear_permission_cache
from .validators import normalize_credit_code

logger = logging.getLogger("academy.organizations")

PARTNERSHIP_KINDS_WRONG = _(
    "A partnership links a lead enterprise (first) with an SME (second)."
)
PARTNERSHIP_EXISTS = _("These two companies already have a partnership.")
MEMBERSHIP_DUPLICATE = _(
    "%(name)s is already a member of %(company)s with the role %(role)s."
)
MEMBERSHIP_END_BEFORE_START = _("A membership cannot end before it starts.")
INVITATION_NOT_ALLOWED = _("You may only invite people into your own company.")
INVITATION_MEMBER_ELSEWHERE = _(
    "%(email)s belongs to another company. That company must end the membership "
    "before this person can be invited."
)
INVITATION_ALREADY_MEMBER = _("%(email)s is already a member of %(company)s.")
INVITATION_ALREADY_PENDING = _(
    "An invitation to %(email)s is already pending; revoke it or wait for it to expire."
)
INVITATION_EXPIRED = _(
    "This invitation expired on %(date)s. Ask your HR for a new one."
)
INVITATION_USED = _("This invitation has already been used or revoked.")
INVITATION_WRONG_EMAIL = _(
    "This invitation was sent to %(email)s. Log in with that address to accept it."
)
INVITATION_EMAIL_UNVERIFIED = _(
    "Please verify your e-mail address %(email)s before accepting the invitation."
)
COMPANY_INACTIVE = _("%(company)s is no longer active on the platform.")


@transaction.atomic
def company_create(
    *,
    name: str,
    kind: CompanyKind | str,
    credit_code: str,
    region: str,
    industry: str = "",
    short_name: str = "",
    address: str = "",
) -> Company:
    company = Company(
        name=name.strip(),
        short_name=short_name.strip(),
        kind=kind,
        credit_code=normalize_credit_code(credit_code),
        region=region.strip(),
        industry=industry.strip(),
        address=address.strip(),
    )
    company.full_clean()
    company.save()
    return company


@transaction.atomic
def partnership_create(
    *,
    lead: Company,
    sme: Company,
    mode: PartnershipMode | str,
    since: date | None = None,
    status: PartnershipStatus | str = PartnershipStatus.ACTIVE,
    notes: str = "",
) -> Partnership:
    if lead.kind != CompanyKind.LEAD or sme.kind != CompanyKind.SME:
        raise ValidationError(PARTNERSHIP_KINDS_WRONG, code="kinds")
    if Partnership.objects.filter(lead=lead, sme=sme).exists():
        raise ValidationError(PARTNERSHIP_EXISTS, code="exists")
    partnership = Partnership(
        lead=lead,
        sme=sme,
        mode=mode,
        since=since or timezone.localdate(),
        status=status,
        notes=notes,
    )
    partnership.full_clean()
    partnership.save()
    return partnership


@transaction.atomic
def partnership_set_status(
    *, partnership: Partnership, status: PartnershipStatus | str
) -> Partnership:
    partnership.status = status
    partnership.full_clean()
    partnership.save(update_fields=["status"])
    return partnership


@transaction.atomic
def membership_create(
    *,
    user: User,
    company: Company,
    role: Role | str,
    employee_number: str = "",
    department: str = "",
    started_on: date | None = None,
) -> Membership:
    if Membership.objects.filter(
        user=user, company=company, role=role, ended_on__isnull=True
    ).exists():
        raise ValidationError(
            MEMBERSHIP_DUPLICATE,
            code="duplicate",
            params={
                "name": user.get_full_name(),
                "company": company,
                "role": Role(role).label,
            },
        )
    membership = Membership(
        user=user,
        company=company,
        role=role,
        employee_number=employee_number.strip(),
        department=department.strip(),
        started_on=started_on or timezone.localdate(),
    )
    membership.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            membership.save()
    except IntegrityError as error:
        # A concurrent request created the same membership first.
        raise ValidationError(
            MEMBERSHIP_DUPLICATE,
            code="duplicate",
            params={
                "name": user.get_full_name(),
                "company": company,
                "role": Role(role).label,
            },
        ) from error
    clear_permission_cache(user)
    return membership


@transaction.atomic
def membership_end(
    *, membership: Membership, ended_on: date | None = None
) -> Membership:
    ended_on = ended_on or timezone.localdate()
    if ended_on < membership.started_on:
        raise ValidationError(MEMBERSHIP_END_BEFORE_START, code="end_before_start")
    membership.ended_on = ended_on
    membership.save(update_fields=["ended_on"])
    clear_permission_cache(membership.user)
    return membership


MEMBERSHIP_NOT_LEARNER = _(
    "Only learners need this permission: HR may always request expert visits."
)
MEMBERSHIP_ENDED = _("%(name)s no longer works at %(company)s.")
MEMBERSHIP_NOT_ALLOWED = _("You may only change memberships of your own company.")


@transaction.atomic
def membership_set_may_request_visits(
    *, membership: Membership, allowed: bool, changed_by: User
) -> Membership:
    """Let a learner (or stop a learner from) requesting expert visits."""
    from .permissions import can_manage_membership

    if not can_manage_membership(changed_by, membership):
        raise PermissionDenied(MEMBERSHIP_NOT_ALLOWED)
    if membership.role != Role.LEARNER:
        raise ValidationError(MEMBERSHIP_NOT_LEARNER, code="not_learner")
    if allowed and not Membership.objects.active().filter(pk=membership.pk).exists():
        raise ValidationError(
            MEMBERSHIP_ENDED,
            code="ended",
            params={"name": membership.user.name, "company": membership.company.name},
        )
    _set_permission_flag(
        membership,
        "may_request_visits",
        allowed,
        changed_by=changed_by,
        log_key="allowed",
    )
    return membership


def _set_permission_flag(
    membership: Membership, field: str, value: bool, *, changed_by: User, log_key: str
) -> None:
    """Set one of a membership's permission flags, if it changes: saved, the
    user's cached permissions dropped, the change logged."""
    if getattr(membership, field) == value:
        return
    setattr(membership, field, value)
    membership.save(update_fields=[field])
    clear_permission_cache(membership.user)
    logger.info(
        f"membership.{field}",
        extra={
            "membership_id": membership.pk,
            log_key: value,
            "changed_by": changed_by.pk,
        },
    )


MEMBERSHIP_REVIEWER_NOT_ALLOWED = _(
    "Only coordinators and HR of %(company)s may name its course reviewers."
)


@transaction.atomic
def membership_set_course_reviewer(
    *, actor: User, membership: Membership, value: bool
) -> Membership:
    """Name (or un-name) an expert as a reviewer of their lead enterprise's
    course changes. Coordinators and HR of that enterprise may do this; only
    active expert memberships at a lead enterprise can carry the flag."""
    from .permissions import can_set_course_reviewer

    membership = (
        Membership.objects.select_for_update()
        .select_related("company", "user")
        .get(pk=membership.pk)
    )
    if not can_set_course_reviewer(actor, membership):
        raise PermissionDenied(
            MEMBERSHIP_REVIEWER_NOT_ALLOWED % {"company": membership.company.name}
        )
    if value:
        if membership.role != Role.EXPERT or not membership.company.is_lead:
            raise ValidationError(MEMBERSHIP_REVIEWER_NOT_EXPERT, code="not_expert")
        if not membership.is_active:
            raise ValidationError(
                MEMBERSHIP_ENDED,
                code="ended",
                params={
                    "name": membership.user.name,
                    "company": membership.company.name,
                },
            )
    _set_permission_flag(
        membership, "may_review_courses", value, changed_by=actor, log_key="value"
    )
    return membership


def _active_member_elsewhere(email: str, company: Company) -> bool:
    return (
        Membership.objects.active()
        .filter(user__email__iexact=email)
        .exclude(company=company)
        .exists()
    )


@transaction.atomic
def invitation_create(
    *,
    invited_by: User,
    company: Company,
    email: str,
    name: str = "",
    role: Role | str = Role.LEARNER,
    employee_number: str = "",
    department: str = "",
    send: bool = True,
) -> Invitation:
    if not can_invite_to_company(invited_by, company):
        from academy.security import security_event

        security_event(
            "invitation_denied", user_id=invited_by.pk, company_id=company.pk
        )
        raise PermissionDenied(INVITATION_NOT_ALLOWED)
    email = email.strip().lower()
    params = {"email": email, "company": company}
    if _active_member_elsewhere(email, company):
        raise ValidationError(
            INVITATION_MEMBER_ELSEWHERE, code="elsewhere", params=params
        )
    if (
        Membership.objects.active()
        .filter(user__email__iexact=email, company=company, role=role)
        .exists()
    ):
        raise ValidationError(INVITATION_ALREADY_MEMBER, code="member", params=params)
    if (
        Invitation.objects.pending()
        .filter(company=company, email__iexact=email, role=role)
        .exists()
    ):
        raise ValidationError(INVITATION_ALREADY_PENDING, code="pending", params=params)
    # An expired, never-accepted invitation would block the open-invitation
    # constraint; retire it so a fresh one can be sent.
    Invitation.objects.filter(
        company=company,
        email__iexact=email,
        role=role,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__lte=timezone.now(),
    ).update(revoked_at=timezone.now())
    invitation = Invitation(
        company=company,
        email=email,
        name=name.strip(),
        role=role,
        employee_number=employee_number.strip(),
        department=department.strip(),
        invited_by=invited_by,
    )
    invitation.full_clean(validate_constraints=False)
    invitation.save()
    if send:
        # A queued task, so that a mail server outage neither fails the request
        # nor loses the e-mail (the worker retries it).
        from .tasks import invitation_send_email_task

        transaction.on_commit(lambda: invitation_send_email_task.enqueue(invitation.pk))
    return invitation


def invitation_send_email(*, invitation: Invitation) -> None:
    url = settings.ACADEMY_PUBLIC_BASE_URL + reverse(
        "organizations:invitation_accept", args=[invitation.token]
    )
    context = {"invitation": invitation, "accept_url": url}
    subject = render_to_string(
        "organizations/email/invitation_subject.txt", context
    ).strip()
    body = render_to_string("organizations/email/invitation_message.txt", context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[invitation.email],
    )
    message.send()


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, revoked_by: User) -> Invitation:
    if not can_invite_to_company(revoked_by, invitation.company):
        raise PermissionDenied(INVITATION_NOT_ALLOWED)
    if invitation.accepted_at or invitation.revoked_at:
        raise ValidationError(INVITATION_USED, code="used")
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])
    return invitation


def _has_verified_email(user: User, email: str) -> bool:
    from allauth.account.models import EmailAddress

    return EmailAddress.objects.filter(
        user=user, email__iexact=email, verified=True
    ).exists()


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user: User) -> Membership:
    """Turn one invitation into a membership for ``user``."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at or invitation.revoked_at:
        raise ValidationError(INVITATION_USED, code="used")
    if invitation.is_expired:
        raise ValidationError(
            INVITATION_EXPIRED,
            code="expired",
            params={"date": timezone.localtime(invitation.expires_at).date()},
        )
    if invitation.email.lower() != user.email.lower():
        raise ValidationError(
            INVITATION_WRONG_EMAIL,
            code="wrong_email",
            params={"email": invitation.email},
        )
    if not _has_verified_email(user, invitation.email):
        raise ValidationError(
            INVITATION_EMAIL_UNVERIFIED,
            code="unverified",
            params={"email": invitation.email},
        )
    if not invitation.company.is_active:
        raise ValidationError(
            COMPANY_INACTIVE, code="inactive", params={"company": invitation.company}
        )
    if _active_member_elsewhere(user.email, invitation.company):
        raise ValidationError(
            INVITATION_MEMBER_ELSEWHERE,
            code="elsewhere",
            params={"email": user.email},
        )
    membership = membership_create(
        user=user,
        company=invitation.company,
        role=invitation.role,
        employee_number=invitation.employee_number,
        department=invitation.department,
    )
    if invitation.name and not user.name:
        user.name = invitation.name
        user.save(update_fields=["name"])
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    logger.info(
        "invitation_accepted",
        extra={"invitation_id": invitation.pk, "user_id": user.pk},
    )
    from .signals import invitation_accepted

    transaction.on_commit(
        lambda: invitation_accepted.send(
            sender=Invitation, invitation=invitation, membership=membership
        )
    )
    return membership


def invitation_accept_pending_for_user(*, user: User) -> list[Membership]:
    """Accept every pending invitation addressed to one of the user's verified
    e-mail addresses; an invitation that cannot be accepted is left pending."""
    memberships = []
    for invitation in Invitation.objects.pending().filter(email__iexact=user.email):
        try:
            memberships.append(invitation_accept(invitation=invitation, user=user))
        except ValidationError as error:
            logger.info(
                "invitation_not_accepted",
                extra={"invitation_id": invitation.pk, "reason": error.code},
            )
    return memberships


@transaction.atomic
def coordinator_grant(*, user: User) -> User:
    from django.contrib.auth.models import Group

    group, _created = Group.objects.get_or_create(name=COORDINATOR_GROUP_NAME)
    user.groups.add(group)
    clear_permission_cache(user)
    return user


# Model permissions each programme group holds; later apps add theirs through
# ``groups_ensure(extra=...)`` from their own post-migrate hooks.
GROUP_PERMISSIONS = {
    COORDINATOR_GROUP_NAME: [
        "wagtailadmin.access_admin",
        "organizations.add_company",
        "organizations.change_company",
        "organizations.view_company",
        "organizations.add_partnership",
        "organizations.change_partnership",
        "organizations.delete_partnership",
        "organizations.view_partnership",
        "organizations.add_membership",
        "organizations.change_membership",
        "organizations.view_membership",
    ],
    EXPERT_GROUP_NAME: ["wagtailadmin.access_admin"],
}


def groups_ensure(*, extra: dict[str, list[str]] | None = None) -> None:
    """Create the programme's groups and grant their permissions (idempotent)."""
    from django.contrib.auth.models import Group, Permission

    wanted: dict[str, list[str]] = {
        name: list(perms) for name, perms in GROUP_PERMISSIONS.items()
    }
    for name, perms in (extra or {}).items():
        wanted.setdefault(name, []).extend(perms)
    for name, perms in wanted.items():
        group, _created = Group.objects.get_or_create(name=name)
        for dotted in perms:
            app_label, codename = dotted.split(".", 1)
            permission = Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            ).first()
            if permission is not None:
                group.permissions.add(permission)
