"""Creates (idempotently) certificates to verify and prints their codes."""

import os
import sys
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def main() -> int:
    import django

    django.setup()
    from django.db import transaction
    from django.utils import timezone
    from wagtail.models import Page

    from certificates.models import Certificate
    from certificates.services import certificate_issue_for_enrollment
    from courses.models import CoursePage, Enrollment, EnrollmentStatus
    from organizations.models import Company, Membership, Role
    from users.models import User

    wanted = int(os.environ.get("BENCH_CERTIFICATES", "50"))
    if Certificate.objects.count() < wanted:
        lead, _ = Company.objects.get_or_create(
            name="基准测试龙头企业",
            defaults={
                "kind": "lead",
                "credit_code": "91320500MA1BENCH01",
                "region": "苏州",
            },
        )
        sme, _ = Company.objects.get_or_create(
            name="基准测试中小企业",
            defaults={
                "kind": "sme",
                "credit_code": "91320500MA1BENCH02",
                "region": "苏州",
            },
        )
        course = CoursePage.objects.filter(code="BENCH-101").first()
        if course is None:
            parent = Page.objects.filter(depth=2).first() or Page.get_first_root_node()
            course = CoursePage(
                title="压力表检定与校准（基准）",
                slug="bench-101",
                code="BENCH-101",
                publisher=lead,
                certificate_validity_months=36,
                certificate_prints_score=True,
            )
            parent.add_child(instance=course)
        for index in range(wanted):
            user, created = User.objects.get_or_create(
                email=f"bench{index}@bench.example.cn",
                defaults={"name": f"刘测{index}"},
            )
            if created:
                Membership.objects.create(
                    user=user,
                    company=sme,
                    role=Role.LEARNER,
                    employee_number=f"B{index}",
                )
            with transaction.atomic():
                enrollment, _ = Enrollment.objects.get_or_create(
                    user=user,
                    course=course,
                    defaults={
                        "status": EnrollmentStatus.COMPLETED,
                        "enrolled_at": timezone.now() - timedelta(days=3),
                        "completed_at": timezone.now(),
                    },
                )
            certificate_issue_for_enrollment(enrollment=enrollment)
    for code in Certificate.objects.values_list("code", flat=True)[:wanted]:
        print(code)
    return 0


if __name__ == "__main__":
    sys.exit(main())
