"""users.middleware.ThrottledUserSessionsMiddleware: allauth's per-request
user-session activity update, at most once a minute per session."""

from datetime import timedelta

import pytest
from allauth.usersessions.models import UserSession
from allauth.usersessions.signals import session_client_changed
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    yield
    cache.clear()


def _row(user):
    return UserSession.objects.get(user=user)


def test_first_request_creates_the_row(client, user):
    client.force_login(user)
    client.get(reverse("profile"), HTTP_USER_AGENT="Browser A")
    row = _row(user)
    assert row.user_agent == "Browser A"
    assert row.session_key == client.session.session_key


def test_activity_is_written_once_per_interval(client, user, settings):
    settings.ACADEMY_USERSESSIONS_ACTIVITY_SECONDS = 60
    client.force_login(user)
    client.get(reverse("profile"), HTTP_USER_AGENT="Browser A")
    earlier = timezone.now() - timedelta(minutes=5)
    UserSession.objects.filter(user=user).update(last_seen_at=earlier)
    client.get(reverse("profile"), HTTP_USER_AGENT="Browser A")
    assert _row(user).last_seen_at == earlier  # throttled
    cache.clear()  # the interval has passed
    client.get(reverse("profile"), HTTP_USER_AGENT="Browser A")
    assert _row(user).last_seen_at > earlier


def test_a_new_client_is_recorded_at_once(client, user):
    received = []

    def receiver(sender, from_session, to_session, **kwargs):
        received.append((from_session.user_agent, to_session.user_agent))

    session_client_changed.connect(receiver)
    try:
        client.force_login(user)
        client.get(reverse("profile"), HTTP_USER_AGENT="Browser A")
        client.get(reverse("profile"), HTTP_USER_AGENT="Browser B")
    finally:
        session_client_changed.disconnect(receiver)
    assert _row(user).user_agent == "Browser B"
    assert received == [("Browser A", "Browser B")]


def test_zero_interval_updates_every_request(client, user, settings):
    settings.ACADEMY_USERSESSIONS_ACTIVITY_SECONDS = 0
    client.force_login(user)
    client.get(reverse("profile"))
    earlier = timezone.now() - timedelta(minutes=5)
    UserSession.objects.filter(user=user).update(last_seen_at=earlier)
    client.get(reverse("profile"))
    assert _row(user).last_seen_at > earlier


def test_anonymous_requests_write_nothing(client):
    client.get("/")
    assert not UserSession.objects.exists()
