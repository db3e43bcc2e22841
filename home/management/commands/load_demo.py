"""Load the demo data set: every project app's ``demo.load()`` in app order.

Idempotent: running it twice leaves one copy of everything.
"""

from importlib import import_module
from importlib.util import find_spec

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import transaction


class Command(BaseCommand):
    help = "Create (or update) the demo companies, people, courses and visits."

    def handle(self, *args, **options):
        for app in settings.PROJECT_APPS:
            if find_spec(f"{app}.demo") is None:
                continue
            module = import_module(f"{app}.demo")
            self.stdout.write(f"· {app}")
            with transaction.atomic():
                module.load(stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS("Demo data ready."))
        from organizations.demo import DEMO_PASSWORD, credentials_table

        self.stdout.write("")
        self.stdout.write(f"Demo accounts (password for all: {DEMO_PASSWORD}):")
        for role, who, email in credentials_table():
            self.stdout.write(f"  {role:<12} {email:<40} {who}")
        self.stdout.write(
            "  Coordinators, experts and HR must set up an authenticator app (TOTP)"
            " at their first login."
        )
        # Apps may print more (e.g. hr: the demo auditor link's URL).
        for app in settings.PROJECT_APPS:
            if find_spec(f"{app}.demo") is None:
                continue
            lines = getattr(import_module(f"{app}.demo"), "summary_lines", None)
            for line in lines() if lines else []:
                self.stdout.write(line)
