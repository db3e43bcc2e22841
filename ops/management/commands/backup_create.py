from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ops.backup import BackupError, backup_create


class Command(BaseCommand):
    help = (
        "Back up the database (dumpdata JSON) and every media and private file "
        "(through the storage API) into one .tar.gz with a SHA-256 manifest."
    )

    def add_arguments(self, parser):
        parser.add_argument("--output", required=True, metavar="FILE")

    def handle(self, *args, output, **options):
        path = Path(output)
        if path.exists():
            raise CommandError(f"{path} exists already; choose a new file name.")
        if not path.parent.is_dir():
            raise CommandError(f"The folder {path.parent} does not exist.")
        try:
            manifest = backup_create(output=path)
        except BackupError as error:
            raise CommandError(str(error)) from error
        files = len(manifest.members) - 1
        self.stdout.write(
            f"backup written to {path}: database and {files} file(s), "
            f"{path.stat().st_size} bytes"
        )
