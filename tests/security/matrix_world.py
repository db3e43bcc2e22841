"""The objects the URL permission matrix requests, built through services.

Company A is ``world.partner_sme`` (an SME partnered with the lead
enterprise), company B is ``world.other_sme`` (unrelated to A and to the
lead), and the partner company is ``world.lead``. Every object a URL can
point at exists once for A and once for B (and for the partner where it
makes sense), so that each role can be checked against its own tenant and
the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from organizations.models import Membership, Role
from tests.factories import MembershipFactory, UserFactory

ROLES = (
    "anonymous",
    "learner_a",
    "expert",
    "hr_a",
    "hr_b",
    "coordinator",
    "superuser",
)


@dataclass
class MatrixWorld:
    world: object
    users: dict[str, object]
    companies: dict[str, object]
    extra: dict[str, object] = field(default_factory=dict)

    def __getattr__(self, name):
        try:
            return self.extra[name]
        except KeyError:
            raise AttributeError(name) from None


def _courses(world, home_page) -> dict:
    from courses import services as course_services
    from courses.models import EnrollmentPolicy
    from tests.courses import factories as course_factories

    track = course_factories.track(home_page)
    quiz = course_factories.quiz_block(
        [course_factories.question_numeric()], pass_mark=100, limit=3
    )
    open_course = course_factories.course(
        track_page=track, publisher=world.lead, quiz=quiz, title="压力表检定与校准"
    )
    closed_course = course_factories.course(
        track_page=track,
        publisher=world.other_lead,
        quiz=course_factories.quiz_block(
            [course_factories.question_numeric()], pass_mark=100, limit=3
        ),
        title="能源计量器具配备与管理",
        policy=EnrollmentPolicy.PARTNERS,
    )
    quiz_lesson = course_factories.lessons_of(open_course)[-1]
    closed_quiz_lesson = course_factories.lessons_of(closed_course)[-1]
    enrollment_a = course_services.enrollment_create(
        user=world.learner, course=open_course
    )
    enrollment_b = course_services.enrollment_create(
        user=world.other_learner, course=closed_course
    )
    for lesson in course_factories.lessons_of(open_course):
        course_services.lesson_open(user=world.learner, lesson=lesson)
    for lesson in course_factories.lessons_of(closed_course):
        course_services.lesson_open(user=world.other_learner, lesson=lesson)
    attempt_a = course_services.quiz_attempt_start(
        user=world.learner, lesson=quiz_lesson
    )
    attempt_b = course_services.quiz_attempt_start(
        user=world.other_learner, lesson=closed_quiz_lesson
    )
    return {
        "open_course": open_course,
        "closed_course": closed_course,
        "lesson_a": quiz_lesson,
        "lesson_b": closed_quiz_lesson,
        "enrollment_a": enrollment_a,
        "enrollment_b": enrollment_b,
        "attempt_a": attempt_a,
        "attempt_b": attempt_b,
        "question_id": quiz_lesson.quiz_block.value["questions"][0].id,
    }


def _certificates(world, courses, *, render: bool) -> dict:
    from certificates import services as certificate_services
    from tests.certificates.factories import make_completed_enrollment, make_course

    parent = courses["open_course"].get_parent()
    course_a = make_course(
        parent=parent,
        publisher=world.lead,
        certificate_signatory=world.expert,
        slug="matrix-certified-a",
    )
    course_b = make_course(
        parent=parent,
        publisher=world.other_lead,
        certificate_signatory=world.other_expert,
        slug="matrix-certified-b",
    )
    certificate_a = certificate_services.certificate_issue_for_enrollment(
        enrollment=make_completed_enrollment(user=world.learner, course=course_a)
    )
    certificate_b = certificate_services.certificate_issue_for_enrollment(
        enrollment=make_completed_enrollment(user=world.other_learner, course=course_b)
    )
    if render:
        for certificate in (certificate_a, certificate_b):
            certificate_services.certificate_render(certificate_id=certificate.pk)
            certificate.refresh_from_db()
    return {"certificate_a": certificate_a, "certificate_b": certificate_b}


def _dispatch(world) -> dict:
    from dispatch import services as dispatch_services
    from dispatch.models import FeedKind, Visit, VisitStatus
    from tests.dispatch.factories import TopicFactory, schedule_for, weekday_at

    topic = TopicFactory(code="PRESS-CAL", name="压力表检定与校准")
    practical = TopicFactory(
        code="PRESS-PRACT", name="压力表现场实操", expects_practical_assessment=True
    )
    schedule_for(world.expert, topic, practical)
    schedule_for(world.other_expert, topic, practical)
    start = weekday_at(9)
    windows = [
        {
            "start": (start.date()).isoformat(),
            "end": (start.date() + timedelta(days=7)).isoformat(),
        }
    ]

    def request_for(hr, company):
        return dispatch_services.visit_request_submit(
            user=hr,
            company=company,
            topic=topic,
            problem="压力表示值误差超差，需要现场指导。",
            preferred_windows=windows,
        )

    request_a = request_for(world.hr, world.partner_sme)
    request_b = request_for(world.other_hr, world.other_sme)

    def visit(expert, company, *, hours_from, published, confirm=True):
        proposed = dispatch_services.visit_propose(
            user=coordinator,
            expert=expert,
            host_company=company,
            topic=practical,
            starts_at=start + timedelta(hours=hours_from),
            ends_at=start + timedelta(hours=hours_from + 2),
            published=published,
        )
        if confirm:
            return dispatch_services.visit_accept(visit=proposed, user=expert)
        return proposed

    coordinator = world.coordinator
    # A-hosted, unpublished and confirmed: only the people involved see it.
    visit_a = visit(world.expert, world.partner_sme, hours_from=0, published=False)
    visit_b = visit(world.other_expert, world.other_sme, hours_from=0, published=False)
    tentative_a = visit(
        world.expert, world.partner_sme, hours_from=24, published=False, confirm=False
    )
    tentative_b = visit(
        world.other_expert,
        world.other_sme,
        hours_from=24,
        published=False,
        confirm=False,
    )
    public_visit = visit(world.expert, world.partner_sme, hours_from=48, published=True)

    # A second employee of each SME who is not registered yet.
    spare_a = MembershipFactory(
        company=world.partner_sme, role=Role.LEARNER, user=UserFactory(name="赵喆")
    ).user
    spare_b = MembershipFactory(
        company=world.other_sme, role=Role.LEARNER, user=UserFactory(name="孙赟")
    ).user
    registration_a = dispatch_services.visit_register(
        visit=visit_a, participant=world.learner, registered_by=world.learner
    )
    registration_b = dispatch_services.visit_register(
        visit=visit_b,
        participant=world.other_learner,
        registered_by=world.other_learner,
    )

    # A finished visit at A with a report and an attachment.
    done_a = visit(world.expert, world.partner_sme, hours_from=72, published=False)
    past = timezone.now() - timedelta(days=3)
    Visit.objects.filter(pk=done_a.pk).update(
        starts_at=past, ends_at=past + timedelta(hours=2)
    )
    done_a.refresh_from_db()
    report_a = dispatch_services.visit_report_file(
        visit=done_a,
        user=world.expert,
        summary="完成压力表检定现场指导。",
        hours_spent=Decimal("2.0"),
        attachments=[
            SimpleUploadedFile("report.txt", "记录".encode(), content_type="text/plain")
        ],
    )
    done_a.refresh_from_db()
    assert done_a.status == VisitStatus.COMPLETED

    expert_feed = dispatch_services.feed_token_create(
        user=world.expert, expert=world.expert
    )
    other_expert_feed = dispatch_services.feed_token_create(
        user=world.other_expert, expert=world.other_expert
    )
    company_feed_a = dispatch_services.feed_token_create(
        user=world.hr, company=world.partner_sme
    )
    company_feed_b = dispatch_services.feed_token_create(
        user=world.other_hr, company=world.other_sme
    )
    assert expert_feed.kind == FeedKind.EXPERT
    busy_b = dispatch_services.busy_block_create(
        expert=world.other_expert,
        starts_at=start + timedelta(days=20),
        ends_at=start + timedelta(days=21),
        reason="年假",
    )
    return {
        "topic": topic,
        "request_a": request_a,
        "request_b": request_b,
        "visit_a": visit_a,
        "visit_b": visit_b,
        "tentative_a": tentative_a,
        "tentative_b": tentative_b,
        "public_visit": public_visit,
        "done_a": done_a,
        "report_a": report_a,
        "attachment_a": report_a.attachments.get(),
        "spare_a": spare_a,
        "spare_b": spare_b,
        "registration_a": registration_a,
        "registration_b": registration_b,
        "expert_feed": expert_feed,
        "other_expert_feed": other_expert_feed,
        "company_feed_a": company_feed_a,
        "company_feed_b": company_feed_b,
        "busy_b": busy_b,
    }


def _organizations(world) -> dict:
    from organizations.services import invitation_create

    return {
        "invitation_a": invitation_create(
            invited_by=world.hr,
            company=world.partner_sme,
            email="new-a@example.cn",
            send=False,
        ),
        "invitation_b": invitation_create(
            invited_by=world.other_hr,
            company=world.other_sme,
            email="new-b@example.cn",
            send=False,
        ),
        "membership_a": Membership.objects.get(
            user=world.learner, company=world.partner_sme
        ),
        "membership_b": Membership.objects.get(
            user=world.other_learner, company=world.other_sme
        ),
        "membership_partner": Membership.objects.get(
            user=world.expert, company=world.lead
        ),
    }


def _credentials(certificates: dict) -> dict:
    from credentials import services as credential_services
    from credentials.models import SigningKey

    credential = credential_services.credential_issue(
        certificate=certificates["certificate_a"]
    )
    return {
        "credential_a": credential,
        "signing_key": SigningKey.objects.get(pk=credential.signing_key_id),
        "status_list": credential.status_list,
    }


def _hr(world) -> dict:
    from hr import services as hr_services

    def export(hr, company):
        job = hr_services.export_job_create(
            requested_by=hr, company=company, kind="matrix", fmt="xlsx", filters={}
        )
        return hr_services.export_run(job_id=job.pk)

    def bulk_import(hr, company, email):
        data = (
            "name,email,employee_number,department,courses,due_on\n"
            f"新员工,{email},,,,\n"
        ).encode()
        bulk, _planned = hr_services.bulk_import_preview(
            uploaded_by=hr, company=company, data=data, filename="people.csv"
        )
        return bulk

    # Auditor links (h-cred-hr): active for A and B, one expired and one
    # revoked for A; tokens kept for the public URL.
    from hr.models import AuditorLink

    def auditor(hr, company, token, *, expired=False, revoked=False):
        link, _token = hr_services.auditor_link_create(
            created_by=hr,
            company=company,
            label="ISO/IEC 17025 audit",
            expires_on=timezone.localdate() + timedelta(days=30),
            token=token,
        )
        if expired:
            AuditorLink.objects.filter(pk=link.pk).update(
                expires_on=timezone.localdate() - timedelta(days=1)
            )
        if revoked:
            hr_services.auditor_link_revoke(revoked_by=hr, link=link)
        return link

    auditor_links = {
        "auditor_a": auditor(world.hr, world.partner_sme, "matrix-auditor-a"),
        "auditor_b": auditor(world.other_hr, world.other_sme, "matrix-auditor-b"),
        "auditor_expired_a": auditor(
            world.hr, world.partner_sme, "matrix-auditor-expired", expired=True
        ),
        "auditor_revoked_a": auditor(
            world.hr, world.partner_sme, "matrix-auditor-revoked", revoked=True
        ),
    }
    return {
        **auditor_links,
        "auditor_expires_on": (timezone.localdate() + timedelta(days=30)).isoformat(),
        "export_a": export(world.hr, world.partner_sme),
        "export_b": export(world.other_hr, world.other_sme),
        "import_a": bulk_import(world.hr, world.partner_sme, "import-a@example.cn"),
        "import_b": bulk_import(world.other_hr, world.other_sme, "import-b@example.cn"),
    }


def build(
    world,
    home_page,
    *,
    render_certificates: bool = False,
    with_credentials: bool = False,
) -> MatrixWorld:
    superuser = UserFactory(name="系统管理员", is_superuser=True, is_staff=True)
    users = {
        "anonymous": None,
        "learner_a": world.learner,
        "expert": world.expert,
        "hr_a": world.hr,
        "hr_b": world.other_hr,
        "coordinator": world.coordinator,
        "superuser": superuser,
    }
    companies = {"a": world.partner_sme, "b": world.other_sme, "p": world.lead}
    extra: dict[str, object] = {}
    extra.update(_organizations(world))
    courses = _courses(world, home_page)
    extra.update(courses)
    certificates = _certificates(world, courses, render=render_certificates)
    extra.update(certificates)
    if with_credentials:
        extra.update(_credentials(certificates))
    extra.update(_dispatch(world))
    extra.update(_hr(world))
    return MatrixWorld(world=world, users=users, companies=companies, extra=extra)
