"""Pick the pages to measure in the bench database and log in the users.

Run with the bench environment (see run.sh); prints one target per line:
``name<TAB>path<TAB>session cookie or -``. Sessions are created directly in
the session store (bench users have no usable password), exactly as a login
would leave them.

Targets whose app is not there yet (no course pages, no certificates) are
left out, and a comment line says why.
"""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "academy.settings.production")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.urls import NoReverseMatch, reverse  # noqa: E402
from django.utils.module_loading import import_string  # noqa: E402

from ops.benchdata import BENCH_COMPANY_PREFIX, BENCH_EMAIL_DOMAIN  # noqa: E402
from organizations.models import Company, Membership, Role  # noqa: E402


def session_for(user) -> str:
    store = import_string(settings.SESSION_ENGINE + ".SessionStore")()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"


def hr_of(company):
    user = (
        Membership.objects.active()
        .filter(company=company, role=Role.HR)
        .select_related("user")
        .first()
        .user
    )
    # HR must have two-factor authentication (ACADEMY_MFA_REQUIRED_ROLES); a
    # bench HR gets an authenticator row so the pages are served, not the set-up.
    from allauth.mfa.models import Authenticator

    Authenticator.objects.get_or_create(
        user=user, type=Authenticator.Type.TOTP, defaults={"data": {"secret": "-"}}
    )
    return user


def lesson_target():
    """An opened lesson of an enrolled bench learner (the issue's lesson page)."""
    from courses.models import Enrollment, EnrollmentStatus, LessonProgress

    progress = (
        LessonProgress.objects.filter(
            enrollment__status=EnrollmentStatus.ACTIVE,
            enrollment__course__code__startswith="BENCH-",
        )
        .select_related("enrollment__user", "lesson")
        .order_by("-pk")
        .first()
    )
    if progress is None:
        return None
    enrollment: Enrollment = progress.enrollment
    return (
        "lesson page (enrolled learner)",
        progress.lesson.url,
        session_for(enrollment.user),
    )


def targets():
    yield "healthz (baseline)", "/healthz", None
    if os.environ.get("BENCH_LESSON_ONLY"):
        target = lesson_target()
        if target:
            yield target
        return
    yield "home page", "/", None
    yield "login page", "/accounts/login/", None

    smes = (
        Company.objects.smes()
        .filter(name__startswith=BENCH_COMPANY_PREFIX)
        .annotate(members=Count("memberships"))
        .order_by("-members")
    )
    big, small = smes.first(), smes.last()
    if big is None:
        print("# no bench companies: run generate_bench_data first")
        return
    for company in (small, big):
        people = reverse("organizations:company_people", args=[company.pk])
        yield (
            f"HR people list, {company.members - 1:,} employees",
            people,
            session_for(hr_of(company)),
        )

    try:
        from courses.models import CoursePage, Enrollment, LessonPage
    except ImportError:
        print("# courses app has no models yet: course pages not measured")
        return
    courses = CoursePage.objects.live().filter(code__startswith="BENCH-")
    by_lessons = sorted(
        courses, key=lambda course: LessonPage.objects.descendant_of(course).count()
    )
    if by_lessons:
        for course in (by_lessons[0], by_lessons[-1]):
            lessons = LessonPage.objects.descendant_of(course).count()
            yield f"course page, {lessons} lessons (anonymous)", course.url, None
            enrollment = (
                Enrollment.objects.filter(course=course)
                .select_related("user")
                .order_by("-pk")
                .first()
            )
            if enrollment:
                yield (
                    f"course page, {lessons} lessons (enrolled learner)",
                    course.url,
                    session_for(enrollment.user),
                )
        index = courses.first().get_parent().get_parent()
        yield "course catalogue", index.url, None
        learner = Membership.objects.filter(
            role=Role.LEARNER, user__email__endswith="@" + BENCH_EMAIL_DOMAIN
        ).first()
        try:
            yield (
                "my learning",
                reverse("courses:my_learning"),
                session_for(learner.user),
            )
        except NoReverseMatch:
            print("# courses:my_learning not routed yet")
        target = lesson_target()
        if target:
            yield target

    try:
        from certificates.models import Certificate
    except ImportError:
        print("# certificates app has no models yet: verify page not measured")
        return
    certificate = Certificate.objects.order_by("-pk").first()
    if certificate is None:
        print("# no certificates in the bench database: verify page not measured")
        return
    yield (
        "certificate verify page",
        reverse("certificates:verify_code", args=[certificate.code]),
        None,
    )


if __name__ == "__main__":
    for name, path, cookie in targets():
        print(f"{name}\t{path}\t{cookie or '-'}")
