import json

import pytest
from django.test import Client
from django.urls import reverse
from wagtail import hooks

from courses import services
from courses.models import (
    EnrollmentStatus,
    LessonPage,
    LessonProgress,
    Level,
    QuizAttempt,
)

from . import factories
from .conftest import backdate

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalogue(world, home_page):
    pressure = factories.track(home_page, "压力计量")
    energy = factories.track(home_page, "能源与碳计量")
    gauge = factories.course(
        track_page=pressure, publisher=world.lead, title="压力表检定与校准"
    )
    carbon = factories.course(
        track_page=energy,
        publisher=world.other_lead,
        title="碳排放计量基础",
        level=Level.ADVANCED,
        intro="<p>排放因子法。</p>",
    )
    return {"pressure": pressure, "energy": energy, "gauge": gauge, "carbon": carbon}


def titles(response):
    return [course.title for course in response.context["courses"]]


class TestCatalogue:
    def test_chinese_substring_search(self, client, catalogue):
        response = client.get("/courses/", {"q": "压力"})
        assert response.status_code == 200
        assert titles(response) == ["压力表检定与校准"]
        assert titles(client.get("/courses/", {"q": "检定"})) == ["压力表检定与校准"]
        assert titles(client.get("/courses/", {"q": "排放因子"})) == ["碳排放计量基础"]
        assert titles(client.get("/courses/", {"q": "压力 碳"})) == []
        assert titles(client.get("/courses/", {"q": "不存在的课程"})) == []

    def test_filters(self, client, catalogue, world):
        track = catalogue["energy"].pk
        assert titles(client.get("/courses/", {"track": track})) == ["碳排放计量基础"]
        assert titles(client.get("/courses/", {"level": "advanced"})) == [
            "碳排放计量基础"
        ]
        assert titles(client.get("/courses/", {"publisher": world.lead.pk})) == [
            "压力表检定与校准"
        ]
        # Nonsense filters are ignored, not errors.
        response = client.get("/courses/", {"track": "x", "level": "guru"})
        assert response.status_code == 200 and len(titles(response)) == 2

    def test_drafts_are_not_listed(self, client, catalogue):
        catalogue["carbon"].unpublish()
        assert titles(client.get("/courses/")) == ["压力表检定与校准"]

    def test_query_count_does_not_grow(
        self, client, catalogue, world, django_assert_max_num_queries
    ):
        for i in range(5):
            factories.course(
                track_page=catalogue["pressure"],
                publisher=world.lead,
                title=f"压力课程{i}",
                modules=1,
                lessons_per_module=1,
            )
        client.force_login(world.learner)
        with django_assert_max_num_queries(26):
            response = client.get("/courses/")
        assert len(titles(response)) == 7

    def test_public_nav_item(self, client, catalogue):
        assert 'href="/courses/"' in client.get("/").content.decode()


class TestCoursePage:
    def test_anonymous_sees_outline_and_login_link(self, client, simple_course):
        response = client.get(simple_course.url)
        html = response.content.decode()
        assert response.status_code == 200
        assert "第1.1节" in html and "Log in to enrol" in html

    def test_enrol_and_withdraw(self, client, world, simple_course):
        client.force_login(world.learner)
        response = client.post(reverse("courses:enrol", args=[simple_course.pk]))
        assert response.status_code == 302
        enrollment = world.learner.enrollments.get()
        assert enrollment.status == EnrollmentStatus.ACTIVE
        assert "Leave course" in client.get(simple_course.url).content.decode()
        client.post(reverse("courses:withdraw", args=[simple_course.pk]))
        enrollment.refresh_from_db()
        assert enrollment.status == EnrollmentStatus.WITHDRAWN
        assert "Enrol again" in client.get(simple_course.url).content.decode()

    def test_refused_enrolment_shows_reason(self, client, world, pressure_track):
        course = factories.course(
            track_page=pressure_track, publisher=world.lead, policy="partners"
        )
        client.force_login(world.other_learner)
        assert "partner SMEs" in client.get(course.url).content.decode()
        response = client.post(reverse("courses:enrol", args=[course.pk]), follow=True)
        assert "partner SMEs" in response.content.decode()
        assert not world.other_learner.enrollments.exists()

    def test_get_cannot_enrol(self, client, world, simple_course):
        client.force_login(world.learner)
        response = client.get(reverse("courses:enrol", args=[simple_course.pk]))
        assert response.status_code == 405

    @pytest.mark.parametrize(("modules", "lessons"), [(1, 1), (4, 4)])
    def test_query_count_constant(
        self,
        client,
        world,
        pressure_track,
        modules,
        lessons,
        django_assert_max_num_queries,
    ):
        course = factories.course(
            track_page=pressure_track,
            publisher=world.lead,
            modules=modules,
            lessons_per_module=lessons,
        )
        services.enrollment_create(user=world.learner, course=course)
        client.force_login(world.learner)
        with django_assert_max_num_queries(28):
            response = client.get(course.url)
        assert len(response.context["outline"].lessons) == modules * lessons


class TestLessonPage:
    def test_not_enrolled_is_sent_to_course(self, client, world, simple_course):
        lesson = factories.lessons_of(simple_course)[0]
        client.force_login(world.learner)
        response = client.get(lesson.url)
        assert response.status_code == 302
        assert response["Location"] == simple_course.url

    def test_anonymous_is_sent_to_login(self, client, simple_course):
        lesson = factories.lessons_of(simple_course)[0]
        response = client.get(lesson.url)
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]

    def test_editor_may_read_without_enrolment(self, client, world, simple_course):
        lesson = factories.lessons_of(simple_course)[0]
        client.force_login(world.expert)
        assert client.get(lesson.url).status_code == 200
        assert not LessonProgress.objects.exists()

    def test_resume_goes_to_last_lesson(self, client, world, simple_course):
        first, second = factories.lessons_of(simple_course)
        services.enrollment_create(user=world.learner, course=simple_course)
        client.force_login(world.learner)
        resume = reverse("courses:resume", args=[simple_course.pk])
        assert client.get(resume)["Location"] == first.url
        assert client.get(second.url).status_code == 200
        assert client.get(resume)["Location"] == second.url

    @pytest.mark.parametrize(("modules", "lessons"), [(1, 2), (4, 4)])
    def test_query_count_constant(
        self,
        client,
        world,
        pressure_track,
        modules,
        lessons,
        django_assert_max_num_queries,
    ):
        quiz = factories.quiz_block([factories.question_numeric()])
        course = factories.course(
            track_page=pressure_track,
            publisher=world.lead,
            modules=modules,
            lessons_per_module=lessons,
            quiz=quiz,
        )
        services.enrollment_create(user=world.learner, course=course)
        lesson = factories.lessons_of(course)[-1]
        services.quiz_attempt_start(user=world.learner, lesson=lesson)
        client.force_login(world.learner)
        with django_assert_max_num_queries(31):
            response = client.get(lesson.url)
        assert response.status_code == 200
        assert "Submit answers" in response.content.decode()


class TestHeartbeatEndpoint:
    @pytest.fixture
    def lesson(self, client, world, simple_course):
        services.enrollment_create(user=world.learner, course=simple_course)
        lesson = factories.lessons_of(simple_course)[0]
        client.force_login(world.learner)
        client.get(lesson.url)
        backdate(world.learner.enrollments.get())
        return lesson

    def post(self, client, lesson, payload):
        return client.post(
            reverse("courses:heartbeat", args=[lesson.pk]),
            data=payload if isinstance(payload, str) else json.dumps(payload),
            content_type="application/json",
        )

    def test_records_time(self, client, lesson):
        response = self.post(client, lesson, {"delta": 15})
        assert response.status_code == 200
        assert response.json()["active_seconds"] == 15

    @pytest.mark.parametrize(
        "payload", ["not json", "[1]", {"delta": -3}, {"delta": 0}, {}, {"delta": 99}]
    )
    def test_bad_input(self, client, lesson, payload):
        response = self.post(client, lesson, payload)
        assert response.status_code == 400
        assert response.json()["ok"] is False and response.json()["error"]
        assert LessonProgress.objects.get().active_seconds == 0

    def test_not_enrolled(self, client, world, lesson):
        client.force_login(world.other_learner)
        response = self.post(client, lesson, {"delta": 10})
        assert response.status_code == 403
        assert LessonProgress.objects.get().active_seconds == 0

    def test_withdrawn_learner_is_rejected(self, client, world, lesson):
        services.enrollment_withdraw(
            enrollment=world.learner.enrollments.get(), by=world.learner
        )
        response = self.post(client, lesson, {"delta": 10})
        assert response.status_code == 403
        assert "not enrolled" in response.json()["error"]
        assert LessonProgress.objects.get().active_seconds == 0

    def test_lesson_not_opened_is_rejected(self, client, simple_course, lesson):
        second = factories.lessons_of(simple_course)[1]
        response = self.post(client, second, {"delta": 10})
        assert response.status_code == 403
        assert LessonProgress.objects.filter(lesson=second).exists() is False

    def test_unpublished_lesson_is_not_found(self, client, lesson):
        lesson.unpublish()
        for payload in ({"delta": 10}, {"delta": 0}, "not json"):
            assert self.post(client, lesson, payload).status_code == 404
        assert LessonProgress.objects.get().active_seconds == 0

    def test_unpublished_course_is_rejected(self, client, simple_course, lesson):
        simple_course.live = False
        simple_course.save(update_fields=["live"])
        response = self.post(client, lesson, {"delta": 10})
        assert response.status_code == 400
        assert LessonProgress.objects.get().active_seconds == 0

    def test_budget_is_enforced(self, client, lesson):
        # Opened an hour ago: at most 3,600 s plus one interval of slack.
        LessonProgress.objects.update(active_seconds=3620)
        response = self.post(client, lesson, {"delta": 30})
        assert response.status_code == 400
        assert "More study time" in response.json()["error"]
        assert LessonProgress.objects.get().active_seconds == 3620

    def test_completion_and_rules_in_the_answer(self, client, lesson):
        LessonPage.objects.filter(pk=lesson.pk).update(min_active_seconds=90)
        response = self.post(client, lesson, {"delta": 30})
        assert response.json()["completed"] is False
        assert response.json()["rules"][0]["met"] is False
        self.post(client, lesson, {"delta": 30})
        body = self.post(client, lesson, {"delta": 30}).json()
        assert body["active_seconds"] == 90
        assert body["completed"] is True
        assert body["rules"][0]["met"] is True
        assert LessonProgress.objects.get().completed_at is not None

    def test_queries_per_heartbeat(self, client, lesson, django_assert_max_num_queries):
        self.post(client, lesson, {"delta": 5})  # first beat: user-session row
        # session, user, roles (2) for the MFA check, lesson, progress row,
        # UPDATE … RETURNING, and the transaction around them.
        with django_assert_max_num_queries(9):
            response = self.post(client, lesson, {"delta": 5})
        assert response.json()["active_seconds"] == 10

    def test_csrf_required(self, world, lesson):
        csrf_client = Client(enforce_csrf_checks=True)
        csrf_client.force_login(world.learner)
        response = self.post(csrf_client, lesson, {"delta": 10})
        assert response.status_code == 403
        assert LessonProgress.objects.get().active_seconds == 0


class TestQuizForms:
    def test_numeric_answer_through_the_form(self, client, world, quiz_course):
        services.enrollment_create(user=world.learner, course=quiz_course)
        lesson = factories.lessons_of(quiz_course)[-1]
        client.force_login(world.learner)
        client.get(lesson.url)
        client.post(reverse("courses:quiz_start", args=[lesson.pk]))
        attempt = QuizAttempt.objects.get()
        questions = services.quiz_questions(lesson)
        data = {}
        for qid in attempt.served_questions:
            if questions[qid].block_type == "numeric":
                data[f"q-{qid}-value"] = "25.6"
                data[f"q-{qid}-unit"] = "kPa"
            else:
                data[f"q-{qid}"] = "0"
        response = client.post(
            reverse("courses:quiz_submit", args=[attempt.pk]), data, follow=True
        )
        assert "Quiz passed" in response.content.decode()
        attempt.refresh_from_db()
        assert attempt.passed

    def test_tampered_form_is_rejected(self, client, world, quiz_course):
        services.enrollment_create(user=world.learner, course=quiz_course)
        lesson = factories.lessons_of(quiz_course)[-1]
        client.force_login(world.learner)
        client.get(lesson.url)
        client.post(reverse("courses:quiz_start", args=[lesson.pk]))
        attempt = QuizAttempt.objects.get()
        data = {f"q-{qid}": "0" for qid in attempt.served_questions}
        data["q-injected"] = "1"
        response = client.post(
            reverse("courses:quiz_submit", args=[attempt.pk]), data, follow=True
        )
        assert "not part of this attempt" in response.content.decode()
        attempt.refresh_from_db()
        assert attempt.submitted_at is None


class TestMyLearning:
    def test_dashboard(self, client, world, simple_course, quiz_course):
        services.enrollment_create(user=world.learner, course=simple_course)
        services.enrollment_create(user=world.learner, course=quiz_course)
        lesson = factories.lessons_of(simple_course)[0]
        enrollment, _progress = services.lesson_open(user=world.learner, lesson=lesson)
        backdate(enrollment)
        services.heartbeat_record(user=world.learner, lesson=lesson, delta_seconds=30)
        client.force_login(world.learner)
        response = client.get(reverse("courses:my_learning"))
        html = response.content.decode()
        assert response.status_code == 200
        assert "1 of 2 lessons" in html
        assert "Continue: 第1.1节" in html
        rows = {e.course_id: e for e in response.context["active"]}
        assert rows[simple_course.pk].progress_percent == 50
        assert rows[simple_course.pk].active_seconds == 30
        assert rows[quiz_course.pk].progress_percent == 0
        assert 'href="/learning/"' in html  # site nav item

    def test_query_count(
        self, client, world, pressure_track, django_assert_max_num_queries
    ):
        for _ in range(4):
            course = factories.course(track_page=pressure_track, publisher=world.lead)
            services.enrollment_create(user=world.learner, course=course)
        client.force_login(world.learner)
        # Constant in the number of courses (sections from other apps included).
        with django_assert_max_num_queries(16):
            response = client.get(reverse("courses:my_learning"))
        assert len(response.context["active"]) == 4

    def test_sections_from_hooks(self, client, world):
        def section(request):
            return "<section>证书列表</section>"

        client.force_login(world.learner)
        with hooks.register_temporarily("my_learning_sections", section):
            html = client.get(reverse("courses:my_learning")).content.decode()
        assert "证书列表" in html

    def test_login_required(self, client, db):
        response = client.get(reverse("courses:my_learning"))
        assert response.status_code == 302


class TestRouting:
    """CourseIndexPage.route resolves lesson URLs in two queries with the
    same results as Wagtail's level-by-level walk."""

    def test_lesson_course_and_module_urls(self, client, world, simple_course):
        services.enrollment_create(user=world.learner, course=simple_course)
        client.force_login(world.learner)
        lesson = factories.lessons_of(simple_course)[1]
        response = client.get(lesson.url)
        assert response.status_code == 200
        assert response.context["page"].pk == lesson.pk
        assert response.context["course"].pk == simple_course.pk
        assert client.get(simple_course.url).context["page"].pk == simple_course.pk
        module = lesson.get_parent()
        assert client.get(module.url).url == simple_course.url  # module → course

    def test_unknown_and_misplaced_paths_are_not_found(
        self, client, world, simple_course
    ):
        services.enrollment_create(user=world.learner, course=simple_course)
        client.force_login(world.learner)
        lesson = factories.lessons_of(simple_course)[0]
        module_slug = lesson.get_parent().slug
        base = simple_course.url
        assert client.get(f"{base}{module_slug}/nope/").status_code == 404
        assert client.get(f"{base}nope/{lesson.slug}/").status_code == 404
        # the lesson's slug one level too high, or too deep
        assert client.get(f"{base}{lesson.slug}/").status_code == 404
        assert client.get(f"{lesson.url}extra/").status_code == 404

    def test_draft_lesson_is_not_found(self, client, world, simple_course):
        services.enrollment_create(user=world.learner, course=simple_course)
        client.force_login(world.learner)
        lesson = factories.lessons_of(simple_course)[0]
        url = lesson.url
        lesson.unpublish()
        assert client.get(url).status_code == 404

    def test_unicode_slugs(self, client, world, pressure_track):
        course = factories.course(track_page=pressure_track, publisher=world.lead)
        lesson = factories.lessons_of(course)[0]
        lesson.slug = "压力表-第一节"
        lesson.save_revision().publish()
        lesson.refresh_from_db()
        services.enrollment_create(user=world.learner, course=course)
        client.force_login(world.learner)
        response = client.get(lesson.url)
        assert response.status_code == 200
        assert "%E5%8E%8B" in lesson.url  # quoted as Wagtail quotes it
        outline_urls = [row.lesson.url for row in response.context["outline"].lessons]
        request = response.wsgi_request
        assert outline_urls == [
            page.get_url(request=request) for page in factories.lessons_of(course)
        ]
        assert response.context["outline"].lessons[0].current is True


def test_outline_items_escape_and_gate():
    from courses.selectors import LessonRow, OutlineLesson
    from courses.templatetags.courses_tags import outline_items

    rows = [
        LessonRow(
            lesson=OutlineLesson(pk=1, title="<b>一</b>", path="a", url="/l/1/?a&b"),
            completed=True,
            current=True,
        ),
        LessonRow(lesson=OutlineLesson(pk=2, title="二", path="b", url="/l/2/")),
        LessonRow(
            lesson=OutlineLesson(pk=3, title="三", path="c", url="/l/3/"),
            unlocked=False,
        ),
    ]
    html = str(outline_items(rows, badges=True))
    assert "<b>" not in html and "&lt;b&gt;一&lt;/b&gt;" in html
    assert 'href="/l/1/?a&amp;b" aria-current="page"' in html
    assert '<li class="is-current is-done">' in html
    assert '<li class="">' in html and 'href="/l/2/"' in html
    assert 'href="/l/3/"' not in html  # locked: no link
    assert '<li class="is-locked">三 <span class="badge">Locked</span></li>' in html
    assert "Done</span>" in html
    # Not enrolled: nothing is linked; editors get every link.
    assert "href" not in str(outline_items(rows, link_unlocked=False))
    assert 'href="/l/3/"' in str(
        outline_items(rows, link_unlocked=False, link_all=True)
    )
