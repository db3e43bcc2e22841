"""Factories for dispatch tests."""

from datetime import datetime, time, timedelta

import factory
from django.utils import timezone

from dispatch.models import ExpertSchedule, MetrologyTopic, VisitMode


class TopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MetrologyTopic
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"T-{n:03d}")
    name = factory.Sequence(lambda n: f"计量专题{n}")
    name_en = factory.Sequence(lambda n: f"Topic {n}")
    typical_duration_minutes = 180


def schedule_for(expert, *topics, **kwargs) -> ExpertSchedule:
    schedule, _created = ExpertSchedule.objects.update_or_create(
        user=expert, defaults=kwargs
    )
    if topics:
        # A ParentalManyToManyField: changes are stored on save().
        schedule.topics.add(*topics)
        schedule.save()
    return schedule


def weekday_at(hour: int, minute: int = 0, *, weeks_ahead: int = 2, weekday: int = 1):
    """An aware local datetime ``weeks_ahead`` weeks from now on ``weekday``."""
    today = timezone.localdate()
    start = today + timedelta(days=7 * weeks_ahead)
    start += timedelta(days=(weekday - start.weekday()) % 7)
    return datetime.combine(
        start, time(hour, minute), tzinfo=timezone.get_current_timezone()
    )


ON_SITE = VisitMode.ON_SITE
