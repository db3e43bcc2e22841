from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ops.backup import BackupError, backup_restore, backup_verify


class Command(BaseCommand):
    help = (
        "Restore a backup_create archive into a new, migrated, empty database "
        "and empty storage (checks every SHA-256 first; refuses otherwise)."
    )

    def add_arguments(self, parser):
        parser.add_argument("archive", metavar="FILE")
        parser.add_argument(
            "--check-only",
            action="store_true",
            help="Only verify the archive against its manifest.",
        )
        parser.add_argument(
            "--no-search-index",
            action="store_true",
            help="Do not rebuild the search index afterwards (run update_index).",
        )

    def handle(self, *args, archive, check_only, no_search_index, **options):
        path = Path(archive)
        if not path.is_file():
            raise CommandError(f"{path} does not exist.")
        try:
            if check_only:
                manifest = backup_verify(archive_path=path)
                self.stdout.write(
                    f"{path}: intact, {len(manifest['members'])} member(s), "
                    f"made {manifest['created_at']}"
                )
                return
            manifest = backup_restore(
                archive_path=path, rebuild_search_index=not no_search_index
            )
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"restored {path} (made {manifest['created_at']}): database and "
            f"{len(manifest['members']) - 1} file(s)"
        )
