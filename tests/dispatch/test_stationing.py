from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from dispatch import services
from dispatch.models import StationingPlan, TimeHold, Visit, VisitStatus

from .factories import weekday_at

EVERY_SECOND_TUESDAY = "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;COUNT=6"


def create(world, dispatch, **kwargs):
    data = {
        "user": world.coordinator,
        "title": "恒准仪表定期派驻",
        "expert": world.expert,
        "host_company": world.partner_sme,
        "topic": dispatch.topic,
        "first_start": weekday_at(9, weekday=1),
        "duration_minutes": 240,
        "rrule": EVERY_SECOND_TUESDAY,
    }
    data.update(kwargs)
    return services.stationing_plan_create(**data)


def test_plan_creates_visits_and_regeneration_is_idempotent(world, dispatch):
    first = weekday_at(9, weekday=1)
    skipped = (first + timedelta(weeks=4)).date()
    plan, result = create(world, dispatch, exception_dates=[skipped.isoformat()])
    assert len(result.created) == 5
    starts = sorted(v.starts_at for v in Visit.objects.filter(plan=plan))
    assert starts[0] == first
    assert starts[1] == first + timedelta(weeks=2)
    assert all(s.date() != skipped for s in starts)
    assert all(s.weekday() == 1 for s in starts)
    assert TimeHold.objects.filter(visit__plan=plan).count() == 5
    again = services.stationing_plan_generate(plan=plan, user=world.coordinator)
    assert not again.created and not again.updated
    assert len(again.kept) == 5
    assert Visit.objects.filter(plan=plan).count() == 5


def test_regeneration_never_overwrites_hand_edits(world, dispatch):
    plan, result = create(world, dispatch)
    edited = result.created[0]
    new_start = edited.starts_at + timedelta(hours=1)
    services.visit_reschedule(
        visit=edited,
        user=world.coordinator,
        starts_at=new_start,
        ends_at=new_start + timedelta(hours=2),
    )
    plan.duration_minutes = 180
    plan.save()
    again = services.stationing_plan_generate(plan=plan, user=world.coordinator)
    assert edited in again.kept
    assert len(again.updated) == 5
    edited.refresh_from_db()
    assert edited.starts_at == new_start
    assert edited.ends_at == new_start + timedelta(hours=2)
    other = again.updated[0]
    assert other.ends_at - other.starts_at == timedelta(minutes=180)


def test_exception_added_later_cancels_that_visit(world, dispatch):
    plan, result = create(world, dispatch)
    dropped = result.created[2]
    plan.exception_dates = [dropped.starts_at.date().isoformat()]
    plan.save()
    again = services.stationing_plan_generate(plan=plan, user=world.coordinator)
    assert [v.pk for v in again.removed] == [dropped.pk]
    dropped.refresh_from_db()
    assert dropped.status == VisitStatus.CANCELLED
    assert dropped.cancel_reason


def test_clash_is_reported_and_skipped(world, dispatch, propose):
    busy = propose(start=weekday_at(9, weekday=1, weeks_ahead=4))
    plan, result = create(world, dispatch)
    assert len(result.created) == 5
    assert len(result.conflicts) == 1
    assert busy.title in result.conflicts[0][1]


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ("FREQ=WEEKLY;BYDAY=TU", "never ends"),
        ("FREQ=SOMETIMES;COUNT=3", "not valid"),
        ("garbage", "not valid"),
        ("FREQ=DAILY;COUNT=500", "at most"),
        ("FREQ=WEEKLY;COUNT=3\nRRULE:FREQ=DAILY;COUNT=2", "not valid"),
    ],
)
def test_bad_rules_rejected_and_nothing_created(world, dispatch, rule, message):
    with pytest.raises(ValidationError, match=message):
        create(world, dispatch, rrule=rule)
    assert not StationingPlan.objects.exists()
    assert not Visit.objects.exists()


def test_bad_exception_date(world, dispatch):
    with pytest.raises(ValidationError, match="is not a date"):
        create(world, dispatch, exception_dates=["next tuesday"])
    assert not StationingPlan.objects.exists()


def test_plan_model_clean_validates_rule(world, dispatch):
    plan = StationingPlan(
        title="x",
        expert=world.expert,
        host_company=world.partner_sme,
        topic=dispatch.topic,
        first_start=weekday_at(9),
        rrule="FREQ=WEEKLY",
    )
    with pytest.raises(ValidationError) as excinfo:
        plan.full_clean()
    assert "rrule" in excinfo.value.message_dict
