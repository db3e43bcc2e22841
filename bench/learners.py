"""Log in simulated learners for the heartbeat and mixed-load benchmarks.

Run with the bench environment (see run.sh):

    python bench/learners.py prepare --learners 1000 --out var/bench/learners.json
    python bench/learners.py verify var/bench/learners.json --accepted-seconds N

``prepare`` picks bench learners with an active enrolment and opened lessons,
creates a session and a CSRF token for each (as a login and a page view would
leave them) and records the sum of ``active_seconds`` over their progress rows.
``verify`` compares that sum after a run with the sum of the deltas the server
accepted (HTTP 200): any difference is a lost (or invented) update.
"""

import argparse
import json
import os
import secrets
import string
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "academy.settings.production")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db.models import Sum  # noqa: E402
from django.urls import reverse  # noqa: E402

from bench.targets import session_for  # noqa: E402
from courses.models import (  # noqa: E402
    CoursePage,
    Enrollment,
    EnrollmentStatus,
    LessonPage,
    LessonProgress,
)
from ops.benchdata import BENCH_EMAIL_DOMAIN  # noqa: E402

CSRF_CHARS = string.ascii_letters + string.digits


def prepare(count: int) -> dict:
    enrollments = list(
        Enrollment.objects.filter(
            status=EnrollmentStatus.ACTIVE,
            user__email__endswith="@" + BENCH_EMAIL_DOMAIN,
            course__code__startswith="BENCH-",
        )
        .select_related("user")
        .order_by("pk")[: count * 3]
    )
    opened: dict[int, list[int]] = {}
    for enrollment_id, lesson_id in LessonProgress.objects.filter(
        enrollment__in=enrollments
    ).values_list("enrollment_id", "lesson_id"):
        opened.setdefault(enrollment_id, []).append(lesson_id)
    urls = {
        lesson.pk: lesson.url
        for lesson in LessonPage.objects.live().filter(
            pk__in={lesson_id for ids in opened.values() for lesson_id in ids}
        )
    }
    courses = {
        course.pk: course.url
        for course in CoursePage.objects.live().filter(code__startswith="BENCH-")
    }
    catalogue = CoursePage.objects.live().filter(code__startswith="BENCH-").first()
    learners, seen_users, enrollment_ids = [], set(), []
    for enrollment in enrollments:
        lessons = [pk for pk in opened.get(enrollment.pk, []) if urls.get(pk)]
        if not lessons or enrollment.user_id in seen_users:
            continue
        seen_users.add(enrollment.user_id)
        enrollment_ids.append(enrollment.pk)
        csrf = "".join(secrets.choice(CSRF_CHARS) for _ in range(32))
        learners.append(
            {
                "cookie": f"{session_for(enrollment.user)}; "
                f"{settings.CSRF_COOKIE_NAME}={csrf}",
                "csrf": csrf,
                "course": courses[enrollment.course_id],
                "lessons": [
                    {
                        "id": pk,
                        "url": urls[pk],
                        "heartbeat": reverse("courses:heartbeat", args=[pk]),
                        "quiz": reverse("courses:quiz_start", args=[pk]),
                    }
                    for pk in lessons
                ],
            }
        )
        if len(learners) == count:
            break
    return {
        "catalogue": catalogue.get_parent().get_parent().url,
        "dashboard": reverse("courses:my_learning"),
        "enrollments": enrollment_ids,
        "active_seconds_before": active_seconds(enrollment_ids),
        "learners": learners,
    }


def active_seconds(enrollment_ids: list[int]) -> int:
    return (
        LessonProgress.objects.filter(enrollment_id__in=enrollment_ids).aggregate(
            total=Sum("active_seconds")
        )["total"]
        or 0
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--learners", type=int, default=1000)
    p.add_argument("--out", required=True)
    v = sub.add_parser("verify")
    v.add_argument("file")
    v.add_argument("--accepted-seconds", type=int, required=True)
    args = parser.parse_args()
    if args.command == "prepare":
        data = prepare(args.learners)
        Path(args.out).write_text(json.dumps(data))
        print(f"[learners] {len(data['learners'])} learners logged in -> {args.out}")
        return 0 if data["learners"] else 1
    data = json.loads(Path(args.file).read_text())
    after = active_seconds(data["enrollments"])
    expected = data["active_seconds_before"] + args.accepted_seconds
    lost = expected - after
    print(
        json.dumps(
            {
                "active_seconds_before": data["active_seconds_before"],
                "accepted_seconds": args.accepted_seconds,
                "active_seconds_after": after,
                "lost_seconds": lost,
            }
        )
    )
    return 0 if lost == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
