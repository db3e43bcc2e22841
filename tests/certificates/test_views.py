import hashlib
import io
import zipfile
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from certificates import services
from certificates.codes import format_code
from certificates.models import Certificate, VerificationLog
from tests.factories import MembershipFactory, UserFactory

from .factories import make_completed_enrollment, make_course

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()


def _verify(client, code, **extra):
    return client.get(reverse("certificates:verify_code", args=[code]), **extra)


# --- verify ------------------------------------------------------------------


def test_verify_valid(client, world, certificate):
    response = _verify(client, certificate.code)
    assert response.status_code == 200
    html = response.content.decode()
    assert "cert-banner-valid" in html
    assert "刘堃" in html
    assert certificate.serial in html
    assert certificate.pdf_sha256 in html
    assert certificate.course_title in html
    assert 'name="robots" content="noindex' in html
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    # Never e-mail, phone or employee number.
    assert world.learner.email not in html
    assert certificate.employee_number not in html
    log = VerificationLog.objects.get()
    assert log.result == "valid" and log.certificate == certificate
    assert "127.0.0.1" not in log.client


def test_verify_is_case_and_typo_tolerant(client, certificate):
    display = format_code(certificate.code).lower().replace("0", "o")
    response = _verify(client, display)
    assert response.status_code == 200
    assert "cert-banner-valid" in response.content.decode()


def test_verify_typo_rejected_before_lookup(
    client, certificate, django_assert_max_num_queries
):
    code = certificate.code
    wrong = code[:-1] + ("A" if code[-1] != "A" else "B")
    with django_assert_max_num_queries(3):  # session, log insert; no lookup
        response = _verify(client, wrong, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 400
    assert "typing error" in response.content.decode()


def test_verify_unknown(client, certificate):
    from certificates import codes

    response = _verify(client, codes.generate_code())
    assert response.status_code == 404
    assert VerificationLog.objects.get().result == "not_found"


def _code_input(html: str) -> str:
    start = html.index('name="code"')
    return html[html.rindex("<input", 0, start) : html.index(">", start) + 1]


def test_verify_form_keeps_a_code_to_correct_and_is_blank_after_a_match(
    client, certificate
):
    from certificates import codes

    unknown = codes.generate_code()
    html = _verify(client, unknown).content.decode()
    assert f'value="{unknown}"' in _code_input(html)

    html = _verify(client, certificate.code).content.decode()
    assert "value=" not in _code_input(html)  # ready for the next code
    assert format_code(certificate.code) in html  # the facts show this one


def test_verify_revoked_then_page_says_revoked(client, world, certificate):
    services.certificate_revoke(
        actor=world.coordinator, certificate=certificate, reason="考核材料造假"
    )
    html = _verify(client, certificate.code).content.decode()
    assert "cert-banner-revoked" in html
    assert "考核材料造假" in html
    assert timezone.localdate().isoformat() in html


def test_verify_expired(client, certificate):
    Certificate.objects.filter(pk=certificate.pk).update(
        valid_until=timezone.localdate() - timedelta(days=1)
    )
    html = _verify(client, certificate.code).content.decode()
    assert "cert-banner-expired" in html


def test_verify_superseded_links_new(
    client, world, certificate, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        new = services.certificate_reissue(
            actor=world.coordinator,
            certificate=certificate,
            reason="改名",
            holder_name="刘 堃",
        )
    html = _verify(client, certificate.code).content.decode()
    assert "cert-banner-superseded" in html
    assert reverse("certificates:verify_code", args=[new.code]) in html


def test_verify_form_code_redirects(client, certificate):
    response = client.get(
        reverse("certificates:verify"), {"code": format_code(certificate.code)}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "certificates:verify_code", args=[certificate.code]
    )


def test_verify_form_by_serial_and_name(client, certificate):
    url = reverse("certificates:verify")
    response = client.post(url, {"serial": certificate.serial.lower(), "name": "刘堃"})
    assert response.status_code == 200
    assert "cert-banner-valid" in response.content.decode()
    response = client.post(url, {"serial": certificate.serial, "name": "刘坤"})
    assert response.status_code == 404
    assert "cert-banner-valid" not in response.content.decode()
    log = VerificationLog.objects.filter(method="serial").first()
    assert "刘" not in log.query  # the name is not logged


def test_verify_form_empty(client):
    response = client.get(reverse("certificates:verify"))
    assert response.status_code == 200
    assert 'name="code"' in response.content.decode()


def test_verify_rate_limited(client, certificate, settings):
    settings.CERTIFICATES_VERIFY_RATE_LIMIT = (3, 60)
    for _ in range(3):
        assert _verify(client, certificate.code).status_code == 200
    response = _verify(client, certificate.code)
    assert response.status_code == 429
    assert VerificationLog.objects.filter(result="rate_limited").count() == 1
    other = _verify(client, certificate.code, REMOTE_ADDR="10.0.0.9")
    assert other.status_code == 200


def test_verify_query_count(client, certificate, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        _verify(client, certificate.code)


# --- downloads ---------------------------------------------------------------


def test_holder_downloads_own(client, world, certificate):
    client.force_login(world.learner)
    response = client.get(reverse("certificates:download", args=[certificate.pk]))
    assert response.status_code == 200
    data = b"".join(response.streaming_content)
    assert hashlib.sha256(data).hexdigest() == certificate.pdf_sha256
    assert "attachment" in response["Content-Disposition"]


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("learner", True),
        ("hr", True),
        ("coordinator", True),
        ("lead_hr", False),
        ("expert", False),
        ("other_hr", False),
        ("other_learner", False),
        ("other_expert", False),
    ],
)
def test_single_download_permissions(client, world, certificate, who, allowed):
    client.force_login(getattr(world, who))
    response = client.get(reverse("certificates:download", args=[certificate.pk]))
    assert response.status_code == (200 if allowed else 403)


def test_anonymous_download_redirects_to_login(client, certificate):
    response = client.get(reverse("certificates:download", args=[certificate.pk]))
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_pending_pdf_is_404(client, world, pending_certificate):
    client.force_login(world.learner)
    response = client.get(
        reverse("certificates:download", args=[pending_certificate.pk])
    )
    assert response.status_code == 404


def test_hr_loses_access_when_member_leaves(client, world, certificate):
    from organizations.models import Membership

    Membership.objects.filter(user=world.learner).update(ended_on=timezone.localdate())
    client.force_login(world.hr)
    response = client.get(reverse("certificates:download", args=[certificate.pk]))
    assert response.status_code == 403


# --- HR list and ZIP -----------------------------------------------------------


@pytest.fixture
def company_certificates(world, home_page, django_capture_on_commit_callbacks):
    """Certificates for the partner SME's people and one for another company."""
    course_a = make_course(parent=home_page, publisher=world.lead, title="压力表检定")
    course_b = make_course(parent=home_page, publisher=world.lead, title="测量不确定度")
    colleague = MembershipFactory(
        company=world.partner_sme,
        user=UserFactory(name="王/小:明"),
        department="生产部",
        employee_number="P-007",
    ).user
    issued = []
    with django_capture_on_commit_callbacks(execute=True):
        for user, course in [
            (world.learner, course_a),
            (world.learner, course_b),
            (colleague, course_a),
            (world.other_learner, course_a),
        ]:
            enrollment = make_completed_enrollment(user=user, course=course)
            issued.append(
                services.certificate_issue_for_enrollment(enrollment=enrollment)
            )
    return {"course_a": course_a, "course_b": course_b, "issued": issued}


def _zip(response) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_hr_zip_contains_only_own_employees(client, world, company_certificates):
    client.force_login(world.hr)
    response = client.get(
        reverse("certificates:company_zip", args=[world.partner_sme.pk])
    )
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    archive = _zip(response)
    assert archive.testzip() is None
    names = archive.namelist()
    pdfs = [name for name in names if name.endswith(".pdf")]
    assert len(pdfs) == 3
    assert "index.csv" in names and "index.xlsx" in names
    assert not any("周㛃" in name for name in names)
    assert any(name.startswith("P-007_王_小_明_压力表检定_MTA-") for name in pdfs)
    for info in archive.infolist():
        if info.filename.endswith(".pdf"):
            assert info.flag_bits & 0x800  # UTF-8 name
            assert not info.flag_bits & 0x08  # sizes in the local header
    stored = dict(Certificate.objects.values_list("serial", "pdf_sha256"))
    for name in pdfs:
        serial = name.rsplit("_", 1)[1].removesuffix(".pdf")
        assert hashlib.sha256(archive.read(name)).hexdigest() == stored[serial]
    index = archive.read("index.csv").decode("utf-8-sig")
    assert index.count("\n") == 4
    assert "周㛃" not in index
    sheet = load_workbook(io.BytesIO(archive.read("index.xlsx"))).active
    assert sheet.max_row == 4


def test_hr_zip_filters(client, world, company_certificates):
    client.force_login(world.hr)
    url = reverse("certificates:company_zip", args=[world.partner_sme.pk])
    archive = _zip(client.get(url, {"course": company_certificates["course_b"].pk}))
    assert len([n for n in archive.namelist() if n.endswith(".pdf")]) == 1
    archive = _zip(client.get(url, {"department": "生产部"}))
    pdfs = [n for n in archive.namelist() if n.endswith(".pdf")]
    assert len(pdfs) == 1 and pdfs[0].startswith("P-007_")
    archive = _zip(client.get(url, {"status": "revoked"}))
    assert [n for n in archive.namelist() if n.endswith(".pdf")] == []
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    archive = _zip(client.get(url, {"issued_from": tomorrow}))
    assert [n for n in archive.namelist() if n.endswith(".pdf")] == []


def test_hr_zip_bad_filter_is_clear_error(client, world, company_certificates):
    client.force_login(world.hr)
    url = reverse("certificates:company_zip", args=[world.partner_sme.pk])
    response = client.get(
        url,
        {"issued_from": "2026-12-01", "issued_to": "2026-01-01"},
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert "start date" in response.content.decode()


@pytest.mark.parametrize(
    ("who", "company", "allowed"),
    [
        ("hr", "partner_sme", True),
        ("coordinator", "partner_sme", True),
        ("learner", "partner_sme", False),
        ("expert", "partner_sme", False),
        ("lead_hr", "partner_sme", False),
        ("other_hr", "partner_sme", False),
        ("other_learner", "partner_sme", False),
        ("other_expert", "partner_sme", False),
        ("hr", "other_sme", False),
        ("hr", "lead", False),
        ("hr", "other_lead", False),
        ("lead_hr", "lead", True),
        ("other_hr", "other_sme", True),
    ],
)
def test_zip_and_list_access(
    client, world, company_certificates, who, company, allowed
):
    client.force_login(getattr(world, who))
    target = getattr(world, company)
    for name in ("certificates:company_zip", "certificates:company"):
        response = client.get(reverse(name, args=[target.pk]))
        assert response.status_code == (200 if allowed else 403)


def test_other_hr_zip_has_only_their_people(client, world, company_certificates):
    client.force_login(world.other_hr)
    archive = _zip(
        client.get(reverse("certificates:company_zip", args=[world.other_sme.pk]))
    )
    pdfs = [n for n in archive.namelist() if n.endswith(".pdf")]
    assert len(pdfs) == 1 and "周㛃" in pdfs[0]


def test_anonymous_zip_redirects(client, world):
    response = client.get(
        reverse("certificates:company_zip", args=[world.partner_sme.pk])
    )
    assert response.status_code == 302


def test_company_list_query_count(
    client, world, company_certificates, django_assert_max_num_queries
):
    client.force_login(world.hr)
    url = reverse("certificates:company", args=[world.partner_sme.pk])
    with django_assert_max_num_queries(20):  # ~17 are session, nav, auth
        response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "P-007" in html and "周㛃" not in html


def test_my_certificates_page(client, world, certificate):
    client.force_login(world.learner)
    response = client.get(reverse("certificates:mine"))
    html = response.content.decode()
    assert certificate.serial in html
    assert reverse("certificates:download", args=[certificate.pk]) in html
    assert reverse("certificates:verify_code", args=[certificate.code]) in html


def test_my_learning_hook(rf, world, certificate):
    from wagtail import hooks

    request = rf.get("/")
    request.user = world.learner
    html = "".join(hook(request) for hook in hooks.get_hooks("my_learning_sections"))
    assert certificate.serial in html
    request.user = world.other_learner
    html = "".join(hook(request) for hook in hooks.get_hooks("my_learning_sections"))
    assert certificate.serial not in html


def test_public_nav_has_verify(rf):
    from home.navigation import public_nav_items

    request = rf.get("/")
    assert reverse("certificates:verify") in [
        item.url for item in public_nav_items(request)
    ]


def test_rate_limit_counts_per_client_and_window(settings, monkeypatch):
    from django.core.cache import cache

    from certificates import ratelimit

    cache.clear()
    settings.CERTIFICATES_VERIFY_RATE_LIMIT = (2, 60)
    now = [6_000_000.0]
    monkeypatch.setattr(ratelimit.time, "time", lambda: now[0])
    assert [ratelimit.allow("a") for _ in range(3)] == [True, True, False]
    assert ratelimit.allow("b") is True
    now[0] += 60  # next window
    assert [ratelimit.allow("a") for _ in range(3)] == [True, True, False]
    cache.clear()


def _redis_or_skip(url: str):
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        pytest.skip(f"no Redis at {url}")


def test_rate_limit_on_redis_counts_in_one_round_trip(settings, monkeypatch):
    """The Redis path (SET NX + INCR in one pipeline) keeps the generic
    path's behaviour: per client and window, a lifetime set once, a count
    that ``cache.get`` reads."""
    import os
    import uuid

    import redis
    from django.core.cache import caches

    from certificates import ratelimit

    url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
    _redis_or_skip(url)
    prefix = f"test-{uuid.uuid4().hex}"
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": prefix,
        }
    }
    backend = caches["default"]
    settings.CERTIFICATES_VERIFY_RATE_LIMIT = (2, 60)
    now = [6_000_000.0]
    monkeypatch.setattr(ratelimit.time, "time", lambda: now[0])
    client = backend._cache.get_client(write=True)
    redis_class = type(client)
    round_trips = []
    real_execute = redis_class.execute_command
    real_pipeline_execute = redis.client.Pipeline.execute

    def direct_command(self, *args, **options):
        round_trips.append(args[0])
        return real_execute(self, *args, **options)

    def pipeline_execute(self, *args, **kwargs):
        round_trips.append("pipeline")
        return real_pipeline_execute(self, *args, **kwargs)

    monkeypatch.setattr(redis_class, "execute_command", direct_command)
    monkeypatch.setattr(redis.client.Pipeline, "execute", pipeline_execute)
    try:
        assert [ratelimit.allow("a") for _ in range(3)] == [True, True, False]
        assert round_trips == ["pipeline"] * 3  # one round trip per check
        assert ratelimit.allow("b") is True
        key = "certificates:verify:a:100000"
        assert backend.get(key) == 3
        full_key = backend.make_and_validate_key(key)
        assert 60 < client.ttl(full_key) <= 65  # set by the first check only
        client.expire(full_key, 30)
        ratelimit.allow("a")
        assert client.ttl(full_key) <= 30  # later counts do not extend it
        now[0] += 60  # next window
        assert [ratelimit.allow("a") for _ in range(3)] == [True, True, False]
    finally:
        for stale in client.scan_iter(f"{prefix}:*"):
            client.delete(stale)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_verify_forms_blank_html_cached_per_language(language):
    from django import forms
    from django.utils import translation

    from certificates.forms import VerifyCodeForm, VerifySerialForm

    with translation.override(language):
        for form_class in (VerifyCodeForm, VerifySerialForm):
            assert form_class().as_div() == forms.Form.as_div(form_class())
        prefilled = VerifyCodeForm(initial={"code": "7K3F9XQ2HT6MQ"}).as_div()
        assert 'value="7K3F9XQ2HT6MQ"' in prefilled
        assert "errorlist" in VerifySerialForm({}).as_div()
    with translation.override("en"):
        english = VerifySerialForm().as_div()
    with translation.override("zh-hans"):
        assert VerifySerialForm().as_div() != english
