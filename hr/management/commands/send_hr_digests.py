from django.core.management.base import BaseCommand

from hr.tasks import hr_digests_send_task


class Command(BaseCommand):
    help = (
        "Send this week's HR digest to every HR user who has not opted out "
        "(at most once per ISO week; run weekly from cron or a systemd timer)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help="Queue the work on the 'email' task queue instead of running it now.",
        )

    def handle(self, *args, enqueue: bool = False, **options):
        if enqueue:
            result = hr_digests_send_task.enqueue()
            self.stdout.write(f"queued {result.id}")
            return
        from hr.services import digests_send_all

        sent = digests_send_all()
        self.stdout.write(f"{sent} digest(s) sent")
