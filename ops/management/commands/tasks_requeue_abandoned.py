from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from ops.services import TASKS_REQUEUE_DEFAULT_MINUTES, tasks_requeue_abandoned


class Command(BaseCommand):
    help = (
        "Put tasks of the database queue that a killed worker left RUNNING back "
        "to READY (run every 10 minutes, and after restarting the workers)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=int,
            default=TASKS_REQUEUE_DEFAULT_MINUTES,
            metavar="MINUTES",
            help="Only tasks started more than MINUTES ago (longer than any task "
            "runs; default %(default)s).",
        )
        parser.add_argument("--backend", default="default")

    def handle(self, *args, older_than, backend, **options):
        configured = settings.TASKS.get(backend, {}).get("BACKEND", "")
        if configured != "django_tasks_db.DatabaseBackend":
            raise CommandError(
                f"The task backend {backend!r} is {configured or 'not configured'}, "
                "not the database queue (TASKS_BACKEND=db): nothing to recover."
            )
        if older_than < 1:
            raise CommandError("--older-than must be at least 1 minute.")
        ids = tasks_requeue_abandoned(
            older_than=timedelta(minutes=older_than), backend_name=backend
        )
        self.stdout.write(f"re-queued {len(ids)} abandoned task(s)")
