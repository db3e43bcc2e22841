from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import translation

from dispatch import services
from dispatch.models import MetrologyTopic

from .factories import TopicFactory, schedule_for, weekday_at


@pytest.fixture(autouse=True)
def _english(settings):
    """Assert on the English messages (msgids)."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@dataclass
class Dispatch:
    topic: MetrologyTopic
    practical: MetrologyTopic


@pytest.fixture
def dispatch(world) -> Dispatch:
    topic = TopicFactory(code="PRESS-CAL", name="压力表检定与校准")
    practical = TopicFactory(
        code="PRESS-PRACT", name="压力表现场实操", expects_practical_assessment=True
    )
    schedule_for(world.expert, topic, practical)
    schedule_for(world.other_expert, topic)
    return Dispatch(topic=topic, practical=practical)


@pytest.fixture
def propose(world, dispatch):
    """Propose a visit by world.expert at world.partner_sme (coordinator)."""

    def make(start=None, hours=3, topic=None, **kwargs):
        start = start or weekday_at(9)
        kwargs.setdefault("user", world.coordinator)
        kwargs.setdefault("expert", world.expert)
        kwargs.setdefault("host_company", world.partner_sme)
        return services.visit_propose(
            topic=topic or dispatch.topic,
            starts_at=start,
            ends_at=start + timedelta(hours=hours),
            **kwargs,
        )

    return make


@pytest.fixture
def confirmed_visit(world, propose, django_capture_on_commit_callbacks):
    """A confirmed visit whose invitation has been sent."""
    with django_capture_on_commit_callbacks(execute=True):
        visit = propose()
        services.visit_accept(visit=visit, user=world.expert)
    visit.refresh_from_db()
    return visit
