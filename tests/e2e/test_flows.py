"""End-to-end flows in a real browser against the live server (issue 8, item 11).

Run with ``scripts/e2e`` (or ``E2E=1 .venv/bin/pytest tests/e2e``).
"""

from __future__ import annotations

import io
import re
import time
import zipfile

import pytest
from django.core import mail

from tests.factories import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def wait_for(predicate, *, timeout=30.0, interval=0.25, what="condition"):
    from django.db import OperationalError

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = predicate()
        except OperationalError:  # SQLite: the live server holds a lock
            result = None
        if result:
            return result
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}")


def log_in(page, user, password=PASSWORD):
    page.goto("/accounts/login/")
    form = page.locator("form:has(input[name=password])")
    form.locator("input[name=login]").fill(user.email)
    form.locator("input[name=password]").fill(password)
    form.locator("[type=submit]").first.click()
    page.wait_for_load_state()
    assert "/accounts/login/" not in page.url, page.content()[:2000]


def _link_in_last_mail(pattern: str, to: str) -> str:
    for message in reversed(mail.outbox):
        if to in message.to:
            found = re.search(pattern, message.body)
            if found:
                return found.group(0)
    raise AssertionError(f"no mail to {to} with {pattern}")


# --- a. sign up, verify e-mail, join through an HR invitation ------------------


def test_learner_signs_up_verifies_and_joins_through_invitation(
    world, home_page, browser_page, live_server
):
    from organizations.models import Membership
    from organizations.services import invitation_create

    invitation = invitation_create(
        invited_by=world.hr, company=world.partner_sme, email="wang.hao@example.cn"
    )
    invite_link = _link_in_last_mail(
        r"https?://\S+/invitations/\S+/", "wang.hao@example.cn"
    )
    assert invitation.token in invite_link

    page = browser_page("learner")
    page.goto(invite_link.replace(re.match(r"https?://[^/]+", invite_link)[0], ""))
    page.locator("#main").get_by_role("link", name=re.compile("Sign up")).click()
    form = page.locator("form:has(input[name=password1])")
    form.locator("input[name=email]").fill("wang.hao@example.cn")
    form.locator("input[name=name]").fill("王昊")
    form.locator("input[name=password1]").fill("Ji-Liang-2026-Correct!")
    form.locator("input[name=password2]").fill("Ji-Liang-2026-Correct!")
    form.locator("[type=submit]").first.click()
    page.wait_for_load_state()

    confirm = _link_in_last_mail(
        r"https?://\S+/accounts/confirm-email/\S+", "wang.hao@example.cn"
    )
    page.goto(confirm.replace(re.match(r"https?://[^/]+", confirm)[0], ""))
    page.locator("form:has([type=submit]) [type=submit]").last.click()
    page.wait_for_load_state()

    membership = wait_for(
        lambda: Membership.objects.filter(
            user__email="wang.hao@example.cn", company=world.partner_sme
        ).first(),
        what="the invitation to be accepted",
    )
    assert membership.role == "learner"
    page.goto("/accounts/profile/")
    assert world.partner_sme.name in page.content()


# --- b. + c. course, quiz, certificate, verify page; HR ZIP and XLSX -----------


@pytest.fixture
def pressure_course(world, home_page):
    from tests.courses import factories as course_factories

    track = course_factories.track(home_page)
    quiz = course_factories.quiz_block(
        [course_factories.question_numeric()], pass_mark=100, limit=3
    )
    return course_factories.course(
        track_page=track,
        publisher=world.lead,
        title="压力表检定与校准",
        quiz=quiz,
        min_seconds=2,
        title_en="Pressure gauge verification and calibration",
        certificate_validity_months=36,
        certificate_scope="依据 JJG 52-2013 开展一般压力表的检定与校准。",
        certificate_signatory=world.expert,
    )


def watch_heartbeats(page) -> list:
    heartbeats: list = []
    page.on(
        "response", lambda r: heartbeats.append(r) if "/heartbeat/" in r.url else None
    )
    return heartbeats


def wait_until_completed(page, heartbeats, *, timeout: float = 30.0) -> None:
    """Keep the lesson visible until a heartbeat reports it done."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        page.wait_for_timeout(250)
        for response in list(heartbeats):
            if response.ok and response.json().get("completed"):
                return
    raise AssertionError(f"{page.url} was not completed within {timeout} s")


def test_learner_completes_a_course_and_hr_downloads_zip_and_xlsx(
    world, home_page, pressure_course, browser_page, live_server
):
    from certificates.models import Certificate
    from certificates.rendering import verify_url
    from tests.courses.factories import catalogue, lessons_of

    lesson_urls = [lesson.url for lesson in lessons_of(pressure_course)]
    catalogue_url = catalogue(home_page).url
    learner = browser_page("learner")
    log_in(learner, world.learner)

    # Find the course by a Chinese keyword in the catalogue.
    learner.goto(catalogue_url)
    learner.locator("#course-q").fill("压力")
    learner.locator("#course-q").press("Enter")
    learner.wait_for_load_state()
    learner.get_by_role("link", name="压力表检定与校准").first.click()
    learner.get_by_role("button", name=re.compile("Enrol")).click()
    learner.wait_for_load_state()

    for url in lesson_urls[:-1]:
        heartbeats = watch_heartbeats(learner)
        learner.goto(url)
        wait_until_completed(learner, heartbeats)
    # The last lesson is complete once its quiz is passed.
    learner.goto(lesson_urls[-1])

    # The last lesson carries the quiz with a numeric answer and a unit.
    learner.get_by_role("button", name=re.compile("Start the quiz")).click()
    learner.wait_for_load_state()
    value = learner.locator("input[name$='-value']")
    value.fill("25.6")
    unit = learner.locator("select[name$='-unit']")
    if unit.count():
        unit.select_option("kPa")
    learner.get_by_role("button", name=re.compile("Submit answers")).click()
    learner.wait_for_load_state()
    assert "Quiz passed" in learner.content()
    heartbeats = watch_heartbeats(learner)
    wait_until_completed(learner, heartbeats)
    learner.goto("/certificates/")  # leave the lesson: no more heartbeats

    certificate = wait_for(
        lambda: Certificate.objects.filter(
            user=world.learner, course=pressure_course, pdf_sha256__gt=""
        ).first(),
        timeout=60,
        what="the certificate to be issued and rendered",
    )

    # The QR code on the certificate encodes this URL; open it.
    url = verify_url(certificate)
    assert url.startswith(live_server.url)
    public = browser_page("verify")
    public.goto(url)
    text = public.locator("main").inner_text()
    assert world.learner.name in text
    assert certificate.code in text.replace(" ", "").replace("-", "") or (
        certificate.code in text
    )
    assert world.learner.email not in public.content()

    # HR of the learner's company downloads the ZIP and an XLSX export.
    hr = browser_page("hr")
    log_in(hr, world.hr)
    hr.goto(f"/company/{world.partner_sme.pk}/certificates/")
    with hr.expect_download() as zip_download:
        hr.get_by_role("link", name=re.compile("ZIP")).first.click()
    with open(zip_download.value.path(), "rb") as handle:
        archive = zipfile.ZipFile(io.BytesIO(handle.read()))
    names = archive.namelist()
    assert len([n for n in names if n.endswith(".pdf")]) == 1
    assert archive.read([n for n in names if n.endswith(".pdf")][0]).startswith(b"%PDF")

    hr.goto(f"/company/{world.partner_sme.pk}/exports/")
    hr.locator("select[name=kind]").select_option("matrix")
    hr.locator("select[name=fmt]").select_option("xlsx")
    hr.get_by_role("button", name=re.compile("Start export")).click()
    hr.wait_for_load_state()
    download_link = hr.get_by_role("link", name="Download")
    wait_for(
        lambda: download_link.count() or hr.reload() and False,
        timeout=30,
        what="the export to finish",
    )
    with hr.expect_download() as xlsx_download:
        download_link.first.click()
    import openpyxl

    assert xlsx_download.value.suggested_filename.endswith(".xlsx")
    with open(xlsx_download.value.path(), "rb") as handle:
        workbook = openpyxl.load_workbook(io.BytesIO(handle.read()))
    cells = [
        str(cell)
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(values_only=True)
        for cell in row
        if cell is not None
    ]
    assert world.learner.name in cells
    assert world.other_learner.name not in cells


# --- e. an SME requests a visit, a coordinator approves, an expert confirms ------


def test_sme_requests_a_visit_and_expert_confirms(world, home_page, browser_page):
    from dispatch import services as dispatch_services
    from dispatch.models import VisitRequest, VisitStatus
    from tests.dispatch.factories import TopicFactory, schedule_for, weekday_at

    topic = TopicFactory(code="PRESS-CAL", name="压力表检定与校准")
    schedule_for(world.expert, topic)

    hr = browser_page("sme-hr")
    log_in(hr, world.hr)
    hr.goto("/dispatch/requests/new/")
    hr.locator("select[name=topic]").select_option(str(topic.pk))
    hr.locator("textarea[name=problem]").fill("压力表示值误差超差，需要专家现场指导。")
    hr.locator("input[name=any_date]").check()
    hr.locator("form:has(textarea[name=problem]) [type=submit]").first.click()
    hr.wait_for_load_state()
    assert "/dispatch/requests/" in hr.url
    visit_request = VisitRequest.objects.get(company=world.partner_sme)

    coordinator = browser_page("coordinator")
    log_in(coordinator, world.coordinator)
    coordinator.goto(f"/dispatch/requests/{visit_request.pk}/")
    coordinator.get_by_role("button", name="Approve").click()
    coordinator.wait_for_load_state()
    visit_request.refresh_from_db()
    assert visit_request.status == "approved"

    start = weekday_at(9)
    visit = dispatch_services.visit_propose(
        user=world.coordinator,
        expert=world.expert,
        host_company=world.partner_sme,
        topic=topic,
        starts_at=start,
        ends_at=start.replace(hour=12),
        visit_request=visit_request,
    )

    expert = browser_page("expert")
    log_in(expert, world.expert)
    expert.goto("/dispatch/my-visits/")
    expert.get_by_role("button", name="Accept").first.click()
    expert.wait_for_load_state()
    visit.refresh_from_db()
    assert visit.status == VisitStatus.CONFIRMED
    assert any("压力表" in m.subject or m.attachments for m in mail.outbox)


# --- d. an expert submits a lesson for review, a coordinator approves it ----------


def _activate_totp(user) -> str:
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def _totp_code(secret: str) -> str:
    from allauth.mfa.totp.internal.auth import (
        format_hotp_value,
        hotp_value,
        yield_hotp_counters_from_time,
    )

    counter = next(iter(yield_hotp_counters_from_time()))
    return format_hotp_value(hotp_value(secret, counter))


def log_in_with_totp(page, user, secret: str) -> None:
    page.goto("/accounts/login/")
    form = page.locator("form:has(input[name=password])")
    form.locator("input[name=login]").fill(user.email)
    form.locator("input[name=password]").fill(PASSWORD)
    form.locator("[type=submit]").first.click()
    page.wait_for_load_state()
    code = page.locator("input[name=code]")
    assert code.count(), "the second factor was not asked for"
    code.fill(_totp_code(secret))
    page.locator("form:has(input[name=code]) [type=submit]").first.click()
    page.wait_for_load_state()
    assert "/accounts/" not in page.url, page.url


def test_expert_submits_lesson_and_coordinator_approves_in_admin(
    world, home_page, browser_page, settings
):
    from wagtail.models import WorkflowState

    from courses import services as course_services
    from courses.models import LessonPage, ModulePage
    from tests.courses import factories as course_factories

    settings.ACADEMY_MFA_REQUIRED_ROLES = ["coordinator", "expert", "hr"]
    course = course_factories.course(
        track_page=course_factories.track(home_page), publisher=world.lead
    )
    course_services.expert_groups_sync(user=world.expert)
    module = ModulePage.objects.child_of(course).first()
    lesson = course_services.course_page_add(
        parent=module,
        page=LessonPage(
            title="数字压力计的校准",
            slug="digital-gauge",
            live=False,
            body=[course_factories.text_block()],
        ),
        user=world.expert,
        publish=False,
    )
    expert_secret = _activate_totp(world.expert)
    coordinator_secret = _activate_totp(world.coordinator)

    expert = browser_page("expert-admin")
    log_in_with_totp(expert, world.expert, expert_secret)
    expert.goto(f"/admin/pages/{lesson.pk}/edit/")
    expert.locator("button[name=action-submit]").evaluate("button => button.click()")
    expert.wait_for_load_state()
    wait_for(
        lambda: WorkflowState.objects.filter(
            object_id=str(lesson.pk), status=WorkflowState.STATUS_IN_PROGRESS
        ).first(),
        what="the lesson to be in review",
    )
    lesson.refresh_from_db()
    assert not lesson.live

    coordinator = browser_page("coordinator-admin")
    log_in_with_totp(coordinator, world.coordinator, coordinator_secret)
    coordinator.goto(f"/admin/pages/{lesson.pk}/edit/")
    # Wagtail's action menu: <button data-workflow-action-name="approve">,
    # handled by workflow-action.js (the admin CSP must let it run).
    approve = coordinator.locator("button[data-workflow-action-name=approve]").first
    approve.evaluate("element => element.click()")
    wait_for(
        lambda: LessonPage.objects.filter(pk=lesson.pk, live=True).exists(),
        what="the lesson to be published",
    )
