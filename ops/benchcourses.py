"""Courses, enrolments and lesson progress for the bench data generator.

Course pages go through Wagtail's tree API (``add_child``): page rows are few
(about a thousand) and must be valid pages. Enrolments and progress rows are
bulk-inserted in batches.

Layout: course 0 has ``big_course_lessons`` lessons, course 1
``small_course_lessons``, the others ``lessons_per_course``; five lessons per
module. Enrolments walk learners round-robin over the courses; the first ones
are completed (every lesson done) until ``certificates`` completions exist,
never in the big course; the rest stop part-way. Generation stops once
``progress`` rows exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from django.db import transaction

from courses.models import (
    CourseIndexPage,
    CoursePage,
    Enrollment,
    EnrollmentStatus,
    LessonPage,
    LessonProgress,
    ModulePage,
    TrackPage,
)
from home.models import HomePage

from .benchdata import BENCH_COURSE_PREFIX, bulk_insert

if TYPE_CHECKING:
    from .benchdata import Generator

LESSONS_PER_MODULE = 5
TRACK_SLUG = "bench-track"
SUBJECTS = [
    "压力表检定与校准",
    "测量不确定度评定",
    "企业内部量值溯源体系建设",
    "能源计量器具配备与管理",
    "碳排放计量基础",
    "测量管理体系",
    "计量器具的期间核查",
]
LESSON_TEXT = (
    "<p>本课讲解{subject}的要点：测量误差、修正值与扩展不确定度的计算，"
    "以及在企业现场的应用。</p>"
)


@dataclass
class BenchCourse:
    pk: int
    lesson_ids: list[int]


def generate(generator: Generator) -> None:
    sizes = generator.sizes
    if sizes.courses <= 0:
        return
    generator._phase("course pages", lambda: create_courses(generator))
    if not generator.courses:
        return
    generator._phase("enrollments+progress", lambda: create_progress(generator))
    generator.report.counts["enrollments"] = generator.enrollment_count
    generator.report.counts["completed enrollments"] = len(generator.completed)
    generator.report.counts["lesson progress"] = generator.progress_count
    from . import benchcertificates

    benchcertificates.generate(generator)


def _course_index() -> CourseIndexPage | None:
    index = CourseIndexPage.objects.first()
    if index:
        return index
    home = HomePage.objects.first()
    if home is None:
        return None
    index = CourseIndexPage(title="课程", slug="courses")
    home.add_child(instance=index)
    return index


def lesson_count(sizes, position: int) -> int:
    if position == 0 and sizes.big_course_lessons:
        return sizes.big_course_lessons
    if position == 1 and sizes.small_course_lessons:
        return sizes.small_course_lessons
    return sizes.lessons_per_course


def create_courses(generator: Generator) -> int:
    sizes = generator.sizes
    generator.courses = []
    index = _course_index()
    if index is None:
        generator.report.notes.append(
            "No home page: run `manage.py load_demo` first; no courses generated."
        )
        return 0
    track = TrackPage(title="基准测试课程", slug=TRACK_SLUG, intro="性能测试数据。")
    index.add_child(instance=track)
    publisher_ids = generator.lead_ids or [None]
    pages = 1
    for position in range(sizes.courses):
        subject = SUBJECTS[position % len(SUBJECTS)]
        course = CoursePage(
            title=f"{subject}（基准{position:03d}）",
            slug=f"bench-{position:03d}",
            code=f"{BENCH_COURSE_PREFIX}{position:03d}",
            publisher_id=publisher_ids[position % len(publisher_ids)],
            estimated_hours=Decimal("8.0"),
            certificate_scope=f"{subject}的理论与实操",
        )
        track.add_child(instance=course)
        pages += 1
        lessons: list[int] = []
        total = lesson_count(sizes, position)
        module = None
        for number in range(total):
            if number % LESSONS_PER_MODULE == 0:
                module = ModulePage(
                    title=f"第{number // LESSONS_PER_MODULE + 1}章",
                    slug=f"m{number // LESSONS_PER_MODULE + 1}",
                )
                course.add_child(instance=module)
                pages += 1
            lesson = LessonPage(
                title=f"第{number + 1}课 {subject}",
                slug=f"l{number + 1}",
                min_active_seconds=60,
                body=[("text", LESSON_TEXT.format(subject=subject))],
            )
            module.add_child(instance=lesson)
            pages += 1
            lessons.append(lesson.pk)
        generator.courses.append(BenchCourse(pk=course.pk, lesson_ids=lessons))
    return pages


def create_progress(generator: Generator) -> int:
    sizes = generator.sizes
    rng = generator.rng
    courses = generator.courses
    learners = list(generator.learner_ids())
    generator.enrollment_count = 0
    generator.progress_count = 0
    # (enrollment id, user id, course position, completed at) of completions,
    # for certificates.
    generator.completed = []
    if not learners:
        return 0
    limit = len(learners) * len(courses)
    now = generator.now

    def plan():
        step = 0
        completed = 0
        progress = 0
        while step < limit and (
            progress < sizes.progress or completed < sizes.certificates
        ):
            learner = step % len(learners)
            position = (step // len(learners) + learner) % len(courses)
            step += 1
            total = len(courses[position].lesson_ids)
            done = (
                position != 0 or len(courses) == 1
            ) and completed < sizes.certificates
            if done:
                completed += 1
                reached = total
            elif progress >= sizes.progress:
                continue
            else:
                reached = rng.randint(1, max(1, total - 1))
            progress += reached
            yield learners[learner], position, reached, done

    batch = max(1, sizes.batch_size // 10)
    pending: list[tuple[int, int, int, bool]] = []

    def flush():
        enrollments = []
        for user_id, position, reached, done in pending:
            enrolled_at = now - timedelta(days=rng.randint(30, 360))
            completed_at = enrolled_at + timedelta(days=rng.randint(3, 25))
            course = courses[position]
            enrollments.append(
                Enrollment(
                    user_id=user_id,
                    course_id=course.pk,
                    status=EnrollmentStatus.COMPLETED
                    if done
                    else EnrollmentStatus.ACTIVE,
                    enrolled_at=enrolled_at,
                    completed_at=completed_at if done else None,
                    score=Decimal(rng.randint(60, 100)) if done else None,
                    last_lesson_id=course.lesson_ids[reached - 1],
                    enrolled_by_id=user_id,
                )
            )
        Enrollment.objects.bulk_create(enrollments, batch_size=sizes.batch_size)
        rows = []
        for enrollment, (_user, position, reached, done) in zip(
            enrollments, pending, strict=True
        ):
            lesson_ids = courses[position].lesson_ids
            seen = enrollment.enrolled_at
            for number, lesson_id in enumerate(lesson_ids[:reached]):
                seen = seen + timedelta(minutes=rng.randint(20, 600))
                finished = done or number < reached - 1
                rows.append(
                    LessonProgress(
                        enrollment_id=enrollment.pk,
                        lesson_id=lesson_id,
                        first_seen_at=seen,
                        last_seen_at=seen + timedelta(minutes=15),
                        active_seconds=rng.randint(60, 1800),
                        completed_at=seen + timedelta(minutes=15) if finished else None,
                    )
                )
            if done:
                generator.completed.append(
                    (
                        enrollment.pk,
                        enrollment.user_id,
                        position,
                        enrollment.completed_at,
                    )
                )
        bulk_insert(LessonProgress, rows, sizes.batch_size)
        generator.enrollment_count += len(enrollments)
        generator.progress_count += len(rows)
        pending.clear()

    for item in plan():
        pending.append(item)
        if len(pending) >= batch:
            with transaction.atomic():
                flush()
    if pending:
        flush()
    return generator.enrollment_count + generator.progress_count
