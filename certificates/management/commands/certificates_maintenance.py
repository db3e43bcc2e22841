from django.core.management.base import BaseCommand

from certificates.services import (
    certificate_issue_missing,
    certificate_rerender_stuck,
    certificate_send_expiry_reminders,
)


class Command(BaseCommand):
    help = (
        "Daily certificate upkeep: issue certificates missing for completed "
        "enrolments, retry failed or stuck PDF renders, send expiry reminders."
    )

    def handle(self, *args, **options):
        issued = certificate_issue_missing()
        requeued = certificate_rerender_stuck()
        reminded = certificate_send_expiry_reminders()
        self.stdout.write(
            f"issued {issued}, re-rendered {requeued}, reminders sent {reminded}"
        )
