import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from wagtail.documents.models import Document

from courses import services
from courses.mathml import render_latex
from courses.selectors import enrollment_list_for_company
from organizations.models import Role
from tests.factories import MembershipFactory, UserFactory

from . import factories
from .conftest import backdate

pytestmark = pytest.mark.django_db


def test_hr_reads_own_company_progress_only(world, simple_course, quiz_course):
    colleague = MembershipFactory(
        company=world.partner_sme, role=Role.LEARNER, user=UserFactory(name="赵喆")
    ).user
    for user in (world.learner, colleague, world.other_learner):
        services.enrollment_create(user=user, course=simple_course)
    lesson = factories.lessons_of(simple_course)[0]
    enrollment, _progress = services.lesson_open(user=world.learner, lesson=lesson)
    backdate(enrollment)
    services.heartbeat_record(user=world.learner, lesson=lesson, delta_seconds=30)

    rows = list(enrollment_list_for_company(company=world.partner_sme, viewer=world.hr))
    by_user = {row.user_id: row for row in rows}
    assert set(by_user) == {world.learner.pk, colleague.pk}
    assert by_user[world.learner.pk].progress_percent == 50
    assert by_user[world.learner.pk].active_seconds == 30
    assert by_user[colleague.pk].progress_percent == 0
    # HR of another company sees nothing of this company.
    assert (
        list(
            enrollment_list_for_company(
                company=world.partner_sme, viewer=world.other_hr
            )
        )
        == []
    )


def test_formula_renders_mathml():
    html = render_latex(r"U = k \cdot u_c")
    assert html.startswith("<math") and "<mi>U</mi>" in html


def test_media_blocks_render(client, world, pressure_track):
    document = Document.objects.create(
        title="JJG 52 检定规程",
        file=SimpleUploadedFile("jjg52.pdf", b"%PDF-1.4 demo"),
    )
    video = Document.objects.create(
        title="检定演示", file=SimpleUploadedFile("demo.mp4", b"\x00\x00")
    )
    course = factories.course(
        track_page=pressure_track,
        publisher=world.lead,
        lessons_per_module=1,
    )
    lesson = factories.lessons_of(course)[0]
    lesson.body = [
        {"type": "document", "value": {"document": document.pk, "description": "规程"}},
        {
            "type": "video",
            "value": {
                "title": "演示",
                "file": video.pk,
                "embed": None,
                "required": True,
            },
        },
        {"type": "formula", "value": {"latex": r"\Delta = p_1 - p_0", "caption": ""}},
        {"type": "callout", "value": {"kind": "danger", "text": "<p>严禁超压</p>"}},
    ]
    lesson.save_revision().publish()
    services.enrollment_create(user=world.learner, course=course)
    client.force_login(world.learner)
    html = client.get(lesson.url).content.decode()
    assert "JJG 52 检定规程" in html
    assert "data-course-video" in html
    assert "<math" in html
    assert "callout-danger" in html
    assert "Watch the video to 90" in html
    assert reverse("courses:heartbeat", args=[lesson.pk]) in html


def test_expert_preview_of_own_lesson(client, world, simple_course, settings):
    settings.ACADEMY_MFA_REQUIRED_ROLES = []
    services.expert_groups_sync(user=world.expert)
    lesson = factories.lessons_of(simple_course)[0]
    client.force_login(world.expert)
    response = client.get(
        reverse("wagtailadmin_pages:preview_on_edit", args=[lesson.pk])
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    "latex",
    [
        r"\text{<script>alert(1)</script>}",
        r"\href{javascript:alert(1)}{x}",
        r"\text{<img src=x onerror=alert(1)>}",
    ],
)
def test_formula_output_is_sanitised(latex):
    html = render_latex(latex)
    assert "<script" not in html and "<img" not in html
    assert "href" not in html and "onerror=" not in html.replace("&", "")
