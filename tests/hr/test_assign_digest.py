"""Course assignments with due dates, and the weekly HR digest."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from courses.models import Enrollment, EnrollmentStatus
from hr.models import CourseAssignment, DigestLog
from hr.selectors import company_dashboard
from hr.services import assignment_create, digest_preference_set, digests_send_all

from .factories import certificate, enrol


def test_assign_enrols_and_sets_due_date(world, course):
    due = timezone.localdate() + timedelta(days=30)
    result = assignment_create(
        assigned_by=world.hr,
        company=world.partner_sme,
        course=course,
        user_ids=[world.learner.pk],
        due_on=due,
    )
    assert (result.assigned, result.enrolled) == (1, 1)
    assert Enrollment.objects.get(user=world.learner, course=course).enrolled_by == (
        world.hr
    )
    # Again, with another date: updates, no duplicate.
    later = due + timedelta(days=5)
    result = assignment_create(
        assigned_by=world.hr,
        company=world.partner_sme,
        course=course,
        user_ids=[world.learner.pk],
        due_on=later,
    )
    assert result.already == 1
    assert CourseAssignment.objects.get().due_on == later


@pytest.mark.parametrize(
    ("who", "error"),
    [("other_learner", ValidationError), ("learner", None)],
)
def test_assign_only_own_people(world, course, who, error):
    call = lambda: assignment_create(  # noqa: E731
        assigned_by=world.hr,
        company=world.partner_sme,
        course=course,
        user_ids=[getattr(world, who).pk],
    )
    if error:
        with pytest.raises(error) as raised:
            call()
        assert "not current employees" in raised.value.messages[0]
        assert not CourseAssignment.objects.exists()
    else:
        call()


def test_assign_refusals(world, course):
    with pytest.raises(PermissionDenied):
        assignment_create(
            assigned_by=world.other_hr,
            company=world.partner_sme,
            course=course,
            user_ids=[world.learner.pk],
        )
    with pytest.raises(ValidationError, match="past"):
        assignment_create(
            assigned_by=world.hr,
            company=world.partner_sme,
            course=course,
            user_ids=[world.learner.pk],
            due_on=timezone.localdate() - timedelta(days=1),
        )
    assert not CourseAssignment.objects.exists()


def test_assign_page_by_department_and_numbers(client, world, course):
    client.force_login(world.hr)
    url = reverse("hr:assign", args=[world.partner_sme.pk])
    response = client.post(url, {"course": course.pk, "department": "质检部"})
    assert response.status_code == 302
    assert CourseAssignment.objects.filter(user=world.learner).exists()
    # An unknown employee number: a clear error and nothing else changes.
    before = CourseAssignment.objects.count()
    response = client.post(url, {"course": course.pk, "people": "NOPE-1"})
    assert response.status_code == 400
    assert "Not current employees: NOPE-1" in response.content.decode()
    assert CourseAssignment.objects.count() == before


def test_overdue_shows_on_dashboard(world, course):
    enrol(user=world.learner, course=course)
    CourseAssignment.objects.create(
        company=world.partner_sme,
        course=course,
        user=world.learner,
        due_on=timezone.localdate() - timedelta(days=1),
    )
    data = company_dashboard(company=world.partner_sme)
    assert data.overdue_count == 1
    assert data.overdue[0].user == world.learner


@pytest.fixture
def newsworthy(world, course):
    enrol(user=world.learner, course=course, status=EnrollmentStatus.COMPLETED)
    certificate(
        user=world.learner,
        course=course,
        company=world.partner_sme,
        valid_until=timezone.localdate() + timedelta(days=20),
    )


def test_digest_sent_once_a_week(
    world, course, newsworthy, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        sent = digests_send_all()
    # world.hr only: the other HR users' companies have nothing to report.
    assert sent == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [world.hr.email]
    assert "刘堃" in message.body
    assert course.title in message.body
    assert world.other_learner.name not in message.body
    with django_capture_on_commit_callbacks(execute=True):
        assert digests_send_all() == 0
    assert len(mail.outbox) == 1
    assert DigestLog.objects.count() == 1


def test_digest_opt_out(client, world, course, newsworthy):
    client.force_login(world.hr)
    url = reverse("hr:digest_preference", args=[world.partner_sme.pk])
    client.post(url, {})  # unticked
    assert digests_send_all() == 0
    digest_preference_set(user=world.hr, weekly_digest=True)
    assert digests_send_all() == 1


def test_digest_command(world, course, newsworthy, capsys):
    call_command("send_hr_digests")
    assert "1 digest(s) sent" in capsys.readouterr().out
    call_command("send_hr_digests", "--enqueue")
    assert "queued" in capsys.readouterr().out
