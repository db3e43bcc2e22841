from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone
from jwcrypto import jwk, jws
from jwcrypto.common import JWException

from certificates import services as certificate_services
from credentials import services
from credentials.models import Credential, SigningKey, StatusList
from tests.certificates.factories import make_completed_enrollment, make_course

from .helpers import status_bit, verify_independently

pytestmark = pytest.mark.django_db


def _b64(data: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def test_certificate_issue_also_issues_credential(
    world, course, django_capture_on_commit_callbacks
):
    enrollment = make_completed_enrollment(user=world.learner, course=course)
    with django_capture_on_commit_callbacks(execute=True):
        certificate = certificate_services.certificate_issue_for_enrollment(
            enrollment=enrollment
        )
    credential = Credential.objects.get(certificate=certificate)
    assert credential.status_index == 0
    # Idempotent.
    assert services.credential_issue(certificate=certificate) == credential
    assert Credential.objects.count() == 1


def test_payload_is_an_open_badge_3_credential(credential, certificate):
    payload = credential.payload
    assert payload["@context"] == [services.VC_CONTEXT, services.OB_CONTEXT]
    assert payload["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert payload["id"] == f"urn:uuid:{credential.uuid}"
    assert payload["issuer"]["id"] == "https://academy.example.cn/credentials/issuer"
    assert payload["validFrom"].startswith(certificate.issued_on.isoformat())
    assert payload["validUntil"].startswith(certificate.valid_until.isoformat())
    achievement = payload["credentialSubject"]["achievement"]
    assert achievement["type"] == ["Achievement"]
    assert achievement["criteria"]["narrative"]
    assert certificate.course_title in achievement["name"]
    assert "JJG 52-2013" in achievement["description"]
    statuses = {e["statusPurpose"]: e for e in payload["credentialStatus"]}
    assert set(statuses) == {"revocation", "suspension"}
    assert all(e["type"] == "BitstringStatusListEntry" for e in statuses.values())
    assert all(e["statusListIndex"] == "0" for e in statuses.values())
    # Never the holder's e-mail.
    assert certificate.user.email not in str(payload)


def test_credential_verifies_independently(client, credential, certificate):
    claims = verify_independently(client, credential.jwt)
    assert claims["vc"] == credential.payload
    assert claims["iss"] == "https://academy.example.cn/credentials/issuer"
    assert claims["jti"] == credential.urn
    assert claims["exp"] > claims["nbf"]
    entries = claims["vc"]["credentialStatus"]
    assert [status_bit(client, e) for e in entries] == [0, 0]
    report = services.credential_verify(token=credential.jwt)
    assert report.valid, report.errors


def test_tampered_credential_fails(client, credential):
    header, payload, signature = credential.jwt.split(".")
    import base64
    import json

    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["vc"]["validUntil"] = "2099-12-31T23:59:59+08:00"
    forged = f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"
    with pytest.raises(JWException):
        verify_independently(client, forged)
    report = services.credential_verify(token=forged)
    assert not report.valid
    assert report.errors == [str(services.TOKEN_BAD_SIGNATURE)]


def test_resigned_with_foreign_key_fails(client, credential):
    foreign = jwk.JWK.generate(kty="EC", crv="P-256")
    parsed = jws.JWS()
    parsed.deserialize(credential.jwt)
    token = jws.JWS(parsed.objects["payload"])
    kid_url = services.key_url(credential.signing_key.kid)
    token.add_signature(
        foreign,
        alg="ES256",
        protected={"alg": "ES256", "typ": "JWT", "kid": kid_url},
    )
    forged = token.serialize(compact=True)
    with pytest.raises(JWException):
        verify_independently(client, forged)
    report = services.credential_verify(token=forged)
    assert report.errors == [str(services.TOKEN_BAD_SIGNATURE)]
    # Same with an unknown kid.
    other = jws.JWS(parsed.objects["payload"])
    other.add_signature(
        foreign,
        alg="ES256",
        protected={"alg": "ES256", "kid": "https://evil.example/keys/x"},
    )
    report = services.credential_verify(token=other.serialize(compact=True))
    assert report.errors == [str(services.TOKEN_UNKNOWN_KEY)]


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("", services.TOKEN_EMPTY),
        ("not a jwt", services.TOKEN_MALFORMED),
        ("a.b.c", services.TOKEN_MALFORMED),
        ("x" * (64 * 1024 + 1), services.TOKEN_TOO_LONG),
    ],
)
def test_bad_input_gives_clear_message(db, token, message):
    report = services.credential_verify(token=token)
    assert not report.valid
    assert report.errors == [str(message)]
    assert SigningKey.objects.count() == 0


def test_unsigned_token_is_rejected(credential):
    _, payload, _sig = credential.jwt.split(".")
    none_header = _b64(b'{"alg":"none"}')
    report = services.credential_verify(token=f"{none_header}.{payload}.")
    assert not report.valid


def test_revocation_sets_the_bit(client, credential, certificate, world):
    certificate_services.certificate_revoke(
        actor=world.coordinator, certificate=certificate, reason="考核作弊"
    )
    revocation, suspension = credential.payload["credentialStatus"]
    assert status_bit(client, revocation) == 1
    assert status_bit(client, suspension) == 0
    report = services.credential_verify(token=credential.jwt)
    assert report.errors == [str(services.TOKEN_REVOKED)]


def test_suspension_sets_the_bit_and_reinstating_clears_it(client, credential, world):
    with pytest.raises(ValidationError):
        services.credential_suspend(actor=world.hr, credential=credential, reason=" ")
    credential.refresh_from_db()
    assert credential.suspended_at is None
    services.credential_suspend(
        actor=world.hr, credential=credential, reason="能力验证结果不满意"
    )
    revocation, suspension = credential.payload["credentialStatus"]
    assert status_bit(client, suspension) == 1
    assert status_bit(client, revocation) == 0
    assert services.credential_verify(token=credential.jwt).errors == [
        str(services.TOKEN_SUSPENDED)
    ]
    services.credential_reinstate(actor=world.hr, credential=credential)
    assert status_bit(client, suspension) == 0
    assert services.credential_verify(token=credential.jwt).valid


def test_reissue_revokes_old_credential_bit(client, credential, certificate, world):
    new = certificate_services.certificate_reissue(
        actor=world.coordinator, certificate=certificate, reason="姓名更正"
    )
    new_credential = services.credential_issue(certificate=new)
    assert new_credential.status_index == credential.status_index + 1
    assert status_bit(client, credential.payload["credentialStatus"][0]) == 1
    assert status_bit(client, new_credential.payload["credentialStatus"][0]) == 0
    assert services.credential_verify(token=new_credential.jwt).valid


def test_expired_credential_fails(credential, certificate):
    later = timezone.now() + timedelta(days=365 * 40)
    report = services.credential_verify(token=credential.jwt, now=later)
    assert report.errors == [
        str(services.TOKEN_EXPIRED) % {"date": certificate.valid_until.isoformat()}
    ]


def test_status_index_is_never_reused(credential, world, home_page):
    other_course = make_course(parent=home_page, publisher=world.lead)
    other_certificate = certificate_services.certificate_issue_for_enrollment(
        enrollment=make_completed_enrollment(user=world.learner, course=other_course)
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Credential.objects.create(
            certificate=other_certificate,
            status_list=credential.status_list,
            status_index=credential.status_index,
            signing_key=credential.signing_key,
            payload={},
            jwt="x",
        )
    second = services.credential_issue(certificate=other_certificate)
    assert second.status_index == 1
    assert StatusList.objects.get().next_index == 2


def test_full_status_list_starts_a_new_one(credential, world, home_page):
    StatusList.objects.update(size=1, next_index=1)
    other_course = make_course(parent=home_page, publisher=world.lead)
    other_certificate = certificate_services.certificate_issue_for_enrollment(
        enrollment=make_completed_enrollment(user=world.learner, course=other_course)
    )
    second = services.credential_issue(certificate=other_certificate)
    assert second.status_list_id != credential.status_list_id
    assert second.status_index == 0


def test_key_rotation_keeps_old_keys_published(client, credential, world, home_page):
    old_kid = credential.signing_key.kid
    call_command("credentials_rotate_key", stdout=open("/dev/null", "w"))  # noqa: SIM115
    active = SigningKey.objects.get(is_active=True)
    assert active.kid != old_kid
    assert SigningKey.objects.get(kid=old_kid).retired_at is not None
    keys = client.get("/credentials/jwks.json").json()["keys"]
    assert [k["kid"] for k in keys] == [old_kid, active.kid]
    assert all("d" not in k for k in keys), "private key material published"
    # The old credential still verifies; a new one uses the new key.
    verify_independently(client, credential.jwt)
    assert services.credential_verify(token=credential.jwt).valid
    other_course = make_course(parent=home_page, publisher=world.lead)
    new = services.credential_issue(
        certificate=certificate_services.certificate_issue_for_enrollment(
            enrollment=make_completed_enrollment(
                user=world.learner, course=other_course
            )
        )
    )
    assert new.signing_key == active
    verify_independently(client, new.jwt)


def test_private_key_is_stored_encrypted(credential):
    pem = bytes(credential.signing_key.private_pem)
    assert b"ENCRYPTED" in pem
    with pytest.raises((TypeError, ValueError)):
        jwk.JWK.from_pem(pem)


def test_one_active_key(db):
    services.signing_key_get_active()
    with pytest.raises(IntegrityError), transaction.atomic():
        SigningKey.objects.create(
            kid="x", public_jwk={}, private_pem=b"", is_active=True
        )


def test_issue_missing(certificate):
    assert services.credential_issue_missing() == 1
    assert services.credential_issue_missing() == 0
