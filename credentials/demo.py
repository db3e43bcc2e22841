"""Demo data (idempotent): procedure JJG 52-2013, the competence scope of the
pressure-gauge course with its short refresher course (PG-101R "JJG 52 修订要点"),
a scoped credential for the demo technician, and an Open Badges credential for
every demo certificate."""

from __future__ import annotations

from decimal import Decimal

COORDINATOR = "coordinator@demo.academy.cn"
TECHNICIAN = "liu.kun@hengzhun.demo.academy.cn"
COURSE_CODE = "PG-101"
REFRESHER_CODE = "PG-101R"
REFRESHER = {
    "title": "JJG 52 修订要点",
    "title_en": "JJG 52: What the Revision Changes",
    "intro": "<p>面向已持有 PG-101 证书的技术人员：JJG 52 修订后检定项目、检定点和结果判定的"
    "变化。学完即按现行版本换发证书。</p>",
    "module": ("修订要点", "新旧版本对照。"),
    "lesson": (
        "新旧版本对照与换证",
        30,
        "<h2>修订了什么</h2><p>对照旧版逐条说明检定项目、检定点选取、示值误差与回程误差的"
        "判定要求及检定证书内容的变化，并给出计量室需要更新的作业指导书清单。</p>"
        "<p>完成本课后，原 PG-101 证书将按现行规程版本自动换发，旧证书标记为已替换。</p>",
    ),
}


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


def _refresher_course(course, stdout):
    """PG-101R, published beside PG-101 through the courses services, issuing
    no certificate of its own (completing it renews PG-101)."""
    from certificates.models import CourseCertificateSettings
    from certificates.services import design_for_course
    from courses.models import CoursePage, LessonPage, ModulePage
    from courses.services import course_page_add
    from users.models import User

    from .models import CompetenceScope

    refresher = CoursePage.objects.filter(code=REFRESHER_CODE).first()
    if refresher is None:
        coordinator = User.objects.filter(email=COORDINATOR).first()
        expert = course.certificate_signatory
        refresher = course_page_add(
            parent=course.get_parent(),
            page=CoursePage(
                title=REFRESHER["title"],
                slug=REFRESHER_CODE.lower(),
                title_en=REFRESHER["title_en"],
                code=REFRESHER_CODE,
                publisher=course.publisher,
                level=course.level,
                estimated_hours=Decimal("0.5"),
                intro=REFRESHER["intro"],
                learning_outcomes="说明 JJG 52 修订后的主要变化\n按现行版本开展检定",
                certificate_signatory=expert,
            ),
            user=coordinator,
        )
        module_title, module_intro = REFRESHER["module"]
        module = course_page_add(
            parent=refresher,
            page=ModulePage(title=module_title, slug="m1", intro=module_intro),
            user=expert or coordinator,
            published_by=coordinator,
        )
        lesson_title, seconds, html = REFRESHER["lesson"]
        course_page_add(
            parent=module,
            page=LessonPage(
                title=lesson_title,
                slug="l1",
                min_active_seconds=seconds,
                body=[{"type": "text", "value": html}],
            ),
            user=expert or coordinator,
            published_by=coordinator,
        )
        stdout.write(f"credentials: refresher course {REFRESHER_CODE}")
    if not CourseCertificateSettings.objects.filter(course=refresher).exists():
        CourseCertificateSettings.objects.create(
            course=refresher,
            design=design_for_course(refresher),
            issues_certificates=False,
        )
    CompetenceScope.objects.filter(course=course, refresher_course__isnull=True).update(
        refresher_course=refresher
    )
    return refresher


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
        _refresher_course(course, stdout)
        _scoped_certificate_for_technician(course, stdout)
    count = credential_issue_missing()
    stdout.write(f"credentials: signing key {key.kid}, {count} new credential(s)")
