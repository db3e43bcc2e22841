"""Build course trees through the services the admin and demo use."""

from __future__ import annotations

import itertools
import uuid
from decimal import Decimal

from courses.models import (
    CourseIndexPage,
    CoursePage,
    EnrollmentPolicy,
    LessonPage,
    ModulePage,
    TrackPage,
)
from courses.services import course_page_add, course_workflow_ensure

_counter = itertools.count(1)


def question_single(correct=0, options=("对", "错")):
    return (
        "single_choice",
        {
            "prompt": "<p>单选题</p>",
            "explanation": "",
            "options": [
                {"text": text, "correct": i == correct}
                for i, text in enumerate(options)
            ],
        },
    )


def question_multiple(correct=(0, 1), options=("甲", "乙", "丙")):
    return (
        "multiple_choice",
        {
            "prompt": "<p>多选题</p>",
            "explanation": "",
            "options": [
                {"text": text, "correct": i in correct}
                for i, text in enumerate(options)
            ],
        },
    )


def question_true_false(correct=True):
    return (
        "true_false",
        {"prompt": "<p>判断题</p>", "explanation": "", "correct": correct},
    )


def question_numeric(answer=0.0256, unit="MPa", absolute=0.0002, relative=None):
    return (
        "numeric",
        {
            "prompt": "<p>最大允许误差？</p>",
            "explanation": "",
            "answer": answer,
            "unit": unit,
            "tolerance_absolute": absolute,
            "tolerance_relative": relative,
            "allow_unit_conversion": True,
        },
    )


def quiz_block(questions, *, pass_mark=60, limit=3, per_attempt=0):
    return {
        "type": "quiz",
        "value": {
            "title": "测验",
            "pass_mark": pass_mark,
            "attempt_limit": limit,
            "questions_per_attempt": per_attempt,
            "questions": [
                {"type": kind, "value": value, "id": str(uuid.uuid4())}
                for kind, value in questions
            ],
        },
    }


def text_block(html="<p>压力表由弹簧管、齿轮传动机构和指针组成。</p>"):
    return {"type": "text", "value": html}


def catalogue(home_page) -> CourseIndexPage:
    index = CourseIndexPage.objects.first()
    if index is None:
        index = course_page_add(
            parent=home_page, page=CourseIndexPage(title="课程", slug="courses")
        )
        course_workflow_ensure()
    return index


def track(home_page, title="压力计量") -> TrackPage:
    index = catalogue(home_page)
    n = next(_counter)
    return course_page_add(parent=index, page=TrackPage(title=title, slug=f"track-{n}"))


def course(
    *,
    track_page: TrackPage,
    publisher,
    title="压力表检定与校准",
    code=None,
    modules=1,
    lessons_per_module=2,
    min_seconds=30,
    quiz=None,
    policy=EnrollmentPolicy.OPEN,
    sequential=False,
    intro="<p>压力表检定。</p>",
    **fields,
) -> CoursePage:
    """A course with ``modules`` × ``lessons_per_module`` text lessons; when
    ``quiz`` (a quiz block) is given, the last lesson carries it."""
    n = next(_counter)
    page = course_page_add(
        parent=track_page,
        page=CoursePage(
            title=title,
            slug=f"course-{n}",
            code=code or f"T-{n:03d}",
            publisher=publisher,
            estimated_hours=Decimal("2"),
            enrollment_policy=policy,
            sequential=sequential,
            intro=intro,
            **fields,
        ),
    )
    for m in range(modules):
        module = course_page_add(
            parent=page, page=ModulePage(title=f"第{m + 1}章", slug=f"m{m + 1}")
        )
        for lesson_number in range(lessons_per_module):
            last = m == modules - 1 and lesson_number == lessons_per_module - 1
            body = [text_block()]
            if last and quiz is not None:
                body.append(quiz)
            course_page_add(
                parent=module,
                page=LessonPage(
                    title=f"第{m + 1}.{lesson_number + 1}节",
                    slug=f"l{lesson_number + 1}",
                    min_active_seconds=min_seconds,
                    body=body,
                ),
            )
    return page


def lessons_of(course_page: CoursePage) -> list[LessonPage]:
    from courses.services import course_lessons

    return course_lessons(course_page)
