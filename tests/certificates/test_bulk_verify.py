"""Public bulk code check (issue 9): up to 200 codes, status table, JSON,
rate limit, logging without raw addresses, constant query count."""

import json
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from certificates.codes import format_code, generate_code, split_codes
from certificates.models import Certificate, VerificationLog
from tests.factories import MembershipFactory
from tests.hr.factories import certificate as make_certificate
from tests.hr.factories import credential as make_credential

pytestmark = pytest.mark.django_db

URL = "certificates:verify_bulk"
JSON_URL = "certificates:verify_bulk_json"


@pytest.fixture(autouse=True)
def _fresh_rate_limit():
    cache.clear()
    yield
    cache.clear()


def _cert(world, course, *, days=400, **flags):
    user = MembershipFactory(company=world.partner_sme).user
    cert = make_certificate(
        user=user,
        course=course,
        company=world.partner_sme,
        valid_until=timezone.localdate() + timedelta(days=days),
        revoked=flags.pop("revoked", False),
    )
    updates = {"code": generate_code()}
    if flags.pop("superseded", False):
        updates["superseded_at"] = timezone.now()
    Certificate.objects.filter(pk=cert.pk).update(**updates)
    cert.refresh_from_db()
    if flags:
        make_credential(cert, **flags)
    return cert


@pytest.fixture
def certs(world, course):
    return {
        "valid": _cert(world, course),
        "expired": _cert(world, course, days=-3),
        "revoked": _cert(world, course, revoked=True),
        "superseded": _cert(world, course, superseded=True),
        "renewal_required": _cert(world, course, renewal=True),
        "suspended": _cert(world, course, suspended=True),
    }


def _typo(code: str) -> str:
    """The same code with its last (check) symbol changed."""
    last = "0" if code[-1] != "0" else "1"
    return code[:-1] + last


def test_split_codes():
    code = generate_code()
    grouped = format_code(code)
    spaced = grouped.replace("-", " ")
    text = f"{grouped}\n{code}, {code.lower()}；{spaced}\n\n  \nA B\r\nfoo bar、baz"
    assert split_codes(text) == [
        grouped,
        code,
        code.lower(),
        spaced,
        "A",
        "B",
        "foo",
        "bar",
        "baz",
    ]
    assert split_codes("") == [] and split_codes(" \n , ") == []


def test_status_table(client, certs):
    unknown = generate_code()
    typo = _typo(certs["valid"].code)
    lines = [format_code(c.code) for c in certs.values()]
    lines += [unknown, typo, "hello world", certs["valid"].code.lower()]
    response = client.post(reverse(URL), {"codes": "\n".join(lines)})
    assert response.status_code == 200
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    rows = response.context["rows"]
    assert [r.status for r in rows] == [
        "valid",
        "expired",
        "revoked",
        "superseded",
        "renewal_required",
        "suspended",
        "unknown",
        "typo",
        "invalid",
        "invalid",
        "valid",
    ]
    assert rows[0].typed == lines[0] and rows[0].code == certs["valid"].code
    assert rows[-1].typed == certs["valid"].code.lower()  # as typed
    assert rows[7].code == "" and rows[7].code_display == format_code(typo)
    html = response.content.decode()
    for cert in certs.values():
        assert reverse("certificates:verify_code", args=[cert.code]) in html
        assert cert.holder_name in html
    assert "Renewal required" in html and "Typing error" in html
    assert "check character does not match" in html
    assert certs["valid"].valid_until.isoformat() in html
    # Never contact data.
    assert certs["valid"].user.email not in html


def test_every_lookup_is_logged_without_the_address(client, certs):
    codes = [certs["valid"].code, generate_code(), "garbage"]
    client.post(reverse(URL), {"codes": " ".join(codes)}, REMOTE_ADDR="198.51.100.7")
    logs = list(VerificationLog.objects.order_by("pk"))
    assert [(log.method, log.result) for log in logs] == [
        ("bulk", "valid"),
        ("bulk", "not_found"),
        ("bulk", "invalid"),
    ]
    assert logs[0].certificate == certs["valid"]
    assert all("198.51.100.7" not in log.client for log in logs)
    assert len({log.client for log in logs}) == 1 and len(logs[0].client) == 32


@pytest.mark.parametrize("count", [201, 10_000])
def test_too_many_codes_are_refused_before_any_lookup(client, certs, count):
    text = "\n".join(generate_code() for _ in range(count))
    with CaptureQueriesContext(connection) as queries:
        response = client.post(reverse(URL), {"codes": text})
    assert response.status_code == 400
    html = response.content.decode()
    assert f"You entered {count} codes; at most 200" in html
    assert "Nothing was looked up" in html
    assert not any("certificates_certificate" in q["sql"] for q in queries)
    assert not VerificationLog.objects.exists()
    api = client.post(reverse(JSON_URL), text, content_type="text/plain")
    assert api.status_code == 400 and api.json()["max"] == 200
    assert not VerificationLog.objects.exists()


def test_exactly_200_codes_are_checked(client, certs):
    text = "\n".join([certs["valid"].code] * 200)
    response = client.post(reverse(URL), {"codes": text})
    assert response.status_code == 200
    assert len(response.context["rows"]) == 200
    assert VerificationLog.objects.count() == 200


def test_empty_and_blank_input(client):
    assert client.get(reverse(URL)).status_code == 200
    response = client.post(reverse(URL), {"codes": "  \n , "})
    assert response.status_code == 400
    assert "Paste at least one verification code" in response.content.decode()
    assert client.post(reverse(URL), {}).status_code == 400
    assert not VerificationLog.objects.exists()


def test_query_count_does_not_grow_with_codes(client, world, course, certs):
    def queries_for(codes):
        with CaptureQueriesContext(connection) as captured:
            response = client.post(reverse(URL), {"codes": "\n".join(codes)})
        assert response.status_code == 200
        return len(captured)

    few = [c.code for c in certs.values()]
    many = few + [_cert(world, course).code for _ in range(40)]
    many += [generate_code() for _ in range(100)] + ["junk"] * 50
    assert queries_for(many) <= queries_for(few)


def test_rate_limited_per_client(client, settings, certs):
    settings.CERTIFICATES_BULK_VERIFY_RATE_LIMIT = (2, 60)
    data = {"codes": certs["valid"].code}
    for _ in range(2):
        assert client.post(reverse(URL), data).status_code == 200
    response = client.post(reverse(URL), data)
    assert response.status_code == 429 and response["Retry-After"] == "60"
    assert "Too many verifications" in response.content.decode()
    api = client.post(reverse(JSON_URL), data)
    assert api.status_code == 429
    # Another client is not affected.
    other = client.post(reverse(URL), data, REMOTE_ADDR="192.0.2.44")
    assert other.status_code == 200
    assert VerificationLog.objects.filter(result="rate_limited").count() == 2


def test_json_api(client, certs):
    body = {"codes": [certs["suspended"].code, format_code(certs["valid"].code), "x"]}
    response = client.post(
        reverse(JSON_URL), json.dumps(body), content_type="application/json"
    )
    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 3
    first, second, third = data["results"]
    assert first["status"] == "suspended"
    assert first["url"].endswith(f"/v/{certs['suspended'].code}")
    assert second["status"] == "valid" and second["holder"]
    assert second["valid_until"] == certs["valid"].valid_until.isoformat()
    assert third["status"] == "invalid" and third["holder"] is None
    text = client.post(
        reverse(JSON_URL),
        f"{certs['expired'].code}, {generate_code()}",
        content_type="text/plain",
    )
    assert [r["status"] for r in text.json()["results"]] == ["expired", "unknown"]
    assert client.get(reverse(JSON_URL)).status_code == 405


@pytest.mark.parametrize(
    "body",
    ["{not json", json.dumps({"codes": [1, 2]}), json.dumps([1]), json.dumps({})],
)
def test_json_api_bad_input(client, body):
    response = client.post(reverse(JSON_URL), body, content_type="application/json")
    assert response.status_code == 400 and response.json()["error"]
    assert not VerificationLog.objects.exists()
