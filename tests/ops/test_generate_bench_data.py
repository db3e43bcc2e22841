import json

import pytest
from django.core.management import CommandError, call_command

from certificates.models import Certificate
from courses.models import CoursePage, Enrollment, EnrollmentStatus, LessonProgress
from ops.benchdata import BENCH_EMAIL_DOMAIN
from organizations.models import Company, CompanyKind, Membership, Partnership, Role
from users.models import User

SMALL = {
    "learners": 60,
    "companies": 10,
    "big_company": 25,
    "small_company": 3,
    "courses": 3,
    "lessons_per_course": 4,
    "big_course_lessons": 12,
    "small_course_lessons": 2,
    "progress": 150,
    "certificates": 20,
    "batch_size": 7,
}


def generate(**overrides) -> dict:
    from io import StringIO

    out = StringIO()
    call_command("generate_bench_data", json=True, stdout=out, **{**SMALL, **overrides})
    return json.loads(out.getvalue())


def bench_users():
    return User.objects.filter(email__endswith="@" + BENCH_EMAIL_DOMAIN)


@pytest.mark.django_db
def test_organisations_have_the_requested_shape(home_page):
    report = generate(courses=0)
    companies = Company.objects.filter(name__startswith="基准")
    assert companies.count() == 10
    assert companies.filter(kind=CompanyKind.LEAD).count() == 1
    # 60 learners, an HR per company, an expert per lead enterprise.
    assert bench_users().count() == 60 + 10 + 1
    assert report["counts"]["users"] == 71
    assert Partnership.objects.filter(sme__in=companies).count() == 9
    learners = Membership.objects.filter(role=Role.LEARNER, company__in=companies)
    sizes = sorted(
        learners.values("company")
        .annotate(n=__import__("django").db.models.Count("id"))
        .values_list("n", flat=True)
    )
    assert sizes[-1] == 25  # the big company
    assert sizes[0] == 3  # the small company
    assert learners.count() == 60
    hr = Membership.objects.filter(role=Role.HR, company__in=companies)
    assert hr.values("company").distinct().count() == 10
    assert not any(user.has_usable_password() for user in bench_users())


@pytest.mark.django_db
def test_courses_enrolments_and_progress(home_page):
    report = generate()
    courses = list(
        CoursePage.objects.filter(code__startswith="BENCH-").order_by("code")
    )
    assert [
        course.get_descendants()
        .type(__import__("courses.models", fromlist=["LessonPage"]).LessonPage)
        .count()
        for course in courses
    ] == [12, 2, 4]
    assert LessonProgress.objects.count() >= 150
    assert report["counts"]["lesson progress"] == LessonProgress.objects.count()
    completed = Enrollment.objects.filter(status=EnrollmentStatus.COMPLETED)
    assert completed.count() == 20
    # Completions never use the 12-lesson course and cover every lesson.
    assert not completed.filter(course=courses[0]).exists()
    for enrollment in completed:
        lessons = enrollment.course.get_descendants().filter(depth__gt=0)
        total = lessons.type(
            __import__("courses.models", fromlist=["LessonPage"]).LessonPage
        ).count()
        done = enrollment.lesson_progress.filter(completed_at__isnull=False).count()
        assert done == total
        assert enrollment.completed_at is not None
    certificates = Certificate.objects.all()
    assert certificates.count() == 20 == report["counts"]["certificates"]
    assert set(certificates.values_list("enrollment_id", flat=True)) == set(
        completed.values_list("pk", flat=True)
    )
    assert len(set(certificates.values_list("code", flat=True))) == 20
    assert {certificate.status for certificate in certificates} == {"valid", "expired"}
    for certificate in certificates.select_related("user", "company"):
        assert certificate.holder_name == certificate.user.name
        assert certificate.company.memberships.filter(user=certificate.user).exists()
    active = Enrollment.objects.filter(status=EnrollmentStatus.ACTIVE)
    assert active.exists()
    for enrollment in active:
        assert enrollment.lesson_progress.filter(completed_at__isnull=True).count() <= 1


@pytest.mark.django_db
def test_second_run_is_refused_and_changes_nothing(home_page):
    generate(courses=0)
    before = (User.objects.count(), Company.objects.count(), Membership.objects.count())
    with pytest.raises(CommandError, match="Bench data already exists"):
        generate(courses=0)
    after = (User.objects.count(), Company.objects.count(), Membership.objects.count())
    assert before == after


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"big_company": 59, "small_company": 3}, "cannot exceed --learners"),
        ({"companies": 0}, "must be at least 1"),
        ({"companies": 1}, "too small to include an SME"),
    ],
)
def test_bad_sizes_give_a_clear_error_and_create_nothing(home_page, overrides, message):
    users = User.objects.count()
    with pytest.raises(CommandError, match=message):
        generate(**overrides)
    assert User.objects.count() == users
    assert not Company.objects.filter(name__startswith="基准").exists()


@pytest.mark.django_db
def test_negative_sizes_are_rejected_by_the_parser():
    with pytest.raises(CommandError):
        call_command("generate_bench_data", "--learners", "-5")


@pytest.mark.django_db
def test_without_a_home_page_courses_are_skipped_with_a_note():
    from wagtail.models import Page

    Page.objects.filter(depth__gt=1).delete()
    report = generate()
    assert report["counts"]["course pages"] == 0
    assert any("load_demo" in note for note in report["notes"])
    assert not CoursePage.objects.exists()
