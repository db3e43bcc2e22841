"""Demo dispatch data: topics, experts, the schedule page and one full story.

陈静 (HR, 恒准仪表) requests a visit on pressure gauge calibration; the
coordinator finds a free slot for 李建国 (华测仪器) and proposes it; the expert
confirms; 刘堃 and 赵喆 register; a second, already finished visit shows
attendance, the report, the rating and a course (PG-101) that required the
visit completing. A periodic stationing plan fills 张昇's calendar at 绿能热力.
Idempotent: run it as often as you like.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.db import transaction
from django.utils import timezone

from organizations.models import Company
from users.models import User

from .models import (
    CourseVisitRequirement,
    DispatchSchedulePage,
    ExpertProfilePage,
    ExpertQualification,
    ExpertSchedule,
    MetrologyTopic,
    QualificationGrade,
    RequirementKind,
    StationingPlan,
    TimeHold,
    TopicCategory,
    Visit,
    VisitRequest,
    VisitStatus,
    WorkingHours,
)

TOPICS = [
    # code, name, English, category, minutes, practical, related course codes
    (
        "PRESS-CAL",
        "压力表检定与校准",
        "Pressure gauge verification and calibration",
        TopicCategory.PRESSURE,
        240,
        False,
        ["PG-101"],
    ),
    (
        "PRESS-PRACT",
        "压力表检定现场实操考核",
        "Practical assessment: pressure gauge verification",
        TopicCategory.PRESSURE,
        180,
        True,
        ["PG-101"],
    ),
    (
        "INT-CHECK",
        "计量器具的期间核查",
        "Intermediate checks of measuring instruments",
        TopicCategory.MANAGEMENT,
        240,
        False,
        ["PG-201"],
    ),
    (
        "TRACE",
        "企业内部量值溯源体系建设",
        "Building internal traceability",
        TopicCategory.MANAGEMENT,
        360,
        False,
        [],
    ),
    (
        "ENERGY-METER",
        "能源计量器具配备与管理（GB 17167）",
        "Energy metering instruments (GB 17167)",
        TopicCategory.ENERGY,
        240,
        False,
        ["EC-101"],
    ),
    (
        "CARBON",
        "碳排放计量基础",
        "Carbon emission measurement basics",
        TopicCategory.ENERGY,
        180,
        False,
        ["EC-102"],
    ),
]

EXPERTS = [
    {
        "email": "expert.li@demo.academy.cn",
        "slug": "li-jianguo",
        "company": "华测精密仪器集团有限公司",
        "job_title": "计量中心主任、高级工程师",
        "bio": "<p>从事压力、力值计量二十余年，主持建设企业最高计量标准 6 项，"
        "长期指导产业链上下游企业开展压力表检定和内部量值溯源。</p>",
        "topics": ["PRESS-CAL", "PRESS-PRACT", "INT-CHECK", "TRACE"],
        "regions": "江苏省苏州市, 江苏省无锡市, 上海市",
        "qualification": (QualificationGrade.REGISTERED_1, "ZJL1-2019-03215", 2029),
    },
    {
        "email": "expert.zhang@demo.academy.cn",
        "slug": "zhang-sheng",
        "company": "东方能源装备股份有限公司",
        "job_title": "能源计量部首席计量师",
        "bio": "<p>熟悉 GB 17167 能源计量器具配备要求与温室气体排放核算，"
        "为热力、化工企业提供能源计量审核与碳排放计量指导。</p>",
        "topics": ["ENERGY-METER", "CARBON", "TRACE"],
        "regions": "上海市, 江苏省常州市, 江苏省南通市",
        "qualification": (QualificationGrade.REGISTERED_2, "ZJL2-2021-11872", 2027),
    },
]

COORDINATOR = "coordinator@demo.academy.cn"
HR = "hr@hengzhun.demo.academy.cn"
PARTICIPANTS = ["liu.kun@hengzhun.demo.academy.cn", "zhao.zhe@hengzhun.demo.academy.cn"]
DEMO_REQUEST_PROBLEM = (
    "车间 40 余块弹簧管压力表示值误差偏大，希望专家现场指导检定方法、"
    "标准器选择和检定记录的规范填写。"
)
PAST_VISIT_TITLE = "压力表检定现场指导（已完成）"
PLAN_TITLE = "绿能热力能源计量定期派驻"


def _user(email: str) -> User | None:
    return User.objects.filter(email__iexact=email).first()


def _topics() -> dict[str, MetrologyTopic]:
    from courses.models import CoursePage

    topics = {}
    for code, name, name_en, category, minutes, practical, courses in TOPICS:
        topic, _created = MetrologyTopic.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "name_en": name_en,
                "category": category,
                "typical_duration_minutes": minutes,
                "expects_practical_assessment": practical,
            },
        )
        related = CoursePage.objects.filter(code__in=courses)
        if related and not topic.related_courses.exists():
            topic.related_courses.set(related)
            topic.save()
        topics[code] = topic
    return topics


def _schedule_page(stdout) -> DispatchSchedulePage | None:
    from home.models import HomePage

    page = DispatchSchedulePage.objects.first()
    if page is not None:
        return page
    home = HomePage.objects.first()
    if home is None:
        stdout.write("  dispatch: no home page; schedule page skipped")
        return None
    page = DispatchSchedulePage(
        title="专家派驻与现场指导",
        slug="visits",
        intro="<p>龙头企业的计量专家按计划到伙伴中小企业现场指导。"
        "下列为已确认、公开的派驻日程，可按地区、主题和专家筛选，"
        "也可订阅日历（iCalendar）。</p>",
    )
    home.add_child(instance=page)
    page.save_revision().publish()
    return page


def _experts(page, topics) -> None:
    for spec in EXPERTS:
        user = _user(spec["email"])
        if user is None:
            continue
        schedule, created = ExpertSchedule.objects.get_or_create(
            user=user,
            defaults={
                "service_regions": spec["regions"],
                "buffer_before_minutes": 30,
                "buffer_after_minutes": 30,
                "travel_minutes": 60,
                "max_visits_per_month": 12,
            },
        )
        if created:
            schedule.topics.set([topics[code] for code in spec["topics"]])
            schedule.working_hours = [
                WorkingHours(weekday=day, start_time=time(8, 30), end_time=time(17, 30))
                for day in range(5)
            ]
            schedule.save()
        if page is None or ExpertProfilePage.objects.filter(user=user).exists():
            continue
        grade, number, year = spec["qualification"]
        profile = ExpertProfilePage(
            title=user.get_full_name(),
            slug=spec["slug"],
            user=user,
            employer=Company.objects.filter(name=spec["company"]).first(),
            job_title=spec["job_title"],
            bio=spec["bio"],
            service_regions=spec["regions"],
        )
        profile.qualifications = [
            ExpertQualification(
                grade=grade, certificate_number=number, valid_until=date(year, 12, 31)
            )
        ]
        page.add_child(instance=profile)
        profile.save_revision().publish()


def _next_weekday(weekday: int, *, weeks: int, hour: int) -> datetime:
    day = timezone.localdate() + timedelta(weeks=weeks)
    day += timedelta(days=(weekday - day.weekday()) % 7)
    return datetime.combine(day, time(hour), tzinfo=timezone.get_current_timezone())


def _story(topics) -> str:
    """The request → schedule → confirm → register path, for an upcoming visit."""
    from . import services
    from .scheduling import find_slots

    coordinator, hr = _user(COORDINATOR), _user(HR)
    expert = _user(EXPERTS[0]["email"])
    if not (coordinator and hr and expert):
        return "people missing"
    company = Company.objects.get(name="苏州恒准压力仪表有限公司")
    visit_request = VisitRequest.objects.filter(
        company=company, problem=DEMO_REQUEST_PROBLEM
    ).first()
    if visit_request is None:
        start = timezone.localdate() + timedelta(days=14)
        visit_request = services.visit_request_submit(
            user=hr,
            company=company,
            topic=topics["PRESS-CAL"],
            problem=DEMO_REQUEST_PROBLEM,
            instruments="弹簧管压力表 0–1.6 MPa、0–2.5 MPa；精密压力表（标准器）",
            expected_participants=8,
            site_address="苏州工业园区星湖街 218 号 3 号车间",
            preferred_windows=[
                {"start": start, "end": start + timedelta(days=10)},
            ],
        )
    if not visit_request.visits.exists():
        window = visit_request.preferred_windows[0]
        slots = find_slots(
            topic=visit_request.topic,
            host_company=company,
            windows=[
                (date.fromisoformat(window["start"]), date.fromisoformat(window["end"]))
            ],
            duration=timedelta(minutes=visit_request.topic.typical_duration_minutes),
        )
        slot = next((s for s in slots if s.expert_id == expert.pk), None)
        if slot is None:
            return "no free slot"
        visit = services.visit_propose(
            user=coordinator,
            expert=expert,
            host_company=company,
            topic=visit_request.topic,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            visit_request=visit_request,
            title="恒准仪表压力表检定现场指导",
            capacity=8,
        )
        services.visit_accept(visit=visit, user=expert)
        for email in PARTICIPANTS:
            person = _user(email)
            if person:
                services.visit_register(
                    visit=visit, participant=person, registered_by=hr
                )
    return "ok"


def _finished_visit(topics) -> str:
    """A visit that already took place: attendance, report, rating, course."""
    from . import services

    if Visit.objects.filter(title=PAST_VISIT_TITLE).exists():
        return "exists"
    coordinator, hr = _user(COORDINATOR), _user(HR)
    expert = _user(EXPERTS[0]["email"])
    learner = _user(PARTICIPANTS[1])
    if not (coordinator and hr and expert and learner):
        return "people missing"
    company = Company.objects.get(name="苏州恒准压力仪表有限公司")
    course = _course_requiring_visit(topics["PRESS-CAL"], learner)
    start = _next_weekday(3, weeks=5, hour=9)
    visit = services.visit_propose(
        user=coordinator,
        expert=expert,
        host_company=company,
        topic=topics["PRESS-CAL"],
        starts_at=start,
        ends_at=start + timedelta(hours=4),
        title=PAST_VISIT_TITLE,
        capacity=6,
    )
    services.visit_accept(visit=visit, user=expert)
    services.visit_register(visit=visit, participant=learner, registered_by=hr)
    # Demo only: move the visit into the past so it can be marked and reported.
    past = _next_weekday(2, weeks=-2, hour=9)
    Visit.objects.filter(pk=visit.pk).update(
        starts_at=past, ends_at=past + timedelta(hours=4)
    )
    TimeHold.objects.filter(visit=visit).update(
        starts_at=past - timedelta(minutes=30),
        ends_at=past + timedelta(hours=4, minutes=30),
    )
    visit.refresh_from_db()
    services.attendance_mark(visit=visit, user=expert, attended_user_ids=[learner.pk])
    services.visit_report_file(
        visit=visit,
        user=expert,
        summary="现场讲解 JJG 52 弹簧管式压力表检定规程，演示示值误差、回程误差和轻敲位移的检定方法。",
        findings="1. 标准器（精密压力表）检定证书已过期 2 个月；2. 检定记录缺少环境温度。",
        recommendations="尽快送检标准器；按规程补充检定记录格式；每季度开展期间核查。",
        hours_spent="5.0",
        actions=[
            {
                "description": "精密压力表送省计量院检定",
                "owner": "陈静",
                "due_date": timezone.localdate() + timedelta(days=30),
            },
            {
                "description": "修订压力表检定原始记录表",
                "owner": "赵喆",
                "due_date": timezone.localdate() + timedelta(days=14),
            },
        ],
    )
    services.visit_rate(
        visit=visit, user=hr, score=5, comment="讲解细致，问题当场解决。"
    )
    if course is not None:
        from courses.models import Enrollment

        completed = Enrollment.objects.filter(
            user=learner, course=course, status="completed"
        ).exists()
        return "course completed" if completed else "course not completed"
    return "ok (no course)"


def _course_requiring_visit(topic, learner):
    """PG-101 requires attending a visit on the topic; 赵喆 has done the lessons.

    Demo shortcut: the lessons' progress is written directly (the real path is
    the learner's heartbeats and quiz attempts in courses).
    """
    from courses.models import CoursePage, Enrollment, LessonProgress
    from courses.services import course_lessons, enrollment_create

    course = CoursePage.objects.filter(code="PG-101").first()
    if course is None:
        return None
    CourseVisitRequirement.objects.get_or_create(
        course=course, topic=topic, kind=RequirementKind.ATTENDED
    )
    enrollment = Enrollment.objects.filter(user=learner, course=course).first()
    if enrollment is None:
        try:
            enrollment = enrollment_create(user=learner, course=course)
        except Exception:  # noqa: BLE001 - the demo goes on without the course
            return None
    now = timezone.now()
    for lesson in course_lessons(course):
        LessonProgress.objects.update_or_create(
            enrollment=enrollment,
            lesson=lesson,
            defaults={
                "first_seen_at": now - timedelta(days=20),
                "last_seen_at": now - timedelta(days=20),
                "active_seconds": max(lesson.min_active_seconds, 600),
                "completed_at": now - timedelta(days=20),
                "quiz_best_score": 100,
                "quiz_passed": True,
            },
        )
    return course


def _stationing(topics) -> str:
    from . import services

    if StationingPlan.objects.filter(title=PLAN_TITLE).exists():
        plan = StationingPlan.objects.get(title=PLAN_TITLE)
        result = services.stationing_plan_generate(plan=plan, user=_user(COORDINATOR))
        return f"{len(result.created)} new"
    coordinator = _user(COORDINATOR)
    expert = _user(EXPERTS[1]["email"])
    company = Company.objects.filter(name="常州绿能热力科技有限公司").first()
    if not (coordinator and expert and company):
        return "people missing"
    first = _next_weekday(1, weeks=1, hour=9)
    plan, result = services.stationing_plan_create(
        user=coordinator,
        title=PLAN_TITLE,
        expert=expert,
        host_company=company,
        topic=topics["ENERGY-METER"],
        first_start=first,
        duration_minutes=240,
        rrule="FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;COUNT=6",
        exception_dates=[(first + timedelta(weeks=4)).date()],
        location="常州市武进区绿能热力能源管理中心",
        capacity=12,
    )
    for visit in result.created[:2]:
        services.visit_accept(visit=visit, user=expert)
        services.visit_update_details(visit=visit, user=coordinator, published=True)
    return f"{len(result.created)} visits"


@transaction.atomic
def load(*, stdout) -> None:
    topics = _topics()
    page = _schedule_page(stdout)
    _experts(page, topics)
    story = _story(topics)
    finished = _finished_visit(topics)
    plan = _stationing(topics)
    stdout.write(
        f"  {len(topics)} topics, {ExpertSchedule.objects.count()} expert schedules, "
        f"{Visit.objects.exclude(status=VisitStatus.CANCELLED).count()} visits "
        f"(request story: {story}; finished visit: {finished}; stationing: {plan})"
    )
