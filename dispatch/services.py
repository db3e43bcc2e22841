"""State changes of the dispatch workflow.

Every function is keyword-only, runs in one transaction and raises
``ValidationError`` (with a message meant for the user) or ``PermissionDenied``
before changing anything. E-mails are sent by tasks scheduled on commit.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from dateutil import rrule as dateutil_rrule
from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, OperationalError, transaction
from django.db.models import F
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from organizations.models import Company, CompanyKind, Membership, Partnership, Role
from organizations.permissions import has_role_in_company, is_member_of
from users.models import User

from . import permissions as perms
from .models import (
    HOLDING_STATUSES,
    OPEN_REQUEST_STATUSES,
    CalendarFeedToken,
    ExpertBusyBlock,
    ExpertSchedule,
    FeedKind,
    FollowUpAction,
    MetrologyTopic,
    PracticalAssessment,
    Registration,
    RegistrationStatus,
    ReportAttachment,
    RequestStatus,
    StationingPlan,
    TimeHold,
    Visit,
    VisitMode,
    VisitRating,
    VisitReport,
    VisitRequest,
    VisitRequestEvent,
    VisitStatus,
)
from .scheduling import availability_for, clash_message, expert_problems, hold_range

logger = logging.getLogger("academy.dispatch")

# --- error texts -------------------------------------------------------------
NOT_ALLOWED = _("You are not allowed to do this.")
REQUEST_NOT_SME = _("Only an SME can request an expert visit.")
REQUEST_NO_PARTNERSHIP = _(
    "%(company)s has no active partnership with a lead enterprise, so it cannot "
    "request expert visits yet."
)
REQUEST_PROBLEM_REQUIRED = _("Describe the problem the expert should help with.")
REQUEST_NO_DATES = _("Give at least one preferred date window or choose “any date”.")
REQUEST_WINDOW_ORDER = _(
    "A date window cannot end (%(end)s) before it starts (%(start)s)."
)
REQUEST_WINDOW_PAST = _("The date window %(start)s – %(end)s is in the past.")
REQUEST_WINDOW_FORMAT = _("Date windows must be given as start and end dates.")
REQUEST_PARTICIPANTS = _("Expected participants must be between 1 and 500.")
REQUEST_BAD_TRANSITION = _("This request is “%(status)s” and cannot be %(action)s.")
REQUEST_MESSAGE_REQUIRED = _("Please write a message to the requester.")
VISIT_ENDS_BEFORE_START = _("A visit must end after it starts.")
VISIT_IN_PAST = _("A visit cannot be scheduled in the past.")
VISIT_TOO_LONG = _("A visit cannot last longer than %(hours)s hours.")
VISIT_EXPERT_NOT_PARTNER = _(
    "%(expert)s is not an expert of a lead enterprise in partnership with %(company)s."
)
VISIT_EXPERT_TOPIC = _("%(expert)s does not cover the topic “%(topic)s”.")
VISIT_HOST_NOT_SME = _("Visits take place at an SME.")
VISIT_BAD_STATUS = _("This visit is “%(status)s”; it cannot be %(action)s.")
VISIT_REASON_REQUIRED = _("Please give a reason.")
VISIT_CAPACITY = _("Capacity must be between 1 and 500.")
VISIT_CAPACITY_BELOW_REGISTERED = _(
    "%(count)s people are already registered; capacity cannot be lower."
)
RRULE_MALFORMED = _("The recurrence rule is not valid: %(error)s")
RRULE_ENDLESS = _("The recurrence rule never ends. Add COUNT (e.g. COUNT=6) or UNTIL.")
RRULE_TOO_MANY = _(
    "The recurrence rule creates %(count)s visits; at most %(max)s are allowed."
)
RRULE_EMPTY = _("The recurrence rule creates no visits.")
EXCEPTION_DATE_BAD = _("“%(value)s” is not a date (use YYYY-MM-DD).")
REGISTRATION_CLOSED = _("Registration for this visit closed at %(cutoff)s.")
REGISTRATION_NOT_MEMBER = _("%(name)s is not an employee of %(company)s.")
REGISTRATION_DUPLICATE = _("%(name)s is already registered for this visit.")
REGISTRATION_FULL = _("This visit is full (%(capacity)s places).")
REGISTRATION_CANCEL_CLOSED = _(
    "Cancellations closed at %(cutoff)s. Please contact the coordinator."
)
REGISTRATION_NOT_OPEN = _("This visit does not take registrations.")
CHECKIN_INVALID = _("This check-in code is not valid.")
CHECKIN_WINDOW = _("Check-in for this visit is open from %(start)s to %(end)s only.")
CHECKIN_NOT_REGISTERED = _("You are not registered for this visit.")
ATTENDANCE_TOO_EARLY = _("Attendance can be marked once the visit has started.")
REPORT_TOO_EARLY = _("The report can be filed once the visit has started.")
REPORT_EXISTS = _("The report for this visit has already been filed.")
REPORT_SUMMARY_REQUIRED = _("The report needs a summary.")
REPORT_HOURS = _("Hours spent must be a number between 0 and 200.")
REPORT_ACTION_INCOMPLETE = _(
    "Every follow-up action needs a description, an owner and a due date."
)
RATING_RANGE = _("The rating must be between 1 and 5.")
RATING_EXISTS = _("Your company has already rated this visit.")
ASSESSMENT_NOT_EXPECTED = _("This topic does not include a practical assessment.")
ASSESSMENT_NOT_PARTICIPANT = _(
    "%(name)s is not a registered participant of this visit."
)
ASSESSMENT_VALUES = _(
    "Each measured value needs a quantity, a numeric value and a unit."
)
FEED_NOT_EXPERT = _("Calendar feeds for experts are only for experts.")
BUSY_BLOCK_ENDS_BEFORE_START = _("A busy period must end after it starts.")

MAX_VISIT_HOURS = 12
MAX_PLAN_OCCURRENCES = 60
CHECKIN_SALT = "dispatch.checkin"


def _fmt(moment: datetime) -> str:
    return formats.date_format(timezone.localtime(moment), "Y-m-d H:i")


def _error(message, code: str, **params) -> ValidationError:
    return ValidationError(message, code=code, params=params or None)


def _on_commit_task(task, *args) -> None:
    transaction.on_commit(lambda: task.enqueue(*args))


# --- visit requests ----------------------------------------------------------
def _lead_partners(company: Company) -> list[int]:
    return list(
        Partnership.objects.active()
        .filter(sme=company)
        .values_list("lead_id", flat=True)
    )


def _clean_windows(windows: Iterable) -> list[dict[str, str]]:
    cleaned = []
    today = timezone.localdate()
    for window in windows or []:
        try:
            start, end = window["start"], window["end"]
            start = start if isinstance(start, date) else date.fromisoformat(start)
            end = end if isinstance(end, date) else date.fromisoformat(end)
        except (KeyError, TypeError, ValueError) as error:
            raise _error(REQUEST_WINDOW_FORMAT, "window_format") from error
        if end < start:
            raise _error(
                REQUEST_WINDOW_ORDER,
                "window_order",
                start=start.isoformat(),
                end=end.isoformat(),
            )
        if end < today:
            raise _error(
                REQUEST_WINDOW_PAST,
                "window_past",
                start=start.isoformat(),
                end=end.isoformat(),
            )
        cleaned.append({"start": start.isoformat(), "end": end.isoformat()})
    return cleaned


def _log_request(
    visit_request: VisitRequest, *, actor, from_status: str, message: str = ""
) -> VisitRequestEvent:
    from .tasks import visit_request_notify_task

    event = VisitRequestEvent.objects.create(
        request=visit_request,
        actor=actor,
        from_status=from_status,
        to_status=visit_request.status,
        message=message,
    )
    _on_commit_task(visit_request_notify_task, event.pk)
    return event


@transaction.atomic
def visit_request_submit(
    *,
    user: User,
    company: Company,
    topic: MetrologyTopic,
    problem: str,
    instruments: str = "",
    expected_participants: int = 5,
    site_address: str = "",
    mode: str = VisitMode.ON_SITE,
    any_date: bool = False,
    preferred_windows: Sequence[dict] = (),
) -> VisitRequest:
    if company.kind != CompanyKind.SME:
        raise _error(REQUEST_NOT_SME, "not_sme")
    if not perms.can_request_visit(user, company):
        raise PermissionDenied(NOT_ALLOWED)
    if not _lead_partners(company):
        raise _error(REQUEST_NO_PARTNERSHIP, "no_partnership", company=str(company))
    if not problem.strip():
        raise _error(REQUEST_PROBLEM_REQUIRED, "problem")
    if not 1 <= int(expected_participants) <= 500:
        raise _error(REQUEST_PARTICIPANTS, "participants")
    windows = _clean_windows(preferred_windows)
    if not windows and not any_date:
        raise _error(REQUEST_NO_DATES, "no_dates")
    visit_request = VisitRequest.objects.create(
        company=company,
        requested_by=user,
        topic=topic,
        problem=problem.strip(),
        instruments=instruments.strip(),
        expected_participants=expected_participants,
        site_address=site_address.strip() or company.address,
        mode=mode,
        any_date=any_date,
        preferred_windows=windows,
        status=RequestStatus.SUBMITTED,
    )
    _log_request(visit_request, actor=user, from_status="")
    return visit_request


def _transition(
    visit_request: VisitRequest,
    *,
    to: str,
    allowed_from: Sequence[str],
    action,
    actor,
    message: str = "",
) -> VisitRequest:
    locked = VisitRequest.objects.select_for_update().get(pk=visit_request.pk)
    if locked.status not in allowed_from:
        raise _error(
            REQUEST_BAD_TRANSITION,
            "bad_transition",
            status=locked.get_status_display(),
            action=action,
        )
    previous = locked.status
    locked.status = to
    locked.save(update_fields=["status", "updated_at"])
    _log_request(locked, actor=actor, from_status=previous, message=message.strip())
    visit_request.status = locked.status
    return locked


@transaction.atomic
def visit_request_ask_info(
    *, visit_request: VisitRequest, user: User, message: str
) -> VisitRequest:
    if not perms.can_decide_visit_request(user, visit_request):
        raise PermissionDenied(NOT_ALLOWED)
    if not message.strip():
        raise _error(REQUEST_MESSAGE_REQUIRED, "message")
    return _transition(
        visit_request,
        to=RequestStatus.NEEDS_INFO,
        allowed_from=[RequestStatus.SUBMITTED],
        action=_("sent back for more information"),
        actor=user,
        message=message,
    )


@transaction.atomic
def visit_request_provide_info(
    *, visit_request: VisitRequest, user: User, message: str, **changes
) -> VisitRequest:
    if not perms.can_edit_visit_request(user, visit_request):
        raise PermissionDenied(NOT_ALLOWED)
    if not message.strip():
        raise _error(REQUEST_MESSAGE_REQUIRED, "message")
    locked = _transition(
        visit_request,
        to=RequestStatus.SUBMITTED,
        allowed_from=[RequestStatus.NEEDS_INFO],
        action=_("resubmitted"),
        actor=user,
        message=message,
    )
    if "preferred_windows" in changes:
        changes["preferred_windows"] = _clean_windows(changes["preferred_windows"])
    allowed = {
        "problem",
        "instruments",
        "site_address",
        "preferred_windows",
        "any_date",
    }
    update = {key: value for key, value in changes.items() if key in allowed}
    if update:
        for key, value in update.items():
            setattr(locked, key, value)
        locked.save(update_fields=[*update, "updated_at"])
    return locked


@transaction.atomic
def visit_request_approve(
    *, visit_request: VisitRequest, user: User, message: str = ""
) -> VisitRequest:
    if not perms.can_decide_visit_request(user, visit_request):
        raise PermissionDenied(NOT_ALLOWED)
    return _transition(
        visit_request,
        to=RequestStatus.APPROVED,
        allowed_from=OPEN_REQUEST_STATUSES,
        action=_("approved"),
        actor=user,
        message=message,
    )


@transaction.atomic
def visit_request_decline(
    *, visit_request: VisitRequest, user: User, message: str
) -> VisitRequest:
    if not perms.can_decide_visit_request(user, visit_request):
        raise PermissionDenied(NOT_ALLOWED)
    if not message.strip():
        raise _error(REQUEST_MESSAGE_REQUIRED, "message")
    return _transition(
        visit_request,
        to=RequestStatus.DECLINED,
        allowed_from=OPEN_REQUEST_STATUSES,
        action=_("declined"),
        actor=user,
        message=message,
    )


@transaction.atomic
def visit_request_withdraw(
    *, visit_request: VisitRequest, user: User, message: str = ""
) -> VisitRequest:
    if not perms.can_edit_visit_request(user, visit_request):
        raise PermissionDenied(NOT_ALLOWED)
    return _transition(
        visit_request,
        to=RequestStatus.WITHDRAWN,
        allowed_from=OPEN_REQUEST_STATUSES,
        action=_("withdrawn"),
        actor=user,
        message=message,
    )


@transaction.atomic
def visit_request_expire_stale(*, now: datetime | None = None) -> int:
    """Expire open requests older than DISPATCH_REQUEST_EXPIRY_DAYS or whose
    preferred windows have all passed. Returns how many expired."""
    now = now or timezone.now()
    days = getattr(settings, "DISPATCH_REQUEST_EXPIRY_DAYS", 60)
    today = timezone.localtime(now).date()
    expired = 0
    for visit_request in VisitRequest.objects.select_for_update().filter(
        status__in=OPEN_REQUEST_STATUSES
    ):
        too_old = visit_request.created_at < now - timedelta(days=days)
        windows = visit_request.preferred_windows or []
        passed = (
            not visit_request.any_date
            and windows
            and all(date.fromisoformat(w["end"]) < today for w in windows)
        )
        if too_old or passed:
            previous = visit_request.status
            visit_request.status = RequestStatus.EXPIRED
            visit_request.save(update_fields=["status", "updated_at"])
            _log_request(
                visit_request,
                actor=None,
                from_status=previous,
                message=str(
                    _("The preferred dates have passed.")
                    if passed
                    else _("No decision was made in time.")
                ),
            )
            expired += 1
    return expired


# --- holding the expert's time --------------------------------------------------


def _validate_times(starts_at: datetime, ends_at: datetime, *, allow_past=False):
    if starts_at is None or ends_at is None or ends_at <= starts_at:
        raise _error(VISIT_ENDS_BEFORE_START, "ends_before_start")
    if ends_at - starts_at > timedelta(hours=MAX_VISIT_HOURS):
        raise _error(VISIT_TOO_LONG, "too_long", hours=MAX_VISIT_HOURS)
    if not allow_past and starts_at < timezone.now():
        raise _error(VISIT_IN_PAST, "in_past")


def _lock_expert(expert: User) -> None:
    # Serialises bookings per expert on PostgreSQL; SQLite transactions are
    # IMMEDIATE (one writer at a time), so the check below is locked there too.
    User.objects.select_for_update().filter(pk=expert.pk).first()


def _assert_expert_free(
    *,
    expert: User,
    starts_at: datetime,
    ends_at: datetime,
    host_company_id: int,
    mode: str,
    exclude_visit_id: int | None = None,
    check_hours: bool = True,
) -> None:
    _lock_expert(expert)
    problems = expert_problems(
        expert=expert,
        starts_at=starts_at,
        ends_at=ends_at,
        host_company_id=host_company_id,
        mode=mode,
        exclude_visit_id=exclude_visit_id,
        check_hours=check_hours,
    )
    if problems:
        raise ValidationError(problems, code="clash")


def _save_hold(
    *, expert: User, starts_at: datetime, ends_at: datetime, visit=None, block=None
) -> TimeHold:
    availability = availability_for(expert)
    if block is not None:
        hold_start, hold_end = starts_at, ends_at
    else:
        hold_start, hold_end = hold_range(availability, starts_at, ends_at)
    hold = (
        TimeHold.objects.filter(visit=visit).first()
        if visit is not None
        else TimeHold.objects.filter(busy_block=block).first()
    ) or TimeHold(expert=expert, visit=visit, busy_block=block)
    hold.expert = expert
    hold.starts_at, hold.ends_at = hold_start, hold_end
    try:
        _save_hold_row(hold)
    except IntegrityError as error:
        # The exclusion constraint (PostgreSQL) caught a race the check missed.
        other = (
            TimeHold.objects.filter(
                expert=expert, starts_at__lt=hold_end, ends_at__gt=hold_start
            )
            .exclude(pk=hold.pk)
            .select_related("visit", "busy_block")
            .first()
        )
        if other is None:
            raise
        raise ValidationError(clash_message(expert, other), code="clash") from error
    return hold


# PostgreSQL checks an exclusion constraint after inserting the row, so two
# transactions inserting overlapping holds at the same moment can each wait for
# the other; it then aborts one with "deadlock detected". Only that statement's
# savepoint is lost: inserting again waits for the other transaction to finish
# and then fails with the constraint's IntegrityError, which names the clash.
HOLD_SAVE_ATTEMPTS = 3
DEADLOCK_DETECTED = "40P01"


def _is_deadlock(error: OperationalError) -> bool:
    return getattr(error.__cause__, "sqlstate", None) == DEADLOCK_DETECTED


def _save_hold_row(hold: TimeHold) -> None:
    for attempt in range(1, HOLD_SAVE_ATTEMPTS + 1):
        try:
            with transaction.atomic():
                hold.save()
            return
        except OperationalError as error:
            if not _is_deadlock(error) or attempt == HOLD_SAVE_ATTEMPTS:
                raise
            logger.info("Time hold insert lost a deadlock; attempt %d", attempt)


def _release_hold(visit: Visit) -> None:
    TimeHold.objects.filter(visit=visit).delete()


def _check_expert_for(
    *, expert: User, host_company: Company, topic: MetrologyTopic
) -> int:
    """Return the expert's lead enterprise that partners ``host_company``."""
    leads = set(_lead_partners(host_company))
    expert_leads = set(
        Membership.objects.active()
        .filter(user=expert, role=Role.EXPERT, company_id__in=leads)
        .values_list("company_id", flat=True)
    )
    if not expert_leads:
        raise _error(
            VISIT_EXPERT_NOT_PARTNER,
            "expert_not_partner",
            expert=expert.get_full_name(),
            company=str(host_company),
        )
    schedule = ExpertSchedule.objects.filter(user=expert).first()
    if schedule is not None and not schedule.topics.filter(pk=topic.pk).exists():
        raise _error(
            VISIT_EXPERT_TOPIC,
            "expert_topic",
            expert=expert.get_full_name(),
            topic=topic.name,
        )
    return min(expert_leads)


def _send_visit_update(visit: Visit) -> None:
    """Tell people who already got the invitation that something changed."""
    from .tasks import visit_send_invitation_task

    if visit.confirmation_sent_at:
        _on_commit_task(visit_send_invitation_task, visit.pk, "update")


# --- visits ---------------------------------------------------------------------
@transaction.atomic
def visit_propose(
    *,
    user: User,
    expert: User | None,
    host_company: Company,
    topic: MetrologyTopic,
    starts_at: datetime,
    ends_at: datetime,
    visit_request: VisitRequest | None = None,
    title: str = "",
    mode: str = VisitMode.ON_SITE,
    location: str = "",
    description: str = "",
    capacity: int = 10,
    published: bool = True,
    registration_cutoff_hours: int = 24,
    plan: StationingPlan | None = None,
    occurrence_start: datetime | None = None,
) -> Visit:
    """Create a visit. With an expert it is tentative and holds their time;
    without one it is unstaffed and shows on the coordinator board."""
    _validate_times(starts_at, ends_at)
    if host_company.kind != CompanyKind.SME:
        raise _error(VISIT_HOST_NOT_SME, "host_not_sme")
    if not 1 <= capacity <= 500:
        raise _error(VISIT_CAPACITY, "capacity")
    lead_id = None
    if expert is not None:
        lead_id = _check_expert_for(
            expert=expert, host_company=host_company, topic=topic
        )
        if not perms.can_schedule_for(
            user, host_company=host_company, lead_company_id=lead_id
        ):
            raise PermissionDenied(NOT_ALLOWED)
    elif not perms.is_coordinator(user):
        raise PermissionDenied(NOT_ALLOWED)
    if visit_request is not None:
        if visit_request.company_id != host_company.pk:
            raise PermissionDenied(NOT_ALLOWED)
        if visit_request.status in OPEN_REQUEST_STATUSES:
            visit_request_approve(visit_request=visit_request, user=user)
        elif visit_request.status != RequestStatus.APPROVED:
            raise _error(
                REQUEST_BAD_TRANSITION,
                "bad_transition",
                status=visit_request.get_status_display(),
                action=_("scheduled"),
            )
    if expert is not None:
        _assert_expert_free(
            expert=expert,
            starts_at=starts_at,
            ends_at=ends_at,
            host_company_id=host_company.pk,
            mode=mode,
        )
    visit = Visit.objects.create(
        title=title.strip() or f"{topic.name} · {host_company}",
        topic=topic,
        request=visit_request,
        plan=plan,
        occurrence_start=occurrence_start,
        host_company=host_company,
        lead_company_id=lead_id,
        expert=expert,
        starts_at=starts_at,
        ends_at=ends_at,
        mode=mode,
        location=location.strip()
        or (visit_request.site_address if visit_request else host_company.address),
        description=description,
        capacity=capacity,
        registration_cutoff_hours=registration_cutoff_hours,
        published=published,
        status=VisitStatus.TENTATIVE if expert else VisitStatus.UNSTAFFED,
        created_by=user,
    )
    if expert is not None:
        _save_hold(expert=expert, starts_at=starts_at, ends_at=ends_at, visit=visit)
        from .tasks import visit_notify_expert_task

        _on_commit_task(visit_notify_expert_task, visit.pk)
    return visit


def _lock_visit(visit: Visit) -> Visit:
    locked = Visit.objects.select_for_update().get(pk=visit.pk)
    return locked


def _require_status(visit: Visit, allowed: Sequence[str], action) -> None:
    if visit.status not in allowed:
        raise _error(
            VISIT_BAD_STATUS,
            "bad_status",
            status=visit.get_status_display(),
            action=action,
        )


def _refresh(target: Visit, source: Visit) -> Visit:
    target.__dict__.update(
        {k: v for k, v in source.__dict__.items() if not k.startswith("_")}
    )
    return target


@transaction.atomic
def visit_assign_expert(*, visit: Visit, user: User, expert: User) -> Visit:
    """Staff an unstaffed (or declined) visit with an expert: tentative."""
    locked = _lock_visit(visit)
    _require_status(locked, [VisitStatus.UNSTAFFED, VisitStatus.RELEASED], _("staffed"))
    lead_id = _check_expert_for(
        expert=expert, host_company=locked.host_company, topic=locked.topic
    )
    if not perms.can_schedule_for(
        user, host_company=locked.host_company, lead_company_id=lead_id
    ):
        raise PermissionDenied(NOT_ALLOWED)
    _validate_times(locked.starts_at, locked.ends_at)
    _assert_expert_free(
        expert=expert,
        starts_at=locked.starts_at,
        ends_at=locked.ends_at,
        host_company_id=locked.host_company_id,
        mode=locked.mode,
        exclude_visit_id=locked.pk,
    )
    locked.expert = expert
    locked.lead_company_id = lead_id
    locked.status = VisitStatus.TENTATIVE
    locked.decline_reason = ""
    locked.sequence = F("sequence") + 1
    locked.save()
    locked.refresh_from_db()
    _save_hold(
        expert=expert, starts_at=locked.starts_at, ends_at=locked.ends_at, visit=locked
    )
    from .tasks import visit_notify_expert_task

    _on_commit_task(visit_notify_expert_task, locked.pk)
    return _refresh(visit, locked)


@transaction.atomic
def visit_accept(*, visit: Visit, user: User) -> Visit:
    locked = _lock_visit(visit)
    if not perms.can_respond_to_visit(user, locked):
        if locked.expert_id == user.pk:
            _require_status(locked, [VisitStatus.TENTATIVE], _("accepted"))
        raise PermissionDenied(NOT_ALLOWED)
    locked.status = VisitStatus.CONFIRMED
    locked.confirmed_at = timezone.now()
    locked.sequence = F("sequence") + 1
    locked.save()
    locked.refresh_from_db()
    from .tasks import visit_send_invitation_task

    _on_commit_task(visit_send_invitation_task, locked.pk, "confirmed")
    return _refresh(visit, locked)


@transaction.atomic
def visit_decline(*, visit: Visit, user: User, reason: str = "") -> Visit:
    """The expert declines: the hold is released, the visit needs staffing."""
    locked = _lock_visit(visit)
    if not perms.can_respond_to_visit(user, locked):
        if locked.expert_id == user.pk:
            _require_status(locked, [VisitStatus.TENTATIVE], _("declined"))
        raise PermissionDenied(NOT_ALLOWED)
    locked.status = VisitStatus.RELEASED
    locked.decline_reason = reason.strip()
    locked.sequence = F("sequence") + 1
    locked.save()
    locked.refresh_from_db()
    _release_hold(locked)
    from .tasks import visit_declined_notify_task

    _on_commit_task(visit_declined_notify_task, locked.pk)
    return _refresh(visit, locked)


@transaction.atomic
def visit_reschedule(
    *,
    visit: Visit,
    user: User,
    starts_at: datetime,
    ends_at: datetime,
    location: str | None = None,
) -> Visit:
    locked = _lock_visit(visit)
    if not perms.can_manage_visit(user, locked):
        raise PermissionDenied(NOT_ALLOWED)
    _require_status(
        locked,
        [
            VisitStatus.UNSTAFFED,
            VisitStatus.TENTATIVE,
            VisitStatus.CONFIRMED,
            VisitStatus.RELEASED,
        ],
        _("rescheduled"),
    )
    _validate_times(starts_at, ends_at)
    if locked.holds_time:
        _assert_expert_free(
            expert=locked.expert,
            starts_at=starts_at,
            ends_at=ends_at,
            host_company_id=locked.host_company_id,
            mode=locked.mode,
            exclude_visit_id=locked.pk,
        )
    locked.starts_at, locked.ends_at = starts_at, ends_at
    if location is not None:
        locked.location = location.strip()
    if locked.plan_id:
        locked.edited_by_hand = True
    locked.sequence = F("sequence") + 1
    locked.save()
    locked.refresh_from_db()
    if locked.holds_time:
        _save_hold(
            expert=locked.expert, starts_at=starts_at, ends_at=ends_at, visit=locked
        )
    _send_visit_update(locked)
    return _refresh(visit, locked)


@transaction.atomic
def visit_cancel(*, visit: Visit, user: User | None, reason: str) -> Visit:
    """Cancel but keep the record, with the reason."""
    locked = _lock_visit(visit)
    if user is not None and not perms.can_manage_visit(user, locked):
        raise PermissionDenied(NOT_ALLOWED)
    if not reason.strip():
        raise _error(VISIT_REASON_REQUIRED, "reason")
    _require_status(
        locked,
        [
            VisitStatus.UNSTAFFED,
            VisitStatus.TENTATIVE,
            VisitStatus.CONFIRMED,
            VisitStatus.RELEASED,
        ],
        _("cancelled"),
    )
    locked.status = VisitStatus.CANCELLED
    locked.cancel_reason = reason.strip()
    locked.cancelled_at = timezone.now()
    if locked.plan_id and user is not None:
        locked.edited_by_hand = True
    locked.sequence = F("sequence") + 1
    locked.save()
    locked.refresh_from_db()
    _release_hold(locked)
    _send_visit_update(locked)
    return _refresh(visit, locked)


@transaction.atomic
def visit_update_details(
    *,
    visit: Visit,
    user: User,
    capacity: int | None = None,
    published: bool | None = None,
    title: str | None = None,
    description: str | None = None,
) -> Visit:
    locked = _lock_visit(visit)
    if not perms.can_manage_visit(user, locked):
        raise PermissionDenied(NOT_ALLOWED)
    if capacity is not None:
        if not 1 <= capacity <= 500:
            raise _error(VISIT_CAPACITY, "capacity")
        if capacity < locked.seats_taken:
            raise _error(
                VISIT_CAPACITY_BELOW_REGISTERED,
                "capacity_below",
                count=locked.seats_taken,
            )
        locked.capacity = capacity
    if published is not None:
        locked.published = published
    if title is not None and title.strip():
        locked.title = title.strip()
    if description is not None:
        locked.description = description
    if locked.plan_id:
        locked.edited_by_hand = True
    locked.sequence = F("sequence") + 1
    locked.save()
    locked.refresh_from_db()
    if capacity is not None:
        _promote_waiting(locked)
    return _refresh(visit, locked)


# --- busy blocks ------------------------------------------------------------------
@transaction.atomic
def busy_block_create(
    *, expert: User, starts_at: datetime, ends_at: datetime, reason: str = ""
) -> ExpertBusyBlock:
    if starts_at is None or ends_at is None or ends_at <= starts_at:
        raise _error(BUSY_BLOCK_ENDS_BEFORE_START, "ends_before_start")
    _lock_expert(expert)
    clash = (
        TimeHold.objects.filter(
            expert=expert, starts_at__lt=ends_at, ends_at__gt=starts_at
        )
        .select_related("visit", "busy_block")
        .first()
    )
    if clash is not None:
        raise ValidationError(clash_message(expert, clash), code="clash")
    block = ExpertBusyBlock.objects.create(
        expert=expert, starts_at=starts_at, ends_at=ends_at, reason=reason.strip()
    )
    _save_hold(expert=expert, starts_at=starts_at, ends_at=ends_at, block=block)
    return block


@transaction.atomic
def busy_block_delete(*, block: ExpertBusyBlock, user: User) -> None:
    if block.expert_id != user.pk and not perms.is_coordinator(user):
        raise PermissionDenied(NOT_ALLOWED)
    block.delete()


# --- stationing plans -----------------------------------------------------------


def _parse_exceptions(values: Iterable) -> set[date]:
    dates = set()
    for value in values or []:
        try:
            dates.add(value if isinstance(value, date) else date.fromisoformat(value))
        except (TypeError, ValueError) as error:
            raise _error(EXCEPTION_DATE_BAD, "exception_date", value=value) from error
    return dates


def plan_occurrences(
    *, rule: str, first_start: datetime, exceptions: Iterable = ()
) -> list[datetime]:
    """Occurrence start times (aware, local) of an RRULE, minus exceptions.

    Rejects malformed rules, rules that never end and rules creating too many
    visits.
    """
    text = (rule or "").strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:]
    if not text or "\n" in text or "DTSTART" in text.upper():
        raise _error(RRULE_MALFORMED, "rrule", error=_("expected one RRULE line"))
    local_start = timezone.localtime(first_start)
    try:
        parsed = dateutil_rrule.rrulestr(text, dtstart=local_start)
    except (ValueError, TypeError) as error:
        raise _error(RRULE_MALFORMED, "rrule", error=str(error)) from error
    if not isinstance(parsed, dateutil_rrule.rrule):
        raise _error(RRULE_MALFORMED, "rrule", error=_("expected one RRULE line"))
    if parsed._count is None and parsed._until is None:  # noqa: SLF001
        raise _error(RRULE_ENDLESS, "rrule_endless")
    skipped = _parse_exceptions(exceptions)
    occurrences = []
    for count, moment in enumerate(parsed, 1):
        if count > MAX_PLAN_OCCURRENCES:
            raise _error(
                RRULE_TOO_MANY,
                "rrule_too_many",
                count=f"> {MAX_PLAN_OCCURRENCES}",
                max=MAX_PLAN_OCCURRENCES,
            )
        if moment.date() not in skipped:
            occurrences.append(moment)
    if not occurrences:
        raise _error(RRULE_EMPTY, "rrule_empty")
    return occurrences


@dataclass
class PlanResult:
    created: list[Visit] = field(default_factory=list)
    updated: list[Visit] = field(default_factory=list)
    kept: list[Visit] = field(default_factory=list)
    removed: list[Visit] = field(default_factory=list)
    conflicts: list[tuple[datetime, str]] = field(default_factory=list)


@transaction.atomic
def stationing_plan_create(
    *,
    user: User,
    title: str,
    expert: User,
    host_company: Company,
    topic: MetrologyTopic,
    first_start: datetime,
    duration_minutes: int,
    rrule: str,
    exception_dates: Sequence = (),
    location: str = "",
    capacity: int = 10,
) -> tuple[StationingPlan, PlanResult]:
    lead_id = _check_expert_for(expert=expert, host_company=host_company, topic=topic)
    if not perms.can_schedule_for(
        user, host_company=host_company, lead_company_id=lead_id
    ):
        raise PermissionDenied(NOT_ALLOWED)
    if duration_minutes <= 0:
        raise _error(VISIT_ENDS_BEFORE_START, "ends_before_start")
    plan_occurrences(rule=rrule, first_start=first_start, exceptions=exception_dates)
    plan = StationingPlan.objects.create(
        title=title.strip(),
        expert=expert,
        host_company=host_company,
        topic=topic,
        first_start=first_start,
        duration_minutes=duration_minutes,
        rrule=rrule.strip(),
        exception_dates=[d.isoformat() for d in _parse_exceptions(exception_dates)],
        location=location.strip(),
        capacity=capacity,
        created_by=user,
    )
    return plan, stationing_plan_generate(plan=plan, user=user)


@transaction.atomic
def stationing_plan_generate(*, plan: StationingPlan, user: User) -> PlanResult:
    """Create the plan's visits; idempotent.

    Existing visits that were edited by hand (or cancelled) are never touched;
    others follow the plan's duration and location. Occurrences no longer in
    the rule are cancelled if they are still in the future. A clash with the
    expert's other commitments skips that occurrence and is reported.
    """
    StationingPlan.objects.select_for_update().filter(pk=plan.pk).first()
    occurrences = plan_occurrences(
        rule=plan.rrule, first_start=plan.first_start, exceptions=plan.exception_dates
    )
    duration = timedelta(minutes=plan.duration_minutes)
    existing = {
        visit.occurrence_start: visit
        for visit in Visit.objects.select_for_update().filter(plan=plan)
    }
    result = PlanResult()
    now = timezone.now()
    wanted = set()
    for moment in occurrences:
        wanted.add(moment)
        visit = existing.get(moment)
        if visit is not None:
            if visit.edited_by_hand or visit.status not in (
                *HOLDING_STATUSES,
                VisitStatus.UNSTAFFED,
            ):
                result.kept.append(visit)
                continue
            if visit.ends_at == moment + duration and visit.location == (
                plan.location or visit.location
            ):
                result.kept.append(visit)
                continue
            try:
                with transaction.atomic():
                    if visit.holds_time:
                        _assert_expert_free(
                            expert=plan.expert,
                            starts_at=moment,
                            ends_at=moment + duration,
                            host_company_id=plan.host_company_id,
                            mode=visit.mode,
                            exclude_visit_id=visit.pk,
                        )
                    visit.ends_at = moment + duration
                    if plan.location:
                        visit.location = plan.location
                    visit.sequence = F("sequence") + 1
                    visit.save()
                    visit.refresh_from_db()
                    if visit.holds_time:
                        _save_hold(
                            expert=plan.expert,
                            starts_at=visit.starts_at,
                            ends_at=visit.ends_at,
                            visit=visit,
                        )
            except ValidationError as error:
                result.conflicts.append((moment, " ".join(error.messages)))
                continue
            result.updated.append(visit)
            continue
        if moment < now:
            continue
        try:
            with transaction.atomic():
                visit = visit_propose(
                    user=user,
                    expert=plan.expert,
                    host_company=plan.host_company,
                    topic=plan.topic,
                    starts_at=moment,
                    ends_at=moment + duration,
                    title=plan.title,
                    location=plan.location,
                    capacity=plan.capacity,
                    plan=plan,
                    occurrence_start=moment,
                )
        except ValidationError as error:
            result.conflicts.append((moment, " ".join(error.messages)))
            continue
        result.created.append(visit)
    for moment, visit in existing.items():
        if (
            moment not in wanted
            and not visit.edited_by_hand
            and visit.starts_at > now
            and visit.status in (*HOLDING_STATUSES, VisitStatus.UNSTAFFED)
        ):
            visit_cancel(
                visit=visit,
                user=None,
                reason=str(_("Removed from the stationing plan.")),
            )
            result.removed.append(visit)
    return result


# --- registrations ----------------------------------------------------------------


def _promote_waiting(visit: Visit) -> list[Registration]:
    """Fill free seats from the waiting list, first come first served."""
    from .tasks import registration_promoted_notify_task

    promoted = []
    waiting = Registration.objects.select_for_update().filter(
        visit=visit, status=RegistrationStatus.WAITLISTED
    )
    for registration in waiting.order_by("waitlisted_at", "pk"):
        taken = Visit.objects.filter(pk=visit.pk, seats_taken__lt=F("capacity")).update(
            seats_taken=F("seats_taken") + 1
        )
        if not taken:
            break
        registration.status = RegistrationStatus.REGISTERED
        registration.save(update_fields=["status"])
        promoted.append(registration)
        _on_commit_task(registration_promoted_notify_task, registration.pk)
    return promoted


@transaction.atomic
def visit_register(
    *,
    visit: Visit,
    participant: User,
    registered_by: User,
    allow_waitlist: bool = True,
) -> Registration:
    """Register an employee of the host company: a seat or the waiting list."""
    visit = Visit.objects.select_related("host_company").get(pk=visit.pk)
    company = visit.host_company
    if registered_by == participant:
        allowed = perms.can_register_self(
            participant, visit
        ) or perms.can_register_participants(registered_by, visit, company)
    else:
        allowed = perms.can_register_participants(registered_by, visit, company)
    if not allowed:
        if visit.status not in (VisitStatus.TENTATIVE, VisitStatus.CONFIRMED):
            raise _error(REGISTRATION_NOT_OPEN, "not_open")
        raise PermissionDenied(NOT_ALLOWED)
    if timezone.now() >= visit.registration_cutoff:
        raise _error(
            REGISTRATION_CLOSED, "closed", cutoff=_fmt(visit.registration_cutoff)
        )
    if not is_member_of(participant, company):
        raise _error(
            REGISTRATION_NOT_MEMBER,
            "not_member",
            name=participant.get_full_name(),
            company=str(company),
        )
    registration = (
        Registration.objects.select_for_update()
        .filter(visit=visit, user=participant)
        .first()
    )
    if registration is not None and registration.status != RegistrationStatus.CANCELLED:
        raise _error(
            REGISTRATION_DUPLICATE, "duplicate", name=participant.get_full_name()
        )
    # Atomic seat count: the conditional UPDATE takes a seat or nothing.
    took_seat = Visit.objects.filter(pk=visit.pk, seats_taken__lt=F("capacity")).update(
        seats_taken=F("seats_taken") + 1
    )
    if not took_seat and not allow_waitlist:
        raise _error(REGISTRATION_FULL, "full", capacity=visit.capacity)
    now = timezone.now()
    registration = registration or Registration(visit=visit, user=participant)
    registration.company = company
    registration.registered_by = registered_by
    registration.created_at = now
    registration.cancelled_at = None
    if took_seat:
        registration.status = RegistrationStatus.REGISTERED
        registration.waitlisted_at = None
    else:
        registration.status = RegistrationStatus.WAITLISTED
        registration.waitlisted_at = now
    registration.save()
    return registration


@transaction.atomic
def registration_cancel(*, registration: Registration, user: User) -> Registration:
    registration = Registration.objects.select_for_update().get(pk=registration.pk)
    visit = _lock_visit(registration.visit)
    if not (
        registration.user_id == user.pk
        or perms.can_register_participants(user, visit, registration.company)
        or perms.can_manage_visit(user, visit)
    ):
        raise PermissionDenied(NOT_ALLOWED)
    if registration.status == RegistrationStatus.CANCELLED:
        return registration
    if timezone.now() >= visit.registration_cutoff and not perms.can_manage_visit(
        user, visit
    ):
        raise _error(
            REGISTRATION_CANCEL_CLOSED,
            "cancel_closed",
            cutoff=_fmt(visit.registration_cutoff),
        )
    held_seat = registration.status == RegistrationStatus.REGISTERED
    registration.status = RegistrationStatus.CANCELLED
    registration.cancelled_at = timezone.now()
    registration.save(update_fields=["status", "cancelled_at"])
    if held_seat:
        Visit.objects.filter(pk=visit.pk).update(seats_taken=F("seats_taken") - 1)
        _promote_waiting(visit)
    return registration


# --- attendance, assessments and course completion -------------------------------


def _recheck_courses(*, users: Iterable[User], topic: MetrologyTopic) -> None:
    """Let courses that require this topic re-evaluate completion."""
    from .requirements import recheck_courses_for

    for person in users:
        recheck_courses_for(user=person, topic=topic)


def _attendance_open(visit: Visit) -> None:
    _require_status(visit, [VisitStatus.CONFIRMED, VisitStatus.COMPLETED], _("marked"))
    if timezone.now() < visit.starts_at - timedelta(minutes=30):
        raise _error(ATTENDANCE_TOO_EARLY, "too_early")


@transaction.atomic
def attendance_mark(
    *, visit: Visit, user: User, attended_user_ids: Iterable[int]
) -> list[Registration]:
    """The expert ticks who was there; everyone else registered is absent."""
    visit = _lock_visit(visit)
    if not perms.can_mark_attendance(user, visit):
        raise PermissionDenied(NOT_ALLOWED)
    _attendance_open(visit)
    present = {int(pk) for pk in attended_user_ids}
    now = timezone.now()
    changed = []
    registrations = Registration.objects.select_for_update().filter(
        visit=visit, status=RegistrationStatus.REGISTERED
    )
    for registration in registrations.select_related("user"):
        was = registration.attended
        registration.attended = registration.user_id in present
        if registration.attended and not was:
            registration.attended_at = now
            registration.checkin_method = "expert"
        if not registration.attended:
            registration.attended_at = None
            registration.checkin_method = ""
        if was != registration.attended:
            registration.save(
                update_fields=["attended", "attended_at", "checkin_method"]
            )
            changed.append(registration)
    _recheck_courses(users=[r.user for r in changed], topic=visit.topic)
    return changed


def checkin_token(visit: Visit) -> str:
    """Signed per-visit token shown as a QR code by the expert."""
    return signing.dumps({"v": visit.pk, "n": visit.qr_nonce}, salt=CHECKIN_SALT)


def checkin_window(visit: Visit) -> tuple[datetime, datetime]:
    before = getattr(settings, "DISPATCH_CHECKIN_OPENS_MINUTES", 60)
    after = getattr(settings, "DISPATCH_CHECKIN_CLOSES_MINUTES", 60)
    return (
        visit.starts_at - timedelta(minutes=before),
        visit.ends_at + timedelta(minutes=after),
    )


def checkin_token_visit(token: str) -> Visit:
    try:
        data = signing.loads(token, salt=CHECKIN_SALT)
        visit = Visit.objects.select_related("topic").get(pk=int(data["v"]))
    except (signing.BadSignature, KeyError, TypeError, ValueError, Visit.DoesNotExist):
        raise _error(CHECKIN_INVALID, "invalid") from None
    if data.get("n") != visit.qr_nonce:
        raise _error(CHECKIN_INVALID, "invalid")
    return visit


@transaction.atomic
def attendance_check_in(*, token: str, user: User) -> Registration:
    """A participant scans the visit's QR code."""
    visit = checkin_token_visit(token)
    start, end = checkin_window(visit)
    now = timezone.now()
    if visit.status != VisitStatus.CONFIRMED and visit.status != VisitStatus.COMPLETED:
        raise _error(CHECKIN_INVALID, "invalid")
    if not start <= now <= end:
        raise _error(CHECKIN_WINDOW, "window", start=_fmt(start), end=_fmt(end))
    registration = (
        Registration.objects.select_for_update()
        .filter(visit=visit, user=user, status=RegistrationStatus.REGISTERED)
        .first()
    )
    if registration is None:
        raise _error(CHECKIN_NOT_REGISTERED, "not_registered")
    if not registration.attended:
        registration.attended = True
        registration.attended_at = now
        registration.checkin_method = "qr"
        registration.save(update_fields=["attended", "attended_at", "checkin_method"])
        _recheck_courses(users=[user], topic=visit.topic)
    return registration


@transaction.atomic
def visit_rotate_checkin_code(*, visit: Visit, user: User) -> Visit:
    """Invalidate QR codes already shown (e.g. a photo was shared)."""
    from .models import _qr_nonce

    if not perms.can_mark_attendance(user, visit):
        raise PermissionDenied(NOT_ALLOWED)
    visit.qr_nonce = _qr_nonce()
    visit.save(update_fields=["qr_nonce", "updated_at"])
    return visit


def _clean_measured_values(values) -> list[dict]:
    cleaned = []
    for row in values or []:
        try:
            quantity = str(row["quantity"]).strip()
            unit = str(row["unit"]).strip()
            value = Decimal(str(row["value"]).strip())
        except (KeyError, TypeError, InvalidOperation) as error:
            raise _error(ASSESSMENT_VALUES, "values") from error
        if not quantity or not unit or not value.is_finite():
            raise _error(ASSESSMENT_VALUES, "values")
        cleaned.append({"quantity": quantity, "value": str(value), "unit": unit})
    return cleaned


@transaction.atomic
def assessment_record(
    *,
    visit: Visit,
    user: User,
    participant: User,
    passed: bool,
    measured_values: Sequence[dict] = (),
    notes: str = "",
) -> PracticalAssessment:
    visit = _lock_visit(visit)
    if not visit.topic.expects_practical_assessment:
        raise _error(ASSESSMENT_NOT_EXPECTED, "not_expected")
    if not perms.can_record_assessment(user, visit):
        raise PermissionDenied(NOT_ALLOWED)
    _attendance_open(visit)
    if not Registration.objects.filter(
        visit=visit, user=participant, status=RegistrationStatus.REGISTERED
    ).exists():
        raise _error(
            ASSESSMENT_NOT_PARTICIPANT,
            "not_participant",
            name=participant.get_full_name(),
        )
    values = _clean_measured_values(measured_values)
    assessment, _created = PracticalAssessment.objects.update_or_create(
        visit=visit,
        user=participant,
        defaults={
            "passed": bool(passed),
            "measured_values": values,
            "notes": notes.strip(),
            "recorded_by": user,
            "recorded_at": timezone.now(),
        },
    )
    _recheck_courses(users=[participant], topic=visit.topic)
    return assessment


# --- reports and ratings ------------------------------------------------------------


@transaction.atomic
def visit_report_file(
    *,
    visit: Visit,
    user: User,
    summary: str,
    hours_spent,
    findings: str = "",
    recommendations: str = "",
    actions: Sequence[dict] = (),
    attachments: Sequence = (),
) -> VisitReport:
    original, visit = visit, _lock_visit(visit)
    if not perms.can_file_report(user, visit):
        raise PermissionDenied(NOT_ALLOWED)
    _require_status(
        visit, [VisitStatus.CONFIRMED, VisitStatus.COMPLETED], _("reported on")
    )
    if timezone.now() < visit.starts_at:
        raise _error(REPORT_TOO_EARLY, "too_early")
    if VisitReport.objects.filter(visit=visit).exists():
        raise _error(REPORT_EXISTS, "exists")
    if not summary.strip():
        raise _error(REPORT_SUMMARY_REQUIRED, "summary")
    try:
        hours = Decimal(str(hours_spent))
    except (InvalidOperation, TypeError) as error:
        raise _error(REPORT_HOURS, "hours") from error
    if not hours.is_finite() or not Decimal(0) <= hours <= Decimal(200):
        raise _error(REPORT_HOURS, "hours")
    cleaned_actions = []
    for action in actions:
        description = str(action.get("description", "")).strip()
        owner = str(action.get("owner", "")).strip()
        due = action.get("due_date")
        if isinstance(due, str) and due:
            try:
                due = date.fromisoformat(due)
            except ValueError:
                due = None
        if not description and not owner and not due:
            continue
        if not (description and owner and isinstance(due, date)):
            raise _error(REPORT_ACTION_INCOMPLETE, "action")
        cleaned_actions.append((description, owner, due))
    report = VisitReport.objects.create(
        visit=visit,
        summary=summary.strip(),
        findings=findings.strip(),
        recommendations=recommendations.strip(),
        hours_spent=hours.quantize(Decimal("0.1")),
        filed_by=user,
    )
    FollowUpAction.objects.bulk_create(
        FollowUpAction(report=report, description=d, owner=o, due_date=due)
        for d, o, due in cleaned_actions
    )
    for upload in attachments:
        ReportAttachment.objects.create(report=report, file=upload)
    visit.status = VisitStatus.COMPLETED
    visit.save(update_fields=["status", "updated_at"])
    _refresh(original, visit)
    return report


@transaction.atomic
def visit_rate(
    *, visit: Visit, user: User, score: int, comment: str = ""
) -> VisitRating:
    visit = Visit.objects.select_related("topic").get(pk=visit.pk)
    if not perms.can_rate_visit(user, visit):
        raise PermissionDenied(NOT_ALLOWED)
    try:
        score = int(score)
    except (TypeError, ValueError):
        score = 0
    if not 1 <= score <= 5:
        raise _error(RATING_RANGE, "range")
    if VisitRating.objects.filter(visit=visit, company=visit.host_company).exists():
        raise _error(RATING_EXISTS, "exists")
    return VisitRating.objects.create(
        visit=visit,
        company=visit.host_company,
        rated_by=user,
        score=score,
        comment=comment.strip(),
    )


# --- calendar feeds -------------------------------------------------------------------


@transaction.atomic
def feed_token_create(
    *, user: User, expert: User | None = None, company: Company | None = None
) -> CalendarFeedToken:
    """A new secret feed URL; earlier ones for the same calendar are revoked."""
    if expert is not None:
        if expert != user and not perms.is_coordinator(user):
            raise PermissionDenied(NOT_ALLOWED)
        if not perms.is_expert(expert):
            raise _error(FEED_NOT_EXPERT, "not_expert")
        scope = {"kind": FeedKind.EXPERT, "expert": expert}
    elif company is not None:
        if not perms.can_create_company_feed(user, company):
            raise PermissionDenied(NOT_ALLOWED)
        scope = {"kind": FeedKind.COMPANY, "company": company}
    else:
        raise PermissionDenied(NOT_ALLOWED)
    CalendarFeedToken.objects.filter(**scope, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    return CalendarFeedToken.objects.create(**scope, created_by=user)


@transaction.atomic
def feed_token_revoke(*, token: CalendarFeedToken, user: User) -> CalendarFeedToken:
    if not perms.can_manage_feed_token(user, token):
        raise PermissionDenied(NOT_ALLOWED)
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


# --- reminders ---------------------------------------------------------------


@transaction.atomic
def visit_reminders_send(*, now: datetime | None = None) -> int:
    """Queue 7-day and 1-day reminders for confirmed visits; each once."""
    from .tasks import visit_send_invitation_task

    now = now or timezone.now()
    sent = 0
    for field_name, days in (("reminder_7d_sent_at", 7), ("reminder_1d_sent_at", 1)):
        due = Visit.objects.select_for_update().filter(
            status=VisitStatus.CONFIRMED,
            starts_at__gt=now,
            starts_at__lte=now + timedelta(days=days),
            **{f"{field_name}__isnull": True},
        )
        for visit in due:
            if days == 7 and visit.starts_at <= now + timedelta(days=1):
                # Too close for the 7-day reminder: only the 1-day one goes out.
                setattr(visit, field_name, now)
                visit.save(update_fields=[field_name])
                continue
            setattr(visit, field_name, now)
            visit.save(update_fields=[field_name])
            _on_commit_task(visit_send_invitation_task, visit.pk, f"reminder_{days}d")
            sent += 1
    return sent


def hr_companies_of(user: User) -> list[Company]:
    return list(
        Company.objects.filter(
            memberships__in=Membership.objects.active().filter(user=user, role=Role.HR)
        ).distinct()
    )


def user_is_hr_of(user: User, company: Company) -> bool:
    return has_role_in_company(user, company, Role.HR)
