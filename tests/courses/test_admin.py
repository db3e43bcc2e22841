"""Tenant isolation and moderation in the Wagtail admin."""

import pytest
from django.urls import reverse
from wagtail.models import Page, WorkflowState
from wagtail.test.utils.form_data import nested_form_data, rich_text, streamfield

from courses import services
from courses.models import LessonPage, ModulePage
from organizations.models import Role
from tests.factories import MembershipFactory, UserFactory

from . import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_mfa(settings):
    settings.ACADEMY_MFA_REQUIRED_ROLES = []


@pytest.fixture
def courses(world, pressure_track):
    """Two courses in the same track by two lead enterprises, each expert in
    the experts group of their own enterprise."""
    own = factories.course(
        track_page=pressure_track, publisher=world.lead, title="压力表检定与校准"
    )
    other = factories.course(
        track_page=pressure_track, publisher=world.other_lead, title="压力变送器校准"
    )
    # A draft lesson in the other enterprise's course.
    other_module = ModulePage.objects.child_of(other).first()
    draft = services.course_page_add(
        parent=other_module,
        page=LessonPage(title="保密草稿课时", slug="secret-draft", live=False),
        user=world.other_expert,
        publish=False,
    )
    for user in (world.expert, world.other_expert):
        services.expert_groups_sync(user=user)
    return {"own": own, "other": other, "draft": draft}


def edit_url(page):
    return reverse("wagtailadmin_pages:edit", args=[page.pk])


class TestIsolation:
    def test_expert_edits_own_course_only(self, client, world, courses):
        client.force_login(world.expert)
        assert client.get(edit_url(courses["own"])).status_code == 200
        own_lesson = factories.lessons_of(courses["own"])[0]
        assert client.get(edit_url(own_lesson)).status_code == 200
        for page in (courses["other"], courses["draft"]):
            response = client.get(edit_url(page))
            assert response.status_code in (302, 403)
            assert page.title not in response.content.decode()

    def test_explorer_hides_other_enterprise(
        self, client, world, courses, pressure_track
    ):
        # A second own course makes the track the expert's explorer root.
        factories.course(
            track_page=pressure_track, publisher=world.lead, title="计量器具期间核查"
        )
        client.force_login(world.expert)
        response = client.get(reverse("wagtailadmin_explore", args=[pressure_track.pk]))
        html = response.content.decode()
        assert response.status_code == 200
        assert "压力表检定与校准" in html
        assert "压力变送器校准" not in html
        # Guessing the URL of the other course's module lists none of its
        # lessons, published or draft.
        other_module = ModulePage.objects.child_of(courses["other"]).first()
        response = client.get(reverse("wagtailadmin_explore", args=[other_module.pk]))
        html = response.content.decode()
        assert "保密草稿课时" not in html
        assert "第1.1节" not in html

    def test_admin_search_hides_other_enterprise(self, client, world, courses):
        client.force_login(world.expert)
        response = client.get(reverse("wagtailadmin_pages:search"), {"q": "校准"})
        html = response.content.decode()
        assert "压力变送器校准" not in html
        response = client.get(reverse("wagtailadmin_pages:search"), {"q": "保密草稿"})
        assert "保密草稿课时" not in response.content.decode()

    def test_preview_and_revisions_of_other_enterprise(self, client, world, courses):
        client.force_login(world.expert)
        draft = courses["draft"]
        preview = reverse("wagtailadmin_pages:preview_on_edit", args=[draft.pk])
        assert client.get(preview).status_code in (302, 403)
        history = reverse("wagtailadmin_pages:history", args=[draft.pk])
        assert client.get(history).status_code in (302, 403)

    def test_cannot_add_lessons_to_other_enterprise(self, client, world, courses):
        client.force_login(world.expert)
        module = ModulePage.objects.child_of(courses["other"]).first()
        url = reverse(
            "wagtailadmin_pages:add", args=["courses", "lessonpage", module.pk]
        )
        assert client.get(url).status_code in (302, 403)

    def test_page_permission_tester(self, world, courses):
        other = courses["other"]
        assert not other.permissions_for_user(world.expert).can_edit()
        assert other.permissions_for_user(world.other_expert).can_edit()
        assert not other.permissions_for_user(world.other_expert).can_publish()
        assert other.permissions_for_user(world.coordinator).can_publish()

    def test_ended_membership_loses_access_at_once(self, world, courses):
        from organizations.services import membership_end

        membership = world.expert.memberships.get(role=Role.EXPERT)
        membership_end(membership=membership, ended_on=membership.started_on)
        lesson = factories.lessons_of(courses["own"])[0]
        assert not lesson.permissions_for_user(world.expert).can_edit()

    def test_new_expert_membership_joins_group(
        self, world, courses, django_capture_on_commit_callbacks
    ):
        newcomer = UserFactory(name="新专家")
        with django_capture_on_commit_callbacks(execute=True):
            MembershipFactory(user=newcomer, company=world.lead, role=Role.EXPERT)
        names = set(newcomer.groups.values_list("name", flat=True))
        assert services.expert_group_name(world.lead) in names
        assert "Experts" in names
        assert courses["own"].permissions_for_user(newcomer).can_edit()
        assert not courses["other"].permissions_for_user(newcomer).can_edit()


class TestModeration:
    def lesson_form(self, title, action):
        return nested_form_data(
            {
                "title": title,
                "slug": "new-lesson",
                "min_active_seconds": 60,
                "body": streamfield(
                    [("text", rich_text("<p>数字压力计的校准方法。</p>"))]
                ),
                action: "1",
            }
        )

    def test_expert_draft_needs_coordinator_approval(self, client, world, courses):
        module = ModulePage.objects.child_of(courses["own"]).first()
        add_url = reverse(
            "wagtailadmin_pages:add", args=["courses", "lessonpage", module.pk]
        )
        client.force_login(world.expert)
        # Publishing directly is not offered to experts.
        client.post(add_url, self.lesson_form("数字压力计", "action-publish"))
        lesson = LessonPage.objects.filter(title="数字压力计").first()
        assert lesson is None or not lesson.live
        if lesson is not None:
            lesson.delete()
        response = client.post(add_url, self.lesson_form("数字压力计", "action-submit"))
        assert response.status_code == 302
        lesson = LessonPage.objects.get(title="数字压力计")
        assert not lesson.live
        state = WorkflowState.objects.get(object_id=str(lesson.pk))
        assert state.status == WorkflowState.STATUS_IN_PROGRESS
        # The learner-facing site does not show it.
        services.enrollment_create(user=world.learner, course=courses["own"])
        assert lesson.pk not in [
            page.pk for page in factories.lessons_of(courses["own"])
        ]
        # The other enterprise's expert cannot approve it.
        task_state = state.current_task_state
        approve = reverse(
            "wagtailadmin_pages:workflow_action",
            args=[lesson.pk, "approve", task_state.pk],
        )
        client.force_login(world.other_expert)
        client.post(approve, {})
        lesson.refresh_from_db()
        assert not lesson.live
        # The coordinator approves: published.
        client.force_login(world.coordinator)
        response = client.post(approve, {})
        assert response.status_code in (200, 302)
        lesson.refresh_from_db()
        assert lesson.live
        assert lesson.pk in [page.pk for page in factories.lessons_of(courses["own"])]

    def test_demo_style_submit_service(self, world, courses):
        module = ModulePage.objects.child_of(courses["own"]).first()
        lesson = services.course_page_add(
            parent=module,
            page=LessonPage(title="待审课时", slug="pending", live=False),
            user=world.expert,
            publish=False,
        )
        state = services.page_submit_for_review(page=lesson, user=world.expert)
        assert state.status == WorkflowState.STATUS_IN_PROGRESS
        assert not Page.objects.get(pk=lesson.pk).live


class TestCourseForm:
    def form(self, user, course, data=None):
        form_class = type(course).get_edit_handler().get_form_class()
        return form_class(
            data,
            instance=course,
            for_user=user,
            parent_page=course.get_parent(),
        )

    def test_expert_chooses_only_own_enterprise(self, world, courses):
        form = self.form(world.expert, courses["own"])
        assert list(form.fields["publisher"].queryset) == [world.lead]
        coordinator_form = self.form(world.coordinator, courses["own"])
        assert world.other_lead in coordinator_form.fields["publisher"].queryset

    def test_other_publisher_is_rejected(self, world, courses):
        form = self.form(world.expert, courses["own"])
        form.cleaned_data = {"publisher": world.other_lead}
        form.clean_publisher()
        assert "publisher" in form.errors
