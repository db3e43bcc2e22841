from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from dispatch import services
from dispatch.models import RequestStatus, VisitRequest, VisitRequestEvent
from organizations.models import Partnership, PartnershipStatus


def _windows(days=10, length=5):
    start = timezone.localdate() + timedelta(days=days)
    return [
        {
            "start": start.isoformat(),
            "end": (start + timedelta(days=length)).isoformat(),
        }
    ]


def submit(world, dispatch, **kwargs):
    kwargs.setdefault("user", world.hr)
    kwargs.setdefault("company", world.partner_sme)
    kwargs.setdefault("topic", dispatch.topic)
    kwargs.setdefault("problem", "压力表示值误差超差，需要指导检定方法。")
    kwargs.setdefault("preferred_windows", _windows())
    return services.visit_request_submit(**kwargs)


def test_hr_submits_request_logged_and_mailed(
    world, dispatch, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        visit_request = submit(world, dispatch, instruments="弹簧管压力表 0-1.6 MPa")
    assert visit_request.status == RequestStatus.SUBMITTED
    event = visit_request.events.get()
    assert event.actor == world.hr and event.to_status == RequestStatus.SUBMITTED
    assert mail.outbox[-1].to == [world.hr.email]


def test_full_lifecycle_needs_info_then_approved(
    world, dispatch, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        visit_request = submit(world, dispatch)
        services.visit_request_ask_info(
            visit_request=visit_request, user=world.coordinator, message="请补充量程。"
        )
    assert "请补充量程" in mail.outbox[-1].body
    assert visit_request.status == RequestStatus.NEEDS_INFO
    services.visit_request_provide_info(
        visit_request=visit_request,
        user=world.hr,
        message="量程 0-1.6 MPa",
        instruments="0-1.6 MPa",
    )
    visit_request.refresh_from_db()
    assert visit_request.status == RequestStatus.SUBMITTED
    assert visit_request.instruments == "0-1.6 MPa"
    services.visit_request_approve(visit_request=visit_request, user=world.coordinator)
    steps = list(visit_request.events.values_list("to_status", "actor"))
    assert steps == [
        ("submitted", world.hr.pk),
        ("needs_info", world.coordinator.pk),
        ("submitted", world.hr.pk),
        ("approved", world.coordinator.pk),
    ]
    assert len(mail.outbox) == 2


def test_lead_hr_acts_as_lead_coordinator(world, dispatch):
    visit_request = submit(world, dispatch)
    services.visit_request_decline(
        visit_request=visit_request, user=world.lead_hr, message="本月专家已排满。"
    )
    assert visit_request.status == RequestStatus.DECLINED


def test_other_lead_cannot_decide(world, dispatch):
    visit_request = submit(world, dispatch)
    with pytest.raises(PermissionDenied):
        services.visit_request_approve(visit_request=visit_request, user=world.other_hr)


def test_withdraw_and_no_further_transitions(world, dispatch):
    visit_request = submit(world, dispatch)
    services.visit_request_withdraw(visit_request=visit_request, user=world.hr)
    with pytest.raises(ValidationError, match="cannot be approved"):
        services.visit_request_approve(
            visit_request=visit_request, user=world.coordinator
        )
    visit_request.refresh_from_db()
    assert visit_request.status == RequestStatus.WITHDRAWN


def test_request_without_partnership_rejected(world, dispatch):
    Partnership.objects.filter(sme=world.partner_sme).update(
        status=PartnershipStatus.ENDED
    )
    with pytest.raises(ValidationError, match="no active partnership"):
        submit(world, dispatch)
    assert not VisitRequest.objects.exists()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"problem": "  "}, "Describe the problem"),
        ({"preferred_windows": []}, "preferred date window"),
        (
            {"preferred_windows": [{"start": "2099-05-10", "end": "2099-05-01"}]},
            "cannot end",
        ),
        ({"preferred_windows": [{"start": "2001-05-01", "end": "2001-05-03"}]}, "past"),
        ({"preferred_windows": [{"start": "soon"}]}, "start and end dates"),
        ({"expected_participants": 0}, "between 1 and 500"),
    ],
)
def test_bad_request_input_changes_nothing(world, dispatch, kwargs, message):
    with pytest.raises(ValidationError, match=message):
        submit(world, dispatch, **kwargs)
    assert not VisitRequest.objects.exists()
    assert not VisitRequestEvent.objects.exists()


def test_any_date_is_enough(world, dispatch):
    assert submit(world, dispatch, preferred_windows=[], any_date=True).any_date


def test_learner_and_other_company_cannot_request(world, dispatch):
    with pytest.raises(PermissionDenied):
        submit(world, dispatch, user=world.learner)
    with pytest.raises(PermissionDenied):
        submit(world, dispatch, user=world.other_hr)


def test_stale_requests_expire(world, dispatch):
    old = submit(world, dispatch)
    VisitRequest.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(days=90)
    )
    fresh = submit(world, dispatch)
    assert services.visit_request_expire_stale() == 1
    old.refresh_from_db()
    fresh.refresh_from_db()
    assert old.status == RequestStatus.EXPIRED
    assert old.events.last().actor is None
    assert fresh.status == RequestStatus.SUBMITTED
    assert services.visit_request_expire_stale() == 0
