"""Periodic dispatch work: visit reminders (7 days / 1 day) and stale requests.

Run every hour from cron or a scheduler: ``manage.py dispatch_tick``.
"""

from django.core.management.base import BaseCommand

from dispatch.services import visit_reminders_send, visit_request_expire_stale


class Command(BaseCommand):
    help = "Send due visit reminders and expire stale visit requests."

    def handle(self, *args, **options):
        reminders = visit_reminders_send()
        expired = visit_request_expire_stale()
        self.stdout.write(f"{reminders} reminders queued, {expired} requests expired")
