from datetime import timedelta
from unittest import mock

import psycopg.errors
import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import OperationalError
from icalendar import Calendar

from dispatch import services
from dispatch.models import (
    TimeHold,
    Visit,
    VisitMode,
    VisitRequest,
    VisitStatus,
)

from .factories import TopicFactory, schedule_for, weekday_at


def test_propose_holds_time_with_buffers(world, propose):
    start = weekday_at(9)
    visit = propose(start=start, hours=3)
    assert visit.status == VisitStatus.TENTATIVE
    assert visit.lead_company == world.lead
    hold = TimeHold.objects.get(visit=visit)
    assert hold.starts_at == start - timedelta(minutes=30)
    assert hold.ends_at == start + timedelta(hours=3, minutes=30)


def test_clash_names_conflicting_visit_and_changes_nothing(world, propose):
    first = propose(start=weekday_at(9), title="恒准压力表检定指导")
    with pytest.raises(ValidationError) as excinfo:
        propose(start=weekday_at(11), title="第二次")
    message = " ".join(excinfo.value.messages)
    assert "恒准压力表检定指导" in message and "李建国" in message
    assert Visit.objects.count() == 1
    assert TimeHold.objects.count() == 1
    assert first.pk


def _failing_saves(*errors):
    """TimeHold.save raising ``errors`` in turn, then saving for real."""
    real_save = TimeHold.save
    pending = list(errors)

    def save(hold, *args, **kwargs):
        if pending:
            raise pending.pop(0)
        return real_save(hold, *args, **kwargs)

    return mock.patch.object(TimeHold, "save", autospec=True, side_effect=save)


def _wrapped(database_error):
    # What Django raises: its own OperationalError caused by psycopg's.
    error = OperationalError(str(database_error))
    error.__cause__ = database_error
    return error


def test_hold_insert_that_lost_a_deadlock_is_tried_again(world, propose):
    deadlock = _wrapped(psycopg.errors.DeadlockDetected("deadlock detected"))
    with _failing_saves(deadlock, deadlock) as save:
        visit = propose(start=weekday_at(9))
    assert save.call_count == 3
    assert TimeHold.objects.get(visit=visit).expert == world.expert


def test_hold_insert_gives_up_after_repeated_deadlocks(world, propose):
    deadlock = _wrapped(psycopg.errors.DeadlockDetected("deadlock detected"))
    attempts = services.HOLD_SAVE_ATTEMPTS
    with (
        _failing_saves(*[deadlock] * attempts) as save,
        pytest.raises(OperationalError),
    ):
        propose(start=weekday_at(9))
    assert save.call_count == attempts
    assert not Visit.objects.exists() and not TimeHold.objects.exists()


def test_other_database_errors_on_hold_insert_are_not_retried(world, propose):
    lost = _wrapped(psycopg.errors.AdminShutdown("terminating connection"))
    with _failing_saves(lost) as save, pytest.raises(OperationalError):
        propose(start=weekday_at(9))
    assert save.call_count == 1
    assert not Visit.objects.exists()


def test_buffer_counts_as_busy(world, propose):
    propose(start=weekday_at(9), hours=2)  # 09:00-11:00, held 08:30-11:30
    with pytest.raises(ValidationError, match="already booked"):
        propose(start=weekday_at(11, 45), hours=2, mode=VisitMode.REMOTE)
    # Remote, 12:00 is outside the 30-minute buffers of both sides.
    assert propose(start=weekday_at(12), hours=2, mode=VisitMode.REMOTE).pk


def test_travel_between_different_companies(world, dispatch, propose):
    from organizations.models import Partnership
    from tests.factories import CompanyFactory, PartnershipFactory

    second_sme = CompanyFactory(name="无锡精工传感器有限公司")
    PartnershipFactory(lead=world.lead, sme=second_sme)
    propose(start=weekday_at(8, 30), hours=2)  # ends 10:30 at partner_sme
    with pytest.raises(ValidationError, match="to travel"):
        propose(start=weekday_at(11, 30), hours=2, host_company=second_sme)
    # Same company: buffers only (10:30 + 30 + 30 = 11:30) is fine.
    assert propose(start=weekday_at(11, 30), hours=2).pk
    assert Partnership.objects.count() >= 3


def test_working_hours_and_end_before_start(world, propose):
    with pytest.raises(ValidationError, match="does not work at this time"):
        propose(start=weekday_at(19))
    start = weekday_at(9)
    with pytest.raises(ValidationError, match="end after it starts"):
        services.visit_propose(
            user=world.coordinator,
            expert=world.expert,
            host_company=world.partner_sme,
            topic=TopicFactory(),
            starts_at=start,
            ends_at=start - timedelta(hours=1),
        )
    assert not Visit.objects.exists()


def _other_weekday_same_month(moment):
    """Wednesday after a Tuesday, or the Monday before it at a month's end."""
    later = moment + timedelta(days=1)
    return later if later.month == moment.month else moment - timedelta(days=1)


def test_monthly_day_cap(world, dispatch, propose):
    schedule_for(world.expert, dispatch.topic, max_days_per_month=1)
    first = propose(start=weekday_at(8, 30, weekday=1))
    # The same day is fine (same company, buffers respected) ...
    assert propose(start=first.ends_at + timedelta(hours=1), hours=2).pk
    # ... another day that month is not.
    with pytest.raises(ValidationError, match="visit days"):
        propose(start=_other_weekday_same_month(weekday_at(9, weekday=1)))


def test_monthly_visit_cap(world, dispatch, propose):
    schedule_for(world.expert, dispatch.topic, max_visits_per_month=1)
    propose(start=weekday_at(9, weekday=1))
    with pytest.raises(ValidationError, match="limit 1"):
        propose(start=_other_weekday_same_month(weekday_at(9, weekday=1)))


def test_busy_block_blocks_visits(world, propose):
    start = weekday_at(9)
    services.busy_block_create(
        expert=world.expert,
        starts_at=start,
        ends_at=start + timedelta(hours=8),
        reason="年度体系审核",
    )
    with pytest.raises(ValidationError, match="年度体系审核"):
        propose(start=start + timedelta(hours=1))


def test_expert_must_belong_to_partner_lead_and_cover_topic(world, dispatch, propose):
    with pytest.raises(ValidationError, match="not an expert of a lead enterprise"):
        propose(expert=world.other_expert)
    other_topic = TopicFactory(code="CARBON", name="碳排放计量基础")
    with pytest.raises(ValidationError, match="does not cover"):
        propose(topic=other_topic)


def test_lead_hr_may_schedule_own_experts_only(world, propose):
    assert propose(user=world.lead_hr).pk
    with pytest.raises(PermissionDenied):
        propose(user=world.other_hr, start=weekday_at(9, weekday=3))
    with pytest.raises(PermissionDenied):
        propose(user=world.hr, start=weekday_at(9, weekday=3))


def test_accept_sends_invitation_with_ics_only_when_confirmed(
    world, propose, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        visit = propose()
    # The expert gets a "please confirm" mail without an invitation.
    assert [m.to for m in mail.outbox] == [[world.expert.email]]
    assert not mail.outbox[0].attachments
    with django_capture_on_commit_callbacks(execute=True):
        services.visit_accept(visit=visit, user=world.expert)
    invitation = mail.outbox[-1]
    assert world.expert.email in invitation.to and world.hr.email in invitation.to
    name, content, mimetype = invitation.attachments[0]
    assert name == "invite.ics" and mimetype.startswith("text/calendar")
    calendar = Calendar.from_ical(content)
    event = calendar.walk("VEVENT")[0]
    assert str(event["uid"]) == visit.uid
    assert event["status"] == "CONFIRMED"
    assert event.decoded("dtstart").tzinfo is not None
    visit.refresh_from_db()
    assert visit.confirmation_sent_at is not None


def test_only_the_expert_accepts(world, propose):
    visit = propose()
    with pytest.raises(PermissionDenied):
        services.visit_accept(visit=visit, user=world.other_expert)
    services.visit_accept(visit=visit, user=world.expert)
    with pytest.raises(ValidationError, match="cannot be accepted"):
        services.visit_accept(visit=visit, user=world.expert)


def test_decline_releases_time_and_can_be_restaffed(
    world, propose, django_capture_on_commit_callbacks
):
    visit = propose()
    with django_capture_on_commit_callbacks(execute=True):
        services.visit_decline(visit=visit, user=world.expert, reason="出差")
    assert mail.outbox[-1].to == [world.coordinator.email]
    assert "出差" in mail.outbox[-1].body
    assert visit.status == VisitStatus.RELEASED
    assert not TimeHold.objects.filter(visit=visit).exists()
    # The slot is free again for another visit.
    other = propose(title="另一场")
    services.visit_cancel(visit=other, user=world.coordinator, reason="测试")
    services.visit_assign_expert(
        visit=visit, user=world.coordinator, expert=world.expert
    )
    assert visit.status == VisitStatus.TENTATIVE
    assert TimeHold.objects.filter(visit=visit).exists()


def test_reschedule_bumps_sequence_and_cancel_keeps_record(
    world, confirmed_visit, django_capture_on_commit_callbacks
):
    visit = confirmed_visit
    sequence = visit.sequence
    new_start = weekday_at(13)
    with django_capture_on_commit_callbacks(execute=True):
        services.visit_reschedule(
            visit=visit,
            user=world.coordinator,
            starts_at=new_start,
            ends_at=new_start + timedelta(hours=2),
        )
    assert visit.sequence == sequence + 1
    assert TimeHold.objects.get(visit=visit).starts_at == new_start - timedelta(
        minutes=30
    )
    assert mail.outbox[-1].subject.endswith("Visit changed: " + visit.title)
    with pytest.raises(ValidationError, match="reason"):
        services.visit_cancel(visit=visit, user=world.coordinator, reason=" ")
    with django_capture_on_commit_callbacks(execute=True):
        services.visit_cancel(
            visit=visit, user=world.coordinator, reason="企业停产检修"
        )
    visit.refresh_from_db()
    assert visit.status == VisitStatus.CANCELLED
    assert visit.cancel_reason == "企业停产检修"
    assert visit.sequence == sequence + 2
    assert not TimeHold.objects.filter(visit=visit).exists()
    cancel_ics = Calendar.from_ical(mail.outbox[-1].attachments[0][1])
    assert cancel_ics["method"] == "CANCEL"


def test_reschedule_into_clash_changes_nothing(world, propose):
    first = propose(start=weekday_at(9))
    second = propose(start=weekday_at(14))
    with pytest.raises(ValidationError, match="already booked"):
        services.visit_reschedule(
            visit=second,
            user=world.coordinator,
            starts_at=weekday_at(10),
            ends_at=weekday_at(12),
        )
    second.refresh_from_db()
    assert second.starts_at == weekday_at(14)
    assert second.sequence == 0
    assert first.pk


def test_proposing_from_request_approves_it(world, dispatch, propose):
    visit_request = services.visit_request_submit(
        user=world.hr,
        company=world.partner_sme,
        topic=dispatch.topic,
        problem="示值误差",
        any_date=True,
    )
    visit = propose(visit_request=visit_request)
    visit_request.refresh_from_db()
    assert visit_request.status == "approved"
    assert visit.request == visit_request
    assert VisitRequest.objects.get().events.count() == 2


def test_unstaffed_visit_only_by_coordinator(world, dispatch, propose):
    visit = propose(expert=None)
    assert visit.status == VisitStatus.UNSTAFFED
    assert not TimeHold.objects.exists()
    with pytest.raises(PermissionDenied):
        propose(expert=None, user=world.lead_hr)


def test_reminders_sent_once(
    world, confirmed_visit, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    now = confirmed_visit.starts_at - timedelta(days=6)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.visit_reminders_send(now=now) == 1
        assert services.visit_reminders_send(now=now) == 0
    assert "week" in mail.outbox[-1].subject
    later = confirmed_visit.starts_at - timedelta(hours=20)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.visit_reminders_send(now=later) == 1
    assert "Tomorrow" in mail.outbox[-1].subject
    assert timezone.now() < confirmed_visit.starts_at


def test_dispatch_tick_command(confirmed_visit):
    import io

    from django.core.management import call_command

    out = io.StringIO()
    call_command("dispatch_tick", stdout=out)
    assert "requests expired" in out.getvalue()
