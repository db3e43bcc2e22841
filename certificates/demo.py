"""Demo certificate designs and a few issued certificates. Idempotent."""

from __future__ import annotations

from organizations.permissions import is_coordinator
from users.models import User

DESIGNS = [
    {
        "name": "标准证书 Standard",
        "is_default": True,
        "title_zh": "结业证书",
        "title_en": "Certificate of Completion",
        "accent_color": "#8B1E1E",
        "accent_soft_color": "#B08D57",
    },
    {
        "name": "能力证书 Competence (blue)",
        "is_default": False,
        "title_zh": "能力证书",
        "title_en": "Certificate of Competence",
        "accent_color": "#1D3F72",
        "accent_soft_color": "#6B8CBF",
        "signatory_label": "考核专家 Assessor",
    },
]

# (learner e-mail, course code)
DEMO_CERTIFICATES = [
    ("liu.kun@hengzhun.demo.academy.cn", 0),
    ("zhao.zhe@hengzhun.demo.academy.cn", 0),
    ("zhou.jie@lvneng.demo.academy.cn", 0),
    ("liu.kun@hengzhun.demo.academy.cn", 1),
]


def load(*, stdout) -> None:
    from courses.models import CoursePage

    from .models import Certificate, CertificateDesign, CourseCertificateSettings
    from .services import certificate_issue_by_hand, certificate_render

    designs = []
    for spec in DESIGNS:
        design, _created = CertificateDesign.objects.update_or_create(
            name=spec["name"], defaults=spec
        )
        designs.append(design)
    courses = list(CoursePage.objects.order_by("code"))
    for index, course in enumerate(courses):
        CourseCertificateSettings.objects.get_or_create(
            course=course, defaults={"design": designs[index % 2 == 1]}
        )
    coordinator = next(
        (
            u
            for u in User.objects.filter(email__startswith="coordinator@")
            if is_coordinator(u)
        ),
        None,
    )
    issued = 0
    if coordinator is not None:
        for email, course_index in DEMO_CERTIFICATES:
            user = User.objects.filter(email__iexact=email).first()
            if user is None or course_index >= len(courses):
                continue
            course = courses[course_index]
            if Certificate.objects.current().filter(user=user, course=course).exists():
                continue
            certificate_issue_by_hand(
                actor=coordinator,
                user=user,
                course=course,
                reason="演示数据：线下考核通过",
            )
            issued += 1
    for certificate in Certificate.objects.exclude(render_status="ready"):
        certificate_render(certificate_id=certificate.pk)
    stdout.write(
        f"certificates: {len(designs)} designs, {issued} certificates issued "
        f"({Certificate.objects.count()} in total)"
    )
