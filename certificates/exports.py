"""HR's ZIP of stored certificate PDFs, streamed (never re-rendered).

``zip_stream`` yields the archive entry by entry. The write buffer is
seekable only within the entry being written, so zipfile writes ordinary
local headers (sizes and CRC known, no data descriptors) while the server
holds at most one PDF in memory.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _

from .models import Certificate

_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+|\s+')


class _StreamBuffer(io.RawIOBase):
    """Write buffer whose flushed prefix is gone; seeks stay inside the rest."""

    def __init__(self):
        super().__init__()
        self._buffer = bytearray()
        self._base = 0
        self._position = 0

    def writable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._base + self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            target = offset
        elif whence == io.SEEK_CUR:
            target = self.tell() + offset
        else:
            target = self._base + len(self._buffer) + offset
        if target < self._base:
            raise OSError("Cannot seek into data already sent.")
        self._position = target - self._base
        return target

    def write(self, data) -> int:
        data = bytes(data)
        end = self._position + len(data)
        self._buffer[self._position : end] = data
        self._position = end
        return len(data)

    def take(self) -> bytes:
        data = bytes(self._buffer)
        self._base += len(self._buffer)
        self._buffer.clear()
        self._position = 0
        return data


def _part(text: str, limit: int) -> str:
    cleaned = _UNSAFE.sub("_", (text or "").strip()).strip("._")
    return cleaned[:limit] or "-"


def pdf_filename(certificate: Certificate) -> str:
    """``<employee-no>_<name>_<course>_<serial>.pdf`` with UTF-8 names."""
    employee_number = getattr(certificate, "member_employee_number", None) or (
        certificate.employee_number
    )
    return (
        "_".join(
            [
                _part(employee_number, 30),
                _part(certificate.holder_name, 40),
                _part(certificate.course_title, 60),
                _part(certificate.serial, 30),
            ]
        )
        + ".pdf"
    )


def _zip_time(certificate: Certificate) -> tuple:
    moment = certificate.rendered_at or certificate.created_at
    local = timezone.localtime(moment) if moment else datetime(1980, 1, 1)
    return (max(local.year, 1980), local.month, local.day, local.hour, local.minute, 0)


INDEX_COLUMNS = [
    "file",
    "serial",
    "verification_code",
    "employee_number",
    "name",
    "department",
    "course_code",
    "course",
    "hours",
    "score",
    "completed_on",
    "issued_on",
    "valid_until",
    "status",
    "sha256",
]


def _index_headers() -> list[str]:
    return [
        _("File"),
        _("Serial"),
        _("Verification code"),
        _("Employee no."),
        _("Name"),
        _("Department"),
        _("Course code"),
        _("Course"),
        _("Training hours"),
        _("Score (%)"),
        _("Completed on"),
        _("Issued on"),
        _("Valid until"),
        _("Status"),
        _("PDF SHA-256"),
    ]


def _index_row(certificate: Certificate, filename: str) -> list:
    return [
        filename,
        certificate.serial,
        certificate.code_display,
        getattr(certificate, "member_employee_number", None)
        or certificate.employee_number,
        certificate.holder_name,
        getattr(certificate, "member_department", None) or certificate.department,
        certificate.course_code,
        certificate.course_title,
        str(certificate.hours),
        "" if certificate.score is None else str(certificate.score),
        certificate.completed_on.isoformat(),
        certificate.issued_on.isoformat(),
        certificate.valid_until.isoformat() if certificate.valid_until else "",
        str(certificate.get_status_display()),
        certificate.pdf_sha256 if certificate.is_pdf_ready else "",
    ]


def index_csv(rows: list[list]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(_index_headers())
    writer.writerows(rows)
    return ("\ufeff" + out.getvalue()).encode("utf-8")  # BOM: Excel opens UTF-8


def index_xlsx(rows: list[list]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Certificates"))
    sheet.append(_index_headers())
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def zip_stream(certificates: Iterable[Certificate]) -> Iterator[bytes]:
    """Yield a ZIP of the stored PDFs plus index.csv and index.xlsx."""
    buffer = _StreamBuffer()
    rows: list[list] = []
    archive = zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED)
    try:
        for certificate in certificates:
            filename = pdf_filename(certificate)
            if certificate.is_pdf_ready:
                with certificate.pdf.open("rb") as handle:
                    data = handle.read()
                info = zipfile.ZipInfo(filename, date_time=_zip_time(certificate))
                info.compress_type = zipfile.ZIP_STORED
                archive.writestr(info, data)
            else:
                filename = ""  # listed in the index without a file
            rows.append(_index_row(certificate, filename))
            chunk = buffer.take()
            if chunk:
                yield chunk
        for name, payload in (
            ("index.csv", index_csv(rows)),
            ("index.xlsx", index_xlsx(rows)),
        ):
            info = zipfile.ZipInfo(name, date_time=_zip_time_now())
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, payload)
            yield buffer.take()
    finally:
        archive.close()
    yield buffer.take()


def _zip_time_now() -> tuple:
    now = timezone.localtime()
    return (now.year, now.month, now.day, now.hour, now.minute, 0)
