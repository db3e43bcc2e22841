"""The issue's "done when": the demo learner finds, studies and completes."""

import io

import pytest
from django.urls import reverse

from courses import demo, services
from courses.models import CoursePage, EnrollmentStatus, LessonPage, TrackPage
from courses.selectors import enrollment_active_seconds
from organizations import demo as organizations_demo

from .conftest import backdate

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_site(home_page):
    out = io.StringIO()
    organizations_demo.load(stdout=out)
    demo.load(stdout=out)
    return out


def test_demo_is_idempotent_and_complete(demo_site):
    assert TrackPage.objects.count() == 3
    assert CoursePage.objects.live().count() == 6
    demo.load(stdout=io.StringIO())
    assert CoursePage.objects.count() == 6
    numeric_quizzes = 0
    for course in CoursePage.objects.all():
        lessons = services.course_lessons(course)
        assert len(lessons) >= 2, course.title
        for lesson in lessons:
            quiz = lesson.quiz_block
            if quiz is not None and any(
                q.block_type == "numeric" for q in quiz.value["questions"]
            ):
                numeric_quizzes += 1
    assert numeric_quizzes >= 6
    # The expert's submitted draft waits for review and is not served.
    draft = LessonPage.objects.get(title__contains="待审核")
    assert not draft.live and draft.workflow_in_progress


def test_learner_finds_enrols_studies_and_completes(client, demo_site):
    from users.models import User

    learner = User.objects.get(email="liu.kun@hengzhun.demo.academy.cn")
    client.force_login(learner)
    response = client.get("/courses/", {"q": "压力"})
    course = next(c for c in response.context["courses"] if c.code == "PG-101")
    assert course.title == "压力表检定与校准"
    client.post(reverse("courses:enrol", args=[course.pk]))
    enrollment = learner.enrollments.get(course=course)
    for lesson in services.course_lessons(course):
        assert client.get(lesson.url).status_code == 200
        backdate(enrollment)
        for _ in range(lesson.min_active_seconds // 30 + 1):
            response = client.post(
                reverse("courses:heartbeat", args=[lesson.pk]),
                data={"delta": 30},
                content_type="application/json",
            )
            assert response.status_code == 200, response.content
        quiz = lesson.quiz_block
        if quiz is None:
            continue
        client.post(reverse("courses:quiz_start", args=[lesson.pk]))
        attempt = lesson.quiz_attempts.get(enrollment=enrollment)
        questions = services.quiz_questions(lesson)
        data = {}
        for qid in attempt.served_questions:
            child = questions[qid]
            value = child.value
            if child.block_type == "numeric":
                # Answer in a different unit from the question's.
                if value["unit"] == "MPa":
                    data[f"q-{qid}-value"] = str(value["answer"] * 1000)
                    data[f"q-{qid}-unit"] = "kPa"
                else:
                    data[f"q-{qid}-value"] = str(value["answer"])
                    data[f"q-{qid}-unit"] = value["unit"]
            elif child.block_type == "true_false":
                data[f"q-{qid}"] = "true" if value["correct"] else "false"
            else:
                data[f"q-{qid}"] = [
                    str(i) for i, o in enumerate(value["options"]) if o["correct"]
                ]
        client.post(reverse("courses:quiz_submit", args=[attempt.pk]), data)
        attempt.refresh_from_db()
        assert attempt.passed, attempt.results
    enrollment.refresh_from_db()
    assert enrollment.status == EnrollmentStatus.COMPLETED
    assert enrollment.score == 100
    assert enrollment_active_seconds(enrollment) >= 180
    html = client.get(reverse("courses:my_learning")).content.decode()
    assert "压力表检定与校准" in html and "Completed" in html


def test_demo_reviewer_approves_the_draft(client, settings, demo_site):
    """华测仪器's reviewer 黄志明 (not the draft's author) sees and approves
    the demo draft; 东方能源's expert does not see it."""
    from users.models import User

    settings.ACADEMY_MFA_REQUIRED_ROLES = []
    organizations_demo.load(stdout=io.StringIO())  # idempotent
    reviewer = User.objects.get(email="expert.huang@demo.academy.cn")
    assert reviewer.memberships.get().may_review_courses
    draft = LessonPage.objects.get(title__contains="待审核")
    task_state = draft.current_workflow_task_state
    approve = reverse(
        "wagtailadmin_pages:workflow_action", args=[draft.pk, "approve", task_state.pk]
    )
    other = User.objects.get(email="expert.zhang@demo.academy.cn")
    for user in (reviewer, other):
        services.expert_groups_sync(user=user)
    client.force_login(other)
    assert draft.title not in client.get(reverse("wagtailadmin_home")).content.decode()
    client.post(approve, {})
    assert not LessonPage.objects.get(pk=draft.pk).live
    client.force_login(reviewer)
    html = client.get(reverse("wagtailadmin_home")).content.decode()
    assert draft.title in html and approve in html
    client.post(approve, {})
    assert LessonPage.objects.get(pk=draft.pk).live
