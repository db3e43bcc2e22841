"""Reads for dispatch pages, feeds and dashboards (query counts stay flat)."""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from organizations.models import Company, Partnership
from organizations.permissions import is_coordinator

from .models import (
    HOLDING_STATUSES,
    OPEN_REQUEST_STATUSES,
    CalendarFeedToken,
    FeedKind,
    Registration,
    RegistrationStatus,
    RequestStatus,
    Visit,
    VisitReport,
    VisitRequest,
    VisitStatus,
)

_VISIT_RELATED = ("topic", "expert", "host_company", "lead_company")


def _with_counts(visits: QuerySet[Visit]) -> QuerySet[Visit]:
    return visits.annotate(
        waiting_count=Count(
            "registrations",
            filter=Q(registrations__status=RegistrationStatus.WAITLISTED),
            distinct=True,
        ),
        has_report=Exists(VisitReport.objects.filter(visit=OuterRef("pk"))),
    )


def visit_list_public(
    *, region: str = "", topic_code: str = "", expert_id: int | None = None
) -> QuerySet[Visit]:
    visits = Visit.objects.filter(
        published=True,
        status=VisitStatus.CONFIRMED,
        ends_at__gte=timezone.now(),
    ).select_related(*_VISIT_RELATED)
    if region:
        visits = visits.filter(host_company__region__icontains=region)
    if topic_code:
        visits = visits.filter(topic__code=topic_code)
    if expert_id:
        visits = visits.filter(expert_id=expert_id)
    return visits.order_by("starts_at")


def visit_lists_for_expert(*, user) -> dict[str, list[Visit]]:
    now = timezone.now()
    mine = _with_counts(
        Visit.objects.filter(expert=user).select_related(*_VISIT_RELATED)
    )
    return {
        "proposed": list(mine.filter(status=VisitStatus.TENTATIVE, starts_at__gte=now)),
        "upcoming": list(
            mine.filter(status=VisitStatus.CONFIRMED, starts_at__gt=now)[:50]
        ),
        "to_mark": list(
            mine.filter(
                status__in=[VisitStatus.CONFIRMED, VisitStatus.COMPLETED],
                starts_at__lte=now + timedelta(minutes=30),
                ends_at__gte=now - timedelta(days=14),
            )
        ),
        "reports_due": list(
            mine.filter(
                status=VisitStatus.CONFIRMED, starts_at__lte=now, has_report=False
            )
        ),
    }


def visit_lists_for_company(*, company: Company) -> dict[str, list]:
    now = timezone.now()
    visits = _with_counts(
        Visit.objects.filter(host_company=company).select_related(*_VISIT_RELATED)
    )
    return {
        "requests": list(
            VisitRequest.objects.filter(company=company)
            .select_related("topic", "requested_by")
            .order_by("-created_at")[:50]
        ),
        "upcoming": list(
            visits.filter(
                status__in=[*HOLDING_STATUSES, VisitStatus.UNSTAFFED],
                ends_at__gte=now,
            )
        ),
        "history": list(
            visits.filter(
                Q(ends_at__lt=now)
                | Q(status__in=[VisitStatus.CANCELLED, VisitStatus.COMPLETED])
            ).order_by("-starts_at")[:50]
        ),
    }


def _board_scope(user) -> Q | None:
    """None for programme coordinators; else the lead enterprises' SMEs."""
    if is_coordinator(user):
        return None
    from organizations.permissions import companies_with_role

    leads = companies_with_role(user, "hr")
    smes = Partnership.objects.active().filter(lead__in=leads).values("sme_id")
    return Q(company__in=smes)


def board_for_user(*, user) -> dict[str, list]:
    now = timezone.now()
    scope = _board_scope(user)
    requests = VisitRequest.objects.select_related("company", "topic", "requested_by")
    visits = Visit.objects.select_related(*_VISIT_RELATED)
    if scope is not None:
        requests = requests.filter(scope)
        visits = visits.filter(
            host_company__in=Partnership.objects.active()
            .filter(lead__in=_lead_ids(user))
            .values("sme_id")
        )
    active_visit = Visit.objects.filter(
        request=OuterRef("pk"),
        status__in=[*HOLDING_STATUSES, VisitStatus.COMPLETED, VisitStatus.UNSTAFFED],
    )
    return {
        "pending": list(
            requests.filter(status__in=OPEN_REQUEST_STATUSES).order_by("created_at")
        ),
        "to_schedule": list(
            requests.filter(status=RequestStatus.APPROVED)
            .exclude(Exists(active_visit))
            .order_by("created_at")
        ),
        "unstaffed": list(
            visits.filter(
                status__in=[VisitStatus.UNSTAFFED, VisitStatus.RELEASED],
                starts_at__gte=now,
            )
        ),
        "awaiting_expert": list(
            visits.filter(status=VisitStatus.TENTATIVE, starts_at__gte=now)
        ),
    }


def _lead_ids(user) -> list[int]:
    from organizations.permissions import companies_with_role

    return companies_with_role(user, "hr")


def visit_registrations(*, visit: Visit) -> list[Registration]:
    return list(
        Registration.objects.filter(visit=visit)
        .exclude(status=RegistrationStatus.CANCELLED)
        .select_related("user")
        .order_by("status", "waitlisted_at", "created_at", "pk")
    )


def visits_for_expert_feed(*, expert) -> QuerySet[Visit]:
    since = timezone.now() - timedelta(days=90)
    return (
        Visit.objects.filter(expert=expert, ends_at__gte=since)
        .exclude(status=VisitStatus.UNSTAFFED)
        .exclude(status=VisitStatus.RELEASED)
        .select_related(*_VISIT_RELATED)
        .order_by("starts_at")
    )


def visits_for_company_feed(*, company: Company) -> QuerySet[Visit]:
    since = timezone.now() - timedelta(days=90)
    return (
        Visit.objects.filter(host_company=company, ends_at__gte=since)
        .exclude(status__in=[VisitStatus.UNSTAFFED, VisitStatus.RELEASED])
        .select_related(*_VISIT_RELATED)
        .order_by("starts_at")
    )


def feed_token_get_active(*, token: str) -> CalendarFeedToken | None:
    return (
        CalendarFeedToken.objects.filter(token=token, revoked_at__isnull=True)
        .select_related("expert", "company")
        .first()
    )


def feed_tokens_for_user(*, user) -> list[CalendarFeedToken]:
    from organizations.permissions import companies_with_role

    return list(
        CalendarFeedToken.objects.filter(revoked_at__isnull=True)
        .filter(
            Q(kind=FeedKind.EXPERT, expert=user)
            | Q(kind=FeedKind.COMPANY, company__in=companies_with_role(user, "hr"))
        )
        .select_related("company")
    )


def registration_list_for_participant(*, user) -> list[Registration]:
    """The learner's visits that are still ahead (registered or waiting)."""
    return list(
        Registration.objects.filter(
            user=user,
            status__in=[RegistrationStatus.REGISTERED, RegistrationStatus.WAITLISTED],
            visit__ends_at__gte=timezone.now(),
            visit__status__in=[*HOLDING_STATUSES],
        )
        .select_related("visit__topic", "visit__host_company", "visit__expert")
        .order_by("visit__starts_at")[:20]
    )
