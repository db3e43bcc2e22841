"""Automatic URL permission matrix (issue 8, item 1).

Every URL pattern of the project is walked (third-party areas that have their
own tests are excluded, see ``EXCLUDED_PREFIXES``) and must be declared in
``MATRIX``: one or more ``Case`` rows naming the object it points at (company
A, company B, the partner lead enterprise, ...) and the expected outcome of a
GET (and, for state-changing endpoints, a POST) for each role in
``matrix_world.ROLES``.

A URL without a declaration fails ``test_every_url_is_declared``: new views are
covered without anyone remembering to add them.

Outcomes:

- ``OK``: the role may use the page (2xx, or a redirect that is not to login).
- ``LOGIN``: an anonymous visitor is sent to the login page.
- ``DENIED``: 403 or 404, never a 200.
- ``METHOD``: a POST-only endpoint answers a GET with 405 (or login first).
- ``REFUSED``: a POST that the view turns down with a message (redirect, 400,
  403 or 404) and that changes nothing in the database.
- ``UNCHANGED``: any answer below 500, and nothing changes in the database.

Every POST that is not ``OK`` must leave the database unchanged; every request
runs inside a rolled-back transaction so that the rows are independent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from .matrix_world import ROLES, MatrixWorld, build

OK = "ok"
LOGIN = "login"
DENIED = "denied"
METHOD = "method"
REFUSED = "refused"
UNCHANGED = "unchanged"

# Third-party areas with their own tests, and Wagtail's page-serving catch-all.
EXCLUDED_PREFIXES = (
    "admin/",
    "django-admin/",
    "accounts/",
    "documents/",
    "i18n/",
    "static/",
    "media/",
    "favicon.ico",  # a redirect to a static file
)
INCLUDED_DESPITE_PREFIX = ("accounts/profile/",)

# Columns a request may legitimately touch without changing anyone's data.
IGNORED_COLUMNS = {"users.user": {"last_login"}}


# --- declarations ------------------------------------------------------------

Expect = Callable[[str], str]


def public(role: str) -> str:
    return OK


def logged_in(role: str) -> str:
    return LOGIN if role == "anonymous" else OK


def nobody(role: str) -> str:
    return LOGIN if role == "anonymous" else DENIED


def post_only(role: str) -> str:
    return METHOD


def only(*allowed: str, anon: str = LOGIN, other: str = DENIED) -> Expect:
    unknown = set(allowed) - set(ROLES)
    assert not unknown, f"unknown roles {unknown}"

    def expect(role: str) -> str:
        if role in allowed:
            return OK
        if role == "anonymous":
            return anon
        return other

    return expect


def roles(table: dict[str, str], default: str = DENIED, anon: str = LOGIN) -> Expect:
    def expect(role: str) -> str:
        if role == "anonymous":
            return table.get(role, anon)
        return table.get(role, default)

    return expect


STAFF = ("coordinator", "superuser")


@dataclass(frozen=True)
class Case:
    target: str
    kwargs: Callable[[MatrixWorld], dict] = lambda m: {}
    get: Expect | None = None
    post: Expect | None = None
    data: Callable[[MatrixWorld], dict] = lambda m: {}
    json: bool = False
    render_certificates: bool = False
    notes: str = ""
    extra: dict = field(default_factory=dict)


def _company(key):
    return lambda m: {"company_id": m.companies[key].pk}


def _pk(attr):
    return lambda m: {"pk": getattr(m, attr).pk}


def _company_cases(*, post: bool = False, data=lambda m: {}) -> list[Case]:
    """Company-scoped HR pages: HR of that company and programme staff."""
    return [
        Case(
            key,
            _company(key),
            get=only(*allowed),
            post=only(*allowed) if post else None,
            data=data,
        )
        for key, allowed in (
            ("a", ("hr_a", *STAFF)),
            ("b", ("hr_b", *STAFF)),
            ("p", STAFF),
        )
    ]


def _company_object_cases(attr_a: str, attr_b: str, *, post: bool = False):
    """``company/<company_id>/<thing>/<id>/``: own, other, and the IDOR mix."""
    kwarg = {
        "export_a": "job_id",
        "import_a": "import_id",
        "auditor_a": "link_id",
    }[attr_a]

    def kwargs(company, attr):
        return lambda m: {
            "company_id": m.companies[company].pk,
            kwarg: getattr(m, attr).pk,
        }

    return [
        Case(
            "A's",
            kwargs("a", attr_a),
            get=only("hr_a", *STAFF),
            post=only("hr_a", *STAFF) if post else None,
        ),
        Case(
            "B's",
            kwargs("b", attr_b),
            get=only("hr_b", *STAFF),
            post=only("hr_b", *STAFF) if post else None,
        ),
        Case(
            "company A, B's object",
            kwargs("a", attr_b),
            get=nobody,
            post=nobody if post else None,
        ),
    ]


MATRIX: dict[str, list[Case]] = {
    # --- project ---------------------------------------------------------------
    "healthz": [Case("-", get=public)],
    "readyz": [Case("-", get=public)],
    "profile": [
        Case(
            "own",
            get=logged_in,
            # Anonymous POSTs go to login and change nothing; everyone else
            # edits only their own profile.
            post=logged_in,
            data=lambda m: {"name": "新名字"},
        )
    ],
    # --- organizations ---------------------------------------------------------
    "organizations:my_companies": [
        Case("-", get=only("hr_a", "hr_b", *STAFF)),
    ],
    "organizations:company_people": [
        Case(
            "a",
            _company("a"),
            get=only("hr_a", *STAFF),
            post=only("hr_a", *STAFF),
            data=lambda m: {"email": "invitee@example.cn", "role": "learner"},
        ),
        Case(
            "b",
            _company("b"),
            get=only("hr_b", *STAFF),
            post=only("hr_b", *STAFF),
            data=lambda m: {"email": "invitee@example.cn", "role": "learner"},
        ),
        Case(
            "partner",
            _company("p"),
            get=only(*STAFF),
            post=only(*STAFF),
            data=lambda m: {"email": "invitee@example.cn", "role": "learner"},
        ),
    ],
    "organizations:membership_end": [
        Case(
            "a",
            lambda m: {
                "company_id": m.companies["a"].pk,
                "membership_id": m.membership_a.pk,
            },
            get=post_only,
            post=only("hr_a", *STAFF),
        ),
        Case(
            "b",
            lambda m: {
                "company_id": m.companies["b"].pk,
                "membership_id": m.membership_b.pk,
            },
            get=post_only,
            post=only("hr_b", *STAFF),
        ),
        Case(
            "partner",
            lambda m: {
                "company_id": m.companies["p"].pk,
                "membership_id": m.membership_partner.pk,
            },
            get=post_only,
            post=only(*STAFF),
        ),
        Case(
            "company A, membership of B",
            lambda m: {
                "company_id": m.companies["a"].pk,
                "membership_id": m.membership_b.pk,
            },
            get=post_only,
            post=nobody,
        ),
    ],
    "organizations:invitation_revoke": [
        Case(
            "a",
            lambda m: {
                "company_id": m.companies["a"].pk,
                "invitation_id": m.invitation_a.pk,
            },
            get=post_only,
            post=only("hr_a", *STAFF),
        ),
        Case(
            "b",
            lambda m: {
                "company_id": m.companies["b"].pk,
                "invitation_id": m.invitation_b.pk,
            },
            get=post_only,
            post=only("hr_b", *STAFF),
        ),
        Case(
            "company A, invitation of B",
            lambda m: {
                "company_id": m.companies["a"].pk,
                "invitation_id": m.invitation_b.pk,
            },
            get=post_only,
            post=nobody,
        ),
    ],
    "organizations:invitation_accept": [
        # The token is the capability: whoever holds it sees the invitation,
        # but only the invited (verified) address may accept it.
        Case(
            "a",
            lambda m: {"token": m.invitation_a.token},
            get=public,
            post=roles({}, default=REFUSED, anon=UNCHANGED),
        ),
        Case(
            "unknown token",
            lambda m: {"token": "x" * 43},
            get=roles({}, default=DENIED, anon=DENIED),
            post=roles({}, default=DENIED, anon=DENIED),
        ),
    ],
    # --- courses -----------------------------------------------------------------
    "courses:my_learning": [Case("-", get=logged_in)],
    "courses:enrol": [
        Case(
            "open course of the partner lead",
            lambda m: {"course_id": m.open_course.pk},
            get=post_only,
            post=logged_in,
        ),
        Case(
            "partners-only course of B's lead",
            lambda m: {"course_id": m.closed_course.pk},
            get=post_only,
            post=only("hr_b", *STAFF, other=REFUSED),
        ),
    ],
    "courses:withdraw": [
        Case(
            "learner A's course",
            lambda m: {"course_id": m.open_course.pk},
            get=post_only,
            post=only("learner_a"),
        ),
        Case(
            "learner B's course",
            lambda m: {"course_id": m.closed_course.pk},
            get=post_only,
            post=nobody,
        ),
    ],
    "courses:resume": [
        Case("open", lambda m: {"course_id": m.open_course.pk}, get=logged_in),
        Case("closed", lambda m: {"course_id": m.closed_course.pk}, get=logged_in),
    ],
    "courses:heartbeat": [
        Case(
            "lesson A's learner is enrolled in",
            lambda m: {"lesson_id": m.lesson_a.pk},
            get=post_only,
            post=only("learner_a", anon=DENIED),
            data=lambda m: {"delta": 15},
            json=True,
        ),
        Case(
            "lesson B's learner is enrolled in",
            lambda m: {"lesson_id": m.lesson_b.pk},
            get=post_only,
            post=roles({}, default=DENIED, anon=DENIED),
            data=lambda m: {"delta": 15},
            json=True,
        ),
    ],
    "courses:quiz_start": [
        Case(
            "A",
            lambda m: {"lesson_id": m.lesson_a.pk},
            get=post_only,
            post=only("learner_a", other=REFUSED),
        ),
        Case(
            "B",
            lambda m: {"lesson_id": m.lesson_b.pk},
            get=post_only,
            post=roles({}, default=REFUSED),
        ),
    ],
    "courses:quiz_submit": [
        Case(
            "learner A's attempt",
            lambda m: {"attempt_id": m.attempt_a.pk},
            get=post_only,
            post=only("learner_a", other=REFUSED),
            data=lambda m: {
                f"q-{m.question_id}-value": "0.0256",
                f"q-{m.question_id}-unit": "MPa",
            },
        ),
        Case(
            "learner B's attempt",
            lambda m: {"attempt_id": m.attempt_b.pk},
            get=post_only,
            post=roles({}, default=REFUSED),
            data=lambda m: {
                f"q-{m.lesson_b.quiz_block.value['questions'][0].id}-value": "0.0256",
                f"q-{m.lesson_b.quiz_block.value['questions'][0].id}-unit": "MPa",
            },
        ),
    ],
    # --- certificates ------------------------------------------------------------
    "certificates:verify": [Case("-", get=public)],
    "certificates:verify_code": [
        Case("A", lambda m: {"code": m.certificate_a.code}, get=public),
    ],
    "certificates:mine": [Case("-", get=logged_in)],
    "certificates:download": [
        Case(
            "learner A's",
            lambda m: {"certificate_id": m.certificate_a.pk},
            get=only("learner_a", "hr_a", *STAFF),
            render_certificates=True,
        ),
        Case(
            "learner B's",
            lambda m: {"certificate_id": m.certificate_b.pk},
            get=only("hr_b", *STAFF),
            render_certificates=True,
        ),
    ],
    "certificates:company": [
        Case("a", _company("a"), get=only("hr_a", *STAFF)),
        Case("b", _company("b"), get=only("hr_b", *STAFF)),
        Case("partner", _company("p"), get=only(*STAFF)),
    ],
    "certificates:company_zip": [
        Case("a", _company("a"), get=only("hr_a", *STAFF), render_certificates=True),
        Case("b", _company("b"), get=only("hr_b", *STAFF), render_certificates=True),
        Case("partner", _company("p"), get=only(*STAFF)),
    ],
    # --- credentials (Open Badges 3.0 / W3C VC) -----------------------------------
    "credentials:issuer": [Case("-", get=public)],
    "credentials:jwks": [Case("-", get=public)],
    "credentials:key": [
        Case("active key", lambda m: {"kid": m.signing_key.kid}, get=public),
        Case(
            "unknown key",
            lambda m: {"kid": "no-such-key"},
            get=roles({}, default=DENIED, anon=DENIED),
        ),
    ],
    "credentials:status_list": [
        Case(
            "revocation list",
            lambda m: {"list_id": m.status_list.pk, "purpose": "revocation"},
            get=public,
        ),
    ],
    "credentials:verify": [
        # Public; a pasted token is only checked, never stored against a user.
        Case("-", get=public, post=public, data=lambda m: {"token": "not.a.jwt"}),
    ],
    "credentials:verify_api": [
        Case("-", get=public, post=public, data=lambda m: {"token": "not.a.jwt"}),
    ],
    "credentials:download_json": [
        Case(
            "learner A's",
            lambda m: {"certificate_id": m.certificate_a.pk},
            get=only("learner_a", "hr_a", *STAFF),
        ),
        Case(
            "learner B's",
            lambda m: {"certificate_id": m.certificate_b.pk},
            get=only("hr_b", *STAFF),
        ),
    ],
    "credentials:download_jwt": [
        Case(
            "learner A's",
            lambda m: {"certificate_id": m.certificate_a.pk},
            get=only("learner_a", "hr_a", *STAFF),
        ),
        Case(
            "learner B's",
            lambda m: {"certificate_id": m.certificate_b.pk},
            get=only("hr_b", *STAFF),
        ),
    ],
    # --- credentials: failed proficiency tests (branch h-cred-verify) ----------------
    "credentials:proficiency_companies": [
        Case("-", get=only("hr_a", "hr_b", "expert", *STAFF)),
    ],
    "credentials:company_proficiency": [
        # The matrix world has no competence scope, so every POST is refused
        # with a form error (400) and changes nothing; who may open it is the
        # point here (tests/credentials/test_proficiency.py records for real).
        Case(
            "a (partner SME of the expert's lead enterprise)",
            _company("a"),
            get=only("hr_a", "expert", *STAFF),
            post=roles(
                {"hr_a": REFUSED, "expert": REFUSED, **dict.fromkeys(STAFF, REFUSED)}
            ),
            data=lambda m: {"person": m.world.learner.pk, "scope": 1, "kind": "pt"},
        ),
        Case(
            "b (unrelated SME)",
            _company("b"),
            get=only("hr_b", *STAFF),
            post=roles({"hr_b": REFUSED, **dict.fromkeys(STAFF, REFUSED)}),
            data=lambda m: {
                "person": m.world.other_learner.pk,
                "scope": 1,
                "kind": "pt",
            },
        ),
        Case(
            "partner lead enterprise (the expert's own)",
            _company("p"),
            get=only("expert", *STAFF),
        ),
    ],
    # --- dispatch ----------------------------------------------------------------
    "dispatch:my_visits": [Case("-", get=only("expert"))],
    "dispatch:our_visits": [Case("-", get=only("hr_a", "hr_b"))],
    "dispatch:board": [Case("-", get=only(*STAFF))],
    "dispatch:request_create": [
        Case(
            "for company A",
            get=only("hr_a", "hr_b"),
            # HR of B only gets the form back: A is not among its companies.
            post=roles({"hr_a": OK, "hr_b": UNCHANGED}),
            data=lambda m: {
                "company": m.companies["a"].pk,
                "topic": m.topic.pk,
                "problem": "压力表示值误差超差。",
                "expected_participants": 3,
                "mode": "on_site",
                "any_date": "on",
            },
        ),
    ],
    "dispatch:visit_requesters": [
        Case(
            "company A",
            _company("a"),
            get=only("hr_a", *STAFF),
            post=only("hr_a", *STAFF),
            data=lambda m: {"person": m.world.learner.email},
        ),
        Case(
            "company B",
            _company("b"),
            get=only("hr_b", *STAFF),
            post=only("hr_b", *STAFF),
            data=lambda m: {"person": m.world.other_learner.email},
        ),
        # Learners of a lead enterprise do not request visits from partners.
        Case("lead enterprise", _company("p"), get=nobody, post=nobody),
    ],
    "dispatch:request_detail": [
        Case(
            "A's request",
            _pk("request_a"),
            get=only("hr_a", *STAFF),
            # HR of A may see but not approve its own request.
            post=roles({"coordinator": OK, "superuser": OK, "hr_a": REFUSED}),
            data=lambda m: {"action": "approve"},
        ),
        Case(
            "B's request",
            _pk("request_b"),
            get=only("hr_b", *STAFF),
            post=roles({"coordinator": OK, "superuser": OK, "hr_b": REFUSED}),
            data=lambda m: {"action": "approve"},
        ),
    ],
    "dispatch:request_schedule": [
        Case("A's request", _pk("request_a"), get=only(*STAFF), post=only(*STAFF)),
        Case("B's request", _pk("request_b"), get=only(*STAFF), post=only(*STAFF)),
    ],
    "dispatch:visit_detail": [
        Case(
            "A, private",
            _pk("visit_a"),
            get=only("learner_a", "expert", "hr_a", *STAFF),
        ),
        Case("B, private", _pk("visit_b"), get=only("hr_b", *STAFF)),
        Case("A, tentative", _pk("tentative_a"), get=only("expert", "hr_a", *STAFF)),
        Case("published", _pk("public_visit"), get=public),
    ],
    "dispatch:visit_ics": [
        Case(
            "A, private",
            _pk("visit_a"),
            get=only("learner_a", "expert", "hr_a", *STAFF, anon=DENIED),
        ),
        Case("B, private", _pk("visit_b"), get=only("hr_b", *STAFF, anon=DENIED)),
        Case("published", _pk("public_visit"), get=public),
    ],
    "dispatch:visit_respond": [
        Case(
            "A, proposed to the expert",
            _pk("tentative_a"),
            get=post_only,
            post=only("expert"),
            data=lambda m: {"action": "accept"},
        ),
        Case(
            "B, proposed to B's expert",
            _pk("tentative_b"),
            get=post_only,
            post=nobody,
            data=lambda m: {"action": "accept"},
        ),
    ],
    "dispatch:visit_manage": [
        Case(
            "A",
            _pk("visit_a"),
            get=post_only,
            post=only(*STAFF),
            data=lambda m: {"action": "cancel", "reason": "专家临时有事"},
        ),
        Case(
            "B",
            _pk("visit_b"),
            get=post_only,
            post=only(*STAFF),
            data=lambda m: {"action": "cancel", "reason": "专家临时有事"},
        ),
    ],
    "dispatch:visit_register": [
        Case(
            "A, registering another employee of A",
            _pk("visit_a"),
            get=post_only,
            post=only("hr_a", *STAFF, other=REFUSED),
            data=lambda m: {"participants": [m.spare_a.pk]},
        ),
        Case(
            "B, registering another employee of B",
            _pk("visit_b"),
            get=post_only,
            post=only("hr_b", *STAFF, other=REFUSED),
            data=lambda m: {"participants": [m.spare_b.pk]},
        ),
    ],
    "dispatch:registration_cancel": [
        Case(
            "learner A's",
            _pk("registration_a"),
            get=post_only,
            post=only("learner_a", "hr_a", *STAFF, other=REFUSED),
        ),
        Case(
            "learner B's",
            _pk("registration_b"),
            get=post_only,
            post=only("hr_b", *STAFF, other=REFUSED),
        ),
    ],
    "dispatch:visit_attendance": [
        Case(
            "A",
            _pk("visit_a"),
            get=only("expert", *STAFF),
            post=only("expert", *STAFF),
            data=lambda m: {"attended": [m.world.learner.pk]},
        ),
        Case(
            "B",
            _pk("visit_b"),
            get=only(*STAFF),
            post=only(*STAFF),
            data=lambda m: {"attended": [m.world.other_learner.pk]},
        ),
    ],
    "dispatch:visit_qr": [
        Case("A", _pk("visit_a"), get=only("expert", *STAFF)),
        Case("B", _pk("visit_b"), get=only(*STAFF)),
    ],
    "dispatch:check_in": [
        # The signed token is the capability (shown as a QR code on site);
        # checking in only works during the visit, so every POST here is
        # turned down.
        Case(
            "A",
            lambda m: {"token": _checkin_token(m.visit_a)},
            get=logged_in,
            post=roles({}, default=UNCHANGED),
        ),
    ],
    "dispatch:visit_report": [
        Case("A, not reported yet", _pk("visit_a"), get=only("expert")),
        Case("B, not reported yet", _pk("visit_b"), get=nobody),
        Case("A, reported", _pk("done_a"), get=only("expert", "hr_a", *STAFF)),
    ],
    "dispatch:visit_rate": [
        Case(
            "A, completed",
            _pk("done_a"),
            get=post_only,
            post=only("hr_a", other=REFUSED),
            data=lambda m: {"score": 5, "comment": "很有帮助"},
        ),
    ],
    "dispatch:visit_assessment": [
        Case(
            "A",
            _pk("visit_a"),
            get=only("expert", *STAFF),
            post=only("expert", *STAFF),
            data=lambda m: {
                "participant": m.world.learner.pk,
                "passed": "yes",
                "quantity": "示值误差",
                "value": "0.01",
                "unit": "MPa",
            },
        ),
        Case("B", _pk("visit_b"), get=only(*STAFF)),
    ],
    "dispatch:report_attachment": [
        Case("A", _pk("attachment_a"), get=only("expert", "hr_a", *STAFF)),
    ],
    "dispatch:calendars": [
        Case(
            "new feed for company B",
            get=logged_in,
            post=only("hr_b", *STAFF, other=REFUSED),
            data=lambda m: {"kind": "company", "company": m.companies["b"].pk},
        ),
        Case(
            "revoke company A's feed",
            post=only("hr_a", *STAFF, other=REFUSED),
            data=lambda m: {"action": "revoke", "token": m.company_feed_a.pk},
        ),
    ],
    "dispatch:expert_feed": [
        Case(
            "valid token",
            lambda m: {"user_id": m.world.expert.pk, "token": m.expert_feed.token},
            get=public,
        ),
        Case(
            "token of another expert",
            lambda m: {
                "user_id": m.world.expert.pk,
                "token": m.other_expert_feed.token,
            },
            get=roles({}, default=DENIED, anon=DENIED),
        ),
    ],
    "dispatch:company_feed": [
        Case(
            "valid token",
            lambda m: {
                "company_id": m.companies["a"].pk,
                "token": m.company_feed_a.token,
            },
            get=public,
        ),
        Case(
            "A's token on B's feed",
            lambda m: {
                "company_id": m.companies["b"].pk,
                "token": m.company_feed_a.token,
            },
            get=roles({}, default=DENIED, anon=DENIED),
        ),
    ],
    "dispatch:public_feed": [Case("-", get=public)],
    "dispatch:busy_blocks": [
        Case(
            "delete B's expert's block",
            get=only("expert"),
            post=nobody,
            data=lambda m: {"action": "delete", "block": m.busy_b.pk},
        ),
    ],
    # --- hr ----------------------------------------------------------------------
    "hr:dashboard": _company_cases(),
    "hr:matrix": _company_cases(),
    "hr:employee": [
        Case(
            "learner of A",
            lambda m: {
                "company_id": m.companies["a"].pk,
                "user_id": m.world.learner.pk,
            },
            get=only("hr_a", *STAFF),
        ),
        Case(
            "learner of B",
            lambda m: {
                "company_id": m.companies["b"].pk,
                "user_id": m.world.other_learner.pk,
            },
            get=only("hr_b", *STAFF),
        ),
        Case(
            "company A, learner of B",
            lambda m: {
                "company_id": m.companies["a"].pk,
                "user_id": m.world.other_learner.pk,
            },
            get=nobody,
        ),
    ],
    "hr:exports": _company_cases(
        post=True, data=lambda m: {"kind": "matrix", "fmt": "xlsx"}
    ),
    "hr:export_status": _company_object_cases("export_a", "export_b"),
    "hr:export_download": _company_object_cases("export_a", "export_b"),
    "hr:import": _company_cases(post=True, data=lambda m: {}),
    "hr:import_preview": _company_object_cases("import_a", "import_b", post=True),
    "hr:assign": _company_cases(
        post=True,
        data=lambda m: {"course": m.open_course.pk, "people": m.world.learner.email},
    ),
    "hr:digest_preference": _company_cases(
        post=True, data=lambda m: {"weekly_digest": "on"}
    ),
    # --- h-cred-hr: competence matrix, auditor links, bulk code check -----------
    "hr:competence": _company_cases(),
    "hr:auditor_links": _company_cases(
        post=True,
        data=lambda m: {
            "label": "ISO/IEC 17025 audit 2026",
            "expires_on": m.auditor_expires_on,
        },
    ),
    "hr:auditor_link": _company_object_cases("auditor_a", "auditor_b"),
    "hr:auditor_link_revoke": [
        Case(
            "A's",
            lambda m: {"company_id": m.companies["a"].pk, "link_id": m.auditor_a.pk},
            get=post_only,
            post=only("hr_a", *STAFF),
        ),
        Case(
            "B's",
            lambda m: {"company_id": m.companies["b"].pk, "link_id": m.auditor_b.pk},
            get=post_only,
            post=only("hr_b", *STAFF),
        ),
        Case(
            "company A, B's link",
            lambda m: {"company_id": m.companies["a"].pk, "link_id": m.auditor_b.pk},
            get=post_only,
            post=nobody,
        ),
    ],
    "hr:auditor_view": [
        # The token is the capability: anyone holding it sees A's matrix.
        Case("A's active link", lambda m: {"token": "matrix-auditor-a"}, get=public),
        Case(
            "unknown token",
            lambda m: {"token": "x" * 43},
            get=roles({}, default=DENIED, anon=DENIED),
        ),
        # 410 Gone with a message only (asserted in tests/hr/test_auditor_links.py).
        Case(
            "A's expired link",
            lambda m: {"token": "matrix-auditor-expired"},
            get=roles({}, default=UNCHANGED, anon=UNCHANGED),
        ),
        Case(
            "A's revoked link",
            lambda m: {"token": "matrix-auditor-revoked"},
            get=roles({}, default=UNCHANGED, anon=UNCHANGED),
        ),
    ],
    "certificates:verify_bulk": [
        Case(
            "-",
            get=public,
            post=public,
            data=lambda m: {"codes": f"{m.certificate_a.code}\nnot-a-code"},
        )
    ],
    "certificates:verify_bulk_json": [
        Case(
            "-",
            get=post_only,
            post=public,
            data=lambda m: {"codes": m.certificate_a.code},
        )
    ],
    # --- end h-cred-hr ------------------------------------------------------------
    # --- h-reviewers: HR names course reviewers --------------------------------------
    "organizations:membership_course_reviewer": [
        Case(
            "the partner lead's expert",
            lambda m: {
                "company_id": m.companies["p"].pk,
                "membership_id": m.membership_partner.pk,
            },
            get=post_only,
            post=only(*STAFF),
            data=lambda m: {"value": "1"},
        ),
        Case(
            "A's learner (not an expert: refused with a message)",
            lambda m: {
                "company_id": m.companies["a"].pk,
                "membership_id": m.membership_a.pk,
            },
            get=post_only,
            post=roles({"hr_a": REFUSED, "coordinator": REFUSED, "superuser": REFUSED}),
            data=lambda m: {"value": "1"},
        ),
        Case(
            "company A, membership of B",
            lambda m: {
                "company_id": m.companies["a"].pk,
                "membership_id": m.membership_b.pk,
            },
            get=post_only,
            post=nobody,
            data=lambda m: {"value": "1"},
        ),
    ],
    # --- end h-reviewers -------------------------------------------------------------
}

# URL names that cannot be checked yet, with the reason. Keep this empty.
KNOWN_GAPS: dict[str, str] = {}

# Declared URLs whose checks currently fail because of a bug in the app
# (reported to its owner). Each must fail: strict xfail.
KNOWN_BUGS: dict[str, str] = {}


def _checkin_token(visit) -> str:
    from dispatch.services import checkin_token

    return checkin_token(visit)


# --- the URL walk ----------------------------------------------------------


@dataclass(frozen=True)
class Route:
    route: str
    name: str | None


def _is_wagtail_catch_all(resolver: URLResolver) -> bool:
    module = resolver.urlconf_module
    return getattr(module, "__name__", "") == "wagtail.urls"


def walk(patterns=None, prefix: str = "", namespace: str = "") -> list[Route]:
    if patterns is None:
        patterns = get_resolver().url_patterns
    routes: list[Route] = []
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            if _is_wagtail_catch_all(pattern):
                continue
            inner = namespace
            if pattern.namespace:
                inner = (
                    f"{namespace}:{pattern.namespace}"
                    if namespace
                    else (pattern.namespace)
                )
            routes.extend(walk(pattern.url_patterns, route, inner))
        elif isinstance(pattern, URLPattern):
            name = pattern.name
            if name and namespace:
                name = f"{namespace}:{name}"
            routes.append(Route(route=route, name=name))
    return routes


def _excluded(route: str) -> bool:
    bare = route.lstrip("^")
    if bare.startswith(INCLUDED_DESPITE_PREFIX):
        return False
    return bare.startswith(EXCLUDED_PREFIXES)


def project_routes() -> list[Route]:
    return [r for r in walk() if not _excluded(r.route)]


def test_every_url_is_declared():
    routes = project_routes()
    unnamed = sorted(r.route for r in routes if not r.name)
    undeclared = sorted(
        f"{r.name}  ({r.route})"
        for r in routes
        if r.name and r.name not in MATRIX and r.name not in KNOWN_GAPS
    )
    assert not unnamed, (
        "URL patterns without a name cannot be declared in the permission "
        f"matrix; name them: {unnamed}"
    )
    assert not undeclared, (
        "These URLs have no declared expectation in tests/security/"
        "test_url_matrix.py MATRIX; add a Case for each role and object:\n  "
        + "\n  ".join(undeclared)
    )


def test_no_stale_declarations():
    names = {r.name for r in project_routes()}
    stale = sorted(set(MATRIX) - names)
    assert not stale, f"Declared in MATRIX but no longer routed: {stale}"


def test_walk_sees_every_app_and_skips_third_party_areas():
    routes = project_routes()
    namespaces = {r.name.split(":")[0] for r in routes if r.name and ":" in r.name}
    assert {"organizations", "courses", "dispatch"} <= namespaces
    assert all(not r.route.startswith("admin/") for r in routes)
    assert any(r.name == "profile" for r in routes)
    assert not any((r.name or "").startswith("account_") for r in routes)


# --- running one declaration -------------------------------------------------


def _snapshot() -> dict[str, list[tuple]]:
    """Every row of every project model (and group memberships)."""
    base = str(settings.BASE_DIR)
    ours = [
        config
        for config in apps.get_app_configs()
        if str(config.path).startswith(base) and ".venv" not in str(config.path)
    ]
    state: dict[str, list[tuple]] = {}
    for config in ours:
        for model in config.get_models():
            meta = model._meta
            if meta.proxy or not meta.managed:
                continue
            ignored = IGNORED_COLUMNS.get(meta.label_lower, set())
            columns = [
                f.attname for f in meta.concrete_fields if f.attname not in ignored
            ]
            state[meta.label_lower] = list(
                model._base_manager.order_by("pk").values_list(*columns)
            )
    through = apps.get_model(settings.AUTH_USER_MODEL).groups.through
    state["users.user_groups"] = list(
        through.objects.order_by("pk").values_list("user_id", "group_id")
    )
    return state


def _diff(before: dict, after: dict) -> list[str]:
    return sorted(label for label in before if before[label] != after.get(label))


def _is_login_redirect(response) -> bool:
    if response.status_code not in (301, 302, 303, 307, 308):
        return False
    return response["Location"].split("?")[0].endswith(reverse("account_login"))


def _check(outcome: str, response, changed: list[str], method: str) -> str | None:
    status = response.status_code
    if status >= 500:
        return f"server error {status}"
    if outcome == OK:
        if status in (403, 404, 405) or _is_login_redirect(response):
            return f"expected access, got {status}"
        return None
    if outcome == LOGIN:
        if not _is_login_redirect(response):
            return f"expected a redirect to login, got {status}"
    elif outcome == DENIED:
        if status not in (403, 404):
            return f"expected 403/404, got {status}"
    elif outcome == METHOD:
        if status != 405 and not _is_login_redirect(response):
            return f"expected 405 for {method}, got {status}"
    elif outcome == REFUSED:
        if 200 <= status < 300:
            return f"expected a refusal (redirect/400/403/404), got {status}"
        if _is_login_redirect(response):
            return "expected a refusal, got a redirect to login"
    elif outcome == UNCHANGED:
        pass
    else:  # pragma: no cover - a typo in the table
        return f"unknown outcome {outcome!r}"
    if method == "POST" and changed:
        return f"a refused POST changed {changed}"
    return None


def _request(client: Client, method: str, url: str, case: Case, m: MatrixWorld):
    if method == "GET":
        return client.get(url)
    data = case.data(m)
    if case.json:
        return client.post(url, data=data, content_type="application/json")
    return client.post(url, data=data)


def run_case(m: MatrixWorld, clients: dict[str, Client], name: str, case: Case):
    failures: list[str] = []
    url = reverse(name, kwargs=case.kwargs(m))
    for method, expect in (("GET", case.get), ("POST", case.post)):
        if expect is None:
            continue
        for role in ROLES:
            outcome = expect(role)
            with transaction.atomic():
                before = _snapshot() if method == "POST" else {}
                try:
                    response = _request(clients[role], method, url, case, m)
                except Exception as error:  # noqa: BLE001 - reported below
                    failures.append(
                        f"{method} {url} [{case.target}] as {role}: raised "
                        f"{error.__class__.__name__}: {error}"
                    )
                    transaction.set_rollback(True)
                    continue
                changed = _diff(before, _snapshot()) if method == "POST" else []
                transaction.set_rollback(True)
            problem = _check(outcome, response, changed, method)
            if problem:
                failures.append(
                    f"{method} {url} [{case.target}] as {role}: {problem} "
                    f"(declared {outcome})"
                )
    return failures


def names_in(*namespaces: str) -> list[str]:
    """MATRIX names of these namespaces ("" = URLs without a namespace)."""

    def namespace(name: str) -> str:
        return name.split(":", 1)[0] if ":" in name else ""

    return sorted(name for name in MATRIX if namespace(name) in namespaces)


def matrix_params(names: list[str]):
    """One test per URL name; known bugs are strict xfails."""
    for name in names:
        marks = []
        if name in KNOWN_BUGS:
            marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[name]))
        yield pytest.param(name, id=name, marks=marks)


# The URL checks are split over test_url_matrix_<area>.py so that
# ``--dist loadfile`` spreads them over workers; every namespace must be run
# by exactly one of them.
SPLIT = {
    "project": ("", "organizations"),
    "courses": ("courses",),
    "certificates": ("certificates", "credentials"),
    "dispatch": ("dispatch",),
    "hr": ("hr",),
}


def check_url(name: str, world, home_page, settings) -> None:
    settings.ACADEMY_PUBLIC_BASE_URL = "http://testserver"
    cases = MATRIX[name]
    render = any(case.render_certificates for case in cases)
    m = build(
        world,
        home_page,
        render_certificates=render,
        with_credentials=name.startswith("credentials:"),
    )
    role_clients = {}
    for role, user in m.users.items():
        client = Client(raise_request_exception=True)
        if user is not None:
            client.force_login(user)
        role_clients[role] = client
    failures: list[str] = []
    for case in cases:
        failures.extend(run_case(m, role_clients, name, case))
    assert not failures, "\n".join(failures)


def test_every_declared_namespace_is_run():
    covered = {ns for namespaces in SPLIT.values() for ns in namespaces}
    declared = {name.split(":", 1)[0] if ":" in name else "" for name in MATRIX}
    assert declared <= covered, (
        f"add {sorted(declared - covered)} to SPLIT and a test_url_matrix_<area>.py"
    )


@pytest.mark.django_db
@pytest.mark.parametrize("name", list(matrix_params(names_in(*SPLIT["project"]))))
def test_url_permissions(name, world, home_page, settings):
    check_url(name, world, home_page, settings)


# --- the checker itself ------------------------------------------------------


class _Response(dict):
    def __init__(self, status, location=None):
        super().__init__()
        self.status_code = status
        if location:
            self["Location"] = location


@pytest.mark.parametrize(
    ("outcome", "status", "location", "changed", "method", "fails"),
    [
        (DENIED, 200, None, [], "GET", True),  # a leak is caught
        (DENIED, 403, None, [], "GET", False),
        (DENIED, 404, None, [], "GET", False),
        (DENIED, 403, None, ["organizations.membership"], "POST", True),
        (REFUSED, 302, "/x/", ["courses.enrollment"], "POST", True),
        (REFUSED, 302, "/x/", [], "POST", False),
        (REFUSED, 200, None, [], "POST", True),
        (LOGIN, 200, None, [], "GET", True),
        (LOGIN, 302, "/accounts/login/?next=/x/", [], "GET", False),
        (OK, 302, "/accounts/login/?next=/x/", [], "GET", True),
        (OK, 403, None, [], "GET", True),
        (OK, 500, None, [], "GET", True),
        (METHOD, 200, None, [], "GET", True),
        (UNCHANGED, 400, None, ["dispatch.registration"], "POST", True),
    ],
)
def test_checker_catches_leaks(outcome, status, location, changed, method, fails):
    problem = _check(outcome, _Response(status, location), changed, method)
    assert bool(problem) is fails, problem
