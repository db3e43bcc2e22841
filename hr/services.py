"""State changes in the HR workspace: assignments, bulk imports, exports, digests.

Keyword-only functions, each in one transaction; e-mails and background jobs
are scheduled with ``transaction.on_commit``.
"""

from __future__ import annotations

import hashlib
import logging
import re
import tempfile
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models.functions import Upper
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from courses.models import CoursePage, Enrollment, EnrollmentStatus
from courses.permissions import enrol_refusal
from courses.services import enrollment_create
from organizations.models import Company, Invitation, Membership, Role
from organizations.services import invitation_create

from .models import (
    AuditorAccess,
    AuditorAccessOutcome,
    AuditorLink,
    BulkImport,
    CourseAssignment,
    DigestLog,
    DigestPreference,
    ExportFormat,
    ExportJob,
    ExportKind,
    ExportStatus,
    ImportStatus,
)
from .permissions import (
    can_assign_courses,
    can_export_company_reports,
    can_import_people,
    can_manage_auditor_links,
)
from .tabular import TableError, read_table

logger = logging.getLogger("academy.hr")

NOT_ALLOWED = gettext_lazy("You may only manage people of your own company.")
ASSIGN_NO_PEOPLE = gettext_lazy("Choose at least one current employee.")
ASSIGN_NOT_MEMBERS = gettext_lazy(
    "These people are not current employees of %(company)s: %(who)s."
)
ASSIGN_DUE_IN_PAST = gettext_lazy("The due date must not be in the past.")
ASSIGN_COURSE_NOT_LIVE = gettext_lazy("This course is not published.")
IMPORT_ALREADY_APPLIED = gettext_lazy("This file has already been imported.")
IMPORT_MISSING_COLUMNS = gettext_lazy(
    "The first row must name the columns. Missing: %(missing)s. Found: %(found)s. "
    "Expected columns: name, email, employee_number, department, courses "
    "(optional: due_on)."
)
IMPORT_UNKNOWN_COLUMNS = gettext_lazy(
    "Unknown columns: %(unknown)s. Expected columns: name, email, employee_number, "
    "department, courses (optional: due_on)."
)
IMPORT_NO_ROWS = gettext_lazy("The file has a header row but no people.")
EXPORT_BAD_KIND = gettext_lazy("Unknown report or format.")

# Column names HR may use (English or Chinese), normalised to our keys.
COLUMN_ALIASES = {
    "name": {"name", "姓名", "名字"},
    "email": {"email", "e-mail", "邮箱", "电子邮件", "电子邮箱", "邮件"},
    "employee_number": {"employee_number", "employee number", "工号", "员工编号"},
    "department": {"department", "部门"},
    "courses": {"courses", "course codes", "course_codes", "课程", "课程代码"},
    "due_on": {"due_on", "due date", "due", "截止日期", "完成期限"},
}
REQUIRED_COLUMNS = ("name", "email")
CODE_SPLIT = re.compile(r"[\s,;，；、]+")


def _check(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied(NOT_ALLOWED)


# --- course assignments ---------------------------------------------------------------


@dataclass
class AssignResult:
    assigned: int = 0
    enrolled: int = 0
    already: int = 0
    refused: list[str] = field(default_factory=list)


@transaction.atomic
def assignment_create(
    *,
    assigned_by,
    company: Company,
    course: CoursePage,
    user_ids: list[int],
    due_on: date | None = None,
) -> AssignResult:
    """Assign ``course`` to current employees (enrolling them) with a due date.

    Idempotent: assigning again updates the due date.
    """
    _check(can_assign_courses(assigned_by, company))
    if not course.live:
        raise ValidationError(ASSIGN_COURSE_NOT_LIVE, code="not_live")
    if due_on and due_on < timezone.localdate():
        raise ValidationError(ASSIGN_DUE_IN_PAST, code="due_in_past")
    user_ids = sorted(set(user_ids))
    if not user_ids:
        raise ValidationError(ASSIGN_NO_PEOPLE, code="empty")
    members = {
        m.user_id: m
        for m in Membership.objects.active()
        .filter(company=company, user_id__in=user_ids)
        .select_related("user")
    }
    strangers = [str(pk) for pk in user_ids if pk not in members]
    if strangers:
        raise ValidationError(
            ASSIGN_NOT_MEMBERS,
            code="not_members",
            params={"company": company, "who": ", ".join(strangers)},
        )
    result = AssignResult()
    enrolled = dict(
        Enrollment.objects.filter(user_id__in=user_ids, course=course).values_list(
            "user_id", "status"
        )
    )
    for user_id, membership in members.items():
        assignment, created = CourseAssignment.objects.get_or_create(
            company=company,
            course=course,
            user_id=user_id,
            defaults={"due_on": due_on, "assigned_by": assigned_by},
        )
        if not created and assignment.due_on != due_on:
            assignment.due_on = due_on
            assignment.save(update_fields=["due_on"])
        result.assigned += 1
        status = enrolled.get(user_id)
        if status in (EnrollmentStatus.ACTIVE, EnrollmentStatus.COMPLETED):
            result.already += 1
            continue
        try:
            enrollment_create(
                user=membership.user, course=course, enrolled_by=assigned_by
            )
        except ValidationError as error:
            result.refused.append(
                f"{membership.user.get_full_name()}: {' '.join(error.messages)}"
            )
        else:
            result.enrolled += 1
    return result


def assignments_enrol_invitee(*, invitation: Invitation, membership: Membership) -> int:
    """An invitee signed up: turn their pending assignments into enrolments."""
    enrolled = 0
    pending = list(
        CourseAssignment.objects.filter(
            invitation=invitation, user__isnull=True
        ).select_related("course")
    )
    for assignment in pending:
        with transaction.atomic():
            if CourseAssignment.objects.filter(
                company=assignment.company,
                course=assignment.course,
                user=membership.user,
            ).exists():
                assignment.delete()
            else:
                assignment.user = membership.user
                assignment.save(update_fields=["user"])
            if (
                Enrollment.objects.filter(
                    user=membership.user, course=assignment.course
                )
                .exclude(status=EnrollmentStatus.WITHDRAWN)
                .exists()
            ):
                continue
            try:
                enrollment_create(
                    user=membership.user,
                    course=assignment.course,
                    enrolled_by=assignment.assigned_by,
                )
            except ValidationError as error:
                logger.info(
                    "invitee_not_enrolled",
                    extra={
                        "invitation_id": invitation.pk,
                        "course_id": assignment.course_id,
                        "reason": error.messages,
                    },
                )
            else:
                enrolled += 1
    return enrolled


# --- bulk import ----------------------------------------------------------------------


class RowKind:
    NEW = "new"  # a new invitation
    PENDING = "pending"  # an invitation is already pending
    MEMBER = "member"  # already an employee
    ERROR = "error"


@dataclass
class PlannedRow:
    line: int
    name: str
    email: str
    employee_number: str
    department: str
    courses: list[str]
    due_on: str = ""
    kind: str = RowKind.NEW
    errors: list[str] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    enrol: list[str] = field(default_factory=list)  # course codes to act on

    @property
    def changes(self) -> bool:
        return self.kind != RowKind.ERROR and (
            self.kind == RowKind.NEW or bool(self.enrol)
        )


def _header_keys(header: list[str]) -> list[str | None]:
    keys: list[str | None] = []
    for text in header:
        normal = text.strip().lower().lstrip("\ufeff")
        key = next((k for k, names in COLUMN_ALIASES.items() if normal in names), None)
        keys.append(key)
    return keys


def parse_rows(table: list[list[str]]) -> list[dict]:
    """Turn the header and data rows into dicts; raise ``TableError`` for a
    file whose columns are wrong."""
    if not table:
        raise TableError(str(IMPORT_NO_ROWS))
    header = table[0]
    keys = _header_keys(header)
    unknown = [h for h, k in zip(header, keys, strict=True) if k is None and h]
    missing = [k for k in REQUIRED_COLUMNS if k not in keys]
    if missing:
        raise TableError(
            str(IMPORT_MISSING_COLUMNS)
            % {"missing": ", ".join(missing), "found": ", ".join(header) or "—"}
        )
    if unknown:
        raise TableError(str(IMPORT_UNKNOWN_COLUMNS) % {"unknown": ", ".join(unknown)})
    if len(table) < 2:
        raise TableError(str(IMPORT_NO_ROWS))
    rows = []
    for number, values in enumerate(table[1:], start=2):
        row = {"line": number}
        for key, value in zip(keys, values, strict=False):
            if key:
                row[key] = value.strip()
        rows.append(row)
    return rows


def _text_errors(row: dict) -> list[str]:
    errors = []
    labels = {
        "name": _("Name"),
        "email": _("E-mail"),
        "employee_number": _("Employee number"),
        "department": _("Department"),
        "courses": _("Courses"),
    }
    for key, label in labels.items():
        value = row.get(key, "")
        if value.startswith(("=", "+", "-", "@")):
            errors.append(
                _(
                    "%(column)s starts with “%(char)s”, which spreadsheet programs "
                    "run as a formula; remove it."
                )
                % {"column": label, "char": value[0]}
            )
    limits = {"name": 100, "employee_number": 50, "department": 100}
    for key, limit in limits.items():
        if len(row.get(key, "")) > limit:
            errors.append(
                _("%(column)s is longer than %(max)s characters.")
                % {"column": labels[key], "max": limit}
            )
    return errors


def import_plan(*, company: Company, rows: list[dict]) -> list[PlannedRow]:
    """What importing ``rows`` would do, row by row. Reads only.

    A fixed number of queries for the file (plus one eligibility check per
    new enrolment of an existing employee).
    """
    planned: list[PlannedRow] = []
    for row in rows:
        codes = [c for c in CODE_SPLIT.split(row.get("courses", "")) if c]
        planned.append(
            PlannedRow(
                line=row["line"],
                name=row.get("name", ""),
                email=row.get("email", "").strip().lower(),
                employee_number=row.get("employee_number", ""),
                department=row.get("department", ""),
                courses=list(dict.fromkeys(code.upper() for code in codes)),
                due_on=row.get("due_on", ""),
                errors=_text_errors(row),
            )
        )
    all_codes = {code for p in planned for code in p.courses}
    courses = {
        c.code.upper(): c
        for c in CoursePage.objects.annotate(code_upper=Upper("code")).filter(
            code_upper__in=all_codes
        )
    }
    emails = [p.email for p in planned if p.email]
    members = {
        m.user.email.lower(): m
        for m in Membership.objects.active()
        .filter(company=company, user__email__in=emails)
        .select_related("user")
    }
    elsewhere = {
        email.lower()
        for email in Membership.objects.active()
        .filter(user__email__in=emails)
        .exclude(company=company)
        .values_list("user__email", flat=True)
    }
    pending = {
        i.email.lower(): i
        for i in Invitation.objects.pending().filter(
            company=company, email__in=emails, role=Role.LEARNER
        )
    }
    enrolled = {
        (user_id, course_id): status
        for user_id, course_id, status in Enrollment.objects.filter(
            user_id__in=[m.user_id for m in members.values()],
            course__in=list(courses.values()),
        ).values_list("user_id", "course_id", "status")
    }
    invitee_assigned = set(
        CourseAssignment.objects.filter(
            invitation__in=list(pending.values()), user__isnull=True
        ).values_list("invitation_id", "course_id")
    )
    seen_emails: dict[str, int] = {}
    seen_numbers: dict[str, int] = {}
    taken_numbers = dict(
        Membership.objects.active()
        .filter(company=company)
        .exclude(employee_number="")
        .values_list("employee_number", "user__email")
    )
    today = timezone.localdate()
    for p in planned:
        if not p.name:
            p.errors.append(_("The name is missing."))
        try:
            validate_email(p.email)
        except ValidationError:
            p.errors.append(
                _("“%(email)s” is not a valid e-mail address.")
                % {"email": p.email or "—"}
            )
        if p.email in seen_emails:
            p.errors.append(
                _("Duplicate: the same e-mail address is on row %(line)s.")
                % {"line": seen_emails[p.email]}
            )
        elif p.email:
            seen_emails[p.email] = p.line
        if p.employee_number:
            if p.employee_number in seen_numbers:
                p.errors.append(
                    _("Duplicate: employee number %(number)s is also on row %(line)s.")
                    % {
                        "number": p.employee_number,
                        "line": seen_numbers[p.employee_number],
                    }
                )
            else:
                seen_numbers[p.employee_number] = p.line
            owner = taken_numbers.get(p.employee_number)
            if owner and owner.lower() != p.email:
                p.errors.append(
                    _("Employee number %(number)s belongs to another employee.")
                    % {"number": p.employee_number}
                )
        due = None
        if p.due_on:
            try:
                due = date.fromisoformat(p.due_on[:10])
            except ValueError:
                p.errors.append(
                    _("“%(value)s” is not a date; write it as YYYY-MM-DD.")
                    % {"value": p.due_on}
                )
            else:
                if due < today:
                    p.errors.append(str(ASSIGN_DUE_IN_PAST))
        unknown = [code for code in p.courses if code not in courses]
        if unknown:
            p.errors.append(
                _("Unknown course code(s): %(codes)s.") % {"codes": ", ".join(unknown)}
            )
        not_live = [
            code for code in p.courses if code in courses and not courses[code].live
        ]
        if not_live:
            p.errors.append(
                _("Course(s) not published: %(codes)s.")
                % {"codes": ", ".join(not_live)}
            )
        if p.email in elsewhere and p.email not in members:
            p.errors.append(
                _(
                    "%(email)s belongs to another company's employee; that company "
                    "must end the membership first."
                )
                % {"email": p.email}
            )
        if p.errors:
            p.kind = RowKind.ERROR
            continue
        member = members.get(p.email)
        if member is not None:
            p.kind = RowKind.MEMBER
            p.actions.append(_("Already an employee: no invitation."))
            for code in p.courses:
                course = courses[code]
                status = enrolled.get((member.user_id, course.pk))
                if status in (EnrollmentStatus.ACTIVE, EnrollmentStatus.COMPLETED):
                    p.actions.append(
                        _("Already enrolled in %(code)s.") % {"code": code}
                    )
                    continue
                refusal = enrol_refusal(member.user, course)
                if refusal:
                    p.errors.append(f"{code}: {refusal}")
                    continue
                p.enrol.append(code)
                p.actions.append(_("Enrol in %(code)s.") % {"code": code})
            if p.errors:
                p.kind = RowKind.ERROR
                p.actions = []
                p.enrol = []
            continue
        invitation = pending.get(p.email)
        if invitation is not None:
            p.kind = RowKind.PENDING
            p.actions.append(_("An invitation is already pending: none sent."))
            for code in p.courses:
                if (invitation.pk, courses[code].pk) in invitee_assigned:
                    p.actions.append(
                        _("Already assigned %(code)s on sign-up.") % {"code": code}
                    )
                else:
                    p.enrol.append(code)
                    p.actions.append(
                        _("Enrol in %(code)s on sign-up.") % {"code": code}
                    )
            continue
        p.kind = RowKind.NEW
        p.actions.append(_("Send an invitation to %(email)s.") % {"email": p.email})
        for code in p.courses:
            p.enrol.append(code)
            p.actions.append(_("Enrol in %(code)s on sign-up.") % {"code": code})
    return planned


@transaction.atomic
def bulk_import_preview(
    *, uploaded_by, company: Company, data: bytes, filename: str
) -> tuple[BulkImport, list[PlannedRow]]:
    """Read and check a file; store its rows for confirmation. Changes no
    people, invitations or enrolments. Raises ``ValidationError`` for a file
    that cannot be read at all."""
    _check(can_import_people(uploaded_by, company))
    try:
        table, encoding = read_table(data=data, filename=filename)
        rows = parse_rows(table)
    except TableError as error:
        raise ValidationError(str(error), code="file") from error
    planned = import_plan(company=company, rows=rows)
    bulk_import = BulkImport.objects.create(
        company=company,
        uploaded_by=uploaded_by,
        filename=Path(filename).name[:255],
        sha256=hashlib.sha256(data).hexdigest(),
        encoding=encoding,
        rows=rows,
    )
    return bulk_import, planned


@transaction.atomic
def bulk_import_apply(*, bulk_import: BulkImport, confirmed_by) -> dict:
    """Carry out a previewed import. Re-checks every row against the current
    state, so importing the same file twice changes nothing the second time."""
    bulk_import = BulkImport.objects.select_for_update().get(pk=bulk_import.pk)
    company = bulk_import.company
    _check(can_import_people(confirmed_by, company))
    if bulk_import.status != ImportStatus.PREVIEW:
        raise ValidationError(IMPORT_ALREADY_APPLIED, code="applied")
    planned = import_plan(company=company, rows=bulk_import.rows)
    courses = {
        c.code.upper(): c
        for c in CoursePage.objects.annotate(code_upper=Upper("code")).filter(
            code_upper__in={code for p in planned for code in p.enrol}
        )
    }
    result = {"invited": 0, "enrolled": 0, "assigned": 0, "skipped": 0, "failed": []}
    for p in planned:
        if not p.changes:
            result["skipped"] += 1
            continue
        due = date.fromisoformat(p.due_on[:10]) if p.due_on else None
        try:
            with transaction.atomic():
                if p.kind == RowKind.MEMBER:
                    membership = (
                        Membership.objects.active()
                        .filter(company=company, user__email__iexact=p.email)
                        .select_related("user")
                        .first()
                    )
                    for code in p.enrol:
                        CourseAssignment.objects.get_or_create(
                            company=company,
                            course=courses[code],
                            user=membership.user,
                            defaults={"due_on": due, "assigned_by": confirmed_by},
                        )
                        enrollment_create(
                            user=membership.user,
                            course=courses[code],
                            enrolled_by=confirmed_by,
                        )
                        result["enrolled"] += 1
                    continue
                if p.kind == RowKind.NEW:
                    invitation = invitation_create(
                        invited_by=confirmed_by,
                        company=company,
                        email=p.email,
                        name=p.name,
                        employee_number=p.employee_number,
                        department=p.department,
                        send=True,
                    )
                    result["invited"] += 1
                else:
                    invitation = (
                        Invitation.objects.pending()
                        .filter(company=company, email__iexact=p.email)
                        .first()
                    )
                for code in p.enrol:
                    CourseAssignment.objects.get_or_create(
                        company=company,
                        course=courses[code],
                        invitation=invitation,
                        user=None,
                        defaults={"due_on": due, "assigned_by": confirmed_by},
                    )
                    result["assigned"] += 1
        except (ValidationError, IntegrityError) as error:
            messages = getattr(error, "messages", [str(error)])
            result["failed"].append({"line": p.line, "errors": messages})
    bulk_import.status = ImportStatus.APPLIED
    bulk_import.applied_at = timezone.now()
    bulk_import.result = result
    bulk_import.save(update_fields=["status", "applied_at", "result"])
    logger.info(
        "bulk_import_applied",
        extra={
            "import_id": bulk_import.pk,
            **{k: v for k, v in result.items() if k != "failed"},
        },
    )
    return result


def planned_rows_as_dicts(planned: list[PlannedRow]) -> list[dict]:
    return [asdict(p) for p in planned]


# --- exports --------------------------------------------------------------------------


@transaction.atomic
def export_job_create(
    *, requested_by, company: Company, kind: str, fmt: str, filters: dict
) -> ExportJob:
    _check(can_export_company_reports(requested_by, company))
    if kind not in ExportKind.values or fmt not in ExportFormat.values:
        raise ValidationError(EXPORT_BAD_KIND, code="kind")
    job = ExportJob.objects.create(
        company=company,
        requested_by=requested_by,
        kind=kind,
        fmt=fmt,
        filters={k: v for k, v in filters.items() if v not in (None, "")},
    )
    from .tasks import export_run_task

    transaction.on_commit(lambda: export_run_task.enqueue(job.pk))
    return job


def export_run(*, job_id: int) -> ExportJob:
    """Build the file of one export job into private storage."""
    from .reports import build_export

    job = ExportJob.objects.select_related("company", "requested_by").get(pk=job_id)
    if job.is_finished:
        return job
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportStatus.RUNNING, started_at=timezone.now(), error=""
    )
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"export.{job.fmt}"
            filename = build_export(job=job, path=path)
            with path.open("rb") as handle:
                job.file.save(filename, File(handle), save=False)
    except Exception as error:
        logger.exception("export_failed", extra={"job_id": job.pk})
        ExportJob.objects.filter(pk=job.pk).update(
            status=ExportStatus.FAILED,
            error=str(error)[:2000],
            finished_at=timezone.now(),
        )
        job.refresh_from_db()
        return job
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportStatus.DONE,
        file=job.file.name,
        finished_at=timezone.now(),
        rows_done=job.rows_total,
    )
    job.refresh_from_db()
    return job


def export_progress(*, job_id: int, done: int, total: int | None = None) -> None:
    updates = {"rows_done": done}
    if total is not None:
        updates["rows_total"] = total
    ExportJob.objects.filter(pk=job_id).update(**updates)


def exports_delete_old(*, older_than: timedelta = timedelta(days=7)) -> int:
    """Remove export files and bulk-import previews (which hold names and
    e-mail addresses) older than ``older_than`` (run daily)."""
    cutoff = timezone.now() - older_than
    BulkImport.objects.filter(created_at__lt=cutoff).delete()
    old = ExportJob.objects.filter(created_at__lt=cutoff)
    count = 0
    for job in old:
        if job.file:
            job.file.delete(save=False)
        job.delete()
        count += 1
    return count


# --- digests --------------------------------------------------------------------------


def digest_wanted(user) -> bool:
    pref = DigestPreference.objects.filter(user=user).first()
    return pref is None or pref.weekly_digest


@transaction.atomic
def digest_preference_set(*, user, weekly_digest: bool) -> DigestPreference:
    pref, _created = DigestPreference.objects.update_or_create(
        user=user, defaults={"weekly_digest": weekly_digest}
    )
    return pref


def digest_content(*, company: Company, today: date) -> dict:
    from certificates.models import Certificate

    from .selectors import company_member_ids, overdue_assignments

    members = company_member_ids(company=company)
    week_ago = timezone.now() - timedelta(days=7)
    completions = list(
        Enrollment.objects.filter(
            user_id__in=members,
            status=EnrollmentStatus.COMPLETED,
            completed_at__gte=week_ago,
        )
        .select_related("user", "course")
        .order_by("completed_at")[:200]
    )
    expiring = list(
        Certificate.objects.for_company(company)
        .current()
        .filter(
            revoked_at__isnull=True,
            valid_until__gte=today,
            valid_until__lte=today + timedelta(days=90),
        )
        .order_by("valid_until")[:200]
    )
    overdue = list(overdue_assignments(company=company, today=today)[:200])
    return {
        "company": company,
        "completions": completions,
        "expiring": expiring,
        "overdue": overdue,
        "dashboard_url": settings.ACADEMY_PUBLIC_BASE_URL
        + reverse("hr:dashboard", args=[company.pk]),
        "preferences_url": settings.ACADEMY_PUBLIC_BASE_URL
        + reverse("hr:digest_preference", args=[company.pk]),
    }


def digest_send(*, user, company: Company, today: date | None = None) -> bool:
    """Send this week's digest to one HR user of one company (at most once a
    week; nothing when they opted out or there is nothing to report)."""
    from organizations.permissions import can_view_company_people

    today = today or timezone.localdate()
    if not digest_wanted(user) or not can_view_company_people(user, company):
        return False
    year, week, _day = today.isocalendar()
    key = f"{year}-W{week:02d}"
    content = digest_content(company=company, today=today)
    if not (content["completions"] or content["expiring"] or content["overdue"]):
        return False
    with transaction.atomic():
        _log, created = DigestLog.objects.get_or_create(
            user=user, company=company, week=key
        )
        if not created:
            return False
        context = {**content, "user": user, "today": today}
        subject = render_to_string("hr/email/digest_subject.txt", context).strip()
        body = render_to_string("hr/email/digest_message.txt", context)
        message = EmailMultiAlternatives(
            subject=subject,
            body=body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[user.email],
        )
        transaction.on_commit(message.send)
    return True


def digests_send_all(*, today: date | None = None) -> int:
    """Every HR user of every active company: their weekly digest."""
    today = today or timezone.localdate()
    sent = 0
    for membership in (
        Membership.objects.active()
        .filter(role=Role.HR, company__is_active=True, user__is_active=True)
        .exclude(user__email="")
        .select_related("user", "company")
        .order_by("pk")
    ):
        try:
            if digest_send(
                user=membership.user, company=membership.company, today=today
            ):
                sent += 1
        except Exception:
            logger.exception(
                "digest_failed",
                extra={
                    "user_id": membership.user_id,
                    "company_id": membership.company_id,
                },
            )
    return sent


# --- auditor links --------------------------------------------------------------------

AUDITOR_LINK_MAX_DAYS = 90
AUDITOR_LABEL_REQUIRED = gettext_lazy(
    "Give the link a label, e.g. “ISO/IEC 17025 audit 2026”."
)
AUDITOR_EXPIRY_REQUIRED = gettext_lazy("Choose the date until which the link works.")
AUDITOR_EXPIRY_PAST = gettext_lazy("The expiry date must not be in the past.")
AUDITOR_EXPIRY_TOO_LATE = gettext_lazy(
    "An auditor link can be valid for at most %(days)s days (until %(latest)s)."
)
AUDITOR_UNKNOWN_SCOPE = gettext_lazy(
    "These scopes are not held or taught in %(company)s: %(keys)s."
)
AUDITOR_ALREADY_REVOKED = gettext_lazy("This link has already been revoked.")


def auditor_token_hash(token: str) -> str:
    return hashlib.sha256((token or "").encode()).hexdigest()


def auditor_link_url(token: str) -> str:
    return settings.ACADEMY_PUBLIC_BASE_URL.rstrip("/") + reverse(
        "hr:auditor_view", args=[token]
    )


@transaction.atomic
def auditor_link_create(
    *,
    created_by,
    company: Company,
    label: str,
    expires_on: date | None,
    scope_keys: list[str] | None = None,
    token: str | None = None,
) -> tuple[AuditorLink, str]:
    """A new auditor link; returns it with the token (shown once, only its
    hash is stored). ``token`` is for the demo data only."""
    import secrets

    from academy.security import security_event

    from .selectors import company_scopes

    _check(can_manage_auditor_links(created_by, company))
    label = " ".join((label or "").split())
    if not label:
        raise ValidationError(AUDITOR_LABEL_REQUIRED, code="label")
    today = timezone.localdate()
    if expires_on is None:
        raise ValidationError(AUDITOR_EXPIRY_REQUIRED, code="expiry")
    if expires_on < today:
        raise ValidationError(AUDITOR_EXPIRY_PAST, code="expiry_past")
    latest = today + timedelta(days=AUDITOR_LINK_MAX_DAYS)
    if expires_on > latest:
        raise ValidationError(
            AUDITOR_EXPIRY_TOO_LATE,
            code="expiry_too_late",
            params={"days": AUDITOR_LINK_MAX_DAYS, "latest": latest.isoformat()},
        )
    scopes = []
    keys = list(dict.fromkeys(k for k in scope_keys or [] if k))
    if keys:
        known = {c.key: c for c in company_scopes(company=company)}
        unknown = [k for k in keys if k not in known]
        if unknown:
            raise ValidationError(
                AUDITOR_UNKNOWN_SCOPE,
                code="scope",
                params={"company": company, "keys": ", ".join(unknown)},
            )
        scopes = [known[k].snapshot() for k in keys]
    token = token or secrets.token_urlsafe(32)
    link = AuditorLink.objects.create(
        company=company,
        label=label[:200],
        token_hash=auditor_token_hash(token),
        scopes=scopes,
        expires_on=expires_on,
        created_by=created_by,
    )
    security_event(
        "auditor_link_created",
        user_id=created_by.pk,
        company_id=company.pk,
        link_id=link.pk,
        expires_on=expires_on.isoformat(),
    )
    return link, token


@transaction.atomic
def auditor_link_revoke(*, revoked_by, link: AuditorLink) -> AuditorLink:
    from academy.security import security_event

    _check(can_manage_auditor_links(revoked_by, link.company))
    link = AuditorLink.objects.select_for_update().get(pk=link.pk)
    if link.revoked_at is not None:
        raise ValidationError(AUDITOR_ALREADY_REVOKED, code="revoked")
    link.revoked_at = timezone.now()
    link.revoked_by = revoked_by
    link.save(update_fields=["revoked_at", "revoked_by"])
    security_event(
        "auditor_link_revoked",
        user_id=revoked_by.pk,
        company_id=link.company_id,
        link_id=link.pk,
    )
    return link


def auditor_link_open(*, token: str, client: str) -> tuple[AuditorLink | None, str]:
    """Look an auditor link up by its token and log the access.

    Returns ``(link, outcome)``: ``(None, "")`` for an unknown token (nothing
    logged: there is no link to log it on), otherwise the outcome ``ok``,
    ``expired`` or ``revoked``, each logged with the hashed client."""
    if not token or len(token) > 100:
        return None, ""
    link = (
        AuditorLink.objects.select_related("company")
        .filter(token_hash=auditor_token_hash(token))
        .first()
    )
    if link is None:
        return None, ""
    if link.revoked_at is not None:
        outcome = AuditorAccessOutcome.REVOKED
    elif link.is_expired():
        outcome = AuditorAccessOutcome.EXPIRED
    else:
        outcome = AuditorAccessOutcome.OK
    AuditorAccess.objects.create(link=link, client=client[:32], outcome=outcome)
    return link, outcome
