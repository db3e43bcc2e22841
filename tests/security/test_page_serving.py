"""Wagtail page-serving URLs (course and lesson pages) per role, with drafts.

These URLs are served by Wagtail's catch-all route, outside the URL matrix.
Draft revisions and never-published pages must never reach a public URL;
lessons are for enrolled learners (and the course's own editors) only.
"""

import pytest
from django.test import Client

from courses import services as course_services
from courses.models import LessonPage, ModulePage
from tests.courses import factories

pytestmark = pytest.mark.django_db

DRAFT = "DRAFT-ONLY-未发布内容"
ROLES = ("anonymous", "not_enrolled", "enrolled", "other_expert", "own_expert")


@pytest.fixture
def pages(world, home_page):
    course = factories.course(
        track_page=factories.track(home_page), publisher=world.lead
    )
    lesson = factories.lessons_of(course)[0]
    course_services.enrollment_create(user=world.learner, course=course)
    # Unpublished edits of live pages.
    course.title = DRAFT
    course.save_revision()
    lesson = LessonPage.objects.get(pk=lesson.pk)
    lesson.body = [factories.text_block(f"<p>{DRAFT}</p>")]
    lesson.save_revision()
    # A lesson that was never published.
    module = ModulePage.objects.child_of(course).first()
    unpublished = course_services.course_page_add(
        parent=module,
        page=LessonPage(
            title=DRAFT, slug="draft-lesson", min_active_seconds=30, live=False
        ),
        publish=False,
    )
    course.refresh_from_db()
    return {"course": course, "lesson": lesson, "unpublished": unpublished}


def _client(world, role):
    client = Client()
    user = {
        "anonymous": None,
        "not_enrolled": world.other_learner,
        "enrolled": world.learner,
        "other_expert": world.other_expert,
        "own_expert": world.expert,
    }[role]
    if user is not None:
        client.force_login(user)
    return client


# (page, role) -> expected status and, for redirects, where to.
EXPECTED = {
    "course": dict.fromkeys(ROLES, 200),
    "lesson": {
        "anonymous": (302, "/accounts/login/"),
        "not_enrolled": (302, "course"),
        "enrolled": 200,
        "other_expert": (302, "course"),
        "own_expert": 200,  # the course's editors read lessons unenrolled
    },
    "unpublished": dict.fromkeys(ROLES, 404),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", list(EXPECTED))
def test_page_serving_table(world, pages, page, role):
    url = pages[page].url if page != "unpublished" else _unpublished_url(pages)
    response = _client(world, role).get(url)
    expected = EXPECTED[page][role]
    status, target = expected if isinstance(expected, tuple) else (expected, None)
    assert response.status_code == status, (page, role, response.status_code)
    if target == "course":
        assert response["Location"] == pages["course"].url
    elif target:
        assert target in response["Location"]
    if status == 200:
        assert DRAFT not in response.content.decode()


def _unpublished_url(pages) -> str:
    # Not live, so Wagtail gives it no URL; build the path it would have.
    module = pages["unpublished"].get_parent()
    return module.specific.url + "draft-lesson/"
