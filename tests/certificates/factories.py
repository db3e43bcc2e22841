"""Factories for certificate tests: courses, completed enrolments, certificates."""

from __future__ import annotations

import itertools
from decimal import Decimal

from django.utils import timezone
from wagtail.models import Page

from courses.models import CoursePage, Enrollment, EnrollmentStatus

_numbers = itertools.count(1)


def make_course(*, parent: Page | None = None, publisher, **fields) -> CoursePage:
    number = next(_numbers)
    parent = parent or Page.objects.get(depth=2)
    defaults = {
        "title": f"压力表检定与校准{number}",
        "title_en": "Pressure gauge verification and calibration",
        # Not "course-N": tests.courses.factories numbers its courses that
        # way, and both kinds can share a track.
        "slug": f"certified-course-{number}",
        "code": f"PG-{100 + number}",
        "estimated_hours": Decimal("16.0"),
        "certificate_validity_months": 36,
        "certificate_scope": "依据 JJG 52-2013 开展一般压力表的检定与校准。",
        "certificate_prints_score": True,
    }
    defaults.update(fields)
    course = CoursePage(publisher=publisher, **defaults)
    parent.add_child(instance=course)
    return course


def make_completed_enrollment(*, user, course, score="92.50", completed_at=None):
    now = completed_at or timezone.now()
    return Enrollment.objects.create(
        user=user,
        course=course,
        status=EnrollmentStatus.COMPLETED,
        enrolled_at=now,
        completed_at=now,
        score=Decimal(score) if score is not None else None,
    )
