"""Expert availability: clash checks and the slot finder.

``expert_problems`` answers "why can this expert not do this visit?" and is
used both by the services (inside a locked transaction) and by the slot
finder. The database enforces the hard rule on PostgreSQL as well (an
exclusion constraint over ``TimeHold``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from organizations.models import Company, Membership, Partnership, Role

from .models import (
    DEFAULT_WORKING_HOURS,
    HOLDING_STATUSES,
    ExpertSchedule,
    MetrologyTopic,
    TimeHold,
    Visit,
    VisitMode,
)

VISIT_CLASH = _(
    "%(expert)s is already booked from %(start)s to %(end)s (%(what)s), "
    "buffers included."
)
VISIT_TRAVEL_CLASH = _(
    "%(expert)s needs %(minutes)s minutes to travel between %(visit)s and this "
    "visit at another company."
)
VISIT_OUTSIDE_HOURS = _(
    "%(expert)s does not work at this time (%(day)s %(start)s–%(end)s)."
)
VISIT_MONTHLY_VISIT_CAP = _(
    "%(expert)s already has %(count)s visits in %(month)s (limit %(limit)s)."
)
VISIT_MONTHLY_DAY_CAP = _(
    "%(expert)s would exceed the limit of %(limit)s visit days in %(month)s."
)


@dataclass(frozen=True)
class Availability:
    buffer_before: timedelta
    buffer_after: timedelta
    travel: timedelta
    max_visits_per_month: int | None
    max_days_per_month: int | None
    working_hours: dict[int, list[tuple[time, time]]]


def availability_for(expert) -> Availability:
    schedule = (
        ExpertSchedule.objects.filter(user=expert)
        .prefetch_related("working_hours")
        .first()
    )
    hours: dict[int, list[tuple[time, time]]] = {}
    if schedule is None:
        for day, start, end in DEFAULT_WORKING_HOURS:
            hours.setdefault(day, []).append((start, end))
        return Availability(
            timedelta(minutes=30),
            timedelta(minutes=30),
            timedelta(minutes=60),
            None,
            None,
            hours,
        )
    rows = list(schedule.working_hours.all())
    if rows:
        for row in rows:
            hours.setdefault(row.weekday, []).append((row.start_time, row.end_time))
    else:
        for day, start, end in DEFAULT_WORKING_HOURS:
            hours.setdefault(day, []).append((start, end))
    return Availability(
        timedelta(minutes=schedule.buffer_before_minutes),
        timedelta(minutes=schedule.buffer_after_minutes),
        timedelta(minutes=schedule.travel_minutes),
        schedule.max_visits_per_month,
        schedule.max_days_per_month,
        hours,
    )


def hold_range(
    availability: Availability, starts_at: datetime, ends_at: datetime
) -> tuple[datetime, datetime]:
    return starts_at - availability.buffer_before, ends_at + availability.buffer_after


def _fmt(moment: datetime) -> str:
    return formats.date_format(timezone.localtime(moment), "Y-m-d H:i")


def describe_hold(hold: TimeHold) -> str:
    if hold.visit_id:
        return str(hold.visit)
    block = hold.busy_block
    return block.reason or str(_("busy"))


def clash_message(expert, hold: TimeHold) -> str:
    return str(VISIT_CLASH) % {
        "expert": expert.get_full_name(),
        "start": _fmt(hold.starts_at),
        "end": _fmt(hold.ends_at),
        "what": describe_hold(hold),
    }


def _month_bounds(moment: datetime) -> tuple[datetime, datetime]:
    local = timezone.localtime(moment)
    first = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    following = (first + timedelta(days=32)).replace(day=1)
    return first, following


def expert_problems(
    *,
    expert,
    starts_at: datetime,
    ends_at: datetime,
    host_company_id: int | None,
    mode: str = VisitMode.ON_SITE,
    exclude_visit_id: int | None = None,
    availability: Availability | None = None,
    holds: list[TimeHold] | None = None,
    check_hours: bool = True,
) -> list[str]:
    """Reasons the expert cannot take this time; empty when free."""
    availability = availability or availability_for(expert)
    problems: list[str] = []
    start_local = timezone.localtime(starts_at)
    end_local = timezone.localtime(ends_at)
    if check_hours:
        intervals = availability.working_hours.get(start_local.weekday(), [])
        inside = start_local.date() == end_local.date() and any(
            begin <= start_local.time() and end_local.time() <= end
            for begin, end in intervals
        )
        if not inside:
            problems.append(
                str(VISIT_OUTSIDE_HOURS)
                % {
                    "expert": expert.get_full_name(),
                    "day": formats.date_format(start_local, "Y-m-d"),
                    "start": formats.time_format(start_local.time(), "H:i"),
                    "end": formats.time_format(end_local.time(), "H:i"),
                }
            )
    hold_start, hold_end = hold_range(availability, starts_at, ends_at)
    travel = availability.travel if mode == VisitMode.ON_SITE else timedelta(0)
    if holds is None:
        nearby = TimeHold.objects.filter(
            expert=expert,
            starts_at__lt=hold_end + travel,
            ends_at__gt=hold_start - travel,
        )
        if exclude_visit_id is not None:
            nearby = nearby.exclude(visit_id=exclude_visit_id)
        holds = list(
            nearby.select_related(
                "visit", "busy_block", "visit__host_company"
            ).order_by("starts_at")
        )
    for hold in holds:
        if exclude_visit_id and hold.visit_id == exclude_visit_id:
            continue
        if hold.starts_at < hold_end and hold.ends_at > hold_start:
            problems.append(clash_message(expert, hold))
            continue
        visit = hold.visit
        if (
            travel
            and visit is not None
            and visit.mode == VisitMode.ON_SITE
            and visit.host_company_id != host_company_id
            and hold.starts_at < hold_end + travel
            and hold.ends_at > hold_start - travel
        ):
            problems.append(
                str(VISIT_TRAVEL_CLASH)
                % {
                    "expert": expert.get_full_name(),
                    "minutes": int(travel.total_seconds() // 60),
                    "visit": str(visit),
                }
            )
    if availability.max_visits_per_month or availability.max_days_per_month:
        month_start, month_end = _month_bounds(starts_at)
        month_visits = (
            Visit.objects.filter(
                expert=expert,
                status__in=HOLDING_STATUSES,
                starts_at__gte=month_start,
                starts_at__lt=month_end,
            )
            .exclude(pk=exclude_visit_id or 0)
            .values_list("starts_at", flat=True)
        )
        month_visits = list(month_visits)
        label = formats.date_format(month_start, "Y-m")
        limit = availability.max_visits_per_month
        if limit and len(month_visits) + 1 > limit:
            problems.append(
                str(VISIT_MONTHLY_VISIT_CAP)
                % {
                    "expert": expert.get_full_name(),
                    "count": len(month_visits),
                    "month": label,
                    "limit": limit,
                }
            )
        limit = availability.max_days_per_month
        if limit:
            days = {timezone.localtime(moment).date() for moment in month_visits}
            days.add(start_local.date())
            if len(days) > limit:
                problems.append(
                    str(VISIT_MONTHLY_DAY_CAP)
                    % {
                        "expert": expert.get_full_name(),
                        "month": label,
                        "limit": limit,
                    }
                )
    return problems


# --- slot finder ---------------------------------------------------------------


@dataclass(frozen=True)
class Slot:
    expert_id: int
    expert_name: str
    lead_company_id: int
    starts_at: datetime
    ends_at: datetime


def candidate_experts(
    *, topic: MetrologyTopic, host_company: Company, lead_company_ids=None
):
    """Experts of the SME's partner lead enterprises who cover ``topic``.

    Returns ``(user, lead_company_id)`` pairs.
    """
    leads = set(
        Partnership.objects.active()
        .filter(sme=host_company)
        .values_list("lead_id", flat=True)
    )
    if lead_company_ids is not None:
        leads &= set(lead_company_ids)
    memberships = (
        Membership.objects.active()
        .filter(role=Role.EXPERT, company_id__in=leads, user__is_active=True)
        .filter(
            Q(user__expert_schedule__topics=topic)
            | Q(user__expert_schedule__isnull=True)
        )
        .select_related("user")
        .order_by("user__name")
        .distinct()
    )
    seen: set[int] = set()
    result = []
    for membership in memberships:
        if membership.user_id in seen:
            continue
        seen.add(membership.user_id)
        result.append((membership.user, membership.company_id))
    return result


def _windows_days(windows: list[tuple[date, date]]) -> list[date]:
    days: list[date] = []
    for start, end in windows:
        day = start
        while day <= end and len(days) < 92:
            days.append(day)
            day += timedelta(days=1)
    return sorted(set(days))


def find_slots(
    *,
    topic: MetrologyTopic,
    host_company: Company,
    windows: list[tuple[date, date]],
    duration: timedelta,
    mode: str = VisitMode.ON_SITE,
    lead_company_ids=None,
    step: timedelta = timedelta(minutes=30),
    per_expert: int = 5,
) -> list[Slot]:
    """Free start times, first ``per_expert`` per expert, earliest first."""
    now = timezone.now()
    days = _windows_days(windows)
    if not days:
        return []
    tz = timezone.get_current_timezone()
    span_start = datetime.combine(days[0], time.min, tzinfo=tz)
    span_end = datetime.combine(days[-1] + timedelta(days=1), time.min, tzinfo=tz)
    slots: list[Slot] = []
    for expert, lead_id in candidate_experts(
        topic=topic, host_company=host_company, lead_company_ids=lead_company_ids
    ):
        availability = availability_for(expert)
        margin = availability.buffer_before + availability.buffer_after
        margin += availability.travel
        holds = list(
            TimeHold.objects.filter(
                expert=expert,
                starts_at__lt=span_end + margin,
                ends_at__gt=span_start - margin,
            )
            .select_related("visit", "busy_block")
            .order_by("starts_at")
        )
        found = 0
        for day in days:
            if found >= per_expert:
                break
            for begin, end in availability.working_hours.get(day.weekday(), []):
                start = datetime.combine(day, begin, tzinfo=tz)
                limit = datetime.combine(day, end, tzinfo=tz)
                while start + duration <= limit and found < per_expert:
                    if start > now and not expert_problems(
                        expert=expert,
                        starts_at=start,
                        ends_at=start + duration,
                        host_company_id=host_company.pk,
                        mode=mode,
                        availability=availability,
                        holds=holds,
                    ):
                        slots.append(
                            Slot(
                                expert.pk,
                                expert.get_full_name(),
                                lead_id,
                                start,
                                start + duration,
                            )
                        )
                        found += 1
                        # Offer the next slot after this one, not overlapping it.
                        start += duration
                        continue
                    start += step
    slots.sort(key=lambda slot: (slot.starts_at, slot.expert_name))
    return slots
