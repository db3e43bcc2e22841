from django.core.management.base import BaseCommand

from credentials.services import credential_issue_missing


class Command(BaseCommand):
    help = "Issue the Open Badges credential of every certificate that has none."

    def handle(self, *args, **options):
        count = credential_issue_missing()
        self.stdout.write(f"Issued {count} credential(s).")
