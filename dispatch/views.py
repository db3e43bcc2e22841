"""Thin views: parse input, check the predicate, call a service or selector."""

from __future__ import annotations

import io
from datetime import date, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from organizations import services as org_services
from organizations.models import Company, Membership, Role
from organizations.permissions import companies_with_role, has_role_in_company
from users.models import User

from . import permissions as perms
from . import selectors, services
from .forms import (
    BusyBlockForm,
    ProposeVisitForm,
    RatingForm,
    ReportForm,
    RescheduleForm,
    SlotSearchForm,
    VisitRequesterGrantForm,
    VisitRequestForm,
    default_search_window,
)
from .ical import calendar_for_visits, invitation_for_visit
from .models import (
    CalendarFeedToken,
    ExpertBusyBlock,
    FeedKind,
    PracticalAssessment,
    Registration,
    RegistrationStatus,
    ReportAttachment,
    Visit,
    VisitReport,
    VisitRequest,
    VisitStatus,
)
from .scheduling import find_slots


def _feed_invalid() -> HttpResponse:
    return HttpResponse(
        _("This calendar link is not valid or has been revoked."),
        status=404,
        content_type="text/plain; charset=utf-8",
    )


def _errors(request, error: ValidationError) -> None:
    for message in error.messages:
        messages.error(request, message)


def _visit(pk: int) -> Visit:
    return get_object_or_404(
        Visit.objects.select_related(
            "topic", "expert", "host_company", "lead_company", "request"
        ),
        pk=pk,
    )


# --- expert ------------------------------------------------------------------------


@login_required
def my_visits(request):
    if not perms.is_expert(request.user):
        raise PermissionDenied
    lists = selectors.visit_lists_for_expert(user=request.user)
    return render(request, "dispatch/my_visits.html", lists)


@login_required
@require_POST
def visit_respond(request, pk: int):
    visit = _visit(pk)
    if visit.expert_id != request.user.pk:
        raise PermissionDenied
    try:
        if request.POST.get("action") == "accept":
            services.visit_accept(visit=visit, user=request.user)
            messages.success(request, _("Visit confirmed. The invitation is sent."))
        else:
            services.visit_decline(
                visit=visit, user=request.user, reason=request.POST.get("reason", "")
            )
            messages.info(request, _("You declined the visit; your time is free."))
    except ValidationError as error:
        _errors(request, error)
    return redirect("dispatch:my_visits")


@login_required
def visit_attendance(request, pk: int):
    visit = _visit(pk)
    if not perms.can_mark_attendance(request.user, visit):
        raise PermissionDenied
    if request.method == "POST":
        try:
            if request.POST.get("action") == "rotate":
                services.visit_rotate_checkin_code(visit=visit, user=request.user)
            else:
                services.attendance_mark(
                    visit=visit,
                    user=request.user,
                    attended_user_ids=request.POST.getlist("attended"),
                )
                messages.success(request, _("Attendance saved."))
        except ValidationError as error:
            _errors(request, error)
        return redirect("dispatch:visit_attendance", pk=visit.pk)
    start, end = services.checkin_window(visit)
    return render(
        request,
        "dispatch/visit_attendance.html",
        {
            "visit": visit,
            "registrations": [
                r
                for r in selectors.visit_registrations(visit=visit)
                if r.status == RegistrationStatus.REGISTERED
            ],
            "checkin_url": request.build_absolute_uri(
                reverse("dispatch:check_in", args=[services.checkin_token(visit)])
            ),
            "window_start": start,
            "window_end": end,
        },
    )


@login_required
def visit_qr(request, pk: int):
    import segno

    visit = _visit(pk)
    if not perms.can_mark_attendance(request.user, visit):
        raise PermissionDenied
    url = request.build_absolute_uri(
        reverse("dispatch:check_in", args=[services.checkin_token(visit)])
    )
    buffer = io.BytesIO()
    segno.make(url, error="m").save(buffer, kind="svg", scale=6, border=2)
    response = HttpResponse(buffer.getvalue(), content_type="image/svg+xml")
    response["Cache-Control"] = "no-store"
    return response


@login_required
def check_in(request, token: str):
    try:
        visit = services.checkin_token_visit(token)
    except ValidationError as error:
        return render(
            request,
            "dispatch/check_in.html",
            {"errors": error.messages},
            status=400,
        )
    if request.method == "POST":
        try:
            services.attendance_check_in(token=token, user=request.user)
        except ValidationError as error:
            return render(
                request,
                "dispatch/check_in.html",
                {"visit": visit, "errors": error.messages},
                status=400,
            )
        return render(request, "dispatch/check_in.html", {"visit": visit, "done": True})
    return render(request, "dispatch/check_in.html", {"visit": visit})


@login_required
def visit_report(request, pk: int):
    visit = _visit(pk)
    existing = VisitReport.objects.filter(visit=visit).first()
    if existing is not None:
        if not perms.can_view_report(request.user, visit):
            raise PermissionDenied
        return render(
            request,
            "dispatch/visit_report.html",
            {
                "visit": visit,
                "report": existing,
                "actions": existing.actions.all(),
                "attachments": existing.attachments.all(),
            },
        )
    if not perms.can_file_report(request.user, visit):
        raise PermissionDenied
    form = ReportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.visit_report_file(
                visit=visit,
                user=request.user,
                summary=form.cleaned_data["summary"],
                findings=form.cleaned_data["findings"],
                recommendations=form.cleaned_data["recommendations"],
                hours_spent=form.cleaned_data["hours_spent"],
                actions=form.actions(),
                attachments=request.FILES.getlist("attachments"),
            )
        except ValidationError as error:
            for message in error.messages:
                form.add_error(None, message)
        else:
            messages.success(request, _("Report filed. Thank you."))
            return redirect("dispatch:visit_report", pk=visit.pk)
    return render(request, "dispatch/visit_report.html", {"visit": visit, "form": form})


@login_required
def report_attachment(request, pk: int):
    attachment = get_object_or_404(
        ReportAttachment.objects.select_related("report__visit"), pk=pk
    )
    if not perms.can_view_report(request.user, attachment.report.visit):
        raise PermissionDenied
    return FileResponse(
        attachment.file.open("rb"), as_attachment=True, filename=attachment.filename
    )


@login_required
def visit_assessment(request, pk: int):
    visit = _visit(pk)
    if not perms.can_record_assessment(request.user, visit):
        raise PermissionDenied
    registrations = [
        r
        for r in selectors.visit_registrations(visit=visit)
        if r.status == RegistrationStatus.REGISTERED
    ]
    if request.method == "POST":
        participant = get_object_or_404(User, pk=request.POST.get("participant"))
        values = [
            {"quantity": q, "value": v, "unit": u}
            for q, v, u in zip(
                request.POST.getlist("quantity"),
                request.POST.getlist("value"),
                request.POST.getlist("unit"),
                strict=False,
            )
            if q or v or u
        ]
        try:
            services.assessment_record(
                visit=visit,
                user=request.user,
                participant=participant,
                passed=request.POST.get("passed") == "yes",
                measured_values=values,
                notes=request.POST.get("notes", ""),
            )
        except ValidationError as error:
            _errors(request, error)
        else:
            messages.success(
                request,
                _("Assessment recorded for %(name)s.")
                % {"name": participant.get_full_name()},
            )
        return redirect("dispatch:visit_assessment", pk=visit.pk)
    assessments = {
        a.user_id: a for a in PracticalAssessment.objects.filter(visit=visit)
    }
    rows = [(r, assessments.get(r.user_id)) for r in registrations]
    return render(
        request, "dispatch/visit_assessment.html", {"visit": visit, "rows": rows}
    )


@login_required
def busy_blocks(request):
    """The expert's own unavailable periods (leave, other duties)."""
    if not perms.is_expert(request.user):
        raise PermissionDenied
    form = BusyBlockForm(request.POST or None)
    if request.method == "POST":
        if request.POST.get("action") == "delete":
            block = get_object_or_404(
                ExpertBusyBlock, pk=request.POST.get("block"), expert=request.user
            )
            services.busy_block_delete(block=block, user=request.user)
            messages.info(request, _("Removed."))
            return redirect("dispatch:busy_blocks")
        if form.is_valid():
            try:
                services.busy_block_create(
                    expert=request.user,
                    starts_at=form.cleaned_data["starts_at"],
                    ends_at=form.cleaned_data["ends_at"],
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as error:
                for message in error.messages:
                    form.add_error(None, message)
            else:
                messages.success(request, _("Saved."))
                return redirect("dispatch:busy_blocks")
    blocks = ExpertBusyBlock.objects.filter(
        expert=request.user, ends_at__gte=timezone.now()
    )
    return render(
        request, "dispatch/busy_blocks.html", {"form": form, "blocks": blocks}
    )


# --- SME HR --------------------------------------------------------------------------


def _hr_companies(user) -> list[Company]:
    return list(
        Company.objects.filter(
            pk__in=companies_with_role(user, Role.HR), kind="sme", is_active=True
        )
    )


@login_required
def our_visits(request):
    companies = _hr_companies(request.user)
    if not companies:
        raise PermissionDenied
    company = companies[0]
    if request.GET.get("company"):
        company = next(
            (c for c in companies if str(c.pk) == request.GET["company"]), None
        )
        if company is None:
            raise PermissionDenied
    context = selectors.visit_lists_for_company(company=company)
    context.update({"company": company, "companies": companies})
    return render(request, "dispatch/our_visits.html", context)


def _requesting_companies(user) -> list[Company]:
    return list(
        Company.objects.filter(
            pk__in=perms.requester_company_ids(user), kind="sme", is_active=True
        )
    )


@login_required
def request_create(request):
    companies = _requesting_companies(request.user)
    if not companies:
        raise PermissionDenied
    form = VisitRequestForm(request.POST or None, companies=companies)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            visit_request = services.visit_request_submit(
                user=request.user,
                company=data["company"],
                topic=data["topic"],
                problem=data["problem"],
                instruments=data["instruments"],
                expected_participants=data["expected_participants"],
                site_address=data["site_address"],
                mode=data["mode"],
                any_date=data["any_date"],
                preferred_windows=form.windows(),
            )
        except ValidationError as error:
            for message in error.messages:
                form.add_error(None, message)
        else:
            messages.success(request, _("Your request has been submitted."))
            return redirect("dispatch:request_detail", pk=visit_request.pk)
    own_requests = (
        VisitRequest.objects.filter(requested_by=request.user)
        .select_related("topic", "company")
        .order_by("-created_at")[:20]
    )
    return render(
        request,
        "dispatch/request_form.html",
        {"form": form, "own_requests": own_requests},
    )


@login_required
def visit_requesters(request, company_id: int):
    """HR chooses which learners may request expert visits for the company."""
    company = get_object_or_404(Company, pk=company_id)
    if not perms.can_grant_visit_requests(request.user, company):
        raise PermissionDenied
    form = VisitRequesterGrantForm(company=company)
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            membership = get_object_or_404(
                Membership, pk=request.POST.get("membership"), company=company
            )
            allowed = False
        else:
            form = VisitRequesterGrantForm(request.POST, company=company)
            membership = form.cleaned_data["person"] if form.is_valid() else None
            allowed = True
        if membership is not None:
            try:
                org_services.membership_set_may_request_visits(
                    membership=membership, allowed=allowed, changed_by=request.user
                )
            except ValidationError as error:
                _errors(request, error)
            else:
                message = (
                    _("%(name)s may now request expert visits.")
                    if allowed
                    else _("%(name)s may no longer request expert visits.")
                )
                messages.success(request, message % {"name": membership.user.name})
                return redirect("dispatch:visit_requesters", company_id=company.pk)
    requesters = (
        Membership.objects.active()
        .filter(company=company, role=Role.LEARNER, may_request_visits=True)
        .select_related("user")
        .order_by("user__name")
    )
    return render(
        request,
        "dispatch/visit_requesters.html",
        {"company": company, "form": form, "requesters": requesters},
    )


@login_required
def request_detail(request, pk: int):
    visit_request = get_object_or_404(
        VisitRequest.objects.select_related("company", "topic", "requested_by"), pk=pk
    )
    if not perms.can_view_visit_request(request.user, visit_request):
        raise PermissionDenied
    if request.method == "POST":
        action = request.POST.get("action")
        message = request.POST.get("message", "")
        handlers = {
            "approve": services.visit_request_approve,
            "decline": services.visit_request_decline,
            "ask_info": services.visit_request_ask_info,
            "provide_info": services.visit_request_provide_info,
            "withdraw": services.visit_request_withdraw,
        }
        handler = handlers.get(action)
        if handler is None:
            raise Http404
        try:
            handler(visit_request=visit_request, user=request.user, message=message)
        except ValidationError as error:
            _errors(request, error)
        else:
            messages.success(request, _("Saved."))
        return redirect("dispatch:request_detail", pk=visit_request.pk)
    return render(
        request,
        "dispatch/request_detail.html",
        {
            "visit_request": visit_request,
            "events": visit_request.events.select_related("actor"),
            "visits": visit_request.visits.select_related("expert"),
            "can_decide": perms.can_decide_visit_request(request.user, visit_request),
            "can_edit": perms.can_edit_visit_request(request.user, visit_request),
        },
    )


# --- coordinators ------------------------------------------------------------------


@login_required
def board(request):
    if not perms.can_view_board(request.user):
        raise PermissionDenied
    return render(
        request, "dispatch/board.html", selectors.board_for_user(user=request.user)
    )


def _allowed_leads(user, host_company):
    if perms.is_coordinator(user):
        return None
    return [
        lead_id
        for lead_id in companies_with_role(user, Role.HR)
        if perms.can_schedule_for(
            user, host_company=host_company, lead_company_id=lead_id
        )
    ]


@login_required
def request_schedule(request, pk: int):
    """Slot finder for one request, and the form to propose a visit."""
    visit_request = get_object_or_404(
        VisitRequest.objects.select_related("company", "topic"), pk=pk
    )
    if not perms.can_decide_visit_request(request.user, visit_request):
        raise PermissionDenied
    start, end = default_search_window()
    windows = [
        (date.fromisoformat(w["start"]), date.fromisoformat(w["end"]))
        for w in visit_request.preferred_windows
    ]
    search = SlotSearchForm(
        request.GET or None,
        initial={
            "start": windows[0][0] if windows else start,
            "end": windows[0][1] if windows else end,
            "duration_minutes": visit_request.topic.typical_duration_minutes,
        },
    )
    slots = []
    if search.is_bound and search.is_valid():
        windows = [(search.cleaned_data["start"], search.cleaned_data["end"])]
        duration = timedelta(minutes=search.cleaned_data["duration_minutes"])
    else:
        windows = windows or [(start, end)]
        duration = timedelta(minutes=visit_request.topic.typical_duration_minutes)
    slots = find_slots(
        topic=visit_request.topic,
        host_company=visit_request.company,
        windows=windows,
        duration=duration,
        mode=visit_request.mode,
        lead_company_ids=_allowed_leads(request.user, visit_request.company),
    )
    form = ProposeVisitForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        expert = get_object_or_404(User, pk=data["expert"]) if data["expert"] else None
        try:
            visit = services.visit_propose(
                user=request.user,
                expert=expert,
                host_company=visit_request.company,
                topic=visit_request.topic,
                starts_at=data["starts_at"],
                ends_at=data["ends_at"],
                visit_request=visit_request,
                mode=visit_request.mode,
                capacity=data["capacity"],
                published=data["published"],
            )
        except ValidationError as error:
            for message in error.messages:
                form.add_error(None, message)
        else:
            messages.success(request, _("Visit proposed; waiting for the expert."))
            return redirect("dispatch:visit_detail", pk=visit.pk)
    return render(
        request,
        "dispatch/request_schedule.html",
        {
            "visit_request": visit_request,
            "search": search,
            "slots": slots[:60],
            "form": form,
        },
    )


@login_required
@require_POST
def visit_manage(request, pk: int):
    visit = _visit(pk)
    if not perms.can_manage_visit(request.user, visit):
        raise PermissionDenied
    action = request.POST.get("action")
    try:
        if action == "cancel":
            services.visit_cancel(
                visit=visit, user=request.user, reason=request.POST.get("reason", "")
            )
            messages.info(request, _("Visit cancelled."))
        elif action == "reschedule":
            form = RescheduleForm(request.POST)
            if not form.is_valid():
                raise ValidationError(_("Enter a valid start and end."))
            services.visit_reschedule(
                visit=visit,
                user=request.user,
                starts_at=form.cleaned_data["starts_at"],
                ends_at=form.cleaned_data["ends_at"],
            )
            messages.success(request, _("Visit rescheduled."))
        elif action == "assign":
            expert = get_object_or_404(User, pk=request.POST.get("expert"))
            services.visit_assign_expert(visit=visit, user=request.user, expert=expert)
            messages.success(request, _("Expert asked to confirm."))
        elif action == "publish":
            services.visit_update_details(
                visit=visit,
                user=request.user,
                published=request.POST.get("published") == "1",
            )
        else:
            raise Http404
    except ValidationError as error:
        _errors(request, error)
    return redirect("dispatch:visit_detail", pk=visit.pk)


# --- everyone ------------------------------------------------------------------------


def visit_detail(request, pk: int):
    visit = _visit(pk)
    user = request.user
    if not perms.can_view_visit(user, visit):
        if not user.is_authenticated:
            return redirect(f"{reverse('account_login')}?next={request.path}")
        raise PermissionDenied
    is_host_hr = user.is_authenticated and has_role_in_company(
        user, visit.host_company_id, Role.HR
    )
    can_manage = user.is_authenticated and perms.can_manage_visit(user, visit)
    registrations = []
    if is_host_hr or can_manage or visit.expert_id == getattr(user, "pk", None):
        registrations = selectors.visit_registrations(visit=visit)
    own_registration = (
        Registration.objects.filter(visit=visit, user=user)
        .exclude(status=RegistrationStatus.CANCELLED)
        .first()
        if user.is_authenticated
        else None
    )
    employees = []
    if is_host_hr and visit.status in (VisitStatus.TENTATIVE, VisitStatus.CONFIRMED):
        taken = {r.user_id for r in registrations}
        employees = [
            m.user
            for m in Membership.objects.active()
            .filter(company=visit.host_company_id)
            .select_related("user")
            .order_by("user__name")
            if m.user_id not in taken
        ]
    return render(
        request,
        "dispatch/visit_detail.html",
        {
            "visit": visit,
            "registrations": registrations,
            "own_registration": own_registration,
            "employees": employees,
            "can_manage": can_manage,
            "can_register_self": user.is_authenticated
            and own_registration is None
            and perms.can_register_self(user, visit),
            "can_rate": user.is_authenticated and perms.can_rate_visit(user, visit),
            "can_view_report": user.is_authenticated
            and perms.can_view_report(user, visit),
            "is_expert": visit.expert_id == getattr(user, "pk", None),
            "has_report": VisitReport.objects.filter(visit=visit).exists(),
        },
    )


def visit_ics(request, pk: int):
    visit = _visit(pk)
    if not perms.can_view_visit(request.user, visit):
        raise Http404
    response = HttpResponse(
        invitation_for_visit(visit), content_type="text/calendar; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="visit-{visit.pk}.ics"'
    return response


@login_required
@require_POST
def visit_register(request, pk: int):
    visit = _visit(pk)
    user_ids = request.POST.getlist("participants") or [str(request.user.pk)]
    participants = User.objects.filter(pk__in=[u for u in user_ids if u.isdigit()])
    registered = waitlisted = 0
    for participant in participants:
        try:
            registration = services.visit_register(
                visit=visit, participant=participant, registered_by=request.user
            )
        except ValidationError as error:
            _errors(request, error)
            continue
        if registration.status == RegistrationStatus.REGISTERED:
            registered += 1
        else:
            waitlisted += 1
    if registered or waitlisted:
        messages.success(
            request,
            _("%(registered)s registered, %(waitlisted)s on the waiting list.")
            % {"registered": registered, "waitlisted": waitlisted},
        )
    return redirect("dispatch:visit_detail", pk=visit.pk)


@login_required
@require_POST
def registration_cancel(request, pk: int):
    registration = get_object_or_404(Registration, pk=pk)
    try:
        services.registration_cancel(registration=registration, user=request.user)
    except ValidationError as error:
        _errors(request, error)
    else:
        messages.info(request, _("Registration cancelled."))
    return redirect("dispatch:visit_detail", pk=registration.visit_id)


@login_required
@require_POST
def visit_rate(request, pk: int):
    visit = _visit(pk)
    form = RatingForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The rating must be between 1 and 5."))
        return redirect("dispatch:visit_detail", pk=visit.pk)
    try:
        services.visit_rate(
            visit=visit,
            user=request.user,
            score=form.cleaned_data["score"],
            comment=form.cleaned_data["comment"],
        )
    except ValidationError as error:
        _errors(request, error)
    else:
        messages.success(request, _("Thank you for your feedback."))
    return redirect("dispatch:visit_detail", pk=visit.pk)


# --- calendar feeds ----------------------------------------------------------------


@login_required
def calendars(request):
    user = request.user
    if request.method == "POST":
        try:
            if request.POST.get("action") == "revoke":
                token = get_object_or_404(
                    CalendarFeedToken, pk=request.POST.get("token")
                )
                services.feed_token_revoke(token=token, user=user)
                messages.info(request, _("The calendar link has been revoked."))
            elif request.POST.get("kind") == FeedKind.EXPERT:
                services.feed_token_create(user=user, expert=user)
                messages.success(request, _("A new calendar link has been created."))
            else:
                company = get_object_or_404(Company, pk=request.POST.get("company"))
                services.feed_token_create(user=user, company=company)
                messages.success(request, _("A new calendar link has been created."))
        except ValidationError as error:
            _errors(request, error)
        return redirect("dispatch:calendars")
    tokens = selectors.feed_tokens_for_user(user=user)
    rows = []
    for token in tokens:
        if token.kind == FeedKind.EXPERT:
            url = reverse("dispatch:expert_feed", args=[token.expert_id, token.token])
        else:
            url = reverse("dispatch:company_feed", args=[token.company_id, token.token])
        rows.append((token, request.build_absolute_uri(url)))
    return render(
        request,
        "dispatch/calendars.html",
        {
            "rows": rows,
            "is_expert": perms.is_expert(user),
            "companies": Company.objects.filter(
                pk__in=companies_with_role(user, Role.HR)
            ),
        },
    )


def _feed_response(body: bytes) -> HttpResponse:
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    return response


def expert_feed(request, user_id: int, token: str):
    feed = selectors.feed_token_get_active(token=token)
    if feed is None or feed.kind != FeedKind.EXPERT or feed.expert_id != user_id:
        return _feed_invalid()
    visits = selectors.visits_for_expert_feed(expert=feed.expert)
    name = _("Visits of %(name)s") % {"name": feed.expert.get_full_name()}
    return _feed_response(calendar_for_visits(visits, name=name, private=True))


def company_feed(request, company_id: int, token: str):
    feed = selectors.feed_token_get_active(token=token)
    if feed is None or feed.kind != FeedKind.COMPANY or feed.company_id != company_id:
        return _feed_invalid()
    visits = selectors.visits_for_company_feed(company=feed.company)
    name = _("Expert visits at %(company)s") % {"company": feed.company}
    return _feed_response(calendar_for_visits(visits, name=name, private=True))


def public_feed(request):
    visits = selectors.visit_list_public()[:500]
    body = calendar_for_visits(visits, name=_("Expert visit schedule"))
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "public, max-age=300"
    return response
