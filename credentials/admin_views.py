"""Wagtail admin: record a procedure revision (coordinators and experts of the
enterprises whose courses name the procedure). Thin: one form, one service."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from organizations.permissions import is_coordinator

from . import services
from .models import Procedure
from .permissions import can_record_procedure_revision


class RevisionForm(forms.Form):
    revision = forms.CharField(
        label=gettext_lazy("New revision"),
        max_length=60,
        required=False,
        help_text=gettext_lazy(
            "e.g. 2024. Every current certificate whose scope names another "
            "revision becomes “renewal required”; holders and their HR are "
            "e-mailed, and the courses' scopes move to this revision."
        ),
    )
    effective_on = forms.DateField(
        label=gettext_lazy("Effective on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )


def procedure_revisions(request):
    """The procedures the user may record revisions for (403 if none)."""
    procedures = [
        procedure
        for procedure in Procedure.objects.prefetch_related("revisions").order_by(
            "code"
        )
        if can_record_procedure_revision(request.user, procedure)
    ]
    if not procedures and not is_coordinator(request.user):
        raise PermissionDenied
    return TemplateResponse(
        request,
        "credentials/admin/procedure_list.html",
        {
            "page_title": _("Record a procedure revision"),
            "header_title": _("Record a procedure revision"),
            "procedures": procedures,
        },
    )


def procedure_revise(request, procedure_id: int):
    procedure = get_object_or_404(Procedure, pk=procedure_id)
    if not can_record_procedure_revision(request.user, procedure):
        raise PermissionDenied
    form = RevisionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            revision, marked = services.procedure_revision_record(
                actor=request.user,
                procedure=procedure,
                revision=form.cleaned_data["revision"],
                effective_on=form.cleaned_data["effective_on"],
            )
        except ValidationError as error:
            form.add_error("revision", error)
        else:
            messages.success(
                request,
                _(
                    "%(procedure)s revision %(revision)s recorded; %(count)s "
                    "certificate(s) now require renewal."
                )
                % {
                    "procedure": procedure.code,
                    "revision": revision.revision,
                    "count": marked,
                },
            )
            return redirect(reverse("credentials_procedure_revisions"))
    return TemplateResponse(
        request,
        "credentials/admin/procedure_revise.html",
        {
            "page_title": _("Record a revision of %(code)s") % {"code": procedure},
            "header_title": _("Record a revision of %(code)s") % {"code": procedure},
            "procedure": procedure,
            "revisions": procedure.revisions.order_by("effective_on", "pk"),
            "form": form,
        },
    )
