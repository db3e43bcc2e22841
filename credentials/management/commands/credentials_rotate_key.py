from django.core.management.base import BaseCommand

from credentials.services import signing_key_rotate


class Command(BaseCommand):
    help = "Make a new signing key active; old public keys stay published."

    def handle(self, *args, **options):
        key = signing_key_rotate()
        self.stdout.write(f"New active signing key: {key.kid}")
