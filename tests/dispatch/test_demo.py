"""The issue's "done when" story, on the demo data."""

import io

import pytest
from django.urls import reverse
from icalendar import Calendar

from courses.models import Enrollment, EnrollmentStatus
from dispatch import demo, services
from dispatch.models import (
    DispatchSchedulePage,
    Registration,
    RequestStatus,
    Visit,
    VisitRequest,
    VisitStatus,
)
from users.models import User


@pytest.fixture
def demo_data(home_page):
    import courses.demo
    import organizations.demo

    out = io.StringIO()
    organizations.demo.load(stdout=out)
    courses.demo.load(stdout=out)
    demo.load(stdout=out)
    return out.getvalue()


@pytest.mark.slow
def test_demo_story(client, demo_data):
    assert "course completed" in demo_data
    # An SME's HR requested a visit; a coordinator scheduled an expert.
    visit_request = VisitRequest.objects.get(problem=demo.DEMO_REQUEST_PROBLEM)
    assert visit_request.status == RequestStatus.APPROVED
    visit = visit_request.visits.get()
    assert visit.status == VisitStatus.CONFIRMED
    expert = User.objects.get(email="expert.li@demo.academy.cn")
    assert visit.expert == expert
    # Participants registered.
    assert Registration.objects.filter(visit=visit, status="registered").count() == 2
    # The confirmed visit is in the expert's calendar feed (valid iCalendar).
    token = services.feed_token_create(user=expert, expert=expert)
    response = client.get(
        reverse("dispatch:expert_feed", args=[expert.pk, token.token])
    )
    calendar = Calendar.from_ical(response.content)
    uids = {str(event["uid"]) for event in calendar.walk("VEVENT")}
    assert visit.uid in uids
    assert calendar.walk("VTIMEZONE")[0]["tzid"] == "Asia/Shanghai"
    # The finished visit: attendance, report, and the course that required it.
    finished = Visit.objects.get(title=demo.PAST_VISIT_TITLE)
    assert finished.status == VisitStatus.COMPLETED
    assert finished.report.actions.count() == 2
    assert finished.registrations.get().attended
    learner = finished.registrations.get().user
    assert (
        Enrollment.objects.get(user=learner, course__code="PG-101").status
        == EnrollmentStatus.COMPLETED
    )
    # The public schedule page exists at /visits/ and the demo is idempotent.
    assert DispatchSchedulePage.objects.get().url_path.endswith("/visits/")
    assert client.get("/visits/").status_code == 200
    count = Visit.objects.count()
    demo.load(stdout=io.StringIO())
    assert Visit.objects.count() == count
