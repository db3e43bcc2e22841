"""Progress writes under concurrency (PostgreSQL: real parallel transactions)."""

import threading

import pytest
from django.db import connection

from courses import services
from courses.models import Enrollment, EnrollmentStatus, LessonProgress
from courses.signals import course_completed

from . import factories
from .conftest import backdate

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def ensure_wagtail_rows():
    """Make sure the rows Wagtail's data migrations create exist (they are
    restored by ``serialized_rollback``; this is a safety net when the
    database was reused without a serialized copy)."""
    from django.conf import settings
    from django.contrib.contenttypes.models import ContentType
    from wagtail.models import Collection, Locale, Page

    ContentType.objects.clear_cache()  # ids change when a flush recreates them
    for code, _name in settings.LANGUAGES:
        Locale.objects.get_or_create(language_code=code)
    if not Collection.objects.exists():
        Collection.add_root(name="Root")
    root = Page.get_first_root_node()
    if root is None:
        root = Page.add_root(instance=Page(title="Root", slug="root"))
    return root


@pytest.fixture
def home_page(transactional_db):
    from wagtail.models import Page, Site

    from home.models import HomePage

    root = ensure_wagtail_rows()
    Page.objects.filter(depth=2).delete()
    root.refresh_from_db()
    home = HomePage(title="计量伙伴学院", slug="home", hero_title="计量伙伴学院")
    root.add_child(instance=home)
    home.save_revision().publish()
    Site.objects.update_or_create(
        is_default_site=True,
        defaults={"hostname": "localhost", "port": 80, "root_page": home},
    )
    return home


def run_parallel(functions):
    barrier = threading.Barrier(len(functions))
    errors = []

    def wrap(function):
        try:
            barrier.wait()
            function()
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=wrap, args=(f,)) for f in functions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_parallel_heartbeats_lose_no_time(world, simple_course):
    lesson = factories.lessons_of(simple_course)[0]
    services.enrollment_create(user=world.learner, course=simple_course)
    enrollment, _progress = services.lesson_open(user=world.learner, lesson=lesson)
    backdate(enrollment, seconds=10_000)

    def beat():
        services.heartbeat_record(user=world.learner, lesson=lesson, delta_seconds=7)

    errors = run_parallel([beat] * 8)
    assert errors == []
    assert LessonProgress.objects.get(lesson=lesson).active_seconds == 56


def test_parallel_completion_completes_once(world, simple_course):
    received = []

    def receiver(sender, enrollment, **kwargs):
        received.append(enrollment.pk)

    course_completed.connect(receiver)
    try:
        first, second = factories.lessons_of(simple_course)
        services.enrollment_create(user=world.learner, course=simple_course)
        for lesson in (first, second):
            enrollment, _progress = services.lesson_open(
                user=world.learner, lesson=lesson
            )
        backdate(enrollment, seconds=10_000)
        services.heartbeat_record(user=world.learner, lesson=first, delta_seconds=30)
        services.heartbeat_record(user=world.learner, lesson=second, delta_seconds=20)

        def finish():
            services.heartbeat_record(
                user=world.learner, lesson=second, delta_seconds=10
            )

        def recheck():
            services.enrollment_recheck_completion(
                user=world.learner, course=simple_course
            )

        errors = run_parallel([finish, finish, finish, recheck, recheck])
        assert errors == []
        enrollment = Enrollment.objects.get(user=world.learner)
        assert enrollment.status == EnrollmentStatus.COMPLETED
        assert received == [enrollment.pk]
        assert enrollment.events.filter(kind="completed").count() == 1
        assert LessonProgress.objects.get(lesson=second).active_seconds == 50
    finally:
        course_completed.disconnect(receiver)


def test_parallel_quiz_starts_respect_the_limit(world, quiz_course):
    lesson = factories.lessons_of(quiz_course)[-1]
    services.enrollment_create(user=world.learner, course=quiz_course)

    def start():
        services.quiz_attempt_start(user=world.learner, lesson=lesson)

    errors = run_parallel([start] * 5)
    assert errors == []
    # One open attempt at a time: every concurrent start got the same one.
    assert lesson.quiz_attempts.count() == 1
