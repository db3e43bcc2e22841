"""The Wagtail admin must not load anything from third parties.

Found by the browser tests (tests/e2e): Wagtail's default
``WAGTAIL_GRAVATAR_PROVIDER_URL`` makes every admin page load the user's
avatar from gravatar.com. The admin CSP (``img-src 'self' data: blob:``)
blocks it, so each admin page logs CSP violations; had it not been blocked,
each page view would send an MD5 hash of the user's e-mail address to a
foreign service (which is also unreachable from mainland China).
"""

import pytest

pytestmark = pytest.mark.django_db


def test_admin_pages_do_not_reference_gravatar(client, world, home_page):
    from allauth.mfa.models import Authenticator

    Authenticator.objects.create(
        user=world.coordinator, type=Authenticator.Type.TOTP, data={"secret": "x"}
    )
    client.force_login(world.coordinator)
    for path in ("/admin/", "/admin/snippets/organizations/company/"):
        response = client.get(path)
        assert response.status_code == 200
        assert b"gravatar.com" not in response.content, path


def test_gravatar_off_removes_the_reference(client, world, home_page, settings):
    """The fix is enough: with the setting off, no admin page mentions it."""
    from allauth.mfa.models import Authenticator

    settings.WAGTAIL_GRAVATAR_PROVIDER_URL = None
    Authenticator.objects.create(
        user=world.coordinator, type=Authenticator.Type.TOTP, data={"secret": "x"}
    )
    client.force_login(world.coordinator)
    response = client.get("/admin/")
    assert response.status_code == 200
    assert b"gravatar.com" not in response.content
