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
