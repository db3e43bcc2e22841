"""Demo data for the HR workspace (idempotent).

For 苏州恒准压力仪表有限公司: more employees in three departments, course
assignments with due dates, and a bulk invitation file run through the same
preview/confirm services HR uses.
"""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from courses.models import CoursePage
from organizations.models import Company, Membership, Role
from users.models import User

HR_EMAIL = "hr@hengzhun.demo.academy.cn"
COMPANY_NAME = "苏州恒准压力仪表有限公司"
AUDITOR_LABEL = "ISO/IEC 17025 内部审核 2026（演示）"
AUDITOR_DAYS = 60

EMPLOYEES = [
    # e-mail local part, name, employee number, department
    ("sun.hao", "孙浩", "HZ-0101", "质检部"),
    ("zhou.yun", "周赟", "HZ-0102", "质检部"),
    ("wu.sheng", "吴昇", "HZ-0103", "计量室"),
    ("zheng.li", "郑丽", "HZ-0104", "计量室"),
    ("qian.wei", "钱伟", "HZ-0105", "生产部"),
    ("he.fang", "何芳", "HZ-0106", "生产部"),
    ("lin.tao", "林涛", "HZ-0107", "生产部"),
    ("xu.jing", "徐静", "HZ-0108", "质检部"),
]

IMPORT_FILE = """姓名,邮箱,工号,部门,课程代码,截止日期
马骁,ma.xiao@hengzhun.demo.academy.cn,HZ-0201,计量室,PG-101,{due}
高㛃,gao.jie@hengzhun.demo.academy.cn,HZ-0202,质检部,PG-101 MU-101,{due}
"""


def load(*, stdout) -> None:
    from allauth.account.models import EmailAddress

    from organizations.demo import DEMO_PASSWORD
    from organizations.services import membership_create

    from .services import assignment_create, bulk_import_apply, bulk_import_preview

    hr = User.objects.filter(email=HR_EMAIL).first()
    company = Company.objects.filter(name=COMPANY_NAME).first()
    if hr is None or company is None:
        stdout.write("  hr: demo HR user or company missing; skipped")
        return
    with transaction.atomic():
        created = 0
        for local, name, number, department in EMPLOYEES:
            email = f"{local}@hengzhun.demo.academy.cn"
            user = User.objects.filter(email=email).first()
            if user is None:
                user = User.objects.create_user(
                    email=email, password=DEMO_PASSWORD, name=name
                )
                EmailAddress.objects.create(
                    user=user, email=email, verified=True, primary=True
                )
            if (
                not Membership.objects.active()
                .filter(user=user, company=company)
                .exists()
            ):
                membership_create(
                    user=user,
                    company=company,
                    role=Role.LEARNER,
                    employee_number=number,
                    department=department,
                    started_on=timezone.localdate() - timedelta(days=400),
                )
                created += 1
        courses = {c.code: c for c in CoursePage.objects.live()}
        today = timezone.localdate()
        members = Membership.objects.active().filter(company=company)
        if "PG-101" in courses:
            assignment_create(
                assigned_by=hr,
                company=company,
                course=courses["PG-101"],
                user_ids=list(
                    members.filter(department="质检部").values_list(
                        "user_id", flat=True
                    )
                ),
                due_on=today + timedelta(days=30),
            )
        if "MU-101" in courses:
            assignment_create(
                assigned_by=hr,
                company=company,
                course=courses["MU-101"],
                user_ids=list(
                    members.filter(department="生产部").values_list(
                        "user_id", flat=True
                    )
                ),
                due_on=today + timedelta(days=7),
            )
            # Demo only: pretend the due date passed so the dashboard shows
            # overdue work (the service refuses dates in the past).
            from .models import CourseAssignment

            CourseAssignment.objects.filter(
                company=company,
                course=courses["MU-101"],
                user__memberships__department="生产部",
            ).update(due_on=today - timedelta(days=3))
        if "PG-101" in courses and "MU-101" in courses:
            data = IMPORT_FILE.format(due=(today + timedelta(days=60)).isoformat())
            bulk, planned = bulk_import_preview(
                uploaded_by=hr,
                company=company,
                data=data.encode("utf-8"),
                filename="恒准-新员工.csv",
            )
            if any(p.changes for p in planned):
                bulk_import_apply(bulk_import=bulk, confirmed_by=hr)
            else:
                bulk.delete()
        _auditor_link(hr=hr, company=company)
    stdout.write(f"  hr: {created} employees added; assignments and invitations ready")
    stdout.write("  hr: auditor link for 恒准仪表 ready (URL printed at the end)")


def demo_auditor_token() -> str:
    """The demo link's token, derived from SECRET_KEY so that every run (and
    the summary printed at the end) knows the URL while only its hash is
    stored. Real links get random tokens."""
    import base64
    import hashlib
    import hmac

    from django.conf import settings

    digest = hmac.new(
        settings.SECRET_KEY.encode(), b"hr-demo-auditor-link", hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _auditor_link(*, hr, company):
    """One active auditor link for the demo SME (re-activated when a later
    run finds it expired or revoked)."""
    from .models import AuditorLink
    from .services import auditor_link_create, auditor_token_hash

    token = demo_auditor_token()
    expires_on = timezone.localdate() + timedelta(days=AUDITOR_DAYS)
    link = AuditorLink.objects.filter(token_hash=auditor_token_hash(token)).first()
    if link is None:
        auditor_link_create(
            created_by=hr,
            company=company,
            label=AUDITOR_LABEL,
            expires_on=expires_on,
            token=token,
        )
    elif not link.is_active:
        AuditorLink.objects.filter(pk=link.pk).update(
            expires_on=expires_on, revoked_at=None, revoked_by=None
        )


def summary_lines() -> list[str]:
    """Printed by ``load_demo`` after the demo accounts."""
    from .models import AuditorLink
    from .services import auditor_link_url, auditor_token_hash

    token = demo_auditor_token()
    link = AuditorLink.objects.filter(token_hash=auditor_token_hash(token)).first()
    if link is None or not link.is_active:
        return []
    return [
        f"Auditor link of 恒准仪表 (read-only competence matrix, no login, valid "
        f"until {link.expires_on:%Y-%m-%d}):",
        f"  {auditor_link_url(token)}",
    ]
