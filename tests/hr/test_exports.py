"""Exports: XLSX and CSV an auditor accepts; isolation; injection neutralised."""

import csv
import io
from datetime import date, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from courses.models import EnrollmentStatus
from hr.models import ExportJob, ExportStatus
from hr.services import export_job_create
from hr.tabular import neutralise, write_csv
from tests.factories import MembershipFactory, UserFactory

from .factories import certificate, enrol, progress


@pytest.fixture
def data(world, course):
    evil = MembershipFactory(
        company=world.partner_sme,
        employee_number="=1+2",
        department="@SUM(A1)",
        user=UserFactory(name="-cmd|' /C calc'!A0"),
    ).user
    e = enrol(user=world.learner, course=course, status=EnrollmentStatus.COMPLETED)
    progress(enrollment=e, seconds=5400, completed=True)
    certificate(
        user=world.learner,
        course=course,
        company=world.partner_sme,
        valid_until=timezone.localdate() + timedelta(days=400),
        enrollment=e,
    )
    enrol(user=evil, course=course)
    enrol(user=world.other_learner, course=course, status=EnrollmentStatus.COMPLETED)
    return evil


def _run(client, world, kind, fmt, django_capture_on_commit_callbacks, **filters):
    client.force_login(world.hr)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("hr:exports", args=[world.partner_sme.pk]),
            {"kind": kind, "fmt": fmt, **filters},
        )
    assert response.status_code == 302
    job = ExportJob.objects.latest("pk")
    assert job.status == ExportStatus.DONE, job.error
    status = client.get(response["Location"])
    assert "Download" in status.content.decode()
    download = client.get(
        reverse("hr:export_download", args=[world.partner_sme.pk, job.pk])
    )
    assert download.status_code == 200
    return b"".join(download.streaming_content), job


def test_matrix_xlsx(client, world, course, data, django_capture_on_commit_callbacks):
    content, job = _run(
        client, world, "matrix", "xlsx", django_capture_on_commit_callbacks
    )
    sheet = load_workbook(io.BytesIO(content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("Employee number", "Name", "Department")
    assert rows[0][3] == f"PG-101 {course.title}"
    assert sheet.freeze_panes == "D2"
    assert sheet["A1"].font.b
    names = [r[1] for r in rows[1:]]
    assert "刘堃" in names  # Chinese intact
    assert "周㛃" not in names  # another company's employee
    learner = next(r for r in rows if r[1] == "刘堃")
    assert learner[3].startswith("Valid until")
    assert learner[4].date() == timezone.localdate() + timedelta(days=400)
    evil = next(r for r in rows if r[0] == "'=1+2")
    assert evil[1] == "'-cmd|' /C calc'!A0"
    assert evil[2] == "'@SUM(A1)"
    assert job.rows_total == 3  # world.hr, world.learner, evil


def test_hours_csv(client, world, course, data, django_capture_on_commit_callbacks):
    content, _job = _run(
        client, world, "hours", "csv", django_capture_on_commit_callbacks
    )
    assert content.startswith(b"\xef\xbb\xbf")  # BOM for Excel
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0][0] == "Employee number"
    by_name = {r[1]: r for r in rows[1:]}
    assert set(by_name) == {"刘堃", "'-cmd|' /C calc'!A0"}
    learner = by_name["刘堃"]
    assert learner[3] == "PG-101"
    assert learner[7] == "Completed"
    assert learner[9] == "1.50"  # 5400 s of heartbeats
    assert learner[10] == "8.0"  # credited hours
    assert learner[12].startswith("MPA-")


def test_hours_xlsx_dates_are_dates(
    client, world, course, data, django_capture_on_commit_callbacks
):
    content, _job = _run(
        client, world, "hours", "xlsx", django_capture_on_commit_callbacks
    )
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet.freeze_panes == "D2"
    row = next(r for r in sheet.iter_rows(min_row=2) if r[1].value == "刘堃")
    assert row[5].is_date and row[5].number_format == "yyyy-mm-dd"
    assert row[6].is_date


def test_filtered_export(
    client, world, course, data, django_capture_on_commit_callbacks
):
    content, job = _run(
        client,
        world,
        "matrix",
        "csv",
        django_capture_on_commit_callbacks,
        status="valid",
        course=str(course.pk),
    )
    assert job.filters == {"status": "valid", "course": str(course.pk)}
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert [r[1] for r in rows[1:]] == ["刘堃"]


def test_export_refused_for_other_company(world):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        export_job_create(
            requested_by=world.other_hr,
            company=world.partner_sme,
            kind="matrix",
            fmt="xlsx",
            filters={},
        )


def test_bad_kind_changes_nothing(client, world):
    client.force_login(world.hr)
    response = client.post(
        reverse("hr:exports", args=[world.partner_sme.pk]),
        {"kind": "passwords", "fmt": "xlsx"},
    )
    assert response.status_code == 200
    assert not ExportJob.objects.exists()


def test_progress_page_while_running(client, world):
    job = ExportJob.objects.create(
        company=world.partner_sme,
        requested_by=world.hr,
        kind="matrix",
        fmt="xlsx",
        status=ExportStatus.RUNNING,
        rows_total=200,
        rows_done=50,
    )
    client.force_login(world.hr)
    html = client.get(
        reverse("hr:export_status", args=[world.partner_sme.pk, job.pk])
    ).content.decode()
    assert '<progress max="100" value="25">' in html
    assert 'http-equiv="refresh"' in html
    download = reverse("hr:export_download", args=[world.partner_sme.pk, job.pk])
    assert client.get(download).status_code == 404


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("=SUM(A1)", "'=SUM(A1)"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@x", "'@x"),
        ("\tx", "'\tx"),
        ("王", "王"),
        (-1, -1),
        (None, None),
    ],
)
def test_neutralise(value, expected):
    assert neutralise(value) == expected


def test_csv_writer_neutralises_and_keeps_numbers():
    stream = io.StringIO()
    write_csv(stream, ["a", "b"], [["=cmd", -3], [date(2026, 1, 2), None]])
    assert stream.getvalue() == "\ufeffa,b\r\n'=cmd,-3\r\n2026-01-02,\r\n"


def test_cleanup_command(world, capsys):
    from django.core.files.base import ContentFile
    from django.core.management import call_command

    from hr.models import BulkImport

    job = ExportJob.objects.create(
        company=world.partner_sme, requested_by=world.hr, kind="matrix", fmt="csv"
    )
    job.file.save("old.csv", ContentFile(b"x"))
    name = job.file.name
    bulk = BulkImport.objects.create(
        company=world.partner_sme,
        uploaded_by=world.hr,
        filename="a.csv",
        sha256="0" * 64,
        rows=[{"line": 2, "email": "a@example.cn"}],
    )
    fresh = ExportJob.objects.create(
        company=world.partner_sme, requested_by=world.hr, kind="matrix", fmt="csv"
    )
    old = timezone.now() - timedelta(days=8)
    ExportJob.objects.filter(pk=job.pk).update(created_at=old)
    BulkImport.objects.filter(pk=bulk.pk).update(created_at=old)
    call_command("hr_exports_cleanup", "--days", "7")
    assert "1 export(s) deleted" in capsys.readouterr().out
    assert list(ExportJob.objects.all()) == [fresh]
    assert not BulkImport.objects.exists()
    assert not job.file.storage.exists(name)
