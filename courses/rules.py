"""Lesson completion rules, stated per block type.

- every lesson: active (visible, focused) for ``min_active_seconds``;
- an uploaded video marked "must be watched": watched to 90 %;
- a quiz: passed (best attempt at or above its pass mark).
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from .blocks import VIDEO_WATCHED_FRACTION
from .models import LessonPage, LessonProgress
from .requirements import RequirementStatus


def lesson_rule_statuses(
    lesson: LessonPage, progress: LessonProgress | None
) -> list[RequirementStatus]:
    statuses = []
    active = progress.active_seconds if progress else 0
    if lesson.min_active_seconds:
        statuses.append(
            RequirementStatus(
                label=_("Study the lesson for %(minutes)s min (%(done)s min so far)")
                % {
                    "minutes": round(lesson.min_active_seconds / 60, 1),
                    "done": round(active / 60, 1),
                },
                met=active >= lesson.min_active_seconds,
            )
        )
    if lesson.has_required_video:
        fraction = progress.video_fraction if progress else 0.0
        statuses.append(
            RequirementStatus(
                label=_("Watch the video to %(target)s %% (%(done)s %% so far)")
                % {
                    "target": round(VIDEO_WATCHED_FRACTION * 100),
                    "done": round(fraction * 100),
                },
                met=fraction >= VIDEO_WATCHED_FRACTION - 1e-9,
            )
        )
    if lesson.quiz_block is not None:
        statuses.append(
            RequirementStatus(
                label=_("Pass the quiz (pass mark %(mark)s %%)")
                % {"mark": lesson.quiz_block.value["pass_mark"]},
                met=bool(progress and progress.quiz_passed),
            )
        )
    return statuses


def lesson_rules_met(lesson: LessonPage, progress: LessonProgress | None) -> bool:
    return all(status.met for status in lesson_rule_statuses(lesson, progress))
