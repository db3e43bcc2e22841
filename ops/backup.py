"""Backup and restore of a whole instance: database plus media and private files.

One archive (``.tar.gz``) holds:

- ``database.json`` — every row, written by Django's ``dumpdata`` (JSON, so
  the same archive restores on SQLite or PostgreSQL) with the original primary
  keys, *including* content types and permissions, so that every foreign key
  and generic relation keeps pointing at the same row. Left out: sessions
  (everyone logs in again after a restore), the task queue's results (the
  restored instance must not replay another machine's jobs; certificate
  renders still pending are re-queued by ``certificates_maintenance``) and the
  search index (rebuilt with ``update_index``).
- ``media/<name>`` and ``private/<name>`` — every file of the ``default`` and
  ``private`` storages, read and written through Django's storage API, so the
  same commands work with local disks and with S3.
- ``manifest.json`` — format version, time, and the size and SHA-256 of every
  member above. A restore checks the whole archive against it before it
  changes anything.

Restoring refuses a database that already holds users or companies, and a
target storage that already has a file of the same name: a restore never
merges into, or overwrites, a live instance.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from django.core.files.base import File
from django.core.files.storage import storages
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

FORMAT = "academy-backup"
FORMAT_VERSION = 1
STORAGE_ALIASES = ("default", "private")
ARCHIVE_FOLDERS = {"default": "media", "private": "private"}
EXCLUDED_MODELS = (
    "sessions.session",
    "usersessions.usersession",
    "django_tasks_database.dbtaskresult",
    "wagtailsearch.indexentry",
    "wagtailsearch.sqliteftsindexentry",  # SQLite only
)
CHUNK = 1024 * 1024

BACKUP_NOT_AN_ARCHIVE = _("%(path)s is not a backup archive of this platform: %(why)s")
BACKUP_DAMAGED = _(
    "The backup archive is damaged and was not restored: %(detail)s. "
    "Nothing was changed."
)
BACKUP_DATABASE_NOT_EMPTY = _(
    "The database is not empty (%(users)s users, %(companies)s companies). "
    "Restore only into a new database: create it, run `manage.py migrate`, "
    "then restore. Nothing was changed."
)
BACKUP_FILE_EXISTS = _(
    "The %(storage)s storage already has a file %(name)s. Restore only into "
    "empty storage. Nothing was changed."
)


class BackupError(Exception):
    """A backup or restore that cannot go ahead; the message says why."""


@dataclass
class Manifest:
    created_at: str
    members: dict[str, dict] = field(default_factory=dict)

    def as_json(self) -> bytes:
        return json.dumps(
            {
                "format": FORMAT,
                "version": FORMAT_VERSION,
                "created_at": self.created_at,
                "members": self.members,
            },
            ensure_ascii=False,
            indent=1,
            sort_keys=True,
        ).encode()


def _walk(storage, folder: str = ""):
    directories, files = storage.listdir(folder)
    for name in sorted(files):
        yield f"{folder}/{name}" if folder else name
    for directory in sorted(directories):
        yield from _walk(storage, f"{folder}/{directory}" if folder else directory)


def _spool(handle) -> tuple[tempfile.SpooledTemporaryFile, str, int]:
    """Copy ``handle`` to a temporary file, hashing it on the way."""
    digest = hashlib.sha256()
    spooled = tempfile.SpooledTemporaryFile(max_size=16 * CHUNK)  # noqa: SIM115
    size = 0
    while chunk := handle.read(CHUNK):
        digest.update(chunk)
        spooled.write(chunk)
        size += len(chunk)
    spooled.seek(0)
    return spooled, digest.hexdigest(), size


def _add(archive: tarfile.TarFile, member: str, spooled, size: int) -> None:
    info = tarfile.TarInfo(member)
    info.size = size
    info.mtime = int(timezone.now().timestamp())
    info.mode = 0o600
    archive.addfile(info, spooled)


def _excluded_models() -> list[str]:
    from django.apps import apps

    installed = {model._meta.label_lower for model in apps.get_models()}
    return [label for label in EXCLUDED_MODELS if label in installed]


def backup_create(*, output: Path) -> Manifest:
    """Write the database and every stored file to the archive ``output``."""
    manifest = Manifest(created_at=timezone.now().isoformat())
    output = Path(output)
    partial = output.with_name(output.name + ".partial")
    with tarfile.open(partial, "w:gz") as archive:
        with tempfile.TemporaryFile() as dump:
            text = io.TextIOWrapper(dump, encoding="utf-8", write_through=True)
            call_command(
                "dumpdata",
                exclude=_excluded_models(),
                indent=None,
                stdout=text,
                verbosity=0,
            )
            text.flush()
            dump.seek(0)
            spooled, digest, size = _spool(dump)
            with spooled:
                _add(archive, "database.json", spooled, size)
            manifest.members["database.json"] = {"sha256": digest, "size": size}
        for alias in STORAGE_ALIASES:
            storage = storages[alias]
            for name in _walk(storage):
                member = f"{ARCHIVE_FOLDERS[alias]}/{name}"
                with storage.open(name, "rb") as handle:
                    spooled, digest, size = _spool(handle)
                with spooled:
                    _add(archive, member, spooled, size)
                manifest.members[member] = {"sha256": digest, "size": size}
        data = manifest.as_json()
        _add(archive, "manifest.json", io.BytesIO(data), len(data))
    partial.replace(output)  # a backup that stopped midway never looks complete
    return manifest


def _open(path: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(path, "r:*")
    except (OSError, tarfile.TarError) as error:
        raise BackupError(
            BACKUP_NOT_AN_ARCHIVE % {"path": path, "why": error.__class__.__name__}
        ) from error


def backup_verify(*, archive_path: Path) -> dict:
    """Check every member against the manifest; return the manifest."""
    archive_path = Path(archive_path)
    try:
        with _open(archive_path) as archive:
            try:
                manifest = json.load(archive.extractfile("manifest.json"))
            except KeyError as error:
                raise BackupError(
                    BACKUP_NOT_AN_ARCHIVE
                    % {"path": archive_path, "why": "no manifest.json"}
                ) from error
            except ValueError as error:
                raise BackupError(
                    BACKUP_DAMAGED % {"detail": "manifest.json is not valid JSON"}
                ) from error
            if manifest.get("format") != FORMAT:
                raise BackupError(
                    BACKUP_NOT_AN_ARCHIVE
                    % {"path": archive_path, "why": "unknown format"}
                )
            members = manifest.get("members", {})
            seen = set()
            for info in archive:
                if info.name == "manifest.json":
                    continue
                expected = members.get(info.name)
                if expected is None or not info.isfile():
                    raise BackupError(
                        BACKUP_DAMAGED
                        % {"detail": f"{info.name} is not in the manifest"}
                    )
                digest = hashlib.sha256()
                handle = archive.extractfile(info)
                while chunk := handle.read(CHUNK):
                    digest.update(chunk)
                if digest.hexdigest() != expected["sha256"]:
                    raise BackupError(
                        BACKUP_DAMAGED % {"detail": f"{info.name}: SHA-256 mismatch"}
                    )
                seen.add(info.name)
            missing = sorted(set(members) - seen)
            if missing:
                raise BackupError(
                    BACKUP_DAMAGED % {"detail": f"{missing[0]} is missing"}
                )
    except (OSError, EOFError, tarfile.TarError, UnicodeDecodeError) as error:
        raise BackupError(
            BACKUP_DAMAGED % {"detail": f"unreadable ({error.__class__.__name__})"}
        ) from error
    return manifest


def _check_empty_target(manifest: dict) -> None:
    from organizations.models import Company
    from users.models import User

    users, companies = User.objects.count(), Company.objects.count()
    if users or companies:
        raise BackupError(
            BACKUP_DATABASE_NOT_EMPTY % {"users": users, "companies": companies}
        )
    folders = {folder: alias for alias, folder in ARCHIVE_FOLDERS.items()}
    for member in manifest["members"]:
        folder, _sep, name = member.partition("/")
        if folder in folders and storages[folders[folder]].exists(name):
            raise BackupError(
                BACKUP_FILE_EXISTS % {"storage": folders[folder], "name": name}
            )


def _empty_tables() -> None:
    """Remove what ``migrate`` created (root page, groups, content types …):
    the archive holds all of it with its original primary keys."""
    from django.db import connection

    if connection.vendor == "postgresql":
        # TRUNCATE refuses tables with deferred FK checks still pending in
        # this transaction; check them now, and defer again for loaddata.
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    call_command("flush", interactive=False, inhibit_post_migrate=True, verbosity=0)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def backup_restore(*, archive_path: Path, rebuild_search_index: bool = True) -> dict:
    """Restore ``archive_path`` into an empty, migrated database and storage."""
    manifest = backup_verify(archive_path=archive_path)
    _check_empty_target(manifest)
    written: list[tuple[str, str]] = []
    folders = {folder: alias for alias, folder in ARCHIVE_FOLDERS.items()}
    try:
        with _open(Path(archive_path)) as archive:
            for info in archive:
                folder, _sep, name = info.name.partition("/")
                if folder not in folders:
                    continue
                storage = storages[folders[folder]]
                saved = storage.save(name, File(archive.extractfile(info)))
                written.append((folders[folder], saved))
                if saved != name:
                    raise BackupError(
                        BACKUP_FILE_EXISTS % {"storage": folders[folder], "name": name}
                    )
            with tempfile.TemporaryDirectory() as tmp:
                dump = Path(tmp) / "database.json"
                with archive.extractfile("database.json") as source:
                    dump.write_bytes(source.read())
                with transaction.atomic():
                    _empty_tables()
                    call_command("loaddata", str(dump), verbosity=0)
    except BaseException:
        _forget_cached_ids()
        for alias, name in written:
            storages[alias].delete(name)
        raise
    _forget_cached_ids()
    if rebuild_search_index:
        call_command("update_index", verbosity=0)
    return manifest


def _forget_cached_ids() -> None:
    """Content type ids changed under this process (restored from the dump)."""
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.clear_cache()
