"""Sessions: users list and end their own sessions; the key rotates on login."""

import pytest
from allauth.usersessions.models import UserSession
from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.test import Client
from django.urls import reverse
from django.utils.module_loading import import_string

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def _device(user, agent: str) -> Client:
    client = Client(HTTP_USER_AGENT=agent)
    response = client.post(
        reverse("account_login"), {"login": user.email, "password": PASSWORD}
    )
    assert response.status_code == 302, response.content[:500]
    return client


def _logged_in(client: Client) -> bool:
    response = client.get(reverse("courses:my_learning"))
    if response.status_code == 302:
        assert "/accounts/login/" in response["Location"]
        return False
    assert response.status_code == 200
    return True


def test_user_lists_only_their_own_sessions(world):
    laptop = _device(world.learner, "Laptop-Firefox")
    _device(world.learner, "Phone-Safari")
    _device(world.other_learner, "Someone-Elses-Browser")
    response = laptop.get(reverse("usersessions_list"))
    assert response.status_code == 200
    agents = {session.user_agent for session in response.context["sessions"]}
    assert agents == {"Laptop-Firefox", "Phone-Safari"}
    page = response.content.decode()
    assert "Someone-Elses-Browser" not in page


def test_ending_other_sessions_logs_those_devices_out(world):
    laptop = _device(world.learner, "Laptop-Firefox")
    phone = _device(world.learner, "Phone-Safari")
    stranger = _device(world.other_learner, "Someone-Elses-Browser")
    assert _logged_in(phone)
    response = laptop.post(reverse("usersessions_list"))
    assert response.status_code == 302
    assert not _logged_in(phone)  # the phone is logged out at its next request
    assert _logged_in(laptop)
    assert _logged_in(stranger)  # another user's sessions are untouched
    remaining = UserSession.objects.filter(user=world.learner)
    assert [s.user_agent for s in remaining] == ["Laptop-Firefox"]


def test_anonymous_cannot_list_sessions(client):
    response = client.get(reverse("usersessions_list"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_session_key_rotates_on_login(world):
    client = Client()
    anonymous = client.session
    anonymous["probe"] = "set before login"
    anonymous.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = anonymous.session_key
    old_key = anonymous.session_key
    response = client.post(
        reverse("account_login"), {"login": world.learner.email, "password": PASSWORD}
    )
    assert response.status_code == 302
    new_key = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert new_key and new_key != old_key
    store: type[SessionBase] = import_string(settings.SESSION_ENGINE + ".SessionStore")
    assert not store().exists(old_key)  # a fixated key is worthless
    assert _logged_in(client)


def test_logout_ends_the_session_and_drops_it_from_the_list(world):
    laptop = _device(world.learner, "Laptop-Firefox")
    phone = _device(world.learner, "Phone-Safari")
    key = laptop.cookies[settings.SESSION_COOKIE_NAME].value
    laptop.post(reverse("account_logout"))
    store = import_string(settings.SESSION_ENGINE + ".SessionStore")
    assert not store().exists(key)
    assert not _logged_in(laptop)
    listed = phone.get(reverse("usersessions_list")).context["sessions"]
    assert [s.user_agent for s in listed] == ["Phone-Safari"]
