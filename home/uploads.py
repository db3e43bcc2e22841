"""Upload checks for Wagtail documents: the bytes must match the extension."""

from __future__ import annotations

import zipfile

import filetype
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from wagtail.documents.forms import BaseDocumentForm

DOCUMENT_TOO_LARGE = _("The file is larger than %(limit)s MB.")
DOCUMENT_CONTENT_MISMATCH = _(
    "The file's content does not match its “.%(extension)s” extension; it was "
    "rejected. Upload the original file."
)

# Extension -> what the first bytes must look like.
_OFFICE = {"docx", "xlsx", "pptx"}
_TEXT = {"txt", "csv"}


_VIDEO = {"mp4", "webm"}


def validate_document_content(uploaded) -> None:
    extension = uploaded.name.rsplit(".", 1)[-1].lower() if "." in uploaded.name else ""
    if extension in _VIDEO:
        limit_mb = getattr(settings, "ACADEMY_VIDEO_MAX_MB", 500)
    else:
        limit_mb = getattr(settings, "ACADEMY_DOCUMENT_MAX_MB", 50)
    if uploaded.size > limit_mb * 1024 * 1024:
        raise ValidationError(DOCUMENT_TOO_LARGE, params={"limit": limit_mb})
    head = uploaded.read(8192)
    uploaded.seek(0)
    if not _content_matches(extension, head, uploaded):
        raise ValidationError(
            DOCUMENT_CONTENT_MISMATCH, params={"extension": extension or "?"}
        )


def _content_matches(extension: str, head: bytes, uploaded) -> bool:
    if extension == "pdf":
        return head.startswith(b"%PDF-")
    if extension in _OFFICE or extension == "zip":
        if not head.startswith(b"PK\x03\x04"):
            return False
        if extension == "zip":
            return True
        try:
            with zipfile.ZipFile(uploaded) as archive:
                names = set(archive.namelist())
        except zipfile.BadZipFile:
            return False
        finally:
            uploaded.seek(0)
        return "[Content_Types].xml" in names
    if extension in _TEXT:
        if b"\x00" in head:
            return False
        lowered = head.lstrip().lower()
        # HTML renamed .txt/.csv would be served as text, but refuse it anyway.
        return not lowered.startswith((b"<!doctype html", b"<html", b"<script"))
    guessed = filetype.guess(head)
    return guessed is not None and guessed.extension == extension


class SafeDocumentForm(BaseDocumentForm):
    def clean_file(self):
        uploaded = self.cleaned_data.get("file")
        if uploaded and "file" in self.changed_data:
            validate_document_content(uploaded)
        return uploaded
