"""One corpus of hostile input, stored everywhere people type text, checked
in every output: site pages, the Wagtail admin, certificate PDFs, XLSX/CSV
exports and iCalendar feeds.

The payloads go in through the services (and, for rich text, through the
editor's own converter) exactly as the forms would store them; each output
must show them as inert text.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from icalendar import Calendar
from openpyxl import load_workbook
from pypdf import PdfReader

from organizations.models import Role
from tests.factories import CompanyFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
JS_URL = "javascript:alert(1)"
TEMPLATE = "{{7*7}}"
TEXTAREA = "</textarea>"
SVG = "<svg onload=alert(1)>"
FORMULA = '=HYPERLINK("http://evil.example/x","click")'
ICAL = "\r\nATTENDEE:mailto:evil@example.com"
CORPUS = [SCRIPT, IMG, JS_URL, TEMPLATE, TEXTAREA, SVG, FORMULA, ICAL]

# 95 characters: fits every name field (users.User.name has 100).
HTML = SCRIPT + IMG + TEMPLATE + TEXTAREA + SVG

# Markup that must never reach a page unescaped.
RAW_MARKERS = (
    "<script>alert(1)",
    "<img src=x",
    "<svg onload",
    "onerror=alert(1)>",
    'href="javascript:',
    "href='javascript:",
)
ESCAPED_SCRIPT = escape(SCRIPT)


def assert_inert(html: str, *, whole: bool = True) -> None:
    """No payload markup is live, the payload is shown as text, and (where a
    whole ``HTML`` value is shown) its template syntax was not evaluated."""
    for marker in RAW_MARKERS:
        assert marker not in html, f"unescaped {marker!r} in the page"
    assert ESCAPED_SCRIPT in html, "the payload is not shown (as text) at all"
    if whole:
        assert escape(TEMPLATE + TEXTAREA) in html, "template syntax was evaluated"


@dataclass
class Evil:
    world: object
    learner: object
    formula_learner: object
    company: object
    course: object
    lesson: object
    certificate: object
    visit: object
    public_visit: object
    done_visit: object
    visit_request: object
    company_feed: object
    bulk_import: object


def _rich_text_from_editor(text: str) -> str:
    """What the Draftail editor stores for a paragraph with a link."""
    from wagtail.admin.rich_text.converters.contentstate import ContentstateConverter
    from wagtail.rich_text import features

    converter = ContentstateConverter(features.get_default_features())
    contentstate = {
        "blocks": [
            {
                "key": "a1",
                "type": "unstyled",
                "depth": 0,
                "text": text + " click",
                "inlineStyleRanges": [],
                "entityRanges": [{"offset": len(text) + 1, "length": 5, "key": 0}],
            }
        ],
        "entityMap": {
            "0": {"type": "LINK", "mutability": "MUTABLE", "data": {"url": JS_URL}}
        },
    }
    return converter.to_database_format(json.dumps(contentstate))


@pytest.fixture
def evil(world, home_page, django_capture_on_commit_callbacks) -> Evil:
    from certificates import services as certificate_services
    from courses import services as course_services
    from courses.models import LessonPage
    from dispatch import services as dispatch_services
    from hr import services as hr_services
    from tests.certificates.factories import make_completed_enrollment, make_course
    from tests.courses import factories as course_factories
    from tests.dispatch.factories import TopicFactory, schedule_for, weekday_at

    company = CompanyFactory(name="恒准" + HTML + JS_URL)
    from tests.factories import PartnershipFactory

    PartnershipFactory(lead=world.lead, sme=company)
    hr = MembershipFactory(
        company=company, role=Role.HR, user=UserFactory(name="陈静")
    ).user
    learner = MembershipFactory(
        company=company,
        role=Role.LEARNER,
        employee_number="E" + TEMPLATE,
        department="质量部" + SVG,
        user=UserFactory(name="刘" + HTML, latin_name="Liu" + SCRIPT),
    ).user
    formula_learner = MembershipFactory(
        company=company,
        role=Role.LEARNER,
        employee_number="+1+2",
        department="@SUM(A1)",
        user=UserFactory(name=FORMULA),
    ).user

    # A course whose title, rich text and quiz options carry the corpus.
    track = course_factories.track(home_page)
    quiz = course_factories.quiz_block(
        [course_factories.question_single(options=(HTML, "-1+1", FORMULA))],
        pass_mark=100,
        limit=3,
    )
    course = course_factories.course(
        track_page=track,
        publisher=world.lead,
        quiz=quiz,
        title=HTML + " " + JS_URL,
        intro=_rich_text_from_editor(HTML),
    )
    lesson = course_factories.lessons_of(course)[-1]
    lesson = LessonPage.objects.get(pk=lesson.pk)
    lesson.body = [
        {"type": "text", "value": _rich_text_from_editor(HTML)},
        *lesson.body.raw_data,
    ]
    lesson.save_revision().publish()
    for who in (learner, formula_learner):
        course_services.enrollment_create(user=who, course=course)
        course_services.lesson_open(user=who, lesson=lesson)
    course_services.quiz_attempt_start(user=learner, lesson=lesson)

    # A certificate for the hostile name, course and company.
    certified = make_course(
        parent=track,
        publisher=world.lead,
        certificate_signatory=world.expert,
        title="证书" + HTML,
        certificate_scope=HTML + JS_URL,
    )
    with django_capture_on_commit_callbacks(execute=True):
        certificate = certificate_services.certificate_issue_for_enrollment(
            enrollment=make_completed_enrollment(user=learner, course=certified)
        )
    certificate.refresh_from_db()
    assert certificate.is_pdf_ready

    # Visits: request, proposal, report, all with the corpus.
    topic = TopicFactory(code="XSS-1", name="压力" + SCRIPT)
    schedule_for(world.expert, topic)
    start = weekday_at(9)
    with django_capture_on_commit_callbacks(execute=True):
        visit_request = dispatch_services.visit_request_submit(
            user=hr,
            company=company,
            topic=topic,
            problem=HTML + JS_URL + ICAL,
            instruments=HTML,
            site_address=HTML,
            preferred_windows=[
                {
                    "start": start.date().isoformat(),
                    "end": (start.date() + timedelta(days=7)).isoformat(),
                }
            ],
        )

    def propose(hours_from, published):
        proposed = dispatch_services.visit_propose(
            user=world.coordinator,
            expert=world.expert,
            host_company=company,
            topic=topic,
            starts_at=start + timedelta(hours=hours_from),
            ends_at=start + timedelta(hours=hours_from + 2),
            title="现场" + HTML + ICAL,
            location="车间" + ICAL + SCRIPT,
            description=HTML + ICAL + FORMULA,
            published=published,
        )
        return dispatch_services.visit_accept(visit=proposed, user=world.expert)

    with django_capture_on_commit_callbacks(execute=True):
        visit = propose(0, False)
        public_visit = propose(24, True)
        done_visit = propose(48, False)
    dispatch_services.visit_register(
        visit=visit, participant=learner, registered_by=learner
    )
    past = timezone.now() - timedelta(days=3)
    type(done_visit).objects.filter(pk=done_visit.pk).update(
        starts_at=past, ends_at=past + timedelta(hours=2)
    )
    done_visit.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        dispatch_services.visit_report_file(
            visit=done_visit,
            user=world.expert,
            summary=HTML + JS_URL,
            findings=HTML,
            recommendations=FORMULA + SVG,
            hours_spent=Decimal("2.0"),
        )
    company_feed = dispatch_services.feed_token_create(user=hr, company=company)

    # A CSV import whose rows carry the corpus.
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["name", "email", "employee_number", "department", "courses"])
    writer.writerow([HTML, "import@example.cn", TEMPLATE, SVG, ""])
    writer.writerow([FORMULA, "import2@example.cn", "", "", ""])
    bulk_import, _planned = hr_services.bulk_import_preview(
        uploaded_by=hr,
        company=company,
        data=buffer.getvalue().encode(),
        filename="people.csv",
    )
    world.hr_x = hr
    return Evil(
        world=world,
        learner=learner,
        formula_learner=formula_learner,
        company=company,
        course=course,
        lesson=lesson,
        certificate=certificate,
        visit=visit,
        public_visit=public_visit,
        done_visit=done_visit,
        visit_request=visit_request,
        company_feed=company_feed,
        bulk_import=bulk_import,
    )


def _get(client, user, url) -> str:
    client.logout()
    if user is not None:
        client.force_login(user)
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.content.decode()


def test_rich_text_editor_drops_javascript_urls_and_keeps_text():
    stored = _rich_text_from_editor(HTML)
    assert JS_URL not in stored
    assert "<script" not in stored
    assert ESCAPED_SCRIPT in stored


def test_site_pages_show_the_corpus_as_text(client, evil):
    world, company = evil.world, evil.company
    learner_pages = [
        evil.course.url,
        evil.lesson.url,
        reverse("courses:my_learning"),
        reverse("certificates:mine"),
        reverse("dispatch:visit_detail", args=[evil.visit.pk]),
    ]
    for url in learner_pages:
        assert_inert(_get(client, evil.learner, url))
    lesson = _get(client, evil.learner, evil.lesson.url)
    assert escape(HTML) in lesson  # the quiz option, escaped as a whole
    hr_pages = [
        reverse("organizations:company_people", args=[company.pk]),
        reverse("hr:dashboard", args=[company.pk]),
        reverse("hr:matrix", args=[company.pk]),
        # The employee page is addressed by the person (user id), not the membership.
        reverse("hr:employee", args=[company.pk, evil.learner.pk]),
        reverse("certificates:company", args=[company.pk]),
        reverse("hr:import_preview", args=[company.pk, evil.bulk_import.pk]),
        reverse("dispatch:our_visits"),
        reverse("dispatch:request_detail", args=[evil.visit_request.pk]),
        reverse("dispatch:visit_detail", args=[evil.done_visit.pk]),
    ]
    for url in hr_pages:
        assert_inert(_get(client, world.hr_x, url))
    expert_pages = [
        reverse("dispatch:my_visits"),
        reverse("dispatch:visit_detail", args=[evil.done_visit.pk]),
        reverse("dispatch:visit_attendance", args=[evil.visit.pk]),
    ]
    for url in expert_pages:
        assert_inert(_get(client, world.expert, url))
    # The board lists requests by topic (``"压力" + SCRIPT``).
    assert_inert(
        _get(client, world.coordinator, reverse("dispatch:board")), whole=False
    )
    assert_inert(
        _get(
            client,
            world.coordinator,
            reverse("dispatch:request_detail", args=[evil.visit_request.pk]),
        )
    )
    public = [
        reverse("certificates:verify_code", args=[evil.certificate.code]),
        reverse("dispatch:schedule") if _has("dispatch:schedule") else None,
    ]
    for url in filter(None, public):
        assert_inert(_get(client, None, url))


def _has(name: str) -> bool:
    from django.urls import NoReverseMatch

    try:
        reverse(name)
    except NoReverseMatch:
        return False
    return True


def test_admin_listing_and_edit_pages_show_the_corpus_as_text(client, evil):
    admin = evil.world.coordinator
    admin.is_superuser = True
    admin.save()
    pages = [
        reverse("wagtailadmin_explore", args=[evil.course.get_parent().pk]),
        reverse("wagtailadmin_explore", args=[evil.course.pk]),
        reverse("wagtailadmin_pages:edit", args=[evil.course.pk]),
        reverse("wagtailadmin_pages:edit", args=[evil.lesson.pk]),
        reverse("wagtailusers_users:index"),
        reverse("wagtailsnippets_certificates_certificate:list"),
        reverse("wagtailsnippets_organizations_company:list"),
        reverse("wagtailsnippets_organizations_company:edit", args=[evil.company.pk]),
        reverse("wagtailsnippets_organizations_membership:list"),
    ]
    for url in pages:
        try:
            assert_inert(_get(client, admin, url))
        except AssertionError as error:
            raise AssertionError(f"{url}: {error}") from None
    # Topics carry only ``SCRIPT``.
    topics = reverse("wagtailsnippets_dispatch_metrologytopic:list")
    assert_inert(_get(client, admin, topics), whole=False)


def test_certificate_pdf_prints_the_corpus_literally_and_fetches_nothing(
    evil, monkeypatch
):
    from certificates import pdf
    from certificates.rendering import certificate_context

    fetched: list[str] = []
    original = pdf.RestrictedURLFetcher.__call__

    def spy(self, url, *args, **kwargs):
        fetched.append(url)
        return original(self, url, *args, **kwargs)

    monkeypatch.setattr(pdf.RestrictedURLFetcher, "__call__", spy, raising=False)
    for data in (
        evil.certificate.pdf.read(),
        pdf.render_certificate(certificate_context(evil.certificate)),
    ):
        reader = PdfReader(io.BytesIO(data))
        text = "".join(page.extract_text() for page in reader.pages)
        compact = "".join(text.split())
        assert "".join(SCRIPT.split()) in compact
        assert "".join(IMG.split()) in compact
        assert TEMPLATE in compact
    assert all(
        url.startswith(("data:", "file:")) and "evil" not in url and "x" != url
        for url in fetched
    ), fetched


def _export(client, hr, company, kind, fmt, capture):
    from hr.models import ExportJob, ExportStatus

    client.force_login(hr)
    with capture(execute=True):
        response = client.post(
            reverse("hr:exports", args=[company.pk]), {"kind": kind, "fmt": fmt}
        )
    assert response.status_code == 302
    job = ExportJob.objects.latest("pk")
    assert job.status == ExportStatus.DONE, job.error
    download = client.get(reverse("hr:export_download", args=[company.pk, job.pk]))
    return b"".join(download.streaming_content)


def _dangerous(value) -> bool:
    return isinstance(value, str) and value.startswith(("=", "+", "-", "@"))


@pytest.mark.parametrize("kind", ["matrix", "hours"])
def test_exports_neutralise_formulas(
    client, evil, kind, django_capture_on_commit_callbacks
):
    from hr.models import ExportKind

    if kind not in ExportKind.values:
        kind = ExportKind.values[-1]
    hr, company = evil.world.hr_x, evil.company
    data = _export(client, hr, company, kind, "csv", django_capture_on_commit_callbacks)
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    cells = [cell for row in rows for cell in row]
    assert not [cell for cell in cells if _dangerous(cell)]
    assert "'" + FORMULA in cells
    data = _export(
        client, hr, company, kind, "xlsx", django_capture_on_commit_callbacks
    )
    workbook = load_workbook(io.BytesIO(data))
    values = [
        cell.value
        for sheet in workbook.worksheets
        for row in sheet.iter_rows()
        for cell in row
    ]
    assert not [value for value in values if _dangerous(value)]
    assert "'" + FORMULA in values
    assert any(isinstance(v, str) and SCRIPT in v for v in values)


def test_certificate_zip_index_neutralises_formulas(client, evil):
    import zipfile

    hr, company = evil.world.hr_x, evil.company
    client.force_login(hr)
    response = client.get(reverse("certificates:company_zip", args=[company.pk]))
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    index = archive.read("index.csv").decode("utf-8-sig")
    cells = [cell for row in csv.reader(io.StringIO(index)) for cell in row]
    assert not [cell for cell in cells if _dangerous(cell)]
    assert any(SCRIPT in cell for cell in cells)
    for name in archive.namelist():
        assert "/" not in name.strip("/").replace("\\", "/") or name.count("/") <= 1
        assert ".." not in name and "<" not in name and ">" not in name


ALLOWED_EVENT_PROPERTIES = {
    "UID",
    "SEQUENCE",
    "DTSTAMP",
    "DTSTART",
    "DTEND",
    "SUMMARY",
    "STATUS",
    "CATEGORIES",
    "LOCATION",
    "DESCRIPTION",
    "URL",
    "ORGANIZER",
    "LAST-MODIFIED",
}


def _check_calendar(data: bytes, *, expect_events: int) -> None:
    for line in data.split(b"\r\n"):
        assert not line.upper().startswith(b"ATTENDEE"), line
    calendar = Calendar.from_ical(data)
    events = calendar.walk("VEVENT")
    assert len(events) >= expect_events
    for event in events:
        assert set(event.keys()) <= ALLOWED_EVENT_PROPERTIES, set(event.keys())
        summary = str(event["SUMMARY"])
        assert "ATTENDEE:mailto:evil@example.com" in summary  # kept as text
        assert SCRIPT in summary
        assert "evil@example.com" not in str(event.get("ORGANIZER", ""))


def test_icalendar_feeds_carry_the_corpus_as_text(client, evil):
    world = evil.world
    public = client.get(reverse("dispatch:public_feed"))
    assert public.status_code == 200
    _check_calendar(b"".join(_content(public)), expect_events=1)
    feed = client.get(
        reverse(
            "dispatch:company_feed",
            kwargs={"company_id": evil.company.pk, "token": evil.company_feed.token},
        )
    )
    assert feed.status_code == 200
    _check_calendar(b"".join(_content(feed)), expect_events=3)
    client.force_login(world.expert)
    single = client.get(reverse("dispatch:visit_ics", args=[evil.visit.pk]))
    assert single.status_code == 200
    _check_calendar(b"".join(_content(single)), expect_events=1)


def _content(response):
    if getattr(response, "streaming", False):
        return response.streaming_content
    return [response.content]


def test_invitation_e_mail_attachment_has_no_injected_properties(evil, mailoutbox):
    attachments = [
        content
        for message in mailoutbox
        for _name, content, mimetype in message.attachments
        if mimetype.startswith("text/calendar")
    ]
    assert attachments
    for content in attachments:
        _check_calendar(
            content if isinstance(content, bytes) else content.encode(),
            expect_events=1,
        )
