"""CPU time and queries per request, in process (test client, no HTTP).

Usage (the bench environment, see run.sh or smoke.sh; any database):
    python bench/cpu.py [--requests N] [--only SUBSTRING] [--profile NAME]

For the issue 7 pages (lesson page, course page, my learning), the heartbeat
and the certificate verify page: median ``time.process_time()`` per request
(CPU of this process only, so it is far less sensitive to a shared, busy
machine than wall time; database server CPU is not included) and the number
of queries of one request. ``--profile NAME`` prints the cProfile of one more
request of the first target whose name contains NAME.
"""

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

# bench/profile.py shadows the standard library's profile, which cProfile needs.
_BENCH = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _BENCH]
import cProfile  # noqa: E402
import pstats  # noqa: E402

sys.path.insert(0, str(_BENCH))

import targets as bench_targets  # noqa: E402 - sets up Django
from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext, override_settings  # noqa: E402
from django.urls import reverse  # noqa: E402

PAGES = ("lesson page", "course page", "my learning", "certificate verify")


def big_lesson_target():
    """A lesson late in the biggest bench course, opened by an active learner."""
    from courses.models import CoursePage, EnrollmentStatus, LessonProgress

    courses = CoursePage.objects.filter(code__startswith="BENCH-")
    course = max(courses, key=lambda c: c.get_descendants().count(), default=None)
    if course is None:
        return None
    progress = (
        LessonProgress.objects.filter(
            enrollment__status=EnrollmentStatus.ACTIVE, enrollment__course=course
        )
        .select_related("enrollment__user", "lesson")
        .order_by("-lesson__path")
        .first()
    )
    if progress is None:
        return None
    lessons = course.get_descendants().filter(depth=course.depth + 2).count()
    return (
        f"lesson page, {lessons}-lesson course (enrolled learner)",
        progress.lesson.url,
        bench_targets.session_for(progress.enrollment.user),
    )


def heartbeat_target():
    """An opened lesson (first seen days ago) of an active bench learner."""
    from courses.models import EnrollmentStatus, LessonProgress

    progress = (
        LessonProgress.objects.filter(
            enrollment__status=EnrollmentStatus.ACTIVE,
            enrollment__course__code__startswith="BENCH-",
            completed_at__isnull=True,
        )
        .select_related("enrollment__user")
        .order_by("-pk")
        .first()
    )
    if progress is None:
        return None
    return (
        "heartbeat (delta 1)",
        reverse("courses:heartbeat", args=[progress.lesson_id]),
        bench_targets.session_for(progress.enrollment.user),
    )


def measure(name, path, cookie, requests, post=None, profile=False):
    client = Client(raise_request_exception=True, HTTP_ACCEPT_LANGUAGE="zh-hans")
    if cookie:
        key, value = cookie.split("=", 1)
        client.cookies[key] = value

    def request():
        if post is None:
            return client.get(path, secure=True)
        return client.post(
            path, data=post, content_type="application/json", secure=True
        )

    for _ in range(2):  # warm-up: caches, templates, translations
        response = request()
    cpu = []
    wall = []
    for _ in range(requests):
        started_cpu, started = time.process_time(), time.perf_counter()
        response = request()
        cpu.append((time.process_time() - started_cpu) * 1000)
        wall.append((time.perf_counter() - started) * 1000)
    with CaptureQueriesContext(connection) as queries:
        response = request()
    captured = list(queries.captured_queries)  # the next request resets the log
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        request()
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
        for query in captured:
            print(query["sql"][:200])
    return {
        "name": name,
        "status": response.status_code,
        "queries": len(captured),
        "cpu_ms": round(statistics.median(cpu), 1),
        "wall_ms": round(statistics.median(wall), 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=15)
    parser.add_argument("--only", default="")
    parser.add_argument("--profile", default="")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    chosen = [
        t
        for t in bench_targets.targets()
        if t[0].startswith(PAGES) and args.only in t[0]
    ]
    big = big_lesson_target()
    if big and args.only in big[0]:
        chosen.append(big)
    heartbeat = heartbeat_target()
    rows = []
    profiled = False
    limit = {"CERTIFICATES_VERIFY_RATE_LIMIT": (1_000_000, 60)}
    with override_settings(**limit):
        for name, path, cookie in chosen:
            wanted = bool(args.profile) and args.profile in name and not profiled
            profiled = profiled or wanted
            rows.append(measure(name, path, cookie, args.requests, profile=wanted))
        if heartbeat and args.only in heartbeat[0]:
            wanted = bool(args.profile) and args.profile in heartbeat[0]
            rows.append(
                measure(
                    *heartbeat,
                    args.requests,
                    post=json.dumps({"delta": 1}),
                    profile=wanted and not profiled,
                )
            )
    print(f"cache: {settings.CACHES['default']['BACKEND'].rsplit('.', 1)[-1]}")
    print("| request | status | queries | CPU ms (median) | wall ms (median) |")
    print("|---|---:|---:|---:|---:|")
    for row in rows:
        cells = [row["name"], row["status"], row["queries"], row["cpu_ms"]]
        cells.append(row["wall_ms"])
        print("| " + " | ".join(str(cell) for cell in cells) + " |")
    if args.json:
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
