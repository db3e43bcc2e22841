"""The auditor-facing reports: columns and rows of the matrix and the
training-hours report, written as XLSX or CSV (see ``tabular``)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

from django.utils import timezone
from django.utils.translation import gettext as _

from courses.models import EnrollmentStatus

from .models import ExportFormat, ExportJob, ExportKind
from .selectors import (
    company_courses,
    company_scopes,
    competence_iter,
    competence_people,
    hours_count,
    hours_iter,
    matrix_iter,
    matrix_people,
)
from .tabular import write_csv, write_xlsx


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _people(job: ExportJob):
    f = job.filters
    return matrix_people(
        company=job.company,
        department=f.get("department", ""),
        course_id=_int(f.get("course")),
        status=f.get("status", ""),
        search=f.get("q", ""),
        sort=f.get("sort", "number"),
    )


def matrix_table(job: ExportJob, progress) -> tuple[list[str], Iterator[list]]:
    courses = company_courses(company=job.company)
    course_id = _int(job.filters.get("course"))
    if course_id:
        courses = [c for c in courses if c.pk == course_id]
    people = _people(job)
    total = people.count()
    progress(0, total)
    header = [_("Employee number"), _("Name"), _("Department")]
    for course in courses:
        header += [
            f"{course.code} {course.title}",
            _("%(code)s date") % {"code": course.code},
        ]

    def rows():
        for index, row in enumerate(
            matrix_iter(company=job.company, people=people, courses=courses), start=1
        ):
            values = [
                row.membership.employee_number,
                row.membership.user.get_full_name(),
                row.membership.department,
            ]
            for cell in row.cells:
                text = cell.text
                if cell.overdue:
                    text += " · " + _("Overdue")
                values += [text, cell.date]
            if index % 250 == 0:
                progress(index, None)
            yield values

    return header, rows()


def hours_table(job: ExportJob, progress) -> tuple[list[str], Iterator[list]]:
    people = _people(job)
    course_id = _int(job.filters.get("course"))
    progress(0, hours_count(people=people, course_id=course_id))
    header = [
        _("Employee number"),
        _("Name"),
        _("Department"),
        _("Course code"),
        _("Course"),
        _("Enrolled on"),
        _("Completed on"),
        _("Status"),
        _("Progress (%)"),
        _("Study time (hours)"),
        _("Credited hours"),
        _("Score (%)"),
        _("Certificate"),
        _("Certificate valid until"),
    ]
    today = timezone.localdate()

    def rows():
        items = hours_iter(company=job.company, people=people, course_id=course_id)
        for index, (membership, e, cert) in enumerate(items, start=1):
            completed = e.status == EnrollmentStatus.COMPLETED
            certificate = ""
            if cert is not None:
                certificate = cert.serial
                if cert.revoked_at:
                    certificate = _("%(serial)s (revoked)") % {"serial": cert.serial}
                elif cert.valid_until and cert.valid_until < today:
                    certificate = _("%(serial)s (expired)") % {"serial": cert.serial}
            if index % 1000 == 0:
                progress(index, None)
            yield [
                membership.employee_number,
                membership.user.get_full_name(),
                membership.department,
                e.course.code,
                e.course.title,
                timezone.localtime(e.enrolled_at).date(),
                timezone.localtime(e.completed_at).date() if e.completed_at else None,
                e.get_status_display(),
                100 if completed else int(e.progress_percent),
                (Decimal(e.active_seconds) / 3600).quantize(Decimal("0.01")),
                e.course.estimated_hours if completed else Decimal(0),
                e.score,
                certificate,
                cert.valid_until if cert is not None else None,
            ]

    return header, rows()


def competence_columns(*, company, scope: str = ""):
    """The competence matrix columns, limited to ``scope`` when it is one."""
    columns = company_scopes(company=company)
    if scope and any(c.key == scope for c in columns):
        columns = [c for c in columns if c.key == scope]
    return columns


def competence_table(job: ExportJob, progress) -> tuple[list[str], Iterator[list]]:
    f = job.filters
    columns = competence_columns(company=job.company, scope=f.get("scope", ""))
    people = competence_people(
        company=job.company,
        columns=columns,
        department=f.get("department", ""),
        search=f.get("q", ""),
        sort=f.get("sort", "number"),
        status=f.get("status", ""),
    )
    total = len(people) if isinstance(people, list) else people.count()
    progress(0, total)
    header = [_("Employee number"), _("Name"), _("Department")]
    for column in columns:
        header += [
            column.label,
            _("%(procedure)s valid until") % {"procedure": column.procedure_label},
        ]

    def rows():
        items = competence_iter(company=job.company, people=people, columns=columns)
        for index, row in enumerate(items, start=1):
            values = [
                row.membership.employee_number,
                row.membership.user.get_full_name(),
                row.membership.department,
            ]
            for cell in row.cells:
                values += [cell.text, cell.valid_until]
            if index % 250 == 0:
                progress(index, None)
            yield values

    return header, rows()


def build_export(*, job: ExportJob, path: Path) -> str:
    """Write the job's file to ``path``; returns the download file name."""
    from .services import export_progress

    def progress(done: int, total: int | None) -> None:
        export_progress(job_id=job.pk, done=done, total=total)

    if job.kind == ExportKind.MATRIX:
        header, rows = matrix_table(job, progress)
        title = _("Training matrix")
    elif job.kind == ExportKind.COMPETENCE:
        header, rows = competence_table(job, progress)
        title = _("Competence matrix")
    else:
        header, rows = hours_table(job, progress)
        title = _("Training hours")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    name = f"{job.company.short_name or job.company.name}-{title}-{stamp}.{job.fmt}"
    if job.fmt == ExportFormat.XLSX:
        widths = [14, 12, 14] + [22, 12] * ((len(header) - 3) // 2)
        if job.kind == ExportKind.COMPETENCE:
            widths = [14, 12, 14] + [40, 14] * ((len(header) - 3) // 2)
        if job.kind == ExportKind.HOURS:
            widths = [14, 12, 14, 10, 30, 12, 12, 10, 10, 12, 12, 10, 24, 14]
        write_xlsx(path, header, rows, title=title, widths=widths)
    else:
        with path.open("w", encoding="utf-8", newline="") as stream:
            write_csv(stream, header, rows)
    return name.replace("/", "-")
