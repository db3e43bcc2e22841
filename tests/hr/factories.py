"""Factories for HR workspace tests: courses, enrolments, progress, certificates."""

from __future__ import annotations

import itertools
from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone
from wagtail.models import Page

from certificates.models import Certificate, RenderStatus
from courses.models import (
    CoursePage,
    Enrollment,
    EnrollmentStatus,
    LessonPage,
    LessonProgress,
    ModulePage,
    TrackPage,
)

_numbers = itertools.count(1)


def make_course(*, parent: Page, publisher, lessons: int = 2, **fields) -> CoursePage:
    number = next(_numbers)
    defaults = {
        "title": f"压力表检定与校准{number}",
        "slug": f"hr-course-{number}",
        "code": f"HR-{100 + number}",
        "estimated_hours": Decimal("8.0"),
        "certificate_validity_months": 24,
    }
    defaults.update(fields)
    if not isinstance(parent.specific, TrackPage):
        track = TrackPage(title=f"压力计量{number}", slug=f"hr-track-{number}")
        parent.add_child(instance=track)
        parent = track
    course = CoursePage(publisher=publisher, **defaults)
    parent.add_child(instance=course)
    module = ModulePage(title="第一章", slug="m1")
    course.add_child(instance=module)
    for index in range(lessons):
        module.add_child(
            instance=LessonPage(title=f"第{index + 1}课", slug=f"l{index + 1}")
        )
    return course


def enrol(
    *, user, course, status=EnrollmentStatus.ACTIVE, completed_at=None, score=None
):
    now = timezone.now()
    return Enrollment.objects.create(
        user=user,
        course=course,
        status=status,
        enrolled_at=now - timedelta(days=30),
        completed_at=completed_at
        or (now if status == EnrollmentStatus.COMPLETED else None),
        score=score,
    )


def progress(*, enrollment, seconds: int = 600, completed: bool = False):
    lesson = LessonPage.objects.descendant_of(enrollment.course).first()
    now = timezone.now()
    return LessonProgress.objects.create(
        enrollment=enrollment,
        lesson=lesson,
        first_seen_at=now,
        last_seen_at=now,
        active_seconds=seconds,
        completed_at=now if completed else None,
    )


_serials = itertools.count(1)


def certificate(
    *,
    user,
    course,
    company,
    valid_until: date | None = None,
    revoked: bool = False,
    enrollment=None,
):
    n = next(_serials)
    today = timezone.localdate()
    return Certificate.objects.create(
        user=user,
        course=course,
        enrollment=enrollment,
        company=company,
        serial=f"MPA-2026-{n:06d}",
        code=f"HRTEST{n:07d}"[:13],
        holder_name=user.name,
        course_title=course.title,
        course_code=course.code,
        hours=course.estimated_hours,
        completed_on=today,
        issued_on=today,
        valid_until=valid_until,
        issuer_name="计量伙伴学院",
        render_status=RenderStatus.PENDING,
        revoked_at=timezone.now() if revoked else None,
        revoked_reason="误发" if revoked else "",
    )


# --- competence scopes and credentials (issue 9) ----------------------------------


def jjg52(revision: str = "2013"):
    from credentials.models import Procedure, ProcedureRevision

    procedure, _created = Procedure.objects.get_or_create(
        code="JJG 52", defaults={"title": "弹性元件式一般压力表检定规程"}
    )
    ProcedureRevision.objects.get_or_create(procedure=procedure, revision=revision)
    return procedure


def scope(course, **overrides):
    from credentials.services import scope_create

    jjg52(overrides.get("revision", "2013"))
    fields = {
        "course": course,
        "instrument_class": "弹簧管式压力表",
        "quantity": "压力",
        "range_min": "0",
        "range_max": "60",
        "unit": "MPa",
        "accuracy_class": "1.6级",
        "procedure_code": "JJG 52",
        "revision": "2013",
        "level": "perform",
    }
    fields.update(overrides)
    return scope_create(**fields)


def credential(certificate, *, suspended: bool = False, renewal: bool = False):
    """Issue the certificate's credential (freezing the course's scopes)."""
    from credentials.models import Credential
    from credentials.services import credential_issue

    issued = credential_issue(certificate=certificate)
    updates = {}
    if suspended:
        updates.update(suspended_at=timezone.now(), suspended_reason="比对不合格")
    if renewal:
        updates.update(renewal_required_at=timezone.now(), renewal_reason="规程修订")
    if updates:
        Credential.objects.filter(pk=issued.pk).update(**updates)
        issued.refresh_from_db()
    return issued
