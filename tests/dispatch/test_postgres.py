"""Concurrency on PostgreSQL: an expert is never in two places at once."""

import threading
import time
from datetime import timedelta
from unittest import mock

import psycopg
import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from dispatch import services
from dispatch.models import (
    ExpertBusyBlock,
    Registration,
    RegistrationStatus,
    TimeHold,
    Visit,
)
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


ADVISORY_KEY = 4_240_001


def _wait_for_lock_wait(probe, *, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # pg_locks covers the whole server, where other test processes run.
        waiting = probe.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid)"
            " WHERE NOT l.granted AND l.locktype = 'transactionid'"
            " AND a.datname = current_database()"
        ).fetchone()[0]
        if waiting:
            return
        time.sleep(0.02)
    raise AssertionError("the proposal never waited for the other transaction")


def test_hold_insert_survives_a_real_deadlock(world, dispatch):
    """PostgreSQL aborts the proposal's hold insert as a deadlock victim; the
    insert is tried again and the visit is created once the other side gives up.

    The other side is a second connection: it inserts an overlapping hold
    (the proposal then waits for it) and asks for a lock the proposal holds.
    PostgreSQL looks for a deadlock once per wait, deadlock_timeout (one
    second) after it began. The other side starts waiting half a second after
    the proposal, so the proposal is the first victim; half a second after its
    retry began to wait, the other side's check finds the deadlock again and
    the other side is the second victim.
    """
    start = weekday_at(9)
    block = ExpertBusyBlock.objects.create(
        expert=world.expert,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        reason="并发测试",
    )
    params = connection.get_connection_params()
    connect = {k: params[k] for k in ("dbname", "user", "host", "port") if k in params}
    other = psycopg.connect(**connect)
    probe = psycopg.connect(**connect, autocommit=True)

    def hold_then_lock(**kwargs):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_KEY])
        return []

    try:
        other.execute(
            "INSERT INTO dispatch_timehold (expert_id, starts_at, ends_at,"
            " busy_block_id) VALUES (%s, %s, %s, %s)",
            [world.expert.pk, block.starts_at, block.ends_at, block.pk],
        )
        with (
            mock.patch("dispatch.services._lock_expert"),
            mock.patch("dispatch.services.expert_problems", side_effect=hold_then_lock),
        ):
            results: list = []
            proposal = _proposal(world, dispatch, start, "甲")
            thread = threading.Thread(target=lambda: results.extend(_race([proposal])))
            thread.start()
            try:
                _wait_for_lock_wait(probe)
                time.sleep(0.5)
                with pytest.raises(psycopg.errors.DeadlockDetected):
                    other.execute("SELECT pg_advisory_xact_lock(%s)", [ADVISORY_KEY])
            finally:
                # Ends the other side's transaction, so the proposal can finish.
                other.rollback()
                thread.join(timeout=30)
    finally:
        other.close()
        probe.close()
    assert len(results) == 1 and isinstance(results[0], Visit), results
    assert TimeHold.objects.get(visit=results[0]).expert == world.expert


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
