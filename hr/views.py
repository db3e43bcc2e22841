"""HR workspace pages. Thin: check the predicate, call a selector or service."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from academy.security import security_event
from courses.models import CoursePage
from organizations.models import Company, Membership

from . import charts
from .forms import (
    AssignForm,
    AuditorLinkForm,
    CompetenceFilterForm,
    DigestPreferenceForm,
    ExportForm,
    ImportUploadForm,
    MatrixFilterForm,
)
from .models import AuditorLink, BulkImport, ExportJob, ImportStatus
from .permissions import (
    can_assign_courses,
    can_download_export,
    can_export_company_reports,
    can_import_people,
    can_manage_auditor_link,
    can_manage_auditor_links,
    can_view_company_dashboard,
    can_view_competence_matrix,
    can_view_employee,
)
from .selectors import (
    MATRIX_PAGE_SIZE,
    CompetenceStatus,
    auditor_access_list,
    auditor_link_columns,
    company_courses,
    company_dashboard,
    company_departments,
    company_membership_for_user,
    company_scopes,
    competence_memberships,
    competence_people,
    competence_rows,
    employee_detail,
    matrix_cells,
    matrix_people,
)
from .services import (
    RowKind,
    assignment_create,
    auditor_link_create,
    auditor_link_open,
    auditor_link_url,
    bulk_import_apply,
    bulk_import_preview,
    digest_preference_set,
    digest_wanted,
    export_job_create,
    import_plan,
)
from .services import auditor_link_revoke as auditor_link_revoke_service


def _company(request, company_id: int, predicate=can_view_company_dashboard) -> Company:
    company = get_object_or_404(Company, pk=company_id)
    if not predicate(request.user, company):
        raise PermissionDenied
    return company


def _base_context(request, company: Company, tab: str) -> dict:
    return {
        "company": company,
        "tab": tab,
        "can_import": can_import_people(request.user, company),
        "can_assign": can_assign_courses(request.user, company),
        "can_manage_auditor_links": can_manage_auditor_links(request.user, company),
    }


def _sort_links(request, sort: str, keys: list[str]) -> dict:
    """Header links that sort by ``key`` (again: the other direction)."""
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("sort", None)
    links = {}
    for key in keys:
        query["sort"] = f"-{key}" if sort == key else key
        links[key] = {
            "url": "?" + query.urlencode(),
            "active": sort.lstrip("-") == key,
            "desc": sort == f"-{key}",
        }
    return links


@login_required
def dashboard(request, company_id: int):
    company = _company(request, company_id)
    data = company_dashboard(company=company)
    return render(
        request,
        "hr/dashboard.html",
        {
            **_base_context(request, company, "dashboard"),
            "data": data,
            "monthly_chart": charts.monthly_chart(data.monthly),
            "certificate_chart": charts.certificate_status_chart(
                data.certificates_by_course
            ),
            "status_labels": charts.status_labels(),
        },
    )


@login_required
def matrix(request, company_id: int):
    company = _company(request, company_id)
    courses = company_courses(company=company)
    departments = company_departments(company=company)
    form = MatrixFilterForm(
        request.GET or None, departments=departments, courses=courses
    )
    filters = form.filters()
    people = matrix_people(
        company=company,
        department=filters.get("department", ""),
        course_id=filters.get("course"),
        status=filters.get("status", ""),
        search=filters.get("q", ""),
        sort=filters.get("sort", "number"),
    )
    page = Paginator(people, MATRIX_PAGE_SIZE).get_page(request.GET.get("page"))
    columns = courses
    if filters.get("course"):
        columns = [c for c in courses if c.pk == filters["course"]]
    rows = matrix_cells(company=company, memberships=list(page), courses=columns)
    sort = filters.get("sort", "number")
    keys = ["number", "name", "department"]
    if filters.get("course"):
        keys.append("course")
    sort_links = _sort_links(request, sort, keys)
    return render(
        request,
        "hr/matrix.html",
        {
            **_base_context(request, company, "matrix"),
            "form": form,
            "page": page,
            "rows": rows,
            "columns": columns,
            "sort_links": sort_links,
            "export_form": ExportForm(initial={"kind": "matrix", "fmt": "xlsx"}),
            "export_query": request.GET.urlencode(),
        },
    )


@login_required
def employee(request, company_id: int, user_id: int):
    company = _company(request, company_id)
    membership = company_membership_for_user(company=company, user_id=user_id)
    if not can_view_employee(request.user, company, membership):
        raise Http404
    return render(
        request,
        "hr/employee.html",
        {
            **_base_context(request, company, "matrix"),
            "membership": membership,
            "person": membership.user,
            **employee_detail(company=company, membership=membership),
        },
    )


# --- exports --------------------------------------------------------------------------


@login_required
def exports(request, company_id: int):
    company = _company(request, company_id, can_export_company_reports)
    if request.method == "POST":
        form = ExportForm(request.POST)
        if form.is_valid():
            filters = {
                key: request.POST.get(key, "")
                for key in ("q", "department", "course", "scope", "status", "sort")
            }
            try:
                job = export_job_create(
                    requested_by=request.user,
                    company=company,
                    kind=form.cleaned_data["kind"],
                    fmt=form.cleaned_data["fmt"],
                    filters=filters,
                )
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                return redirect(
                    "hr:export_status", company_id=company.pk, job_id=job.pk
                )
    else:
        form = ExportForm()
    jobs = ExportJob.objects.for_user(request.user).filter(company=company)[:20]
    return render(
        request,
        "hr/exports.html",
        {**_base_context(request, company, "exports"), "form": form, "jobs": jobs},
    )


def _job(request, company: Company, job_id: int) -> ExportJob:
    job = get_object_or_404(
        ExportJob.objects.for_user(request.user).select_related("company"),
        pk=job_id,
        company=company,
    )
    if not can_download_export(request.user, job):
        raise Http404
    return job


@login_required
def export_status(request, company_id: int, job_id: int):
    company = _company(request, company_id, can_export_company_reports)
    job = _job(request, company, job_id)
    return render(
        request,
        "hr/export_status.html",
        {**_base_context(request, company, "exports"), "job": job},
    )


@login_required
def export_download(request, company_id: int, job_id: int):
    company = _company(request, company_id, can_export_company_reports)
    job = _job(request, company, job_id)
    if not job.file or job.status != "done":
        raise Http404
    name = job.file.name.rsplit("/", 1)[-1]
    security_event(
        "export_downloaded",
        request=request,
        export=f"{job.kind}.{job.fmt}",
        company_id=company.pk,
        job_id=job.pk,
    )
    return FileResponse(job.file.open("rb"), as_attachment=True, filename=name)


# --- bulk invitations -----------------------------------------------------------------


@login_required
def import_upload(request, company_id: int):
    company = _company(request, company_id, can_import_people)
    form = ImportUploadForm()
    file_error = None
    if request.method == "POST":
        form = ImportUploadForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                bulk_import, _planned = bulk_import_preview(
                    uploaded_by=request.user,
                    company=company,
                    data=upload.read(),
                    filename=upload.name,
                )
            except ValidationError as error:
                file_error = " ".join(error.messages)
            else:
                return redirect(
                    "hr:import_preview", company_id=company.pk, import_id=bulk_import.pk
                )
    return render(
        request,
        "hr/import_upload.html",
        {
            **_base_context(request, company, "import"),
            "form": form,
            "file_error": file_error,
        },
        status=400 if file_error or form.errors else 200,
    )


@login_required
def import_preview(request, company_id: int, import_id: int):
    company = _company(request, company_id, can_import_people)
    bulk_import = get_object_or_404(BulkImport, pk=import_id, company=company)
    if request.method == "POST":
        if bulk_import.status == ImportStatus.APPLIED:
            messages.info(request, _("This file has already been imported."))
        else:
            try:
                result = bulk_import_apply(
                    bulk_import=bulk_import, confirmed_by=request.user
                )
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                messages.success(
                    request,
                    _(
                        "Done: %(invited)s invitations sent, %(enrolled)s enrolments, "
                        "%(assigned)s courses to enrol on sign-up, %(skipped)s rows "
                        "unchanged."
                    )
                    % result,
                )
        return redirect(
            "hr:import_preview", company_id=company.pk, import_id=bulk_import.pk
        )
    planned = import_plan(company=company, rows=bulk_import.rows)
    summary = {
        kind: sum(1 for p in planned if p.kind == kind)
        for kind in (RowKind.NEW, RowKind.PENDING, RowKind.MEMBER, RowKind.ERROR)
    }
    summary["changes"] = sum(1 for p in planned if p.changes)
    return render(
        request,
        "hr/import_preview.html",
        {
            **_base_context(request, company, "import"),
            "bulk_import": bulk_import,
            "planned": planned,
            "summary": summary,
            "applied": bulk_import.status == ImportStatus.APPLIED,
        },
    )


# --- assignments ----------------------------------------------------------------------


@login_required
def assign(request, company_id: int):
    company = _company(request, company_id, can_assign_courses)
    courses = list(
        CoursePage.objects.live().order_by("code").only("pk", "title", "code")
    )
    departments = company_departments(company=company)
    form = AssignForm(request.POST or None, departments=departments, courses=courses)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        course = next(c for c in courses if c.pk == data["course"])
        members = Membership.objects.active().filter(company=company)
        tokens = [t for t in (data.get("people") or "").split() if t]
        unknown: list[str] = []
        user_ids: set[int] = set()
        if data.get("department"):
            user_ids |= set(
                members.filter(department=data["department"]).values_list(
                    "user_id", flat=True
                )
            )
        if tokens:
            found = {
                key.lower(): uid
                for number, email, uid in members.filter(
                    Q(employee_number__in=tokens)
                    | Q(user__email__in=[t.lower() for t in tokens])
                ).values_list("employee_number", "user__email", "user_id")
                for key in (number, email)
                if key
            }
            for token in tokens:
                if token.lower() in found:
                    user_ids.add(found[token.lower()])
                else:
                    unknown.append(token)
        if unknown:
            form.add_error(
                "people",
                _("Not current employees: %(who)s.") % {"who": ", ".join(unknown)},
            )
        else:
            try:
                result = assignment_create(
                    assigned_by=request.user,
                    company=company,
                    course=CoursePage.objects.get(pk=course.pk),
                    user_ids=sorted(user_ids),
                    due_on=data.get("due_on"),
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(
                    request,
                    _(
                        "%(course)s assigned to %(assigned)s people "
                        "(%(enrolled)s newly enrolled)."
                    )
                    % {
                        "course": course.title,
                        "assigned": result.assigned,
                        "enrolled": result.enrolled,
                    },
                )
                for refusal in result.refused:
                    messages.warning(request, refusal)
                return redirect(
                    reverse("hr:matrix", args=[company.pk]) + f"?course={course.pk}"
                )
    return render(
        request,
        "hr/assign.html",
        {**_base_context(request, company, "assign"), "form": form},
        status=400 if form.errors else 200,
    )


@login_required
def digest_preference(request, company_id: int):
    company = _company(request, company_id)
    if request.method == "POST":
        form = DigestPreferenceForm(request.POST)
        if form.is_valid():
            digest_preference_set(
                user=request.user, weekly_digest=form.cleaned_data["weekly_digest"]
            )
            messages.success(request, _("Your digest preference has been saved."))
            return redirect("hr:digest_preference", company_id=company.pk)
    else:
        form = DigestPreferenceForm(
            initial={"weekly_digest": digest_wanted(request.user)}
        )
    return render(
        request,
        "hr/digest_preference.html",
        {**_base_context(request, company, "digest"), "form": form},
    )


# --- competence matrix and auditor links ----------------------------------------------


def _competence_page(request, *, company, columns, people, **filters):
    """One page of competence rows: a fixed number of queries."""
    page = Paginator(people, MATRIX_PAGE_SIZE).get_page(request.GET.get("page"))
    memberships = (
        competence_memberships(list(page)) if isinstance(people, list) else list(page)
    )
    rows = competence_rows(company=company, memberships=memberships, columns=columns)
    return page, rows


@login_required
def competence(request, company_id: int):
    company = _company(request, company_id, can_view_competence_matrix)
    all_columns = company_scopes(company=company)
    form = CompetenceFilterForm(
        request.GET or None,
        departments=company_departments(company=company),
        columns=all_columns,
    )
    filters = form.filters()
    columns = all_columns
    if filters.get("scope"):
        columns = [c for c in all_columns if c.key == filters["scope"]]
    sort = request.GET.get("sort", "number")
    if sort.lstrip("-") not in ("number", "name", "department"):
        sort = "number"
    people = competence_people(
        company=company,
        columns=columns,
        department=filters.get("department", ""),
        search=filters.get("q", ""),
        status=filters.get("status", ""),
        sort=sort,
    )
    page, rows = _competence_page(
        request, company=company, columns=columns, people=people
    )
    return render(
        request,
        "hr/competence.html",
        {
            **_base_context(request, company, "competence"),
            "form": form,
            "page": page,
            "rows": rows,
            "columns": columns,
            "sort": sort,
            "sort_links": _sort_links(request, sort, ["number", "name", "department"]),
            "export_form": ExportForm(initial={"kind": "competence", "fmt": "xlsx"}),
            "statuses": CompetenceStatus.LABELS,
        },
    )


def _link_session_key(link: AuditorLink) -> str:
    return f"hr:auditor-link-token:{link.pk}"


@login_required
def auditor_links(request, company_id: int):
    company = _company(request, company_id, can_manage_auditor_links)
    columns = company_scopes(company=company)
    form = AuditorLinkForm(request.POST or None, columns=columns)
    if request.method == "POST" and form.is_valid():
        try:
            link, token = auditor_link_create(
                created_by=request.user,
                company=company,
                label=form.cleaned_data["label"],
                expires_on=form.cleaned_data["expires_on"],
                scope_keys=form.cleaned_data["scopes"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            # Shown once on the next page, then forgotten.
            request.session[_link_session_key(link)] = token
            return redirect("hr:auditor_link", company_id=company.pk, link_id=link.pk)
    links = list(
        AuditorLink.objects.for_user(request.user)
        .filter(company=company)
        .select_related("created_by")
    )
    return render(
        request,
        "hr/auditor_links.html",
        {
            **_base_context(request, company, "auditor_links"),
            "form": form,
            "links": links,
            "has_scopes": bool(columns),
        },
        status=400 if form.errors else 200,
    )


def _link(request, company: Company, link_id: int) -> AuditorLink:
    link = get_object_or_404(
        AuditorLink.objects.for_user(request.user).select_related("company"),
        pk=link_id,
        company=company,
    )
    if not can_manage_auditor_link(request.user, link):
        raise Http404
    return link


@login_required
def auditor_link(request, company_id: int, link_id: int):
    company = _company(request, company_id, can_manage_auditor_links)
    link = _link(request, company, link_id)
    token = request.session.pop(_link_session_key(link), None)
    return render(
        request,
        "hr/auditor_link.html",
        {
            **_base_context(request, company, "auditor_links"),
            "link": link,
            "url": auditor_link_url(token) if token else "",
            "accesses": auditor_access_list(link=link),
        },
    )


@login_required
@require_POST
def auditor_link_revoke(request, company_id: int, link_id: int):
    company = _company(request, company_id, can_manage_auditor_links)
    link = _link(request, company, link_id)
    try:
        auditor_link_revoke_service(revoked_by=request.user, link=link)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("The link has been revoked; it no longer opens."))
    return redirect("hr:auditor_link", company_id=company.pk, link_id=link.pk)


def _auditor_gone(request, message: str, status: int):
    response = render(
        request, "hr/auditor_gone.html", {"message": message}, status=status
    )
    return _private_page(response)


def _private_page(response):
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


@never_cache
@require_GET
def auditor_view(request, token: str):
    """The public, read-only competence matrix behind an auditor link."""
    from certificates import ratelimit
    from certificates.services import client_key

    link, outcome = auditor_link_open(
        token=token, client=client_key(ratelimit.client_ip(request))
    )
    if link is None:
        return _auditor_gone(
            request, _("This auditor link does not exist. Check the address."), 404
        )
    if outcome == "revoked":
        return _auditor_gone(
            request,
            _(
                "This auditor link has been withdrawn by the company. Ask them for "
                "a new one."
            ),
            410,
        )
    if outcome == "expired":
        return _auditor_gone(
            request,
            _("This auditor link has expired. Ask the company for a new one."),
            410,
        )
    company = link.company
    columns = auditor_link_columns(link=link, columns=company_scopes(company=company))
    form = CompetenceFilterForm(request.GET or None, columns=columns)
    form.fields.pop("department")
    form.fields.pop("q")
    filters = form.filters()
    shown = columns
    if filters.get("scope"):
        shown = [c for c in columns if c.key == filters["scope"]]
    people = competence_people(
        company=company,
        columns=shown,
        status=filters.get("status", ""),
        holders_only=True,
    )
    page, rows = _competence_page(
        request, company=company, columns=shown, people=people
    )
    return _private_page(
        render(
            request,
            "hr/auditor_view.html",
            {
                "company": company,
                "link": link,
                "form": form,
                "page": page,
                "rows": rows,
                "columns": shown,
                "today": timezone.localdate(),
                "statuses": CompetenceStatus.LABELS,
            },
        )
    )
