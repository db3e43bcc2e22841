"""The finish action of the "Course review" workflow.

Wagtail imports ``WAGTAIL_FINISH_WORKFLOW_ACTION`` while ``wagtail.models``
loads, so this module imports nothing at module level.
"""

from __future__ import annotations


def publish_workflow_state(workflow_state, user=None) -> None:
    """``WAGTAIL_FINISH_WORKFLOW_ACTION``: publish what a workflow approved.

    Reviewers hold no publish permission (so they cannot publish anything
    outside review, their own changes included). When the final approval was
    given on a ``CourseReviewTask`` by ``user`` — whose right to decide that
    task state the task checked — the latest revision is published without
    Wagtail's publish-permission check; otherwise Wagtail's default applies.
    """
    from wagtail.models import TaskState

    from .models import CourseReviewTask

    revision = workflow_state.content_object.get_latest_revision()
    decided = workflow_state.current_task_state
    reviewed = (
        decided is not None
        and user is not None
        and decided.status == TaskState.STATUS_APPROVED
        and decided.finished_by_id == user.pk
        and isinstance(decided.task.specific, CourseReviewTask)
    )
    revision.publish(user=user, skip_permission_checks=reviewed)
