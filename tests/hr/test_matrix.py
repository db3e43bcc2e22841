"""Matrix cells, filters, sorting, the dashboard figures, and query counts."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from courses.models import EnrollmentStatus
from hr.models import CourseAssignment
from hr.selectors import (
    CellStatus,
    company_courses,
    company_dashboard,
    matrix_cells,
    matrix_people,
)
from tests.factories import MembershipFactory, UserFactory

from .factories import certificate, enrol, progress


@pytest.fixture
def staff(world, course, course2):
    """Five employees of the partner SME in every state."""
    today = timezone.localdate()
    people = {}
    for key, number, dept in [
        ("fresh", "E001", "质检部"),
        ("learning", "E002", "质检部"),
        ("done", "E003", "计量室"),
        ("expiring", "E004", "计量室"),
        ("revoked", "E005", "生产部"),
    ]:
        people[key] = MembershipFactory(
            company=world.partner_sme,
            employee_number=number,
            department=dept,
            user=UserFactory(name=f"员工{number}"),
        ).user
    enrol(user=people["fresh"], course=course)
    e = enrol(user=people["learning"], course=course)
    progress(enrollment=e, seconds=900, completed=True)
    enrol(user=people["done"], course=course, status=EnrollmentStatus.COMPLETED)
    e = enrol(user=people["expiring"], course=course, status=EnrollmentStatus.COMPLETED)
    certificate(
        user=people["expiring"],
        course=course,
        company=world.partner_sme,
        valid_until=today + timedelta(days=30),
        enrollment=e,
    )
    e = enrol(user=people["revoked"], course=course, status=EnrollmentStatus.COMPLETED)
    certificate(
        user=people["revoked"],
        course=course,
        company=world.partner_sme,
        valid_until=today + timedelta(days=700),
        revoked=True,
    )
    # An expired certificate in the second course.
    e = enrol(user=people["done"], course=course2, status=EnrollmentStatus.COMPLETED)
    certificate(
        user=people["done"],
        course=course2,
        company=world.partner_sme,
        valid_until=today - timedelta(days=1),
    )
    # Overdue assignment.
    CourseAssignment.objects.create(
        company=world.partner_sme,
        course=course2,
        user=people["fresh"],
        due_on=today - timedelta(days=3),
    )
    # Someone else's employee in the same course: never shown.
    enrol(user=world.other_learner, course=course, status=EnrollmentStatus.COMPLETED)
    return people


def _cells(world, courses):
    people = list(matrix_people(company=world.partner_sme))
    rows = matrix_cells(company=world.partner_sme, memberships=people, courses=courses)
    return {row.membership.user.name: row.cells for row in rows}


def test_cell_statuses(world, course, course2, staff):
    cells = _cells(world, [course, course2])
    assert cells["员工E001"][0].status == CellStatus.NOT_STARTED
    assert cells["员工E001"][1].overdue
    assert cells["员工E002"][0].status == CellStatus.IN_PROGRESS
    assert cells["员工E002"][0].percent == 50
    assert cells["员工E002"][0].text == "In progress 50%"
    assert cells["员工E003"][0].status == CellStatus.COMPLETED
    assert cells["员工E003"][1].status == CellStatus.EXPIRED
    assert cells["员工E004"][0].status == CellStatus.EXPIRING
    assert cells["员工E004"][0].text.startswith("Valid until ")
    assert cells["员工E005"][0].status == CellStatus.REVOKED
    assert world.other_learner.name not in cells


def test_company_courses_only_from_own_people(world, course, course2, staff, home_page):
    from .factories import make_course

    other = make_course(parent=home_page, publisher=world.other_lead, code="EN-301")
    enrol(user=world.other_learner, course=other)
    codes = [c.code for c in company_courses(company=world.partner_sme)]
    assert codes == ["MU-201", "PG-101"]


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (CellStatus.NOT_STARTED, {"员工E001"}),
        (CellStatus.IN_PROGRESS, {"员工E002"}),
        (CellStatus.COMPLETED, {"员工E003", "员工E004", "员工E005"}),
        (CellStatus.EXPIRING, {"员工E004"}),
        (CellStatus.EXPIRED, set()),
        (CellStatus.REVOKED, {"员工E005"}),
        (CellStatus.OVERDUE, set()),
    ],
)
def test_status_filter_for_one_course(world, course, staff, status, expected):
    people = matrix_people(
        company=world.partner_sme, status=status, course_id=course.pk
    )
    assert {m.user.name for m in people} == expected


def test_status_filter_any_course(world, course, staff):
    names = {
        m.user.name
        for m in matrix_people(company=world.partner_sme, status=CellStatus.EXPIRED)
    }
    assert names == {"员工E003"}
    overdue = matrix_people(company=world.partner_sme, status=CellStatus.OVERDUE)
    assert {m.user.name for m in overdue} == {"员工E001"}


def test_department_filter_and_sort(world, staff):
    people = matrix_people(
        company=world.partner_sme, department="计量室", sort="-number"
    )
    assert [m.employee_number for m in people] == ["E004", "E003"]


def test_matrix_page_filters(client, world, course, staff):
    client.force_login(world.hr)
    url = reverse("hr:matrix", args=[world.partner_sme.pk])
    response = client.get(url, {"status": "revoked", "course": course.pk})
    html = response.content.decode()
    assert "员工E005" in html
    assert "员工E001" not in html
    assert "Certificate revoked" in html  # text, not colour alone
    # Bad filter values are ignored, not a server error.
    assert client.get(url, {"status": "nonsense", "course": "x"}).status_code == 200


def test_dashboard_figures(world, course, course2, staff):
    data = company_dashboard(company=world.partner_sme)
    # world.hr, world.learner and five staff.
    assert data.employees == 7
    assert data.active_learners_month == 1
    assert data.completed_total == 4
    assert data.certificates == {"valid": 1, "expiring": 1, "expired": 1, "revoked": 1}
    assert data.credited_hours_year == Decimal("32.0")
    assert data.overdue_count == 1
    assert sum(m["completions"] for m in data.monthly) == 4
    assert len(data.monthly) == 12
    by_course = {row["course_code"]: row for row in data.certificates_by_course}
    assert by_course["PG-101"]["expiring"] == 1
    assert by_course["PG-101"]["revoked"] == 1
    assert by_course["MU-201"]["expired"] == 1


def test_dashboard_page_has_charts(client, world, staff):
    client.force_login(world.hr)
    html = client.get(reverse("hr:dashboard", args=[world.partner_sme.pk])).content
    html = html.decode()
    assert html.count("<svg") >= 2
    assert "Certificate status per course" in html
    assert '<script src="http' not in html  # nothing from a CDN


def _add_people(world, course, n):
    for _ in range(n):
        user = MembershipFactory(company=world.partner_sme).user
        e = enrol(user=user, course=course)
        progress(enrollment=e)
        certificate(user=user, course=course, company=world.partner_sme)


@pytest.mark.parametrize("page", ["hr:dashboard", "hr:matrix"])
def test_query_count_does_not_grow(
    client, world, course, staff, page, django_assert_max_num_queries
):
    client.force_login(world.hr)
    url = reverse(page, args=[world.partner_sme.pk])
    client.get(url)
    with django_assert_max_num_queries(25) as small:
        assert client.get(url).status_code == 200
    _add_people(world, course, 30)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert client.get(url).status_code == 200


def test_employee_detail_query_count(
    client, world, course, staff, django_assert_max_num_queries
):
    client.force_login(world.hr)
    url = reverse("hr:employee", args=[world.partner_sme.pk, staff["done"].pk])
    with django_assert_max_num_queries(30):
        response = client.get(url)
    html = response.content.decode()
    assert "PG-101" in html and "MU-201" in html
    assert "Verify" in html


def test_employee_detail_shows_visits_at_this_company_only(client, world, course):
    from datetime import timedelta as td

    from dispatch.models import (
        PracticalAssessment,
        Registration,
        RegistrationStatus,
        Visit,
        VisitStatus,
    )
    from tests.dispatch.factories import TopicFactory

    start = timezone.now() - td(days=10)
    visits = []
    for title, company in [
        ("压力表现场指导", world.partner_sme),
        ("旧单位的走访", world.other_sme),
    ]:
        visit = Visit.objects.create(
            title=title,
            topic=TopicFactory(name=f"{title}专题"),
            host_company=company,
            lead_company=world.lead,
            expert=world.expert,
            starts_at=start,
            ends_at=start + td(hours=3),
            status=VisitStatus.COMPLETED,
        )
        Registration.objects.create(
            visit=visit,
            user=world.learner,
            company=company,
            status=RegistrationStatus.REGISTERED,
            attended=True,
        )
        PracticalAssessment.objects.create(
            visit=visit, user=world.learner, passed=True, recorded_by=world.expert
        )
        visits.append(visit)
        start += td(days=1)
    client.force_login(world.hr)
    html = client.get(
        reverse("hr:employee", args=[world.partner_sme.pk, world.learner.pk])
    ).content.decode()
    assert "压力表现场指导" in html
    assert "旧单位的走访" not in html
    assert "Passed" in html


def test_sort_by_progress_in_one_course(client, world, course, staff):
    people = matrix_people(
        company=world.partner_sme, course_id=course.pk, sort="-course"
    )
    names = [m.user.name for m in people]
    # Completed first (in employee-number order), then lessons done, then none.
    assert names[:3] == ["员工E003", "员工E004", "员工E005"]
    assert names[3] == "员工E002"
    client.force_login(world.hr)
    response = client.get(
        reverse("hr:matrix", args=[world.partner_sme.pk]),
        {"course": course.pk, "sort": "course"},
    )
    assert response.status_code == 200
    assert 'aria-sort="ascending"' in response.content.decode()
    # Without a course, "course" falls back to employee numbers.
    people = matrix_people(company=world.partner_sme, sort="course")
    assert list(people)
