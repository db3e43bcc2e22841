"""Bulk invitations: preview row by row, confirm, idempotent, bad files."""

import io

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from courses.models import Enrollment
from hr.models import BulkImport, CourseAssignment
from hr.services import RowKind, bulk_import_apply, bulk_import_preview
from organizations.models import Invitation
from organizations.services import invitation_accept
from tests.factories import UserFactory

HEADER = "name,email,employee_number,department,courses,due_on\n"


def _csv(*lines: str, header: str = HEADER) -> bytes:
    return (header + "\n".join(lines) + "\n").encode("utf-8")


def _preview(world, data: bytes, filename="people.csv"):
    return bulk_import_preview(
        uploaded_by=world.hr, company=world.partner_sme, data=data, filename=filename
    )


def _state():
    return (
        Invitation.objects.count(),
        Enrollment.objects.count(),
        CourseAssignment.objects.count(),
    )


def test_preview_changes_nothing_then_apply(
    world, course, course2, django_capture_on_commit_callbacks
):
    data = _csv(
        "王小明,wang@example.cn,HZ-0101,质检部,PG-101 MU-201,2099-12-31",
        f"刘堃,{world.learner.email},E00999,质检部,PG-101,",
    )
    before = _state()
    bulk, planned = _preview(world, data)
    assert _state() == before
    assert [p.kind for p in planned] == [RowKind.NEW, RowKind.MEMBER]
    assert "Send an invitation to wang@example.cn." in planned[0].actions
    assert "Enrol in PG-101." in planned[1].actions

    with django_capture_on_commit_callbacks(execute=True):
        result = bulk_import_apply(bulk_import=bulk, confirmed_by=world.hr)
    assert result["invited"] == 1
    assert result["enrolled"] == 1
    assert result["assigned"] == 2
    invitation = Invitation.objects.get(email="wang@example.cn")
    assert invitation.employee_number == "HZ-0101"
    assert Enrollment.objects.filter(user=world.learner, course=course).exists()
    assert len(mail.outbox) == 1

    # The same file again: nothing changes.
    after = _state()
    bulk2, planned2 = _preview(world, data)
    assert not any(p.changes for p in planned2)
    assert planned2[0].kind == RowKind.PENDING
    result2 = bulk_import_apply(bulk_import=bulk2, confirmed_by=world.hr)
    assert result2["skipped"] == 2
    assert _state() == after
    # And confirming the same preview twice is refused.
    with pytest.raises(ValidationError):
        bulk_import_apply(bulk_import=bulk, confirmed_by=world.hr)


def test_invitee_is_enrolled_on_sign_up(
    world, course, django_capture_on_commit_callbacks
):
    bulk, _planned = _preview(world, _csv("新员工,new@example.cn,,,PG-101,"))
    bulk_import_apply(bulk_import=bulk, confirmed_by=world.hr)
    user = UserFactory(email="new@example.cn")
    invitation = Invitation.objects.get(email="new@example.cn")
    with django_capture_on_commit_callbacks(execute=True):
        invitation_accept(invitation=invitation, user=user)
    assert Enrollment.objects.filter(user=user, course=course).exists()
    assignment = CourseAssignment.objects.get(course=course, company=world.partner_sme)
    assert assignment.user == user


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("=HYPERLINK(1),a@example.cn,,,,", "Name starts with “=”"),
        ("张三,a@example.cn,@SUM(1),,,", "Employee number starts with “@”"),
        ("张三,not-an-email,,,,", "is not a valid e-mail address"),
        ("张三,a@example.cn,,,XX-999,", "Unknown course code(s): XX-999"),
        ("张三,a@example.cn,,,,31/12/2099", "is not a date"),
        ("张三,a@example.cn,,,,2000-01-01", "must not be in the past"),
        (",a@example.cn,,,,", "The name is missing"),
    ],
)
def test_row_errors(world, course, line, message):
    before = _state()
    _bulk, planned = _preview(world, _csv(line))
    assert planned[0].kind == RowKind.ERROR
    assert any(message in error for error in planned[0].errors), planned[0].errors
    assert _state() == before


def test_other_companys_member_is_an_error(world, course):
    _bulk, planned = _preview(world, _csv(f"周,{world.other_learner.email},,,PG-101,"))
    assert planned[0].kind == RowKind.ERROR
    assert "belongs to another company" in planned[0].errors[0]
    # The other company's name is not revealed.
    assert world.other_sme.name not in planned[0].errors[0]


def test_duplicate_rows(world, course):
    _bulk, planned = _preview(
        world,
        _csv(
            "甲,dup@example.cn,N1,,,",
            "乙,DUP@example.cn,N2,,,",
            "丙,c@example.cn,N1,,,",
        ),
    )
    assert planned[0].kind == RowKind.NEW
    assert "same e-mail address is on row 2" in planned[1].errors[0]
    assert "employee number N1 is also on row 2" in planned[2].errors[0]


def test_gbk_csv_is_read_with_a_notice(world, course):
    data = (HEADER + "王小明,gbk@example.cn,G1,质检部,PG-101,\n").encode("gbk")
    bulk, planned = _preview(world, data)
    assert bulk.encoding == "GB18030"
    assert planned[0].name == "王小明"
    assert planned[0].department == "质检部"


def test_chinese_headers_and_xlsx(world, course):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["姓名", "邮箱", "工号", "部门", "课程代码"])
    sheet.append(["李雷", "li@example.cn", 1001, "计量室", "pg-101"])
    stream = io.BytesIO()
    workbook.save(stream)
    bulk, planned = _preview(world, stream.getvalue(), filename="名单.xlsx")
    assert bulk.encoding == "XLSX"
    assert planned[0].employee_number == "1001"
    assert planned[0].courses == ["PG-101"]
    assert planned[0].kind == RowKind.NEW


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"foo,bar\n1,2\n", "a.csv", "Missing: name, email"),
        (
            b"name,email,salary\n\xe5\xbc\xa0,a@example.cn,1\n",
            "a.csv",
            "Unknown columns",
        ),
        (b"", "a.csv", "empty"),
        (HEADER.encode(), "a.csv", "no people"),
        (b"\x00\x01\x02binary", "a.csv", "not a CSV"),
        (b"PK\x03\x04garbage", "a.xlsx", "could not be opened"),
        (b"\xff\xfe\x00\xd8garbage\x80", "a.csv", "not valid UTF-16"),
        (b"name,email\n\x81\x30\xff\xff,a@example.cn\n", "a.csv", "neither UTF-8"),
    ],
)
def test_bad_files(world, data, filename, message):
    before = (_state(), BulkImport.objects.count())
    with pytest.raises(ValidationError) as error:
        _preview(world, data, filename)
    assert message in " ".join(error.value.messages)
    assert (_state(), BulkImport.objects.count()) == before


def test_too_many_rows(world, settings):
    settings.HR_IMPORT_MAX_BYTES = 10 * 1024 * 1024
    lines = [f"员工{i},p{i}@example.cn,,,," for i in range(100_000)]
    with pytest.raises(ValidationError) as error:
        _preview(world, _csv(*lines))
    assert "100000 rows; at most 5000" in error.value.messages[0]


def test_file_too_large(world):
    data = _csv("a,b@example.cn,,,,") + b" " * (50 * 1024 * 1024)
    with pytest.raises(ValidationError) as error:
        _preview(world, data)
    assert "files up to 2 MB" in error.value.messages[0]


def test_only_own_hr_may_import(world, course):
    with pytest.raises(PermissionDenied):
        bulk_import_preview(
            uploaded_by=world.other_hr,
            company=world.partner_sme,
            data=_csv("a,a@example.cn,,,,"),
            filename="a.csv",
        )


def test_upload_preview_confirm_pages(
    client, world, course, django_capture_on_commit_callbacks
):
    client.force_login(world.hr)
    url = reverse("hr:import", args=[world.partner_sme.pk])
    upload = io.BytesIO(_csv("王小明,wang@example.cn,,质检部,PG-101,"))
    upload.name = "people.csv"
    response = client.post(url, {"file": upload})
    assert response.status_code == 302
    preview = client.get(response["Location"])
    html = preview.content.decode()
    assert "New invitation" in html and "wang@example.cn" in html
    assert not Invitation.objects.filter(email="wang@example.cn").exists()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(response["Location"])
    assert Invitation.objects.filter(email="wang@example.cn").exists()
    # Another company's HR cannot see or confirm this import.
    client.force_login(world.other_hr)
    assert client.get(response["Location"]).status_code == 403
    assert client.post(response["Location"]).status_code == 403


def test_upload_bad_file_page(client, world):
    client.force_login(world.hr)
    url = reverse("hr:import", args=[world.partner_sme.pk])
    upload = io.BytesIO(b"foo,bar\n1,2\n")
    upload.name = "x.csv"
    response = client.post(url, {"file": upload})
    assert response.status_code == 400
    assert "Missing: name, email" in response.content.decode()
