"""Rules of the "Course review" workflow task (``models.CourseReviewTask``).

Who moderates a page on the task: coordinators (and superusers), and the
active reviewers of the lead enterprise that publishes the page's course
(``organizations.Membership.may_review_courses``). Four eyes: nobody except a
superuser approves or rejects a change they submitted (the workflow's
``requested_by``) or had a hand in (any revision of the page since its live
revision, so the submitted and the latest, published, one included). The
predicates live in ``courses.permissions``; this module adapts them to
Wagtail's ``Task`` API.
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db.models import CharField, Q, QuerySet
from django.db.models.functions import Cast
from django.utils.translation import gettext_lazy as _
from wagtail.models import LockableMixin, Page, TaskState

from organizations.permissions import course_reviewer_company_ids, is_coordinator

from .models import CoursePage
from .permissions import (
    can_decide_course_review,
    can_review_course,
    course_publisher_id_of,
)

REVIEW_NOT_ALLOWED = _(
    "You may not review this change: reviewers decide only on their own "
    "enterprise's courses, and never on a change they made themselves."
)


def can_moderate_page(user, page) -> bool:
    """Moderate ``page`` on the task (ignoring four eyes): used for editor
    access and the workflow lock."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_superuser:
        return True
    return can_review_course(user, course_publisher_id_of(page))


def task_actions(task, page, user) -> list[tuple[str, str, bool]]:
    task_state = page.current_workflow_task_state
    if task_state is None or task_state.task_id != task.pk:
        return []
    if not can_decide_course_review(user, task_state, page=page):
        return []
    return [
        ("reject", _("Request changes"), True),
        ("approve", _("Approve"), False),
        ("approve", _("Approve with comment"), True),
    ]


def check_action(task, task_state, user, action_name: str) -> None:
    """Refuse an action unless ``user`` may decide ``task_state`` — checked on
    the task state's own page, not the page named in the URL."""
    if task_state.task_id != task.pk or action_name not in ("approve", "reject"):
        raise PermissionDenied(REVIEW_NOT_ALLOWED)
    if not can_decide_course_review(user, task_state):
        raise PermissionDenied(REVIEW_NOT_ALLOWED)


def unlock_for_review(workflow_state) -> None:
    """Like ``GroupApprovalTask``: a lock held by someone who cannot moderate
    the page is released when the review starts."""
    page = workflow_state.content_object
    if not isinstance(page, LockableMixin) or not page.locked_by_id:
        return
    if not can_moderate_page(page.locked_by, page):
        page.locked = False
        page.locked_by = None
        page.locked_at = None
        page.save(update_fields=["locked", "locked_by", "locked_at"])


def _page_ids_as_text(pages: QuerySet) -> QuerySet:
    return pages.annotate(pk_text=Cast("pk", CharField())).values("pk_text")


def task_states_user_can_moderate(task, user) -> QuerySet:
    """In-progress task states ``user`` may approve (the dashboard's "awaiting
    your review" panel and the workflow reports)."""
    states = TaskState.objects.filter(task=task, status=TaskState.STATUS_IN_PROGRESS)
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return states.none()
    if user.is_superuser:
        return states
    states = states.filter(
        workflow_state__base_content_type=ContentType.objects.get_for_model(Page)
    )
    if not is_coordinator(user):
        companies = course_reviewer_company_ids(user)
        paths = list(
            CoursePage.objects.filter(publisher_id__in=companies).values_list(
                "path", flat=True
            )
        )
        if not paths:
            return states.none()
        subtree = Q()
        for path in paths:
            subtree |= Q(path__startswith=path)
        states = states.filter(
            workflow_state__object_id__in=_page_ids_as_text(
                Page.objects.filter(subtree)
            ),
        )
    states = states.exclude(workflow_state__requested_by=user)
    return states.exclude(pk__in=_states_with_own_revisions(states, user))


def _states_with_own_revisions(states: QuerySet, user) -> list[int]:
    """Task states whose page ``user`` edited since its live revision (four
    eyes, as ``course_review_authors``). Few states are in progress at a
    time, so this is three small queries."""
    from wagtail.models import Revision

    rows = list(states.values_list("pk", "workflow_state__object_id", "revision_id"))
    if not rows:
        return []
    page_ids = {object_id for _pk, object_id, _revision in rows}
    live = dict(
        Page.objects.filter(pk__in=page_ids).values_list("pk", "live_revision_id")
    )
    own: dict[str, list[int]] = {}
    for object_id, revision_id in (
        Revision.objects.page_revisions()
        .filter(object_id__in=page_ids, user=user)
        .values_list("object_id", "pk")
    ):
        own.setdefault(object_id, []).append(revision_id)
    excluded = []
    for pk, object_id, revision_id in rows:
        live_id = live.get(int(object_id)) or 0
        mine = own.get(object_id, [])
        if revision_id in mine or any(rev > live_id for rev in mine):
            excluded.append(pk)
    return excluded


def review_recipients(task_state) -> set:
    """Who is told that a change awaits review: coordinators and the active
    reviewers of the course's publisher, never the submitter."""
    from django.contrib.auth import get_user_model

    from organizations.models import (
        COORDINATOR_GROUP_NAME,
        CompanyKind,
        Membership,
        Role,
    )

    users = get_user_model().objects.filter(is_active=True)
    page = Page.objects.filter(pk=task_state.workflow_state.object_id).first()
    publisher_id = course_publisher_id_of(page)
    reviewers = (
        Membership.objects.active()
        .filter(
            company_id=publisher_id,
            role=Role.EXPERT,
            may_review_courses=True,
            company__kind=CompanyKind.LEAD,
        )
        .values("user_id")
    )
    recipients = set(
        users.filter(Q(groups__name=COORDINATOR_GROUP_NAME) | Q(pk__in=reviewers))
    )
    authors = {task_state.workflow_state.requested_by_id}
    return {user for user in recipients if user.pk not in authors}


def _submission_notifier():
    from wagtail.admin.mail import BaseGroupApprovalTaskStateEmailNotifier

    from .models import CourseReviewTask

    class CourseReviewSubmissionEmailNotifier(BaseGroupApprovalTaskStateEmailNotifier):
        """Wagtail's "submitted for moderation" e-mail, sent to the people who
        may review the change instead of a group's members."""

        notification = "submitted"

        def can_handle(self, instance, **kwargs):
            return isinstance(instance, TaskState) and isinstance(
                instance.task.specific, CourseReviewTask
            )

        def get_recipient_users(self, task_state, **kwargs):
            triggering_user = kwargs.get("user")
            return {
                user
                for user in review_recipients(task_state)
                if triggering_user is None or user.pk != triggering_user.pk
            }

    return CourseReviewSubmissionEmailNotifier()


def review_submitted(sender, instance, user=None, **kwargs) -> None:
    """``task_submitted`` receiver: e-mail the reviewers after commit."""
    from django.db import transaction

    from .models import CourseReviewTask

    if not isinstance(instance.task.specific, CourseReviewTask):
        return
    task_state_id = instance.pk

    def send() -> None:
        task_state = TaskState.objects.filter(pk=task_state_id).first()
        if task_state is not None:
            _submission_notifier()(instance=task_state.specific, user=user)

    transaction.on_commit(send)
