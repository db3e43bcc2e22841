"""HR predicates as a table: each role × own company and another company."""

import pytest

from hr.models import ExportJob
from hr.permissions import (
    can_assign_courses,
    can_download_export,
    can_export_company_reports,
    can_import_people,
    can_view_company_dashboard,
    can_view_employee,
)

PREDICATES = [
    can_view_company_dashboard,
    can_export_company_reports,
    can_import_people,
    can_assign_courses,
]


@pytest.mark.parametrize("predicate", PREDICATES)
@pytest.mark.parametrize(
    ("who", "company", "expected"),
    [
        ("hr", "partner_sme", True),
        ("hr", "other_sme", False),
        ("hr", "lead", False),
        ("lead_hr", "lead", True),
        ("lead_hr", "partner_sme", False),
        ("learner", "partner_sme", False),
        ("expert", "lead", False),
        ("coordinator", "partner_sme", True),
        ("coordinator", "other_sme", True),
    ],
)
def test_company_predicates(world, predicate, who, company, expected):
    assert predicate(getattr(world, who), getattr(world, company)) is expected


def test_anonymous(world):
    from django.contrib.auth.models import AnonymousUser

    for predicate in PREDICATES:
        assert predicate(AnonymousUser(), world.partner_sme) is False


def test_inactive_company_blocks_changes_not_reading(world):
    world.partner_sme.is_active = False
    world.partner_sme.save()
    assert can_view_company_dashboard(world.hr, world.partner_sme)
    assert not can_import_people(world.hr, world.partner_sme)
    assert not can_assign_courses(world.hr, world.partner_sme)


@pytest.mark.parametrize(
    ("who", "person", "company", "expected"),
    [
        ("hr", "learner", "partner_sme", True),
        ("hr", "other_learner", "partner_sme", False),  # not a member here
        ("hr", "other_learner", "other_sme", False),  # not HR there
        ("other_hr", "learner", "partner_sme", False),
        ("coordinator", "learner", "partner_sme", True),
    ],
)
def test_can_view_employee(world, who, person, company, expected):
    company = getattr(world, company)
    membership = getattr(world, person).memberships.filter(company=company).first()
    assert can_view_employee(getattr(world, who), company, membership) is expected


@pytest.mark.parametrize(
    ("who", "expected"),
    [("hr", True), ("coordinator", True), ("other_hr", False), ("learner", False)],
)
def test_can_download_export(world, who, expected):
    job = ExportJob.objects.create(
        company=world.partner_sme, requested_by=world.hr, kind="matrix", fmt="csv"
    )
    assert can_download_export(getattr(world, who), job) is expected
