"""Certificates for the bench data generator.

One certificate per completed bench enrolment, up to ``sizes.certificates``,
with the snapshot fields filled as issuing would fill them. No PDFs are
rendered (``render_status`` stays pending): rendering is measured separately
in bench/certificates/. About 1 in 50 is revoked and 1 in 10 has expired, so
the verify page sees every status.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.utils import timezone

from .benchdata import bulk_insert

if TYPE_CHECKING:
    from .benchdata import Generator

ISSUER = "计量伙伴学院"


def generate(generator: Generator) -> None:
    if generator.sizes.certificates <= 0 or not generator.completed:
        return
    generator._phase("certificates", lambda: create_certificates(generator))


def create_certificates(generator: Generator) -> int:
    from certificates.codes import generate_code
    from certificates.models import Certificate
    from courses.models import CoursePage
    from organizations.models import Membership, Role
    from users.models import User

    sizes = generator.sizes
    rng = generator.rng
    completed = generator.completed[: sizes.certificates]
    user_ids = {user_id for _enrollment, user_id, _position, _at in completed}
    names = dict(User.objects.filter(pk__in=user_ids).values_list("pk", "name"))
    jobs = {
        membership.user_id: membership
        for membership in Membership.objects.filter(
            user_id__in=user_ids, role=Role.LEARNER
        ).select_related("company")
    }
    course_ids = [course.pk for course in generator.courses]
    courses = CoursePage.objects.in_bulk(course_ids)
    today = timezone.localdate()
    now = timezone.now()

    def rows():
        for number, (enrollment_id, user_id, position, completed_at) in enumerate(
            completed, start=1
        ):
            course = courses[course_ids[position]]
            job = jobs.get(user_id)
            completed_on = timezone.localdate(completed_at)
            issued_on = completed_on
            expired = number % 10 == 0
            revoked = number % 50 == 0
            yield Certificate(
                user_id=user_id,
                course_id=course.pk,
                enrollment_id=enrollment_id,
                company_id=job.company_id if job else None,
                serial=f"BENCH-{issued_on.year}-{number:06d}",
                code=generate_code(),
                holder_name=names[user_id],
                employee_number=job.employee_number if job else "",
                department=job.department if job else "",
                company_name=job.company.name if job else "",
                course_title=course.title,
                course_code=course.code,
                scope=course.certificate_scope,
                hours=course.estimated_hours,
                score=Decimal(rng.randint(60, 100)),
                completed_on=completed_on,
                issued_on=issued_on,
                valid_until=(
                    today - timedelta(days=rng.randint(1, 60))
                    if expired
                    else today + timedelta(days=rng.randint(30, 700))
                ),
                issuer_name=ISSUER,
                signatory_name="",
                design_snapshot={},
                revoked_at=now if revoked else None,
                revoked_reason="基准测试：模拟撤销" if revoked else "",
                created_at=now,
            )

    return bulk_insert(Certificate, rows(), sizes.batch_size)
