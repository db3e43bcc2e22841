"""HR workspace benchmark: 5,000 employees, 30 courses, 150,000 progress rows.

Usage (PostgreSQL, own database; it is created and filled on first run):

    createdb -h 127.0.0.1 -U postgres academy_hr_bench   # once
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/academy_hr_bench \\
        DJANGO_SETTINGS_MODULE=bench.hr.settings .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/academy_hr_bench \\
        .venv/bin/python bench/hr/bench_hr.py [--employees 5000] [--platform 100000]

Prints server time and query counts for the dashboard, the first matrix page,
a filtered matrix page and the full-matrix XLSX export job.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.hr.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone  # noqa: E402
from wagtail.models import Page  # noqa: E402

from certificates.models import Certificate, RenderStatus  # noqa: E402
from courses.models import (  # noqa: E402
    CoursePage,
    Enrollment,
    EnrollmentStatus,
    LessonPage,
    LessonProgress,
    ModulePage,
    TrackPage,
)
from hr.models import CourseAssignment, ExportJob  # noqa: E402
from hr.services import export_run  # noqa: E402
from organizations.demo import demo_credit_code  # noqa: E402
from organizations.models import Company, CompanyKind, Membership, Role  # noqa: E402
from users.models import User  # noqa: E402

BENCH_COMPANY = "基准测试精密制造有限公司"
DEPARTMENTS = ["质检部", "计量室", "生产一部", "生产二部", "设备部", "研发部", "仓储部"]
rng = random.Random(42)


def _courses(n: int, publisher: Company) -> list[CoursePage]:
    existing = list(
        CoursePage.objects.filter(code__startswith="BENCH-").order_by("code")
    )
    if len(existing) >= n:
        return existing[:n]
    root = Page.objects.get(depth=1)
    track = TrackPage.objects.filter(slug="bench-track").first()
    if track is None:
        parent = Page.objects.filter(depth=2).first() or root
        track = TrackPage(title="基准测试", slug="bench-track")
        parent.add_child(instance=track)
    for i in range(len(existing), n):
        course = CoursePage(
            title=f"基准课程{i + 1:02d}",
            slug=f"bench-{i + 1:02d}",
            code=f"BENCH-{i + 1:02d}",
            publisher=publisher,
            estimated_hours=Decimal("8.0"),
            certificate_validity_months=24,
        )
        track.add_child(instance=course)
        module = ModulePage(title="模块", slug="m")
        course.add_child(instance=module)
        for j in range(5):
            module.add_child(instance=LessonPage(title=f"课{j + 1}", slug=f"l{j + 1}"))
    return list(CoursePage.objects.filter(code__startswith="BENCH-").order_by("code"))


def _users(prefix: str, n: int) -> list[int]:
    have = User.objects.filter(email__startswith=prefix).count()
    if have < n:
        User.objects.bulk_create(
            [
                User(
                    email=f"{prefix}{i:06d}@bench.example.cn",
                    name=f"员工{i:05d}",
                    password="!",  # noqa: S106 - unusable password
                )
                for i in range(have, n)
            ],
            batch_size=5000,
        )
    return list(
        User.objects.filter(email__startswith=prefix)
        .order_by("pk")
        .values_list("pk", flat=True)[:n]
    )


def build(*, employees: int, platform: int, courses_n: int = 30) -> tuple:
    lead, _ = Company.objects.get_or_create(
        name="基准测试龙头企业",
        defaults={
            "kind": CompanyKind.LEAD,
            "credit_code": demo_credit_code(900_001),
            "region": "江苏省苏州市",
        },
    )
    company, created = Company.objects.get_or_create(
        name=BENCH_COMPANY,
        defaults={
            "kind": CompanyKind.SME,
            "credit_code": demo_credit_code(900_002),
            "region": "江苏省苏州市",
        },
    )
    other, _ = Company.objects.get_or_create(
        name="基准测试其他企业",
        defaults={
            "kind": CompanyKind.SME,
            "credit_code": demo_credit_code(900_003),
            "region": "上海市",
        },
    )
    courses = _courses(courses_n, lead)
    hr_user, _ = User.objects.get_or_create(
        email="hr@bench.example.cn", defaults={"name": "基准HR"}
    )
    if not Membership.objects.filter(user=hr_user, company=company).exists():
        Membership.objects.create(user=hr_user, company=company, role=Role.HR)
    if Membership.objects.filter(company=company).count() > employees:
        return company, hr_user, courses
    t0 = time.perf_counter()
    staff = _users("emp", employees)
    Membership.objects.bulk_create(
        [
            Membership(
                user_id=uid,
                company=company,
                role=Role.LEARNER,
                employee_number=f"E{i:05d}",
                department=DEPARTMENTS[i % len(DEPARTMENTS)],
                started_on=timezone.localdate() - timedelta(days=500),
            )
            for i, uid in enumerate(staff)
        ],
        batch_size=5000,
    )
    others = _users("plt", max(0, platform - employees))
    Membership.objects.bulk_create(
        [Membership(user_id=uid, company=other, role=Role.LEARNER) for uid in others],
        batch_size=5000,
    )
    lessons = {
        c.pk: list(LessonPage.objects.descendant_of(c).values_list("pk", flat=True))
        for c in courses
    }
    now = timezone.now()
    # Each employee: 10 of the 30 courses; 3 progress rows each -> 150,000 rows.
    enrollments = []
    for uid in staff:
        for course in rng.sample(courses, 10):
            done = rng.random() < 0.4
            completed_at = now - timedelta(days=rng.randint(0, 360)) if done else None
            enrollments.append(
                Enrollment(
                    user_id=uid,
                    course=course,
                    status=EnrollmentStatus.COMPLETED
                    if done
                    else EnrollmentStatus.ACTIVE,
                    enrolled_at=now - timedelta(days=400),
                    completed_at=completed_at,
                    score=Decimal(rng.randint(60, 100)) if done else None,
                )
            )
    for uid in others:
        enrollments.append(
            Enrollment(user_id=uid, course=rng.choice(courses), enrolled_at=now)
        )
    Enrollment.objects.bulk_create(enrollments, batch_size=5000)
    rows = Enrollment.objects.filter(course__in=courses).values_list(
        "pk", "course_id", "user_id", "status", "completed_at"
    )
    progress, certificates = [], []
    staff_set = set(staff)
    serial = Certificate.objects.count()
    for pk, course_id, uid, status, completed_at in rows.iterator(chunk_size=10000):
        n = 3 if uid in staff_set else 1
        for lesson_id in lessons[course_id][:n]:
            seen = now - timedelta(days=rng.randint(0, 200))
            progress.append(
                LessonProgress(
                    enrollment_id=pk,
                    lesson_id=lesson_id,
                    first_seen_at=seen,
                    last_seen_at=seen,
                    active_seconds=rng.randint(60, 3600),
                    completed_at=seen if rng.random() < 0.7 else None,
                )
            )
        if status == EnrollmentStatus.COMPLETED and uid in staff_set:
            serial += 1
            day = timezone.localtime(completed_at).date()
            certificates.append(
                Certificate(
                    user_id=uid,
                    course_id=course_id,
                    enrollment_id=pk,
                    company=company,
                    serial=f"BENCH-{serial:08d}",
                    code=f"B{serial:012d}",
                    holder_name="员工",
                    course_title="基准课程",
                    course_code="BENCH",
                    hours=Decimal("8.0"),
                    completed_on=day,
                    issued_on=day,
                    valid_until=day + timedelta(days=rng.choice([60, 400, 730, -30])),
                    issuer_name="计量伙伴学院",
                    render_status=RenderStatus.PENDING,
                )
            )
        if len(progress) >= 20000:
            LessonProgress.objects.bulk_create(progress, batch_size=5000)
            progress = []
    LessonProgress.objects.bulk_create(progress, batch_size=5000)
    Certificate.objects.bulk_create(certificates, batch_size=5000)
    CourseAssignment.objects.bulk_create(
        [
            CourseAssignment(
                company=company,
                course=courses[0],
                user_id=uid,
                due_on=timezone.localdate() - timedelta(days=rng.randint(-30, 30)),
            )
            for uid in staff[:1000]
        ],
        ignore_conflicts=True,
    )
    print(f"built data in {time.perf_counter() - t0:.1f} s")
    return company, hr_user, courses


def measure(client: Client, url: str, repeat: int = 5) -> tuple[float, int]:
    client.get(url)  # warm up caches and connections
    best = float("inf")
    queries = 0
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as captured:
            start = time.perf_counter()
            response = client.get(url)
            elapsed = time.perf_counter() - start
        assert response.status_code == 200, (url, response.status_code)
        best = min(best, elapsed)
        queries = len(captured.captured_queries)
    return best * 1000, queries


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--employees", type=int, default=5000)
    parser.add_argument("--platform", type=int, default=100_000)
    args = parser.parse_args()
    settings.ALLOWED_HOSTS = ["*"]
    company, hr_user, courses = build(employees=args.employees, platform=args.platform)
    print(
        "data:",
        Membership.objects.filter(company=company).count(),
        "members,",
        len(courses),
        "courses,",
        LessonProgress.objects.filter(
            enrollment__user__memberships__company=company
        ).count(),
        "progress rows in the company,",
        User.objects.count(),
        "users platform-wide",
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("ANALYZE")
    client = Client(HTTP_HOST="localhost")
    client.force_login(hr_user)
    pages = {
        "dashboard": reverse("hr:dashboard", args=[company.pk]),
        "matrix page 1": reverse("hr:matrix", args=[company.pk]),
        "matrix page 40, sorted by name": reverse("hr:matrix", args=[company.pk])
        + "?sort=name&page=40",
        "matrix filtered (dept + expiring)": reverse("hr:matrix", args=[company.pk])
        + "?department=计量室&status=expiring",
    }
    for label, url in pages.items():
        ms, queries = measure(client, url)
        print(f"{label:40s} {ms:8.1f} ms  {queries:3d} queries")
    for fmt in ("xlsx", "csv"):
        job = ExportJob.objects.create(
            company=company, requested_by=hr_user, kind="matrix", fmt=fmt
        )
        start = time.perf_counter()
        job = export_run(job_id=job.pk)
        elapsed = time.perf_counter() - start
        print(
            f"matrix export {fmt:4s} ({job.rows_total} rows)       "
            f"{elapsed:8.2f} s  status={job.status} size={job.file.size // 1024} KiB"
        )
    job = ExportJob.objects.create(
        company=company, requested_by=hr_user, kind="hours", fmt="xlsx"
    )
    start = time.perf_counter()
    job = export_run(job_id=job.pk)
    print(
        f"hours export xlsx ({job.rows_total} rows)     "
        f"{time.perf_counter() - start:8.2f} s  status={job.status}"
    )


if __name__ == "__main__":
    main()
