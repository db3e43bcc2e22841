from datetime import timedelta

import pytest
from django.utils import timezone

from courses.models import LessonProgress

from . import factories


@pytest.fixture
def pressure_track(home_page):
    return factories.track(home_page)


@pytest.fixture
def simple_course(world, pressure_track):
    """Two text lessons, 30 s each, open to all."""
    return factories.course(track_page=pressure_track, publisher=world.lead)


@pytest.fixture
def quiz_course(world, pressure_track):
    """Two lessons; the second has a quiz with a numeric question."""
    quiz = factories.quiz_block(
        [
            factories.question_numeric(),
            factories.question_single(),
        ],
        pass_mark=100,
        limit=2,
    )
    return factories.course(
        track_page=pressure_track,
        publisher=world.lead,
        quiz=quiz,
        title="压力表检定与校准",
    )


def backdate(progress_or_enrollment, seconds=3600):
    """Pretend the learner opened the lesson(s) ``seconds`` ago, so the
    wall-clock budget for heartbeats allows that much study time."""
    earlier = timezone.now() - timedelta(seconds=seconds)
    LessonProgress.objects.filter(enrollment=progress_or_enrollment).update(
        first_seen_at=earlier
    )


@pytest.fixture
def backdate_progress():
    return backdate


@pytest.fixture(autouse=True)
def _english(settings):
    """Assert on the English msgids whatever the catalogue translates."""
    from django.utils import translation

    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield
