"""Thin background tasks: take ids, call one service."""

from django.tasks import task


@task(queue_name="exports")
def export_run_task(job_id: int) -> str:
    from .services import export_run

    return export_run(job_id=job_id).status


@task(queue_name="email")
def hr_digests_send_task() -> int:
    from .services import digests_send_all

    return digests_send_all()
