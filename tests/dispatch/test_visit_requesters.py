"""Learners whom HR allows to request expert visits (issue 5, item 2)."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from dispatch import permissions as perms
from dispatch import services
from dispatch.models import RequestStatus, VisitRequest
from home.navigation import nav_items_for_request
from organizations import services as org_services
from organizations.models import Membership, Role
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _membership(user, company, role=Role.LEARNER) -> Membership:
    return Membership.objects.get(user=user, company=company, role=role)


def _client(client, user):
    client.login(email=user.email, password=PASSWORD)
    return client


def _request_form(world, dispatch) -> dict:
    return {
        "company": world.partner_sme.pk,
        "topic": dispatch.topic.pk,
        "problem": "车间压力表示值漂移，想请专家现场指导检定。",
        "expected_participants": 4,
        "mode": "on_site",
        "any_date": "on",
    }


def test_learner_may_not_request_without_permission(world, dispatch, client):
    assert not perms.can_request_visit(world.learner, world.partner_sme)
    with pytest.raises(PermissionDenied):
        services.visit_request_submit(
            user=world.learner,
            company=world.partner_sme,
            topic=dispatch.topic,
            problem="压力表示值漂移",
            any_date=True,
        )
    response = _client(client, world.learner).get(reverse("dispatch:request_create"))
    assert response.status_code == 403
    assert not VisitRequest.objects.exists()


def test_hr_allows_a_learner_who_then_requests_and_follows_up(world, dispatch, client):
    hr_client = _client(client, world.hr)
    url = reverse("dispatch:visit_requesters", args=[world.partner_sme.pk])
    employee_number = _membership(world.learner, world.partner_sme).employee_number
    response = hr_client.post(url, {"person": employee_number}, follow=True)
    assert world.learner.name in response.content.decode()
    assert _membership(world.learner, world.partner_sme).may_request_visits
    hr_client.logout()

    learner_client = _client(client, world.learner)
    nav_labels = [str(item.label) for item in _nav(world.learner)]
    assert "Request an expert visit" in nav_labels
    response = learner_client.post(
        reverse("dispatch:request_create"), _request_form(world, dispatch)
    )
    visit_request = VisitRequest.objects.get()
    assert response.status_code == 302
    assert visit_request.requested_by == world.learner
    assert visit_request.company == world.partner_sme
    assert visit_request.status == RequestStatus.SUBMITTED

    # The learner sees the request, answers questions and may withdraw it.
    detail = learner_client.get(
        reverse("dispatch:request_detail", args=[visit_request.pk])
    )
    assert detail.status_code == 200
    form_page = learner_client.get(reverse("dispatch:request_create"))
    assert dispatch.topic.name in form_page.content.decode()
    learner_client.post(
        reverse("dispatch:request_detail", args=[visit_request.pk]),
        {"action": "withdraw", "message": "问题已自行解决。"},
    )
    visit_request.refresh_from_db()
    assert visit_request.status == RequestStatus.WITHDRAWN


def _nav(user):
    class Request:
        pass

    request = Request()
    request.user = user
    return nav_items_for_request(request)


def test_withdrawn_permission_stops_new_requests(world, dispatch, client):
    membership = _membership(world.learner, world.partner_sme)
    org_services.membership_set_may_request_visits(
        membership=membership, allowed=True, changed_by=world.hr
    )
    hr_client = _client(client, world.hr)
    url = reverse("dispatch:visit_requesters", args=[world.partner_sme.pk])
    hr_client.post(url, {"action": "revoke", "membership": membership.pk})
    membership.refresh_from_db()
    assert not membership.may_request_visits
    hr_client.logout()
    response = _client(client, world.learner).post(
        reverse("dispatch:request_create"), _request_form(world, dispatch)
    )
    assert response.status_code == 403
    assert not VisitRequest.objects.exists()


def test_permission_covers_only_the_learners_own_company(world, dispatch):
    org_services.membership_set_may_request_visits(
        membership=_membership(world.learner, world.partner_sme),
        allowed=True,
        changed_by=world.hr,
    )
    assert perms.can_request_visit(world.learner, world.partner_sme)
    assert not perms.can_request_visit(world.learner, world.other_sme)


@pytest.mark.parametrize(
    ("who", "message"),
    [
        ("hr@nowhere.example.cn", "No current employee"),
        ("HR-SELF", "is not a learner"),
        ("OTHER-COMPANY", "No current employee"),
    ],
)
def test_bad_names_get_a_clear_message_and_change_nothing(
    world, dispatch, client, who, message
):
    hr_membership = _membership(world.hr, world.partner_sme, Role.HR)
    hr_membership.employee_number = "HR-SELF"
    hr_membership.save()
    other = _membership(world.other_learner, world.other_sme)
    other.employee_number = "OTHER-COMPANY"
    other.save()
    response = _client(client, world.hr).post(
        reverse("dispatch:visit_requesters", args=[world.partner_sme.pk]),
        {"person": who},
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Membership.objects.filter(may_request_visits=True).exists()


def test_hr_of_another_company_cannot_grant(world, dispatch):
    membership = _membership(world.learner, world.partner_sme)
    with pytest.raises(PermissionDenied):
        org_services.membership_set_may_request_visits(
            membership=membership, allowed=True, changed_by=world.other_hr
        )
    membership.refresh_from_db()
    assert not membership.may_request_visits


def test_a_former_employee_cannot_be_allowed(world, dispatch):
    membership = _membership(world.learner, world.partner_sme)
    membership.started_on = timezone.localdate() - timedelta(days=30)
    membership.ended_on = timezone.localdate() - timedelta(days=1)
    membership.save()
    with pytest.raises(ValidationError, match="no longer works"):
        org_services.membership_set_may_request_visits(
            membership=membership, allowed=True, changed_by=world.hr
        )
    membership.refresh_from_db()
    assert not membership.may_request_visits
