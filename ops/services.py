"""Operations services: recovering queued work after a crash.

django-tasks-db (the database task queue, ``TASKS_BACKEND=db``) claims a task
by setting its row to RUNNING inside a transaction; the worker then runs the
task and records SUCCESSFUL or FAILED. A worker that is stopped with SIGTERM
finishes its current task first; a worker that is *killed* (SIGKILL, OOM,
power loss) leaves the row RUNNING for ever — django-tasks-db has no lease or
heartbeat and never looks at such rows again. ``tasks_requeue_abandoned``
puts them back to READY so that any worker picks them up.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from .events import ops_event

TASKS_REQUEUE_DEFAULT_MINUTES = 30


@transaction.atomic
def tasks_requeue_abandoned(
    *,
    older_than: timedelta = timedelta(minutes=TASKS_REQUEUE_DEFAULT_MINUTES),
    backend_name: str = "default",
) -> list[str]:
    """Re-queue tasks left RUNNING longer than ``older_than`` (their worker died).

    ``older_than`` must exceed the longest task (a certificate ZIP, an export),
    or a task still running would be started a second time. Our tasks are
    idempotent (a rendered certificate is never rendered again, a finished
    export is not rebuilt); an e-mail may go out twice, never zero times.
    Returns the ids of the re-queued tasks.
    """
    from django.tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    cutoff = timezone.now() - older_than
    stuck = list(
        DBTaskResult.objects.select_for_update(skip_locked=True)
        .filter(
            backend_name=backend_name,
            status=TaskResultStatus.RUNNING,
            started_at__lt=cutoff,
        )
        .values_list("id", "task_path", "worker_ids")
    )
    ids = [task_id for task_id, _path, _workers in stuck]
    if ids:
        DBTaskResult.objects.filter(id__in=ids).update(
            status=TaskResultStatus.READY, started_at=None
        )
    for task_id, path, workers in stuck:
        ops_event(
            "task_requeued",
            level=logging.WARNING,
            task_id=str(task_id),
            task=path,
            dead_worker=(workers or [""])[-1],
        )
    return [str(task_id) for task_id in ids]
