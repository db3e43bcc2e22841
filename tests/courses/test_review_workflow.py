"""Course review through the Wagtail admin: the coordinator or the publishing
enterprise's reviewer approves; other enterprises' reviewers, the submitter
themselves, learners and HR cannot."""

import pytest
from django.urls import reverse
from wagtail.models import (
    GroupApprovalTask,
    Page,
    TaskState,
    Workflow,
    WorkflowState,
    WorkflowTask,
)
from wagtail.test.utils.form_data import nested_form_data, rich_text, streamfield

from courses import services
from courses.models import CourseReviewTask, LessonPage, ModulePage
from organizations.models import Role
from organizations.services import membership_set_course_reviewer
from tests.factories import MembershipFactory, UserFactory, make_coordinator

from . import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_mfa(settings):
    settings.ACADEMY_MFA_REQUIRED_ROLES = []


def _expert(company, name, *, reviewer, actor):
    membership = MembershipFactory(
        company=company, role=Role.EXPERT, user=UserFactory(name=name)
    )
    if reviewer:
        membership_set_course_reviewer(actor=actor, membership=membership, value=True)
    services.expert_groups_sync(user=membership.user)
    return membership.user


@pytest.fixture
def setup(world, pressure_track):
    """Courses of enterprise A (world.lead) and B (world.other_lead), one
    reviewer each, and the plain experts of both in their groups."""
    course_a = factories.course(
        track_page=pressure_track, publisher=world.lead, title="压力表检定与校准"
    )
    course_b = factories.course(
        track_page=pressure_track, publisher=world.other_lead, title="压力变送器校准"
    )
    reviewer_a = _expert(world.lead, "黄志明", reviewer=True, actor=world.coordinator)
    reviewer_b = _expert(
        world.other_lead, "钱多多", reviewer=True, actor=world.coordinator
    )
    for user in (world.expert, world.other_expert):
        services.expert_groups_sync(user=user)
    return {
        "a": course_a,
        "b": course_b,
        "reviewer_a": reviewer_a,
        "reviewer_b": reviewer_b,
    }


def lesson_form(title, slug):
    return nested_form_data(
        {
            "title": title,
            "slug": slug,
            "min_active_seconds": 60,
            "body": streamfield([("text", rich_text("<p>数字压力计的校准方法。</p>"))]),
            "action-submit": "1",
        }
    )


def submit_lesson(client, user, course, title, slug="new-lesson") -> LessonPage:
    """``user`` drafts a lesson in ``course`` and submits it for review."""
    module = ModulePage.objects.child_of(course).first()
    add_url = reverse(
        "wagtailadmin_pages:add", args=["courses", "lessonpage", module.pk]
    )
    client.force_login(user)
    response = client.post(add_url, lesson_form(title, slug))
    assert response.status_code == 302
    client.get(response["Location"])  # consume the flash message
    lesson = LessonPage.objects.get(title=title)
    assert not lesson.live
    assert lesson.current_workflow_state.status == WorkflowState.STATUS_IN_PROGRESS
    return lesson


def approve_url(lesson, task_state=None, *, page=None):
    task_state = task_state or lesson.current_workflow_task_state
    return reverse(
        "wagtailadmin_pages:workflow_action",
        args=[(page or lesson).pk, "approve", task_state.pk],
    )


def dashboard(client, user) -> str:
    client.force_login(user)
    response = client.get(reverse("wagtailadmin_home"))
    assert response.status_code == 200
    return response.content.decode()


# Wagtail's admin answers PermissionDenied with a redirect to the dashboard.
REFUSED = (302, 403)
APPROVE_BUTTON = 'data-workflow-action-name="approve"'


def is_live(lesson) -> bool:
    return Page.objects.get(pk=lesson.pk).live


class TestSetup:
    def test_workflow_has_only_the_course_review_task(self, setup):
        workflow = Workflow.objects.get(name=services.WORKFLOW_NAME)
        tasks = [task.specific for task in workflow.tasks]
        assert len(tasks) == 1
        assert isinstance(tasks[0], CourseReviewTask)
        assert tasks[0].name == services.REVIEW_TASK_NAME


class TestReviewerOfPublisher:
    def test_reviewer_sees_and_approves(self, client, world, setup):
        lesson = submit_lesson(client, world.expert, setup["a"], "数字压力计")
        html = dashboard(client, setup["reviewer_a"])
        assert "数字压力计" in html
        assert approve_url(lesson) in html
        edit = client.get(reverse("wagtailadmin_pages:edit", args=[lesson.pk]))
        assert edit.status_code == 200
        assert APPROVE_BUTTON in edit.content.decode()
        response = client.post(approve_url(lesson), {})
        assert response.status_code == 302
        assert is_live(lesson)
        assert lesson.pk in [page.pk for page in factories.lessons_of(setup["a"])]
        task_state = TaskState.objects.filter(
            workflow_state__object_id=str(lesson.pk)
        ).get()
        assert task_state.status == TaskState.STATUS_APPROVED
        assert task_state.finished_by == setup["reviewer_a"]

    def test_reviewer_requests_changes(self, client, world, setup):
        lesson = submit_lesson(client, world.expert, setup["a"], "数字压力计")
        task_state = lesson.current_workflow_task_state
        client.force_login(setup["reviewer_a"])
        url = reverse(
            "wagtailadmin_pages:workflow_action",
            args=[lesson.pk, "reject", task_state.pk],
        )
        response = client.post(url, {"comment": "请补充 JJF 1050 的校准点。"})
        assert response.status_code == 302
        state = WorkflowState.objects.get(object_id=str(lesson.pk))
        assert state.status == WorkflowState.STATUS_NEEDS_CHANGES
        assert not is_live(lesson)

    def test_ended_reviewer_membership_loses_review(self, client, world, setup):
        from organizations.services import membership_end

        lesson = submit_lesson(client, world.expert, setup["a"], "数字压力计")
        membership = setup["reviewer_a"].memberships.get(role=Role.EXPERT)
        membership_end(membership=membership, ended_on=membership.started_on)
        client.force_login(setup["reviewer_a"])
        client.post(approve_url(lesson), {})
        assert not is_live(lesson)

    def test_plain_expert_of_publisher_cannot_approve(self, client, world, setup):
        lesson = submit_lesson(client, setup["reviewer_a"], setup["a"], "数字压力计")
        assert "数字压力计" not in dashboard(client, world.expert)
        response = client.post(approve_url(lesson), {})
        assert response.status_code in REFUSED
        assert not is_live(lesson)


class TestOtherEnterprise:
    def test_other_reviewer_neither_sees_nor_approves(self, client, world, setup):
        lesson = submit_lesson(client, world.expert, setup["a"], "数字压力计")
        html = dashboard(client, setup["reviewer_b"])
        assert "数字压力计" not in html
        assert approve_url(lesson) not in html
        edit = client.get(reverse("wagtailadmin_pages:edit", args=[lesson.pk]))
        assert edit.status_code in (302, 403)
        assert "数字压力计" not in edit.content.decode()
        response = client.post(approve_url(lesson), {})
        assert response.status_code in REFUSED
        assert not is_live(lesson)
        assert lesson.current_workflow_task_state.status == TaskState.STATUS_IN_PROGRESS

    def test_workflow_reports_hide_other_enterprise(self, client, world, setup):
        submit_lesson(client, world.expert, setup["a"], "数字压力计")
        client.force_login(setup["reviewer_b"])
        for name in (
            "wagtailadmin_reports:workflow",
            "wagtailadmin_reports:workflow_tasks",
        ):
            for query in ({}, {"reviewable": "true"}):
                response = client.get(reverse(name), query)
                assert "数字压力计" not in response.content.decode()
        client.force_login(setup["reviewer_a"])
        response = client.get(
            reverse("wagtailadmin_reports:workflow"), {"reviewable": "true"}
        )
        assert response.status_code == 200
        assert "数字压力计" in response.content.decode()

    def test_crafted_url_pairing_own_page_with_other_task_state(
        self, client, world, setup
    ):
        """B's reviewer names a B page they may approve, with A's task state."""
        lesson_a = submit_lesson(client, world.expert, setup["a"], "数字压力计")
        lesson_b = submit_lesson(
            client, world.other_expert, setup["b"], "变送器校准", slug="b-lesson"
        )
        client.force_login(setup["reviewer_b"])
        crafted = approve_url(
            lesson_a, lesson_a.current_workflow_task_state, page=lesson_b
        )
        response = client.post(crafted, {})
        assert response.status_code in REFUSED
        assert not is_live(lesson_a)
        assert not is_live(lesson_b)
        assert (
            TaskState.objects.get(pk=lesson_a.current_workflow_task_state.pk).status
            == TaskState.STATUS_IN_PROGRESS
        )
        # Their own enterprise's submission they do approve.
        client.post(approve_url(lesson_b), {})
        assert is_live(lesson_b)
        assert not is_live(lesson_a)


class TestFourEyes:
    def test_submitter_who_reviews_cannot_approve_own(self, client, world, setup):
        reviewer = setup["reviewer_a"]
        lesson = submit_lesson(client, reviewer, setup["a"], "数字压力计")
        html = dashboard(client, reviewer)
        assert approve_url(lesson) not in html
        edit = client.get(reverse("wagtailadmin_pages:edit", args=[lesson.pk]))
        assert edit.status_code == 200
        assert APPROVE_BUTTON not in edit.content.decode()
        response = client.post(approve_url(lesson), {})
        assert response.status_code in REFUSED
        assert not is_live(lesson)
        # A second reviewer of the same enterprise approves it.
        colleague = _expert(world.lead, "孙立", reviewer=True, actor=world.coordinator)
        assert "数字压力计" in dashboard(client, colleague)
        client.post(approve_url(lesson), {})
        assert is_live(lesson)

    def test_reviewer_who_edited_the_draft_cannot_approve(self, client, world, setup):
        """Whoever wrote the latest revision (the one that would be published)
        cannot approve it either."""
        lesson = submit_lesson(client, world.expert, setup["a"], "数字压力计")
        lesson.title = "数字压力计（审核人修改）"
        lesson.save_revision(user=setup["reviewer_a"])
        client.force_login(setup["reviewer_a"])
        response = client.post(approve_url(lesson), {})
        assert response.status_code in REFUSED
        assert not is_live(lesson)

    def test_reviewer_who_edited_before_submission_cannot_approve(
        self, client, world, setup
    ):
        """A reviewer's edit to the draft before the author submitted it is
        part of the change too; only their own published past is not."""
        reviewer = setup["reviewer_a"]
        lesson = factories.lessons_of(setup["a"])[0]
        lesson.title = "第1.1节（审核人起草）"
        lesson.save_revision(user=reviewer)
        lesson.title = "第1.1节（作者定稿）"
        lesson.save_revision(user=world.expert)
        services.page_submit_for_review(page=lesson, user=world.expert)
        lesson = LessonPage.objects.get(pk=lesson.pk)
        assert approve_url(lesson) not in dashboard(client, reviewer)
        client.post(approve_url(lesson), {})
        assert LessonPage.objects.get(pk=lesson.pk).title == "第1.1节"
        colleague = _expert(world.lead, "孙立", reviewer=True, actor=world.coordinator)
        assert approve_url(lesson) in dashboard(client, colleague)
        client.post(approve_url(lesson), {})
        assert LessonPage.objects.get(pk=lesson.pk).title == "第1.1节（作者定稿）"
        # Now live: the reviewer's earlier revision no longer counts.
        lesson = LessonPage.objects.get(pk=lesson.pk)
        lesson.title = "第1.1节（第二版）"
        lesson.save_revision(user=world.expert)
        services.page_submit_for_review(page=lesson, user=world.expert)
        lesson = LessonPage.objects.get(pk=lesson.pk)
        assert approve_url(lesson) in dashboard(client, reviewer)
        client.post(approve_url(lesson), {})
        assert LessonPage.objects.get(pk=lesson.pk).title == "第1.1节（第二版）"

    def test_coordinator_cannot_approve_own_submission(self, client, world, setup):
        coordinator = world.coordinator
        lesson = submit_lesson(client, coordinator, setup["a"], "数字压力计")
        client.post(approve_url(lesson), {})
        assert not is_live(lesson)
        other_coordinator = make_coordinator(name="赵明")
        client.force_login(other_coordinator)
        client.post(approve_url(lesson), {})
        assert is_live(lesson)


class TestOtherRoles:
    def test_coordinator_approves_any_enterprise(self, client, world, setup):
        lesson = submit_lesson(client, world.other_expert, setup["b"], "变送器校准")
        assert "变送器校准" in dashboard(client, world.coordinator)
        response = client.post(approve_url(lesson), {})
        assert response.status_code == 302
        assert is_live(lesson)

    @pytest.mark.parametrize("role", ["learner", "lead_hr", "hr", "other_expert"])
    def test_learner_hr_and_others_cannot_approve(self, client, world, setup, role):
        lesson = submit_lesson(client, world.expert, setup["a"], "数字压力计")
        client.force_login(getattr(world, role))
        response = client.post(approve_url(lesson), {})
        assert response.status_code in REFUSED
        assert not is_live(lesson)
        assert lesson.current_workflow_task_state.status == TaskState.STATUS_IN_PROGRESS


class TestLegacyMigration:
    def test_group_task_replaced_and_reviews_in_progress_move(self, world, setup):
        """An installation still on the old group task: its in-progress
        review moves to the new task; "needs changes" ones are cancelled."""
        from django.contrib.auth.models import Group

        workflow = Workflow.objects.get(name=services.WORKFLOW_NAME)
        new_task = CourseReviewTask.objects.get()
        WorkflowTask.objects.filter(workflow=workflow).delete()
        legacy = GroupApprovalTask.objects.create(name=services.LEGACY_REVIEW_TASK_NAME)
        legacy.groups.add(Group.objects.get(name="Coordinators"))
        WorkflowTask.objects.create(workflow=workflow, task=legacy, sort_order=0)
        module = ModulePage.objects.child_of(setup["a"]).first()

        def draft(title, slug):
            page = services.course_page_add(
                parent=module,
                page=LessonPage(title=title, slug=slug, live=False),
                user=world.expert,
                publish=False,
            )
            services.page_submit_for_review(page=page, user=world.expert)
            return Page.objects.get(pk=page.pk).specific

        pending = draft("待审课时", "pending")
        sent_back = draft("退回课时", "sent-back")
        assert pending.current_workflow_task.specific == legacy
        sent_back.current_workflow_task_state.reject(user=world.coordinator)

        services.course_workflow_ensure()
        services.course_workflow_ensure()  # idempotent

        legacy.refresh_from_db()
        assert not legacy.active
        assert [task.specific for task in workflow.tasks] == [new_task]
        pending = Page.objects.get(pk=pending.pk).specific
        state = pending.current_workflow_state
        assert state.status == WorkflowState.STATUS_IN_PROGRESS
        assert state.requested_by == world.expert
        assert pending.current_workflow_task.specific == new_task
        assert TaskState.objects.filter(workflow_state=state).count() == 2
        sent_back_state = WorkflowState.objects.get(object_id=str(sent_back.pk))
        assert sent_back_state.status == WorkflowState.STATUS_CANCELLED
        # The moved review works with the new rules.
        task_state = pending.current_workflow_task_state
        new_task.on_action(task_state, setup["reviewer_a"], "approve")
        assert is_live(pending)


class TestTaskApi:
    def test_on_action_checks_the_task_states_own_page(self, client, world, setup):
        from django.core.exceptions import PermissionDenied

        lesson = submit_lesson(client, world.expert, setup["a"], "数字压力计")
        task = CourseReviewTask.objects.get()
        task_state = lesson.current_workflow_task_state
        for user in (setup["reviewer_b"], world.expert, world.lead_hr):
            with pytest.raises(PermissionDenied):
                task.on_action(task_state, user, "approve")
            with pytest.raises(PermissionDenied):
                task.on_action(task_state, user, "reject")
        assert not is_live(lesson)
        assert task.get_actions(lesson, setup["reviewer_b"]) == []
        assert [name for name, *_ in task.get_actions(lesson, setup["reviewer_a"])] == [
            "reject",
            "approve",
            "approve",
        ]
        assert list(TaskState.objects.reviewable_by(setup["reviewer_b"])) == []
        assert list(TaskState.objects.reviewable_by(setup["reviewer_a"])) == [
            task_state
        ]
        assert not task.locked_for_user(lesson, setup["reviewer_a"])
        assert task.locked_for_user(lesson, setup["reviewer_b"])


class TestNotification:
    def test_reviewers_of_the_publisher_and_coordinators_are_emailed(
        self, client, world, setup, mailoutbox, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            submit_lesson(client, world.expert, setup["a"], "数字压力计")
        recipients = {address for message in mailoutbox for address in message.to}
        assert setup["reviewer_a"].email in recipients
        assert world.coordinator.email in recipients
        assert setup["reviewer_b"].email not in recipients
        assert world.expert.email not in recipients
        assert world.other_expert.email not in recipients
