"""Permission predicates: each role against own and other companies' objects."""

import pytest

from dispatch import permissions as perms
from dispatch import services

ROLES = [
    "coordinator",
    "expert",
    "lead_hr",
    "hr",
    "learner",
    "other_hr",
    "other_learner",
    "other_expert",
]


@pytest.fixture
def visit_request(world, dispatch):
    return services.visit_request_submit(
        user=world.hr,
        company=world.partner_sme,
        topic=dispatch.topic,
        problem="示值误差",
        any_date=True,
    )


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("coordinator", True),
        ("expert", False),
        ("lead_hr", False),
        ("hr", True),
        ("learner", False),
        ("other_hr", False),
        ("other_learner", False),
        ("other_expert", False),
    ],
)
def test_can_request_visit_for_partner_sme(world, role, expected):
    assert perms.can_request_visit(getattr(world, role), world.partner_sme) is expected


@pytest.mark.parametrize(
    ("role", "view", "decide", "edit"),
    [
        ("coordinator", True, True, False),
        ("expert", False, False, False),
        ("lead_hr", True, True, False),
        ("hr", True, False, True),
        ("learner", False, False, False),
        ("other_hr", False, False, False),
        ("other_learner", False, False, False),
        ("other_expert", False, False, False),
    ],
)
def test_visit_request_predicates(world, visit_request, role, view, decide, edit):
    user = getattr(world, role)
    assert perms.can_view_visit_request(user, visit_request) is view
    assert perms.can_decide_visit_request(user, visit_request) is decide
    assert perms.can_edit_visit_request(user, visit_request) is edit


@pytest.mark.parametrize(
    ("role", "view", "manage", "mark", "report", "respond"),
    [
        ("coordinator", True, True, True, True, False),
        ("expert", True, False, True, True, True),
        ("lead_hr", True, True, False, True, False),
        ("hr", True, False, False, True, False),
        ("learner", False, False, False, False, False),
        ("other_hr", False, False, False, False, False),
        ("other_learner", False, False, False, False, False),
        ("other_expert", False, False, False, False, False),
    ],
)
def test_unpublished_visit_predicates(
    world, propose, role, view, manage, mark, report, respond
):
    visit = propose(published=False)
    user = getattr(world, role)
    assert perms.can_view_visit(user, visit) is view
    assert perms.can_manage_visit(user, visit) is manage
    assert perms.can_mark_attendance(user, visit) is mark
    assert perms.can_view_report(user, visit) is report
    assert perms.can_respond_to_visit(user, visit) is respond


@pytest.mark.parametrize("role", ROLES)
def test_confirmed_published_visit_is_public(world, confirmed_visit, role):
    from django.contrib.auth.models import AnonymousUser

    assert perms.can_view_visit(getattr(world, role), confirmed_visit)
    assert perms.can_view_visit(AnonymousUser(), confirmed_visit)


@pytest.mark.parametrize(
    ("role", "expected"),
    [("coordinator", True), ("lead_hr", True), ("hr", False), ("expert", False)],
)
def test_board_access(world, role, expected):
    assert perms.can_view_board(getattr(world, role)) is expected


def test_visit_queryset_for_user(world, propose):
    from dispatch.models import Visit

    visit = propose(published=False)
    assert list(Visit.objects.for_user(world.hr)) == [visit]
    assert list(Visit.objects.for_user(world.lead_hr)) == [visit]
    assert list(Visit.objects.for_user(world.expert)) == [visit]
    assert not Visit.objects.for_user(world.other_hr).exists()
    assert not Visit.objects.for_user(world.other_expert).exists()
