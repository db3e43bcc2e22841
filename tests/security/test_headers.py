import json
import logging

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db

PUBLIC_PAGES = [
    "/",
    "/accounts/login/",
    "/accounts/signup/",
    "/accounts/password/reset/",
]


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_pages_send_a_strict_nonce_csp(client, home_page, path):
    response = client.get(path)
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    script_src = policy.split("script-src")[1].split(";")[0]
    # Only our own files, or inline scripts carrying this request's nonce.
    assert script_src.strip().split(" ")[0] == "'self'"
    assert "'unsafe-inline'" not in script_src
    assert "'unsafe-eval'" not in script_src
    assert "frame-ancestors 'none'" in policy
    assert "object-src 'none'" in policy
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"]


def test_nonce_used_by_a_template_is_in_the_header(rf):
    from django.middleware.csp import ContentSecurityPolicyMiddleware
    from django.template import Context, Template
    from django.template.context_processors import csp

    def view(request):
        from django.http import HttpResponse

        html = Template('<script nonce="{{ csp_nonce }}"></script>').render(
            Context(csp(request))
        )
        return HttpResponse(html)

    middleware = ContentSecurityPolicyMiddleware(view)
    responses = [middleware(rf.get("/")) for _ in range(2)]
    nonces = []
    for response in responses:
        nonce = response.content.decode().split('nonce="')[1].split('"')[0]
        assert f"'nonce-{nonce}'" in response["Content-Security-Policy"]
        nonces.append(nonce)
    assert nonces[0] != nonces[1]


def test_pages_have_no_inline_event_handlers(client, home_page):
    html = client.get("/").content.decode()
    for handler in ("onclick=", "onchange=", "onsubmit=", "onload="):
        assert handler not in html


def test_admin_has_its_own_policy(client, world, settings):
    from allauth.mfa.models import Authenticator

    Authenticator.objects.create(
        user=world.coordinator, type=Authenticator.Type.TOTP, data={"secret": "x"}
    )
    client.force_login(world.coordinator)
    response = client.get("/admin/")
    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in policy
    assert "'nonce-" not in policy
    assert response["X-Frame-Options"] == "SAMEORIGIN"


def _security_events(caplog):
    return [
        json.loads(record.getMessage())
        for record in caplog.records
        if record.name == "academy.security"
    ]


def test_denied_access_is_logged_without_ip(client, world, caplog):
    caplog.set_level(logging.INFO, logger="academy.security")
    client.force_login(world.learner)
    response = client.get(
        reverse("organizations:company_people", args=[world.other_sme.pk])
    )
    assert response.status_code == 403
    events = _security_events(caplog)
    assert events[-1]["event"] == "access_denied"
    assert events[-1]["user_id"] == world.learner.pk
    assert "127.0.0.1" not in json.dumps(events)


def test_failed_login_is_logged(client, user, caplog, settings):
    settings.ACCOUNT_RATE_LIMITS = False
    caplog.set_level(logging.INFO, logger="academy.security")
    client.post(reverse("account_login"), {"login": user.email, "password": "wrong"})
    events = [e["event"] for e in _security_events(caplog)]
    assert "login_failed" in events
    assert user.email not in caplog.text


def test_deactivating_a_user_ends_their_sessions(client, user):
    from allauth.usersessions.models import UserSession

    client.force_login(user)
    client.get(reverse("profile"))
    assert UserSession.objects.filter(user=user).exists()
    user.is_active = False
    user.save()
    assert not UserSession.objects.filter(user=user).exists()
    response = client.get(reverse("profile"))
    assert response.status_code == 302
