import io

import pytest

from credentials import demo
from credentials.models import Credential, SigningKey

pytestmark = pytest.mark.django_db


def test_demo_is_idempotent(certificate):
    out = io.StringIO()
    demo.load(stdout=out)
    demo.load(stdout=out)
    assert Credential.objects.filter(certificate=certificate).count() == 1
    assert SigningKey.objects.count() == 1
    assert "0 new credential(s)" in out.getvalue()


def test_demo_story_scoped_certificate_and_renewal(
    home_page, client, django_capture_on_commit_callbacks
):
    from certificates import demo as certificates_demo
    from certificates.models import Certificate
    from courses import demo as courses_demo
    from credentials import services
    from credentials.models import Procedure
    from organizations import demo as organizations_demo
    from users.models import User

    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        organizations_demo.load(stdout=out)
        courses_demo.load(stdout=out)
        certificates_demo.load(stdout=out)
        demo.load(stdout=out)
        demo.load(stdout=out)
    technician = User.objects.get(email=demo.TECHNICIAN)
    current = Certificate.objects.current().get(
        user=technician, course__code=demo.COURSE_CODE
    )
    credential = current.credential
    assert credential.scopes[0]["procedure"] == "JJG 52"
    assert services.credential_verify(token=credential.jwt).valid
    assert (
        Certificate.objects.filter(user=technician, course__code="PG-101").count() == 1
    )
    # A coordinator records JJG 52-2024: the technician's credential needs renewal.
    coordinator = User.objects.get(email=demo.COORDINATOR)
    _revision, marked = services.procedure_revision_record(
        actor=coordinator,
        procedure=Procedure.objects.get(code="JJG 52"),
        revision="2024",
    )
    assert marked >= 1
    credential.refresh_from_db()
    assert credential.renewal_required_at is not None
