"""Failed proficiency tests / interlaboratory comparisons suspend the person's
credentials for the scope until a practical assessment passes."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.cache import cache
from django.urls import reverse
from django.utils import timezone

from credentials import services
from credentials.models import (
    CompetenceScope,
    Credential,
    CredentialEvent,
    ProficiencyResult,
)
from credentials.permissions import (
    can_record_proficiency_for_company,
    can_record_proficiency_result,
)
from tests.certificates.factories import make_completed_enrollment

from .helpers import status_bit

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()


@pytest.fixture
def scope(scoped_credential):
    return CompetenceScope.objects.get()


def _url(company):
    return reverse("credentials:company_proficiency", args=[company.pk])


def _post(client, company, **fields):
    data = {"kind": "pt", "held_on": timezone.localdate().isoformat(), "note": ""}
    data.update(fields)
    return client.post(_url(company), data)


def _snapshot():
    return (
        ProficiencyResult.objects.count(),
        CredentialEvent.objects.count(),
        list(Credential.objects.values_list("pk", "suspended_at")),
        len(mail.outbox),
    )


def test_hr_records_failure_and_credential_is_suspended(
    client, world, scope, scoped_credential, django_capture_on_commit_callbacks
):
    client.force_login(world.hr)
    page = client.get(_url(world.partner_sme))
    assert page.status_code == 200 and world.learner.name in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(
            client,
            world.partner_sme,
            person=world.learner.pk,
            scope=scope.pk,
            kind="ilc",
            note="比对结果 En=1.4",
        )
    assert response.status_code == 302
    result = ProficiencyResult.objects.get()
    assert (result.user, result.company, result.recorded_by) == (
        world.learner,
        world.partner_sme,
        world.hr,
    )
    scoped_credential.refresh_from_db()
    assert scoped_credential.suspended_at is not None
    assert "Interlaboratory comparison" in scoped_credential.suspended_reason
    assert "En=1.4" not in scoped_credential.suspended_reason  # the note is internal
    assert list(result.credentials.all()) == [scoped_credential]
    event = scoped_credential.events.get(kind="suspended")
    assert event.by == world.hr
    # Holder and HR are e-mailed after the commit.
    assert len(mail.outbox) == 1
    assert set(mail.outbox[0].to) == {world.learner.email, world.hr.email}
    assert "suspended" in mail.outbox[0].subject
    # The suspension bit is set; the public page shows the banner, not the note.
    entry = scoped_credential.payload["credentialStatus"][1]
    assert entry["statusPurpose"] == "suspension"
    assert status_bit(client, entry) == 1
    assert not services.credential_verify(token=scoped_credential.jwt).valid
    client.logout()
    html = client.get(
        reverse("certificates:verify_code", args=[scoped_credential.certificate.code])
    ).content.decode()
    assert "cert-banner-suspended" in html and "En=1.4" not in html
    # HR sees it on the page with the note.
    client.force_login(world.hr)
    assert "En=1.4" in client.get(_url(world.partner_sme)).content.decode()


def test_unknown_scope_is_refused_and_changes_nothing(client, world, scope):
    client.force_login(world.hr)
    before = _snapshot()
    response = _post(client, world.partner_sme, person=world.learner.pk, scope=99999)
    assert response.status_code == 400
    assert "Choose a competence scope from the list." in response.content.decode()
    assert _snapshot() == before


def test_person_not_in_company_is_refused(client, world, scope):
    client.force_login(world.hr)
    before = _snapshot()
    response = _post(
        client, world.partner_sme, person=world.other_learner.pk, scope=scope.pk
    )
    assert response.status_code == 400
    assert "Choose a current member of this company." in response.content.decode()
    assert _snapshot() == before


def test_future_date_and_missing_certificate_are_refused(client, world, scope):
    client.force_login(world.hr)
    before = _snapshot()
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    response = _post(
        client,
        world.partner_sme,
        person=world.learner.pk,
        scope=scope.pk,
        held_on=tomorrow,
    )
    assert response.status_code == 400
    assert "cannot be in the future" in response.content.decode()
    response = _post(client, world.partner_sme, person=world.hr.pk, scope=scope.pk)
    assert response.status_code == 400
    assert "holds no current certificate covering this scope" in (
        response.content.decode()
    )
    assert _snapshot() == before


def test_other_company_hr_is_refused(client, world, scope):
    client.force_login(world.other_hr)
    before = _snapshot()
    assert client.get(_url(world.partner_sme)).status_code == 403
    response = _post(client, world.partner_sme, person=world.learner.pk, scope=scope.pk)
    assert response.status_code == 403
    # Through their own company the person is not a member either.
    response = _post(client, world.other_sme, person=world.learner.pk, scope=scope.pk)
    assert response.status_code == 400
    assert _snapshot() == before


def test_service_refuses_other_company_employee(world, scope):
    from django.core.exceptions import PermissionDenied, ValidationError

    before = _snapshot()
    with pytest.raises(PermissionDenied):
        services.proficiency_result_record(
            actor=world.other_hr,
            company=world.partner_sme,
            user=world.learner,
            scope=scope,
            kind="pt",
            held_on=timezone.localdate(),
        )
    with pytest.raises(ValidationError, match="not a current member"):
        services.proficiency_result_record(
            actor=world.other_hr,
            company=world.other_sme,
            user=world.learner,
            scope=scope,
            kind="pt",
            held_on=timezone.localdate(),
        )
    assert _snapshot() == before


@pytest.mark.parametrize(
    ("who", "company", "allowed"),
    [
        ("coordinator", "partner_sme", True),
        ("hr", "partner_sme", True),
        ("expert", "partner_sme", True),  # partner lead enterprise
        ("lead_hr", "partner_sme", False),
        ("learner", "partner_sme", False),
        ("other_hr", "partner_sme", False),
        ("other_expert", "partner_sme", False),
        ("other_hr", "other_sme", True),
        ("other_expert", "other_sme", True),
        ("expert", "other_sme", True),  # publishes the scope's course
        ("hr", "other_sme", False),
    ],
)
def test_record_predicate_table(world, scope, who, company, allowed):
    assert (
        can_record_proficiency_result(
            getattr(world, who), company=getattr(world, company), scope=scope
        )
        is allowed
    )


def test_publishing_enterprise_expert_sees_only_holders(
    client, world, scope, django_capture_on_commit_callbacks
):
    from certificates.services import certificate_issue_for_enrollment

    # world.expert's enterprise (world.lead) publishes the course; other_sme
    # is not its partner. Without a holder there the page is closed.
    assert not can_record_proficiency_for_company(world.expert, world.other_sme)
    enrollment = make_completed_enrollment(
        user=world.other_learner, course=scope.course
    )
    certificate_issue_for_enrollment(enrollment=enrollment)
    assert can_record_proficiency_for_company(world.expert, world.other_sme)
    client.force_login(world.expert)
    html = client.get(_url(world.other_sme)).content.decode()
    assert world.other_learner.name in html and world.other_hr.name not in html
    with django_capture_on_commit_callbacks(execute=True):
        response = _post(
            client, world.other_sme, person=world.other_learner.pk, scope=scope.pk
        )
    assert response.status_code == 302
    assert Credential.objects.get(certificate__user=world.other_learner).suspended_at
    # The other expert (neither partner nor publisher) may not.
    client.force_login(world.other_expert)
    assert client.get(_url(world.partner_sme)).status_code == 403


def test_anonymous_is_sent_to_login(client, world):
    response = client.get(_url(world.partner_sme))
    assert response.status_code == 302 and "login" in response.url


# --- reinstatement by a passed practical assessment ---------------------------------


@pytest.fixture
def practical_visit(world):
    from dispatch import services as dispatch_services
    from dispatch.models import Visit
    from tests.dispatch.factories import TopicFactory, schedule_for, weekday_at

    topic = TopicFactory(
        code="PRESS-PRACT", name="压力表现场实操", expects_practical_assessment=True
    )
    schedule_for(world.expert, topic)
    start = weekday_at(9)
    visit = dispatch_services.visit_propose(
        topic=topic,
        starts_at=start,
        ends_at=start + timedelta(hours=3),
        user=world.coordinator,
        expert=world.expert,
        host_company=world.partner_sme,
    )
    dispatch_services.visit_accept(visit=visit, user=world.expert)
    dispatch_services.visit_register(
        visit=visit, participant=world.learner, registered_by=world.hr
    )
    begun = timezone.now() - timedelta(minutes=30)
    Visit.objects.filter(pk=visit.pk).update(
        starts_at=begun, ends_at=begun + timedelta(hours=3)
    )
    visit.refresh_from_db()
    return visit


def _fail(world, scope):
    return services.proficiency_result_record(
        actor=world.hr,
        company=world.partner_sme,
        user=world.learner,
        scope=scope,
        kind="pt",
        held_on=timezone.localdate(),
    )


def _assess(world, visit, passed):
    from dispatch import services as dispatch_services

    return dispatch_services.assessment_record(
        visit=visit,
        user=world.expert,
        participant=world.learner,
        passed=passed,
        measured_values=[{"quantity": "示值误差", "value": "0.01", "unit": "MPa"}],
    )


def test_passed_assessment_reinstates_with_event_and_mail(
    client,
    world,
    scope,
    scoped_credential,
    practical_visit,
    django_capture_on_commit_callbacks,
):
    with django_capture_on_commit_callbacks(execute=True):
        result = _fail(world, scope)
    mail.outbox.clear()
    # A failed assessment changes nothing.
    with django_capture_on_commit_callbacks(execute=True):
        _assess(world, practical_visit, passed=False)
    scoped_credential.refresh_from_db()
    assert scoped_credential.suspended_at is not None and not mail.outbox
    with django_capture_on_commit_callbacks(execute=True):
        assessment = _assess(world, practical_visit, passed=True)
    scoped_credential.refresh_from_db()
    assert scoped_credential.suspended_at is None
    result.refresh_from_db()
    assert result.resolved_at and result.resolved_by_assessment == assessment
    event = scoped_credential.events.filter(kind="reinstated").get()
    assert event.by == world.expert and "Practical assessment passed" in event.note
    assert len(mail.outbox) == 1 and "reinstated" in mail.outbox[0].subject
    assert set(mail.outbox[0].to) == {world.learner.email, world.hr.email}
    assert services.credential_verify(token=scoped_credential.jwt).valid
    entry = scoped_credential.payload["credentialStatus"][1]
    assert status_bit(client, entry) == 0


def test_assessment_on_an_unrelated_topic_does_not_reinstate(
    world, scope, scoped_credential, practical_visit, django_capture_on_commit_callbacks
):
    from dispatch.models import CourseVisitRequirement, RequirementKind
    from tests.dispatch.factories import TopicFactory

    # The scope's course names another topic for its practical part.
    CourseVisitRequirement.objects.create(
        course=scope.course,
        topic=TopicFactory(code="TEMP-PRACT", expects_practical_assessment=True),
        kind=RequirementKind.ASSESSMENT_PASSED,
    )
    with django_capture_on_commit_callbacks(execute=True):
        _fail(world, scope)
        _assess(world, practical_visit, passed=True)
    scoped_credential.refresh_from_db()
    assert scoped_credential.suspended_at is not None
    assert ProficiencyResult.objects.get().resolved_at is None
