"""Concurrency on PostgreSQL: an expert is never in two places at once."""

import threading
from datetime import timedelta
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from dispatch import services
from dispatch.models import Registration, RegistrationStatus, TimeHold, Visit
from tests.factories import MembershipFactory, UserFactory

from .factories import weekday_at

pytestmark = [
    pytest.mark.postgres,
    # serialized_rollback: the flush after each test must not lose the rows
    # migrations created (Wagtail locale and root page) for later tests.
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def _race(functions):
    barrier = threading.Barrier(len(functions))
    results: list = [None] * len(functions)

    def run(index, function):
        try:
            barrier.wait(timeout=10)
            results[index] = function()
        except Exception as error:  # noqa: BLE001 - collected for the assertions
            results[index] = error
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(i, f)) for i, f in enumerate(functions)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def _proposal(world, dispatch, start, title):
    def propose():
        return services.visit_propose(
            user=world.coordinator,
            expert=world.expert,
            host_company=world.partner_sme,
            topic=dispatch.topic,
            starts_at=start,
            ends_at=start + timedelta(hours=3),
            title=title,
        )

    return propose


def test_concurrent_overlapping_proposals_one_wins(world, dispatch):
    results = _race(
        [
            _proposal(world, dispatch, weekday_at(9), "甲"),
            _proposal(world, dispatch, weekday_at(10), "乙"),
        ]
    )
    visits = [r for r in results if isinstance(r, Visit)]
    errors = [r for r in results if isinstance(r, ValidationError)]
    assert len(visits) == 1 and len(errors) == 1, results
    assert visits[0].title in " ".join(errors[0].messages)
    assert Visit.objects.count() == 1
    assert TimeHold.objects.count() == 1


def test_exclusion_constraint_catches_what_the_check_missed(world, dispatch):
    """Without the lock and the check, the database still refuses."""
    with (
        mock.patch("dispatch.services._lock_expert"),
        mock.patch("dispatch.services.expert_problems", return_value=[]),
    ):
        results = _race(
            [
                _proposal(world, dispatch, weekday_at(9), "甲"),
                _proposal(world, dispatch, weekday_at(10), "乙"),
            ]
        )
    errors = [r for r in results if isinstance(r, ValidationError)]
    assert len(errors) == 1, results
    assert "already booked" in " ".join(errors[0].messages)
    assert Visit.objects.count() == 1


def test_constraint_rejects_overlapping_rows(world, dispatch):
    visit = _proposal(world, dispatch, weekday_at(9), "甲")()
    hold = TimeHold.objects.get(visit=visit)
    block = services.busy_block_create(
        expert=world.expert,
        starts_at=hold.ends_at,
        ends_at=hold.ends_at + timedelta(hours=1),
        reason="相邻不重叠",
    )
    assert block.pk
    with pytest.raises(IntegrityError), transaction.atomic():
        TimeHold.objects.filter(busy_block=block).update(starts_at=hold.starts_at)


def test_concurrent_registrations_for_last_seat(world, dispatch):
    visit = _proposal(world, dispatch, weekday_at(9), "甲")()
    visit.capacity = 1
    visit.save()
    people = [
        MembershipFactory(company=world.partner_sme, user=UserFactory()).user
        for _ in range(4)
    ]
    results = _race(
        [
            (
                lambda person=person: services.visit_register(
                    visit=visit, participant=person, registered_by=world.hr
                )
            )
            for person in people
        ]
    )
    assert all(isinstance(r, Registration) for r in results), results
    statuses = sorted(r.status for r in results)
    assert statuses.count(RegistrationStatus.REGISTERED) == 1
    assert statuses.count(RegistrationStatus.WAITLISTED) == 3
    visit.refresh_from_db()
    assert visit.seats_taken == 1
