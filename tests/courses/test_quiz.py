from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from courses import services
from courses.models import EnrollmentStatus, LessonProgress, QuizAttempt

from . import factories
from .conftest import backdate

pytestmark = pytest.mark.django_db


@pytest.fixture
def quiz_lesson(world, quiz_course):
    services.enrollment_create(user=world.learner, course=quiz_course)
    return factories.lessons_of(quiz_course)[-1]


def answer_ids(lesson):
    questions = services.quiz_questions(lesson)
    numeric = next(q for q, c in questions.items() if c.block_type == "numeric")
    single = next(q for q, c in questions.items() if c.block_type == "single_choice")
    return numeric, single


def test_start_serves_the_pool_and_reuses_open_attempt(world, quiz_lesson):
    attempt = services.quiz_attempt_start(user=world.learner, lesson=quiz_lesson)
    assert attempt.number == 1
    assert sorted(attempt.served_questions) == sorted(
        services.quiz_questions(quiz_lesson)
    )
    again = services.quiz_attempt_start(user=world.learner, lesson=quiz_lesson)
    assert again.pk == attempt.pk


def test_random_selection_from_pool(world, pressure_track):
    pool = [factories.question_true_false() for _ in range(6)]
    course = factories.course(
        track_page=pressure_track,
        publisher=world.lead,
        quiz=factories.quiz_block(pool, per_attempt=2, limit=0),
    )
    lesson = factories.lessons_of(course)[-1]
    services.enrollment_create(user=world.learner, course=course)
    attempt = services.quiz_attempt_start(user=world.learner, lesson=lesson)
    assert len(attempt.served_questions) == 2
    assert set(attempt.served_questions) <= set(services.quiz_questions(lesson))


def test_numeric_answer_in_other_unit_passes(world, quiz_lesson):
    numeric, single = answer_ids(quiz_lesson)
    attempt = services.quiz_attempt_start(user=world.learner, lesson=quiz_lesson)
    attempt = services.quiz_attempt_submit(
        user=world.learner,
        attempt=attempt,
        answers={numeric: {"value": "25.6", "unit": "kPa"}, single: "0"},
    )
    assert attempt.passed and attempt.score == Decimal("100.00")
    assert attempt.results == {numeric: True, single: True}
    progress = LessonProgress.objects.get(lesson=quiz_lesson)
    assert progress.quiz_passed and progress.quiz_best_score == Decimal("100.00")


def test_wrong_answers_fail_and_limit_is_enforced(world, quiz_lesson):
    numeric, single = answer_ids(quiz_lesson)
    for _ in range(2):
        attempt = services.quiz_attempt_start(user=world.learner, lesson=quiz_lesson)
        attempt = services.quiz_attempt_submit(
            user=world.learner,
            attempt=attempt,
            answers={numeric: {"value": "0.03", "unit": "MPa"}, single: "0"},
        )
        assert not attempt.passed and attempt.score == Decimal("50.00")
    with pytest.raises(ValidationError, match="used all 2 attempts"):
        services.quiz_attempt_start(user=world.learner, lesson=quiz_lesson)
    assert QuizAttempt.objects.count() == 2
    assert not LessonProgress.objects.get(lesson=quiz_lesson).quiz_passed


def test_unanswered_questions_count_as_wrong(world, quiz_lesson):
    numeric, _single = answer_ids(quiz_lesson)
    attempt = services.quiz_attempt_start(user=world.learner, lesson=quiz_lesson)
    attempt = services.quiz_attempt_submit(
        user=world.learner,
        attempt=attempt,
        answers={numeric: {"value": "0.0256", "unit": "MPa"}},
    )
    assert attempt.score == Decimal("50.00")


class TestTampering:
    @pytest.fixture
    def attempt(self, world, quiz_lesson):
        return services.quiz_attempt_start(user=world.learner, lesson=quiz_lesson)

    def assert_unchanged(self, attempt):
        attempt.refresh_from_db()
        assert attempt.submitted_at is None and attempt.score is None
        assert not LessonProgress.objects.filter(quiz_passed=True).exists()

    def test_answer_for_question_not_served(self, world, attempt):
        answers = dict.fromkeys(attempt.served_questions, "0")
        answers["not-a-served-question"] = "0"
        with pytest.raises(ValidationError, match="not part of this attempt"):
            services.quiz_attempt_submit(
                user=world.learner, attempt=attempt, answers=answers
            )
        self.assert_unchanged(attempt)

    def test_second_submission(self, world, attempt, quiz_lesson):
        numeric, single = answer_ids(quiz_lesson)
        services.quiz_attempt_submit(
            user=world.learner,
            attempt=attempt,
            answers={numeric: {"value": "1", "unit": "MPa"}, single: "1"},
        )
        with pytest.raises(ValidationError, match="already been submitted"):
            services.quiz_attempt_submit(
                user=world.learner,
                attempt=attempt,
                answers={numeric: {"value": "0.0256", "unit": "MPa"}, single: "0"},
            )
        attempt.refresh_from_db()
        assert attempt.score == Decimal("0.00") and not attempt.passed

    def test_someone_elses_attempt(self, world, attempt, quiz_lesson):
        numeric, single = answer_ids(quiz_lesson)
        with pytest.raises(PermissionDenied):
            services.quiz_attempt_submit(
                user=world.other_learner,
                attempt=attempt,
                answers={numeric: {"value": "0.0256", "unit": "MPa"}, single: "0"},
            )
        self.assert_unchanged(attempt)

    @pytest.mark.parametrize(
        "bad",
        [
            {"numeric": {"value": "abc", "unit": "MPa"}},
            {"numeric": {"value": "0.0256", "unit": "mm"}},
            {"single": "7"},
            {"single": "-1"},
        ],
    )
    def test_malformed_values(self, world, attempt, quiz_lesson, bad):
        numeric, single = answer_ids(quiz_lesson)
        ids = {"numeric": numeric, "single": single}
        answers = {ids[key]: value for key, value in bad.items()}
        with pytest.raises(ValidationError):
            services.quiz_attempt_submit(
                user=world.learner, attempt=attempt, answers=answers
            )
        self.assert_unchanged(attempt)

    def test_not_enrolled_cannot_start(self, world, quiz_lesson):
        with pytest.raises(PermissionDenied):
            services.quiz_attempt_start(user=world.other_learner, lesson=quiz_lesson)


def test_passing_quiz_completes_course_with_score(world, quiz_course):
    first, last = factories.lessons_of(quiz_course)
    services.enrollment_create(user=world.learner, course=quiz_course)
    for lesson in (first, last):
        enrollment, _progress = services.lesson_open(user=world.learner, lesson=lesson)
        backdate(enrollment)
        services.heartbeat_record(user=world.learner, lesson=lesson, delta_seconds=30)
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.ACTIVE  # quiz still missing
    numeric, single = answer_ids(last)
    attempt = services.quiz_attempt_start(user=world.learner, lesson=last)
    services.quiz_attempt_submit(
        user=world.learner,
        attempt=attempt,
        answers={numeric: {"value": "0.0257", "unit": "MPa"}, single: "0"},
    )
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.COMPLETED
    assert enrollment.score == Decimal("100.00")
