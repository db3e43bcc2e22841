from datetime import timedelta

from django.core.management.base import BaseCommand

from hr.services import exports_delete_old


class Command(BaseCommand):
    help = "Delete HR export files older than --days days (default 7)."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=7)

    def handle(self, *args, days: int = 7, **options):
        count = exports_delete_old(older_than=timedelta(days=days))
        self.stdout.write(f"{count} export(s) deleted")
