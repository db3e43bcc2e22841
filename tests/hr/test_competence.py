"""Competence matrix (issue 9): employee × scope, statuses, filters, isolation,
query counts and exports."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from hr.models import ExportJob, ExportStatus
from hr.selectors import (
    CompetenceStatus,
    company_scopes,
    competence_people,
    competence_rows,
    scope_key,
)
from tests.factories import MembershipFactory, UserFactory

from .factories import certificate, credential, enrol, scope

pytestmark = pytest.mark.django_db


def _held(world, course, *, user=None, company=None, days=400, **flags):
    user = user or MembershipFactory(company=company or world.partner_sme).user
    cert = certificate(
        user=user,
        course=course,
        company=company or world.partner_sme,
        valid_until=timezone.localdate() + timedelta(days=days) if days else None,
        revoked=flags.pop("revoked", False),
    )
    credential(cert, **flags)
    return user, cert


@pytest.fixture
def scoped(world, course, course2):
    """PG-101 certifies one JJG 52 scope; MU-201 one other (targeted only)."""
    scope(course)
    scope(course2, instrument_class="数字压力计", range_max="100", level="approve")
    enrol(user=world.learner, course=course2)
    people = {
        "valid": _held(world, course, user=world.learner)[0],
        "expiring": _held(world, course, days=30)[0],
        "expired": _held(world, course, days=-5)[0],
        "renewal": _held(world, course, renewal=True)[0],
        "suspended": _held(world, course, suspended=True)[0],
        "revoked": _held(world, course, revoked=True)[0],
        "none": MembershipFactory(company=world.partner_sme, department="生产部").user,
    }
    # Another company's holder of the same scope: never in A's matrix.
    _held(world, course, user=world.other_learner, company=world.other_sme)
    return people


def _columns(world):
    return company_scopes(company=world.partner_sme)


def test_columns_are_held_and_targeted_scopes(world, scoped):
    columns = _columns(world)
    labels = [c.label for c in columns]
    assert len(columns) == 2, labels
    held = next(c for c in columns if c.instrument_class == "弹簧管式压力表")
    targeted = next(c for c in columns if c.instrument_class == "数字压力计")
    assert held.held
    assert targeted.targeted and not targeted.held
    assert held.label == "弹簧管式压力表 · 压力 0~60 MPa · 1.6级 · JJG 52-2013"
    assert held.procedure_label == "JJG 52-2013"


def test_old_revision_held_stays_a_column_of_its_own(world, course, scoped):
    """The credential froze JJG 52-2013; the course now teaches 2024: both
    columns, the 2013 holders in the old one."""
    from credentials.models import CompetenceScope

    CompetenceScope.objects.filter(course=course).delete()
    scope(course, revision="2024")
    enrol(user=scoped["none"], course=course)  # the course is taken here
    columns = _columns(world)
    gauges = [c for c in columns if c.instrument_class == "弹簧管式压力表"]
    revisions = sorted(c.revision for c in gauges)
    assert revisions == ["2013", "2024"]


def test_every_cell_status(world, scoped):
    columns = [c for c in _columns(world) if c.held]
    people = competence_people(company=world.partner_sme, columns=columns)
    rows = competence_rows(
        company=world.partner_sme, memberships=list(people), columns=columns
    )
    by_user = {row.membership.user_id: row.cells[0] for row in rows}
    expected = {
        "valid": CompetenceStatus.VALID,
        "expiring": CompetenceStatus.EXPIRING,
        "expired": CompetenceStatus.EXPIRED,
        "renewal": CompetenceStatus.RENEWAL,
        "suspended": CompetenceStatus.SUSPENDED,
        "revoked": CompetenceStatus.REVOKED,
        "none": CompetenceStatus.NONE,
    }
    for key, status in expected.items():
        assert by_user[scoped[key].pk].status == status, key
    cell = by_user[scoped["valid"].pk]
    assert cell.level == "perform"
    assert cell.text.startswith("May perform · Valid · until ")
    assert "hr-valid" in cell.html and "/v/" in cell.html
    assert by_user[scoped["expired"].pk].text.split(" · ")[-1].startswith("expired ")
    assert "hr-none" in by_user[scoped["none"].pk].html
    assert world.other_learner.pk not in by_user


def test_best_certificate_wins_when_two_cover_a_scope(world, course, home_page):
    from .factories import make_course

    scope(course)
    other = make_course(parent=home_page, publisher=world.lead, code="PG-201")
    scope(other, level="approve")  # same scope, higher level
    user, _cert = _held(world, course, revoked=True)
    _held(world, other, user=user)
    columns = _columns(world)
    assert len(columns) == 1
    rows = competence_rows(
        company=world.partner_sme,
        memberships=list(competence_people(company=world.partner_sme, columns=columns)),
        columns=columns,
    )
    cell = next(r.cells[0] for r in rows if r.membership.user_id == user.pk)
    assert (cell.status, cell.level) == (CompetenceStatus.VALID, "approve")


def test_scope_key_is_stable_and_ignores_level():
    a = {
        "instrument_class": "压力表",
        "range_min": "0",
        "range_max": "60",
        "procedure": "JJG 52",
        "revision": "2013",
        "level": "perform",
    }
    assert scope_key(a) == scope_key({**a, "level": "approve", "level_label": "x"})
    assert scope_key(a) != scope_key({**a, "revision": "2024"})
    assert len(scope_key(a)) == 12


def test_page_filters(client, world, scoped):
    client.force_login(world.hr)
    url = reverse("hr:competence", args=[world.partner_sme.pk])
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "JJG 52-2013" in html and "数字压力计" in html
    assert "Renewal required" in html and "Suspended" in html
    assert world.other_learner.name not in html  # another company's holder

    def names(**params):
        response = client.get(url, params)
        assert response.status_code == 200
        return {row.membership.user_id for row in response.context["rows"]}

    held = next(c for c in _columns(world) if c.held)
    assert names(status="suspended") == {scoped["suspended"].pk}
    assert names(status="renewal_required", scope=held.key) == {scoped["renewal"].pk}
    assert scoped["none"].pk in names(status="none", scope=held.key)
    assert scoped["valid"].pk not in names(status="none", scope=held.key)
    assert names(department="生产部") == {scoped["none"].pk}
    response = client.get(url, {"scope": held.key})
    assert [c.key for c in response.context["columns"]] == [held.key]
    # A bad filter value is ignored, not an error.
    assert client.get(url, {"scope": "nonsense", "status": "x"}).status_code == 200


def test_other_company_hr_and_learners_are_refused(client, world, scoped):
    url = reverse("hr:competence", args=[world.partner_sme.pk])
    for user in (world.other_hr, world.learner):
        client.force_login(user)
        assert client.get(url).status_code == 403


def test_former_employees_disappear(client, world, scoped):
    from organizations.models import Membership

    Membership.objects.filter(user=scoped["valid"], company=world.partner_sme).update(
        started_on=timezone.localdate() - timedelta(days=30),
        ended_on=timezone.localdate() - timedelta(days=1),
    )
    client.force_login(world.hr)
    response = client.get(reverse("hr:competence", args=[world.partner_sme.pk]))
    ids = {row.membership.user_id for row in response.context["rows"]}
    assert scoped["valid"].pk not in ids and scoped["expired"].pk in ids


def _add_holders(world, course, n):
    for _ in range(n):
        _held(world, course)
    _held(world, course, suspended=True)


@pytest.mark.parametrize("params", [{}, {"status": "valid"}])
def test_query_count_does_not_grow(
    client, world, course, scoped, params, django_assert_max_num_queries
):
    client.force_login(world.hr)
    url = reverse("hr:competence", args=[world.partner_sme.pk])
    client.get(url, params)
    with django_assert_max_num_queries(25) as small:
        assert client.get(url, params).status_code == 200
    _add_holders(world, course, 30)
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = client.get(url, params)
    assert response.status_code == 200
    assert len(response.context["rows"]) > 7


def _export(client, world, fmt, django_capture_on_commit_callbacks, **filters):
    client.force_login(world.hr)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("hr:exports", args=[world.partner_sme.pk]),
            {"kind": "competence", "fmt": fmt, **filters},
        )
    assert response.status_code == 302
    job = ExportJob.objects.latest("pk")
    assert job.status == ExportStatus.DONE, job.error
    download = client.get(
        reverse("hr:export_download", args=[world.partner_sme.pk, job.pk])
    )
    assert download.status_code == 200
    return b"".join(download.streaming_content), job


def test_export_xlsx(client, world, course, scoped, django_capture_on_commit_callbacks):
    evil = MembershipFactory(
        company=world.partner_sme,
        employee_number="=1+2",
        user=UserFactory(name="@SUM(A1)"),
    ).user
    _held(world, course, user=evil)
    data, job = _export(client, world, "xlsx", django_capture_on_commit_callbacks)
    assert job.get_kind_display() == "Competence matrix"
    sheet = load_workbook(io.BytesIO(data)).active
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    assert header[:3] == ("Employee number", "Name", "Department")
    assert "弹簧管式压力表 · 压力 0~60 MPa · 1.6级 · JJG 52-2013" in header
    assert "JJG 52-2013 valid until" in header
    assert sheet.freeze_panes == "D2"
    by_name = {row[1]: row for row in rows[1:]}
    assert "'@SUM(A1)" in by_name and by_name["'@SUM(A1)"][0] == "'=1+2"
    column = header.index("弹簧管式压力表 · 压力 0~60 MPa · 1.6级 · JJG 52-2013")
    learner = by_name[world.learner.name]
    assert learner[column].startswith("May perform · Valid")
    assert learner[column + 1].date() > timezone.localdate()  # a real date
    assert world.other_learner.name not in by_name


def test_export_csv_keeps_filters(
    client, world, scoped, django_capture_on_commit_callbacks
):
    data, job = _export(
        client, world, "csv", django_capture_on_commit_callbacks, status="suspended"
    )
    assert job.filters == {"status": "suspended"}
    text = data.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert len(rows) == 2
    assert rows[1][1] == scoped["suspended"].name


def test_dashboard_and_my_companies_link_to_the_matrix(client, world):
    client.force_login(world.hr)
    url = reverse("hr:competence", args=[world.partner_sme.pk])
    dashboard = client.get(reverse("hr:dashboard", args=[world.partner_sme.pk]))
    assert url in dashboard.content.decode()
    companies = client.get(reverse("organizations:my_companies"))
    assert companies.status_code in (200, 302)
    if companies.status_code == 200:
        assert url in companies.content.decode()
