"""Thin views: parse input, check, call a service or selector, render."""

from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST
from wagtail import hooks

from . import services
from .models import CoursePage, Enrollment, EnrollmentStatus, LessonPage, QuizAttempt
from .permissions import can_edit_course
from .rules import lesson_rule_statuses
from .selectors import (
    course_outline,
    enrollment_list_for_learner,
    quiz_attempts_for,
)

HEARTBEAT_BAD_JSON = gettext_lazy('Send a JSON object such as {"delta": 15}.')


def _error_text(error: ValidationError | PermissionDenied) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error) or _("You may not do this.")


# --- enrolment -----------------------------------------------------------------


@require_POST
@login_required
def course_enrol(request: HttpRequest, course_id: int) -> HttpResponse:
    course = get_object_or_404(CoursePage.objects.live(), pk=course_id)
    try:
        services.enrollment_create(user=request.user, course=course)
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, _("You are enrolled. Happy learning!"))
    return redirect(course.url)


@require_POST
@login_required
def course_withdraw(request: HttpRequest, course_id: int) -> HttpResponse:
    course = get_object_or_404(CoursePage, pk=course_id)
    enrollment = get_object_or_404(Enrollment, user=request.user, course=course)
    try:
        services.enrollment_withdraw(enrollment=enrollment, by=request.user)
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, _error_text(error))
    else:
        messages.info(
            request,
            _("You left the course. Your progress is kept if you enrol again."),
        )
    return redirect(course.url)


@require_GET
@login_required
def course_resume(request: HttpRequest, course_id: int) -> HttpResponse:
    course = get_object_or_404(CoursePage.objects.live(), pk=course_id)
    enrollment = (
        Enrollment.objects.current()
        .filter(user=request.user, course=course)
        .select_related("last_lesson")
        .first()
    )
    if enrollment is None:
        return redirect(course.url)
    outline = course_outline(course, enrollment, request=request)
    if enrollment.last_lesson_id and any(
        row.lesson.pk == enrollment.last_lesson_id and not row.completed
        for row in outline.lessons
    ):
        return redirect(enrollment.last_lesson.url)
    next_row = outline.next_lesson()
    if next_row is not None:
        return redirect(next_row.lesson.url)
    return redirect(course.url)


# --- lessons ---------------------------------------------------------------------


def lesson_serve(request: HttpRequest, lesson: LessonPage, *args, **kwargs):
    """``LessonPage.serve``: only enrolled learners (and the course's editors)."""
    if getattr(request, "is_preview", False):
        # Admin preview (also of a lesson not saved yet): content only.
        course = services.lesson_course(lesson) if lesson.pk else None
        return _render_lesson(request, lesson, course, None, None)
    course = services.lesson_course(lesson)
    if (
        course is not None
        and can_edit_course(request.user, course)
        and not Enrollment.objects.current()
        .filter(user=request.user, course=course)
        .exists()
    ):
        return _render_lesson(request, lesson, course, None, None)
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if course is None:
        raise PermissionDenied(services.LESSON_NOT_IN_COURSE)
    try:
        enrollment, progress = services.lesson_open(
            user=request.user, lesson=lesson, course=course
        )
    except (PermissionDenied, ValidationError) as error:
        messages.error(request, _error_text(error))
        return redirect(course.url)
    return _render_lesson(request, lesson, course, enrollment, progress)


def _render_lesson(request, lesson, course, enrollment, progress):
    outline = course_outline(course, enrollment, request=request) if course else None
    previous_row = next_row = None
    if outline:
        previous_row, next_row = outline.mark_current(lesson.pk)
    quiz = lesson.quiz_block
    attempts = []
    open_attempt = None
    served = []
    if quiz is not None and enrollment is not None:
        attempts = quiz_attempts_for(enrollment=enrollment, lesson=lesson)
        open_attempt = next((a for a in attempts if a.is_open), None)
        if open_attempt is not None:
            questions = services.quiz_questions(lesson)
            served = [
                questions[qid]
                for qid in open_attempt.served_questions
                if qid in questions
            ]
    limit = quiz.value["attempt_limit"] if quiz is not None else 0
    context = {
        "page": lesson,
        "self": lesson,
        "course": course,
        "outline": outline,
        "enrollment": enrollment,
        "progress": progress,
        "rules": lesson_rule_statuses(lesson, progress),
        "previous_lesson": previous_row.lesson if previous_row else None,
        "next_lesson": next_row.lesson if next_row else None,
        "quiz": quiz,
        "attempts": [a for a in attempts if not a.is_open],
        "open_attempt": open_attempt,
        "served_questions": served,
        "attempts_left": (max(0, limit - len(attempts)) if limit else None),
        "heartbeat_interval": services.heartbeat_interval(),
    }
    return TemplateResponse(request, "courses/lesson_page.html", context)


def _json_error(message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"ok": False, "error": message}, status=status)


@require_POST
def lesson_heartbeat(request: HttpRequest, lesson_id: int) -> JsonResponse:
    """POST JSON ``{"delta": 15, "video_position": 12.5, "video_duration": 300}``."""
    if not request.user.is_authenticated:
        return _json_error(_("Log in to record study time."), 403)
    try:
        payload = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        payload = None
    if not isinstance(payload, dict) or "delta" not in payload:
        # The lesson must exist whatever the body says (404 before 400).
        get_object_or_404(LessonPage.objects.live(), pk=lesson_id)
        return _json_error(str(HEARTBEAT_BAD_JSON))
    try:
        progress = services.heartbeat_record(
            user=request.user,
            lesson=lesson_id,
            delta_seconds=payload.get("delta"),
            video_position=payload.get("video_position"),
            video_duration=payload.get("video_duration"),
        )
    except LessonPage.DoesNotExist as error:
        raise Http404 from error
    except ValidationError as error:
        get_object_or_404(LessonPage.objects.live(), pk=lesson_id)
        return _json_error(_error_text(error))
    except PermissionDenied as error:
        return _json_error(_error_text(error), 403)
    return JsonResponse(
        {
            "ok": True,
            "active_seconds": progress.active_seconds,
            "completed": progress.completed_at is not None,
            "rules": [
                {"label": str(s.label), "met": s.met}
                for s in lesson_rule_statuses(progress.lesson, progress)
            ],
        }
    )


@require_POST
@login_required
def quiz_start(request: HttpRequest, lesson_id: int) -> HttpResponse:
    lesson = get_object_or_404(LessonPage.objects.live(), pk=lesson_id)
    try:
        services.quiz_attempt_start(user=request.user, lesson=lesson)
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, _error_text(error))
    return redirect(lesson.url + "#quiz")


def answers_from_post(post, served: list[str]) -> dict:
    """Collect raw answers from form fields ``q-<id>``, ``q-<id>-value`` and
    ``q-<id>-unit``. Fields for questions not served are kept so that the
    service can reject the submission."""
    answers: dict = {}
    for key in post:
        if not key.startswith("q-"):
            continue
        rest = key[2:]
        if rest.endswith("-value") or rest.endswith("-unit"):
            qid, part = rest.rsplit("-", 1)
            answers.setdefault(qid, {})
            if isinstance(answers[qid], dict):
                answers[qid][part] = post.get(key)
        else:
            values = post.getlist(key)
            answers[rest] = values if len(values) > 1 else values[0]
    return answers


@require_POST
@login_required
def quiz_submit(request: HttpRequest, attempt_id: int) -> HttpResponse:
    attempt = get_object_or_404(
        QuizAttempt.objects.select_related("lesson"), pk=attempt_id
    )
    lesson = attempt.lesson
    answers = answers_from_post(request.POST, attempt.served_questions)
    # Multiple-choice answers with one box ticked arrive as a single value.
    questions = services.quiz_questions(lesson)
    for qid, value in list(answers.items()):
        child = questions.get(qid)
        if child is not None and child.block_type == "multiple_choice":
            answers[qid] = value if isinstance(value, list) else [value]
    try:
        attempt = services.quiz_attempt_submit(
            user=request.user, attempt=attempt, answers=answers
        )
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, _error_text(error))
        return redirect(lesson.url + "#quiz")
    if attempt.passed:
        messages.success(
            request, _("Quiz passed with %(score)s %%.") % {"score": attempt.score}
        )
    else:
        messages.warning(
            request,
            _("Score %(score)s %%; the pass mark is %(mark)s %%.")
            % {"score": attempt.score, "mark": attempt.pass_mark},
        )
    return redirect(lesson.url + "#quiz")


# --- my learning -------------------------------------------------------------------


@require_GET
@login_required
def my_learning(request: HttpRequest) -> HttpResponse:
    enrollments = enrollment_list_for_learner(user=request.user)
    sections = []
    for hook in hooks.get_hooks("my_learning_sections"):
        html = hook(request)
        if html:
            sections.append(html)
    context = {
        "active": [e for e in enrollments if e.status == EnrollmentStatus.ACTIVE],
        "completed": [e for e in enrollments if e.status == EnrollmentStatus.COMPLETED],
        "sections": sections,
    }
    return TemplateResponse(request, "courses/my_learning.html", context)
