from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from dispatch import services
from dispatch.models import (
    PracticalAssessment,
    Registration,
    Visit,
    VisitReport,
    VisitStatus,
)


def _started(visit, minutes_ago=30):
    start = timezone.now() - timedelta(minutes=minutes_ago)
    Visit.objects.filter(pk=visit.pk).update(
        starts_at=start, ends_at=start + timedelta(hours=3)
    )
    visit.refresh_from_db()
    return visit


@pytest.fixture
def running_visit(world, confirmed_visit):
    services.visit_register(
        visit=confirmed_visit, participant=world.learner, registered_by=world.hr
    )
    return _started(confirmed_visit)


def test_expert_marks_attendance(world, running_visit):
    changed = services.attendance_mark(
        visit=running_visit, user=world.expert, attended_user_ids=[world.learner.pk]
    )
    assert [r.user for r in changed] == [world.learner]
    registration = Registration.objects.get(user=world.learner)
    assert registration.attended and registration.checkin_method == "expert"
    with pytest.raises(PermissionDenied):
        services.attendance_mark(
            visit=running_visit, user=world.hr, attended_user_ids=[]
        )


def test_attendance_not_before_start(world, confirmed_visit):
    with pytest.raises(ValidationError, match="once the visit has started"):
        services.attendance_mark(
            visit=confirmed_visit, user=world.expert, attended_user_ids=[]
        )


def test_qr_check_in(world, running_visit):
    token = services.checkin_token(running_visit)
    registration = services.attendance_check_in(token=token, user=world.learner)
    assert registration.attended and registration.checkin_method == "qr"


def test_qr_forged_expired_rotated_and_unregistered(world, running_visit):
    token = services.checkin_token(running_visit)
    forged = signing.dumps({"v": running_visit.pk, "n": "guess"}, salt="other")
    for bad in (forged, token[:-2] + "xx", "nonsense"):
        with pytest.raises(ValidationError, match="not valid"):
            services.attendance_check_in(token=bad, user=world.learner)
    with pytest.raises(ValidationError, match="not registered"):
        services.attendance_check_in(token=token, user=world.other_learner)
    # Outside the window around the visit.
    past = timezone.now() - timedelta(days=2)
    Visit.objects.filter(pk=running_visit.pk).update(
        starts_at=past, ends_at=past + timedelta(hours=2)
    )
    with pytest.raises(ValidationError, match="Check-in for this visit is open from"):
        services.attendance_check_in(token=token, user=world.learner)
    _started(running_visit)
    services.visit_rotate_checkin_code(visit=running_visit, user=world.expert)
    with pytest.raises(ValidationError, match="not valid"):
        services.attendance_check_in(token=token, user=world.learner)
    assert not Registration.objects.get(user=world.learner).attended


def test_report_filed_completes_visit(world, running_visit):
    upload = SimpleUploadedFile("检定记录.pdf", b"%PDF-1.4 demo", "application/pdf")
    report = services.visit_report_file(
        visit=running_visit,
        user=world.expert,
        summary="现场指导压力表检定。",
        findings="标准器溯源证书过期。",
        recommendations="送检标准器。",
        hours_spent="4.5",
        actions=[
            {
                "description": "送检标准压力表",
                "owner": "陈静",
                "due_date": "2099-01-31",
            },
            {"description": "", "owner": "", "due_date": None},
        ],
        attachments=[upload],
    )
    running_visit.refresh_from_db()
    assert running_visit.status == VisitStatus.COMPLETED
    assert report.hours_spent == Decimal("4.5")
    assert report.actions.get().owner == "陈静"
    assert report.attachments.get().file.read() == b"%PDF-1.4 demo"
    with pytest.raises(ValidationError, match="already been filed"):
        services.visit_report_file(
            visit=running_visit, user=world.expert, summary="x", hours_spent=1
        )


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"summary": " "}, "needs a summary"),
        ({"hours_spent": "-1"}, "Hours spent"),
        ({"hours_spent": "lots"}, "Hours spent"),
        (
            {"actions": [{"description": "整改", "owner": "", "due_date": None}]},
            "needs a description, an owner and a due date",
        ),
    ],
)
def test_bad_report_changes_nothing(world, running_visit, kwargs, message):
    data = {"summary": "总结", "hours_spent": 3, **kwargs}
    with pytest.raises(ValidationError, match=message):
        services.visit_report_file(visit=running_visit, user=world.expert, **data)
    assert not VisitReport.objects.exists()
    running_visit.refresh_from_db()
    assert running_visit.status == VisitStatus.CONFIRMED


def test_report_only_by_expert_after_start(world, confirmed_visit):
    with pytest.raises(ValidationError, match="once the visit has started"):
        services.visit_report_file(
            visit=confirmed_visit, user=world.expert, summary="x", hours_spent=1
        )
    with pytest.raises(PermissionDenied):
        services.visit_report_file(
            visit=confirmed_visit, user=world.hr, summary="x", hours_spent=1
        )


def test_rating_once_by_host_hr(world, running_visit):
    with pytest.raises(PermissionDenied):
        services.visit_rate(visit=running_visit, user=world.hr, score=5)
    services.visit_report_file(
        visit=running_visit, user=world.expert, summary="总结", hours_spent=3
    )
    with pytest.raises(ValidationError, match="between 1 and 5"):
        services.visit_rate(visit=running_visit, user=world.hr, score=9)
    rating = services.visit_rate(visit=running_visit, user=world.hr, score=5)
    assert rating.company == world.partner_sme
    with pytest.raises(ValidationError, match="already rated"):
        services.visit_rate(visit=running_visit, user=world.hr, score=4)
    with pytest.raises(PermissionDenied):
        services.visit_rate(visit=running_visit, user=world.other_hr, score=1)


def test_practical_assessment(world, dispatch, propose):
    visit = propose(topic=dispatch.practical)
    services.visit_accept(visit=visit, user=world.expert)
    services.visit_register(
        visit=visit, participant=world.learner, registered_by=world.hr
    )
    _started(visit)
    values = [{"quantity": "示值误差", "value": "0.012", "unit": "MPa"}]
    with pytest.raises(ValidationError, match="numeric value"):
        services.assessment_record(
            visit=visit,
            user=world.expert,
            participant=world.learner,
            passed=True,
            measured_values=[{"quantity": "示值误差", "value": "abc", "unit": "MPa"}],
        )
    with pytest.raises(ValidationError, match="not a registered participant"):
        services.assessment_record(
            visit=visit, user=world.expert, participant=world.other_learner, passed=True
        )
    assessment = services.assessment_record(
        visit=visit,
        user=world.expert,
        participant=world.learner,
        passed=True,
        measured_values=values,
    )
    assert assessment.measured_values == values
    assert PracticalAssessment.objects.count() == 1


def test_assessment_only_for_topics_that_expect_it(world, running_visit):
    with pytest.raises(ValidationError, match="does not include a practical"):
        services.assessment_record(
            visit=running_visit,
            user=world.expert,
            participant=world.learner,
            passed=True,
        )
