"""Demo data (idempotent): procedure JJG 52-2013, the competence scope of the
pressure-gauge course, a scoped credential for the demo technician, and an
Open Badges credential for every demo certificate."""

from __future__ import annotations

from decimal import Decimal

COORDINATOR = "coordinator@demo.academy.cn"
TECHNICIAN = "liu.kun@hengzhun.demo.academy.cn"
COURSE_CODE = "PG-101"


def _scope_for_pressure_course(stdout):
    from courses.models import CoursePage

    from .models import CompetenceScope, Procedure, ProcedureRevision
    from .services import scope_create

    procedure, _created = Procedure.objects.get_or_create(
        code="JJG 52",
        defaults={"title": "弹性元件式一般压力表、压力真空表和真空表检定规程"},
    )
    ProcedureRevision.objects.get_or_create(procedure=procedure, revision="2013")
    course = CoursePage.objects.filter(code=COURSE_CODE).first()
    if course is None:
        return None
    if not CompetenceScope.objects.filter(course=course).exists():
        scope_create(
            course=course,
            instrument_class="弹簧管式一般压力表",
            quantity="压力",
            range_min=Decimal("0"),
            range_max=Decimal("60"),
            unit="MPa",
            accuracy_class="1.0级 / 1.6级 / 2.5级",
            procedure_code="JJG 52",
            revision="2013",
            level="perform",
        )
        stdout.write("credentials: scope JJG 52-2013 added to PG-101")
    return course


def _scoped_certificate_for_technician(course, stdout) -> None:
    """Issue one by hand if missing; one issued before the scope existed is
    re-issued once (the new one supersedes it)."""
    from certificates.models import Certificate
    from certificates.services import certificate_issue_by_hand, certificate_reissue
    from users.models import User

    from .services import credential_issue

    technician = User.objects.filter(email=TECHNICIAN).first()
    coordinator = User.objects.filter(email=COORDINATOR).first()
    if technician is None or coordinator is None:
        return
    certificate = (
        Certificate.objects.current()
        .filter(user=technician, course=course, revoked_at__isnull=True)
        .first()
    )
    if certificate is None:
        certificate = certificate_issue_by_hand(
            actor=coordinator,
            user=technician,
            course=course,
            reason="现场实操考核通过（演示数据）",
        )
        stdout.write(f"credentials: scoped certificate {certificate.serial}")
    if credential_issue(certificate=certificate).scopes:
        return
    new = certificate_reissue(
        actor=coordinator,
        certificate=certificate,
        reason="补充能力范围 JJG 52-2013（演示数据）",
    )
    credential_issue(certificate=new)
    stdout.write(f"credentials: scoped certificate {new.serial} for {TECHNICIAN}")


def load(*, stdout) -> None:
    from .services import credential_issue_missing, signing_key_get_active

    key = signing_key_get_active()
    course = _scope_for_pressure_course(stdout)
    if course is not None:
        _scoped_certificate_for_technician(course, stdout)
    count = credential_issue_missing()
    stdout.write(f"credentials: signing key {key.kid}, {count} new credential(s)")
