from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from dispatch import services
from dispatch.models import Registration, RegistrationStatus, Visit
from tests.factories import MembershipFactory, UserFactory


@pytest.fixture
def employees(world):
    return [
        MembershipFactory(
            company=world.partner_sme, user=UserFactory(name=f"员工{i}")
        ).user
        for i in range(4)
    ]


def register(visit, person, by):
    return services.visit_register(visit=visit, participant=person, registered_by=by)


def test_capacity_then_waiting_list_in_order(
    world, propose, employees, django_capture_on_commit_callbacks
):
    visit = propose(capacity=2)
    first, second, third, fourth = employees
    assert register(visit, first, world.hr).status == RegistrationStatus.REGISTERED
    assert register(visit, second, world.hr).status == RegistrationStatus.REGISTERED
    waiting_a = register(visit, third, world.hr)
    waiting_b = register(visit, fourth, world.hr)
    assert waiting_a.status == waiting_b.status == RegistrationStatus.WAITLISTED
    visit.refresh_from_db()
    assert visit.seats_taken == 2
    with django_capture_on_commit_callbacks(execute=True):
        services.registration_cancel(
            registration=Registration.objects.get(user=first), user=world.hr
        )
    waiting_a.refresh_from_db()
    waiting_b.refresh_from_db()
    assert waiting_a.status == RegistrationStatus.REGISTERED
    assert waiting_b.status == RegistrationStatus.WAITLISTED
    visit.refresh_from_db()
    assert visit.seats_taken == 2
    assert mail.outbox[-1].to == [third.email]


def test_registration_beyond_capacity_without_waitlist_rejected(
    world, propose, employees
):
    visit = propose(capacity=1)
    register(visit, employees[0], world.hr)
    with pytest.raises(ValidationError, match="This visit is full"):
        services.visit_register(
            visit=visit,
            participant=employees[1],
            registered_by=world.hr,
            allow_waitlist=False,
        )
    assert Registration.objects.count() == 1
    visit.refresh_from_db()
    assert visit.seats_taken == 1


def test_duplicate_and_foreign_employee_rejected(world, propose, employees):
    visit = propose()
    register(visit, employees[0], world.hr)
    with pytest.raises(ValidationError, match="already registered"):
        register(visit, employees[0], world.hr)
    with pytest.raises(ValidationError, match="not an employee"):
        register(visit, world.other_learner, world.hr)
    with pytest.raises(PermissionDenied):
        register(visit, world.other_learner, world.other_hr)
    visit.refresh_from_db()
    assert visit.seats_taken == 1


def test_learner_registers_self(world, propose):
    visit = propose()
    assert register(visit, world.learner, world.learner).status == "registered"
    with pytest.raises(PermissionDenied):
        register(visit, world.other_learner, world.other_learner)


def test_cutoff_for_registration_and_cancellation(world, propose, employees):
    visit = propose()
    registration = register(visit, employees[0], world.hr)
    soon = timezone.now() + timedelta(hours=2)
    Visit.objects.filter(pk=visit.pk).update(
        starts_at=soon, ends_at=soon + timedelta(hours=2)
    )
    visit.refresh_from_db()
    with pytest.raises(ValidationError, match="Registration for this visit closed"):
        register(visit, employees[1], world.hr)
    with pytest.raises(ValidationError, match="Cancellations closed"):
        services.registration_cancel(registration=registration, user=world.hr)
    registration.refresh_from_db()
    assert registration.status == RegistrationStatus.REGISTERED
    # The coordinator may still cancel after the cut-off.
    services.registration_cancel(registration=registration, user=world.coordinator)


def test_cancelled_visit_takes_no_registrations(world, propose, employees):
    visit = propose()
    services.visit_cancel(visit=visit, user=world.coordinator, reason="取消")
    with pytest.raises(ValidationError, match="does not take registrations"):
        register(visit, employees[0], world.hr)


def test_capacity_increase_promotes_waiting(world, propose, employees):
    visit = propose(capacity=2)
    register(visit, employees[0], world.hr)
    register(visit, employees[1], world.hr)
    waiting = register(visit, employees[2], world.hr)
    with pytest.raises(ValidationError, match="cannot be lower"):
        services.visit_update_details(visit=visit, user=world.coordinator, capacity=1)
    services.visit_update_details(visit=visit, user=world.coordinator, capacity=3)
    waiting.refresh_from_db()
    assert waiting.status == RegistrationStatus.REGISTERED
