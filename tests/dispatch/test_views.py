from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar

from dispatch import services
from dispatch.models import DispatchSchedulePage, Visit, VisitRequest

from .factories import weekday_at


@pytest.fixture
def schedule_page(home_page):
    page = DispatchSchedulePage(
        title="专家派驻日程", slug="visits", intro="<p>日程</p>"
    )
    home_page.add_child(instance=page)
    page.save_revision().publish()
    return page


def _events(content: bytes):
    calendar = Calendar.from_ical(content)
    return calendar.walk("VEVENT")


def test_public_schedule_lists_confirmed_published_visits(
    client,
    schedule_page,
    world,
    confirmed_visit,
    propose,
    django_assert_max_num_queries,
):
    tentative = propose(start=weekday_at(9, weekday=3), title="尚未确认的派驻")
    with django_assert_max_num_queries(20):
        response = client.get("/visits/")
    assert response.status_code == 200
    html = response.content.decode()
    assert confirmed_visit.title in html
    assert tentative.title not in html
    response = client.get("/visits/", {"topic": "NOPE"})
    assert confirmed_visit.title not in response.content.decode()


def test_public_feed_is_valid_icalendar(client, schedule_page, confirmed_visit):
    response = client.get("/visits/feed.ics")
    assert response["Content-Type"].startswith("text/calendar")
    events = _events(response.content)
    assert [str(e["uid"]) for e in events] == [confirmed_visit.uid]
    # The public feed does not reveal the expert's e-mail address.
    assert b"mailto:" not in response.content


def test_schedule_query_count_flat(
    client, schedule_page, world, propose, django_assert_max_num_queries
):
    for day in range(5):
        visit = propose(start=weekday_at(9, weekday=day))
        services.visit_accept(visit=visit, user=world.expert)
    with django_assert_max_num_queries(20):
        response = client.get("/visits/")
    assert response.content.decode().count("dispatch/visits/") >= 5


def test_expert_feed_token(client, world, confirmed_visit):
    token = services.feed_token_create(user=world.expert, expert=world.expert)
    url = reverse("dispatch:expert_feed", args=[world.expert.pk, token.token])
    response = client.get(url)
    assert response.status_code == 200
    events = _events(response.content)
    assert len(events) == 1
    assert events[0]["status"] == "CONFIRMED"
    assert events[0].decoded("dtstart") == confirmed_visit.starts_at
    # Another expert's id with this token: rejected with a clear message.
    other = reverse("dispatch:expert_feed", args=[world.other_expert.pk, token.token])
    response = client.get(other)
    assert response.status_code == 404
    assert "not valid or has been revoked" in response.content.decode()
    services.feed_token_revoke(token=token, user=world.expert)
    assert client.get(url).status_code == 404


def test_feed_token_of_another_expert_cannot_be_created(world):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.feed_token_create(user=world.expert, expert=world.other_expert)
    with pytest.raises(PermissionDenied):
        services.feed_token_create(user=world.other_hr, company=world.partner_sme)


def test_company_feed_and_rotation(client, world, confirmed_visit):
    first = services.feed_token_create(user=world.hr, company=world.partner_sme)
    second = services.feed_token_create(user=world.hr, company=world.partner_sme)
    first.refresh_from_db()
    assert first.revoked_at is not None
    url = reverse("dispatch:company_feed", args=[world.partner_sme.pk, second.token])
    assert len(_events(client.get(url).content)) == 1
    wrong = reverse("dispatch:company_feed", args=[world.other_sme.pk, second.token])
    assert client.get(wrong).status_code == 404


def test_visit_ics_download(client, world, confirmed_visit):
    response = client.get(reverse("dispatch:visit_ics", args=[confirmed_visit.pk]))
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    event = _events(response.content)[0]
    assert event["sequence"] == confirmed_visit.sequence


def test_private_visit_needs_login_and_boundaries(client, world, propose):
    visit = propose(published=False)
    url = reverse("dispatch:visit_detail", args=[visit.pk])
    assert client.get(url).status_code == 302
    client.force_login(world.other_hr)
    assert client.get(url).status_code == 403
    client.force_login(world.hr)
    assert client.get(url).status_code == 200


def test_my_visits_page(
    client, world, propose, confirmed_visit, django_assert_max_num_queries
):
    propose(start=weekday_at(9, weekday=3))
    client.force_login(world.expert)
    with django_assert_max_num_queries(25):
        response = client.get(reverse("dispatch:my_visits"))
    assert response.status_code == 200
    client.force_login(world.hr)
    assert client.get(reverse("dispatch:my_visits")).status_code == 403


def test_expert_accepts_through_page(client, world, propose):
    visit = propose()
    client.force_login(world.expert)
    response = client.post(
        reverse("dispatch:visit_respond", args=[visit.pk]), {"action": "accept"}
    )
    assert response.status_code == 302
    visit.refresh_from_db()
    assert visit.status == "confirmed"


def test_hr_requests_visit_through_form(client, world, dispatch):
    client.force_login(world.hr)
    start = timezone.localdate() + timedelta(days=10)
    response = client.post(
        reverse("dispatch:request_create"),
        {
            "company": world.partner_sme.pk,
            "topic": dispatch.topic.pk,
            "problem": "压力表示值误差",
            "expected_participants": 6,
            "mode": "on_site",
            "window1_start": start.isoformat(),
            "window1_end": (start - timedelta(days=3)).isoformat(),
        },
    )
    assert response.status_code == 200
    assert "cannot end" in response.content.decode()
    assert not VisitRequest.objects.exists()
    response = client.post(
        reverse("dispatch:request_create"),
        {
            "company": world.partner_sme.pk,
            "topic": dispatch.topic.pk,
            "problem": "压力表示值误差",
            "expected_participants": 6,
            "mode": "on_site",
            "window1_start": start.isoformat(),
            "window1_end": (start + timedelta(days=3)).isoformat(),
        },
    )
    visit_request = VisitRequest.objects.get()
    assert response.url == reverse("dispatch:request_detail", args=[visit_request.pk])
    assert client.get(reverse("dispatch:our_visits")).status_code == 200
    client.force_login(world.other_hr)
    assert client.get(response.url).status_code == 403


def test_board_and_slot_finder(client, world, dispatch, django_assert_max_num_queries):
    visit_request = services.visit_request_submit(
        user=world.hr,
        company=world.partner_sme,
        topic=dispatch.topic,
        problem="指导",
        any_date=True,
    )
    client.force_login(world.coordinator)
    with django_assert_max_num_queries(20):
        response = client.get(reverse("dispatch:board"))
    assert "压力表检定与校准" in response.content.decode()
    day = weekday_at(9).date()
    response = client.get(
        reverse("dispatch:request_schedule", args=[visit_request.pk]),
        {"start": day, "end": day, "duration_minutes": 180},
    )
    slots = response.context["slots"]
    assert slots and {s.expert_id for s in slots} == {world.expert.pk}
    slot = slots[0]
    response = client.post(
        reverse("dispatch:request_schedule", args=[visit_request.pk]),
        {
            "expert": slot.expert_id,
            "starts_at": timezone.localtime(slot.starts_at).strftime("%Y-%m-%dT%H:%M"),
            "ends_at": timezone.localtime(slot.ends_at).strftime("%Y-%m-%dT%H:%M"),
            "capacity": 6,
            "published": "on",
        },
    )
    visit = Visit.objects.get()
    assert response.url == reverse("dispatch:visit_detail", args=[visit.pk])
    # The slot is gone from the finder now.
    response = client.get(
        reverse("dispatch:request_schedule", args=[visit_request.pk]),
        {"start": day, "end": day, "duration_minutes": 180},
    )
    assert all(s.starts_at >= visit.ends_at for s in response.context["slots"])
    client.force_login(world.learner)
    assert client.get(reverse("dispatch:board")).status_code == 403


def test_attendance_page_and_qr(client, world, confirmed_visit):
    client.force_login(world.expert)
    response = client.get(
        reverse("dispatch:visit_attendance", args=[confirmed_visit.pk])
    )
    assert response.status_code == 200
    qr = client.get(reverse("dispatch:visit_qr", args=[confirmed_visit.pk]))
    assert qr["Content-Type"] == "image/svg+xml"
    client.force_login(world.learner)
    assert (
        client.get(
            reverse("dispatch:visit_attendance", args=[confirmed_visit.pk])
        ).status_code
        == 403
    )


def test_forged_check_in_page(client, world):
    client.force_login(world.learner)
    response = client.get(reverse("dispatch:check_in", args=["forged-token"]))
    assert response.status_code == 400
    assert "not valid" in response.content.decode()


def test_busy_blocks_page(client, world, confirmed_visit):
    from dispatch.models import ExpertBusyBlock

    client.force_login(world.expert)
    url = reverse("dispatch:busy_blocks")
    local = timezone.localtime(confirmed_visit.starts_at)
    response = client.post(
        url,
        {
            "starts_at": local.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (local + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "reason": "年假",
        },
    )
    assert response.status_code == 200
    assert confirmed_visit.title in response.content.decode()
    assert not ExpertBusyBlock.objects.exists()
    later = local + timedelta(days=1)
    response = client.post(
        url,
        {
            "starts_at": later.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (later + timedelta(hours=8)).strftime("%Y-%m-%dT%H:%M"),
            "reason": "年假",
        },
    )
    block = ExpertBusyBlock.objects.get()
    client.force_login(world.other_expert)
    response = client.post(url, {"action": "delete", "block": block.pk})
    assert response.status_code == 404
    client.force_login(world.expert)
    client.post(url, {"action": "delete", "block": block.pk})
    assert not ExpertBusyBlock.objects.exists()


def test_our_visits_query_count(
    client, world, dispatch, propose, django_assert_max_num_queries
):
    for day in range(4):
        visit = propose(start=weekday_at(9, weekday=day))
        services.visit_register(
            visit=visit, participant=world.learner, registered_by=world.hr
        )
    services.visit_request_submit(
        user=world.hr,
        company=world.partner_sme,
        topic=dispatch.topic,
        problem="期间核查",
        any_date=True,
    )
    client.force_login(world.hr)
    with django_assert_max_num_queries(20):
        response = client.get(reverse("dispatch:our_visits"))
    assert response.status_code == 200
    assert len(response.context["upcoming"]) == 4
    client.force_login(world.other_hr)
    response = client.get(reverse("dispatch:our_visits"))
    assert response.context["upcoming"] == []


def test_my_learning_lists_registered_visits(client, world, confirmed_visit):
    from dispatch.wagtail_hooks import my_learning_visits

    services.visit_register(
        visit=confirmed_visit, participant=world.learner, registered_by=world.hr
    )
    request = client.get("/").wsgi_request
    request.user = world.learner
    assert confirmed_visit.title in my_learning_visits(request)
    request.user = world.other_learner
    assert my_learning_visits(request) == ""


def test_expert_profile_page_and_admin_board_link(
    client, world, schedule_page, confirmed_visit
):
    from dispatch.models import ExpertProfilePage, ExpertQualification

    profile = ExpertProfilePage(
        title="李建国",
        slug="li-jianguo",
        user=world.expert,
        employer=world.lead,
        bio="<p>压力计量专家</p>",
    )
    profile.qualifications = [
        ExpertQualification(grade="registered_1", certificate_number="ZJL1-001")
    ]
    schedule_page.add_child(instance=profile)
    profile.save_revision().publish()
    response = client.get("/visits/li-jianguo/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "ZJL1-001" in html and confirmed_visit.title in html
    client.force_login(world.coordinator)
    world.coordinator.is_superuser = True
    world.coordinator.save()
    response = client.get(reverse("wagtailadmin_home"))
    assert reverse("dispatch:board") in response.content.decode()
