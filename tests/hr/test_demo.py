"""The issue's "done when": the demo HR user sees the dashboard with charts,
filters the matrix, downloads an XLSX with Chinese intact, bulk-invites from
a CSV with a preview, and never sees another company's people."""

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from courses import demo as courses_demo
from hr import demo
from hr.models import BulkImport, CourseAssignment
from organizations import demo as organizations_demo
from organizations.models import Company, Invitation
from users.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_site(home_page):
    out = io.StringIO()
    organizations_demo.load(stdout=out)
    courses_demo.load(stdout=out)
    demo.load(stdout=out)
    return out


def test_demo_is_idempotent(demo_site):
    counts = (
        CourseAssignment.objects.count(),
        Invitation.objects.count(),
        BulkImport.objects.count(),
    )
    demo.load(stdout=io.StringIO())
    assert (
        CourseAssignment.objects.count(),
        Invitation.objects.count(),
        BulkImport.objects.count(),
    ) == counts
    assert CourseAssignment.objects.filter(user__isnull=True).count() == 3


def test_demo_hr_story(client, demo_site, django_capture_on_commit_callbacks):
    hr = User.objects.get(email=demo.HR_EMAIL)
    company = Company.objects.get(name="苏州恒准压力仪表有限公司")
    other = Company.objects.get(name="常州绿能热力科技有限公司")
    client.force_login(hr)

    dashboard = client.get(reverse("hr:dashboard", args=[company.pk]))
    html = dashboard.content.decode()
    assert html.count("<svg") >= 1
    assert dashboard.context["data"].overdue_count >= 1

    matrix = client.get(
        reverse("hr:matrix", args=[company.pk]), {"department": "生产部"}
    )
    names = {row.membership.user.name for row in matrix.context["rows"]}
    assert {"钱伟", "何芳", "林涛"} <= names
    assert all(row.membership.department == "生产部" for row in matrix.context["rows"])

    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(
            reverse("hr:exports", args=[company.pk]), {"kind": "matrix", "fmt": "xlsx"}
        )
    job_id = int(started["Location"].rstrip("/").rsplit("/", 1)[-1])
    download = client.get(reverse("hr:export_download", args=[company.pk, job_id]))
    sheet = load_workbook(io.BytesIO(b"".join(download.streaming_content))).active
    exported = {row[1] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert {"刘堃", "赵喆", "周赟", "吴昇"} <= exported
    assert "周㛃" not in exported  # 绿能热力's learner

    upload = io.BytesIO(
        "姓名,邮箱,工号,部门,课程代码\n秦岚,qin.lan@example.cn,HZ-0301,质检部,PG-101\n".encode()
    )
    upload.name = "new.csv"
    preview = client.post(reverse("hr:import", args=[company.pk]), {"file": upload})
    assert "qin.lan@example.cn" in client.get(preview["Location"]).content.decode()

    # Another company's pages and people stay closed.
    assert client.get(reverse("hr:dashboard", args=[other.pk])).status_code == 403
    zhou = User.objects.get(email="zhou.jie@lvneng.demo.academy.cn")
    assert (
        client.get(reverse("hr:employee", args=[company.pk, zhou.pk])).status_code
        == 404
    )


def test_demo_auditor_link_shows_the_scoped_matrix(
    home_page, client, django_capture_on_commit_callbacks
):
    """Issue 9 "done when": HR's auditor link shows the competence matrix
    with the technician's JJG 52 scope; set-up prints its URL; reruns keep
    one active link."""
    from django.core.management import call_command

    from certificates import demo as certificates_demo
    from credentials import demo as credentials_demo
    from hr.models import AuditorLink

    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        organizations_demo.load(stdout=out)
        courses_demo.load(stdout=out)
        certificates_demo.load(stdout=out)
        demo.load(stdout=out)
        credentials_demo.load(stdout=out)
        demo.load(stdout=out)
    link = AuditorLink.objects.get()
    assert link.is_active and link.company.name == demo.COMPANY_NAME
    lines = demo.summary_lines()
    url = lines[-1].strip()
    assert url.startswith("http") and "/audit/" in url
    assert demo.demo_auditor_token() not in str(AuditorLink.objects.values_list().get())

    response = client.get(url.split("testserver", 1)[-1])
    assert response.status_code == 200
    html = response.content.decode()
    assert "刘堃" in html and "JJG 52-2013" in html and "May perform" in html
    assert "周㛃" not in html  # 绿能热力's learner
    assert "@" not in html.split("<main", 1)[1].split("</main>", 1)[0]

    # A revoked demo link comes back on the next run (still one link).
    from hr.services import auditor_link_revoke

    auditor_link_revoke(revoked_by=User.objects.get(email=demo.HR_EMAIL), link=link)
    demo.load(stdout=io.StringIO())
    link.refresh_from_db()
    assert link.is_active and AuditorLink.objects.count() == 1

    printed = io.StringIO()
    call_command("load_demo", stdout=printed)
    assert url in printed.getvalue()
