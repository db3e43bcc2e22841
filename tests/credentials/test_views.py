import json

import pytest
from django.urls import reverse

from credentials.models import Credential, SigningKey

from .helpers import verify_independently

pytestmark = pytest.mark.django_db


def test_issuer_profile_and_jwks_are_public(client, credential):
    profile = client.get(reverse("credentials:issuer"))
    assert profile.status_code == 200
    data = profile.json()
    assert data["id"] == "https://academy.example.cn/credentials/issuer"
    assert data["type"] == ["Profile"]
    keys = client.get(reverse("credentials:jwks")).json()["keys"]
    assert keys[0]["kid"] == credential.signing_key.kid
    assert keys[0]["kty"] == "EC" and "d" not in keys[0]
    key = client.get(reverse("credentials:key", args=[credential.signing_key.kid]))
    assert key.json() == keys[0]
    assert client.get(reverse("credentials:key", args=["nope"])).status_code == 404


def test_status_list_unknown_purpose_or_list_is_404(client, credential):
    list_id = credential.status_list_id
    url = reverse("credentials:status_list", args=[list_id, "revocation"])
    assert client.get(url).status_code == 200
    data = client.get(url + "?format=json").json()
    assert data["credentialSubject"]["type"] == "BitstringStatusList"
    for args in ([list_id, "other"], [list_id + 99, "suspension"]):
        assert (
            client.get(reverse("credentials:status_list", args=args)).status_code == 404
        )


def test_holder_downloads_json_and_jwt(client, world, certificate):
    client.force_login(world.learner)
    response = client.get(reverse("credentials:download_jwt", args=[certificate.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vc+jwt"
    assert "openbadge.jwt" in response["Content-Disposition"]
    claims = verify_independently(client, response.content.decode())
    as_json = client.get(reverse("credentials:download_json", args=[certificate.pk]))
    assert json.loads(as_json.content) == claims["vc"]
    assert Credential.objects.count() == 1


@pytest.mark.parametrize(
    ("who", "status"),
    [("hr", 200), ("coordinator", 200), ("other_learner", 403), ("other_hr", 403)],
)
def test_download_permissions(client, world, certificate, who, status):
    client.force_login(getattr(world, who))
    url = reverse("credentials:download_jwt", args=[certificate.pk])
    assert client.get(url).status_code == status
    if status == 403:
        assert Credential.objects.count() == 0


def test_download_needs_login(client, certificate):
    response = client.get(reverse("credentials:download_json", args=[certificate.pk]))
    assert response.status_code == 302 and "login" in response["Location"]


def test_my_certificates_links_the_credential(client, world, credential):
    client.force_login(world.learner)
    page = client.get(reverse("certificates:mine")).content.decode()
    assert reverse("credentials:download_jwt", args=[credential.certificate_id]) in page


def test_verify_api_post_raw_and_json(client, credential):
    url = reverse("credentials:verify_api")
    raw = client.post(url, credential.jwt, content_type="text/plain")
    assert raw.status_code == 200 and raw.json()["valid"] is True
    as_json = client.post(
        url, {"credential": credential.jwt}, content_type="application/json"
    )
    assert as_json.json()["valid"] is True
    assert as_json.json()["credential"]["id"] == credential.urn
    tampered = credential.jwt[:-4] + (
        "AAAA" if credential.jwt[-4:] != "AAAA" else "BBBB"
    )
    bad = client.post(url, tampered, content_type="text/plain").json()
    assert bad["valid"] is False and bad["errors"]


@pytest.mark.parametrize(
    "body", ["", "garbage", json.dumps({"credential": 1}), "x" * 70000]
)
def test_verify_api_bad_input_changes_nothing(client, credential, body):
    before = (Credential.objects.count(), SigningKey.objects.count())
    response = client.post(
        reverse("credentials:verify_api"), body, content_type="text/plain"
    )
    assert response.status_code == 400
    assert response.json()["valid"] is False and response.json()["errors"]
    assert (Credential.objects.count(), SigningKey.objects.count()) == before


def test_verify_api_by_code(client, certificate):
    url = reverse("credentials:verify_api")
    response = client.get(url, {"code": certificate.code_display})
    assert response.status_code == 200 and response.json()["valid"] is True
    missing = client.get(url, {"code": "0000-0000-0000-0"})
    assert missing.status_code == 404
    assert client.get(url).status_code == 400


def test_verify_page(client, credential, world):
    url = reverse("credentials:verify")
    assert client.get(url).status_code == 200
    page = client.post(url, {"token": credential.jwt})
    assert "Valid: signature" in page.content.decode()
    page = client.post(url, {"token": credential.jwt + "x"})
    assert "Not valid" in page.content.decode()
    page = client.get(url, {"code": credential.certificate.code})
    assert "Valid: signature" in page.content.decode()


def test_verify_is_rate_limited(client, credential, settings):
    settings.CERTIFICATES_VERIFY_RATE_LIMIT = (2, 60)
    from django.core.cache import cache

    cache.clear()
    url = reverse("credentials:verify_api")
    codes = [
        client.post(url, credential.jwt, content_type="text/plain").status_code
        for _ in range(3)
    ]
    assert codes == [200, 200, 429]
