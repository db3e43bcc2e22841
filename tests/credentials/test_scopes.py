from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse

from credentials import services
from credentials.models import CompetenceScope

from .helpers import verify_independently

pytestmark = pytest.mark.django_db


def _scope(course, **overrides):
    fields = {
        "course": course,
        "instrument_class": "弹簧管式压力表",
        "quantity": "压力",
        "range_min": "0",
        "range_max": "60",
        "unit": "MPa",
        "accuracy_class": "1.6级",
        "procedure_code": "JJG 52",
        "revision": "2013",
        "level": "perform",
    }
    fields.update(overrides)
    return services.scope_create(**fields)


def test_scope_is_frozen_into_the_credential(client, jjg52, course, certificate):
    scope = _scope(course)
    credential = services.credential_issue(certificate=certificate)
    assert credential.scopes[0]["procedure"] == "JJG 52"
    assert credential.scopes[0]["range_max"] == "60"
    claims = verify_independently(client, credential.jwt)
    subject = claims["vc"]["credentialSubject"]
    alignment = subject["achievement"]["alignment"][0]
    assert alignment["targetName"] == "JJG 52-2013"
    assert alignment["type"] == ["Alignment"] and alignment["targetUrl"]
    description = subject["achievement"]["resultDescription"][0]
    assert "弹簧管式压力表" in description["name"] and "0~60 MPa" in description["name"]
    assert subject["result"] == [
        {
            "type": ["Result"],
            "resultDescription": description["id"],
            "value": "perform",
        }
    ]
    # Later edits never change the issued credential.
    scope.range_max = Decimal("100")
    scope.save()
    credential.refresh_from_db()
    assert credential.scopes[0]["range_max"] == "60"
    page = client.post(reverse("credentials:verify"), {"token": credential.jwt})
    assert "弹簧管式压力表" in page.content.decode()
    assert "JJG 52-2013" in page.content.decode()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"range_min": "60", "range_max": "0"}, "is above the upper limit"),
        ({"revision": "2020"}, "“2020” is not a recorded revision of JJG 52"),
        ({"procedure_code": "JJG 999"}, "No procedure or standard “JJG 999”"),
        ({"range_min": "abc"}, "must be numbers"),
        ({"level": "god"}, "is not a valid choice"),
    ],
)
def test_bad_scope_is_refused_and_changes_nothing(jjg52, course, overrides, message):
    with pytest.raises(ValidationError) as error:
        _scope(course, **overrides)
    assert message in str(error.value)
    assert CompetenceScope.objects.count() == 0


def test_model_validation_and_constraint(jjg52, course):
    revision = jjg52.revisions.get()
    scope = CompetenceScope(
        course=course,
        instrument_class="压力表",
        quantity="压力",
        range_min=Decimal("10"),
        range_max=Decimal("1"),
        unit="MPa",
        procedure_revision=revision,
    )
    with pytest.raises(ValidationError) as error:
        scope.full_clean()
    assert "range_min" in error.value.message_dict
    with pytest.raises(IntegrityError), transaction.atomic():
        scope.save()
