import pytest
from django.utils import translation

from certificates import services as certificate_services
from credentials import services
from credentials.models import Procedure, ProcedureRevision
from tests.certificates.factories import make_completed_enrollment, make_course


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.CERTIFICATES_RENDER_BACKOFF = 0
    settings.ACADEMY_PUBLIC_BASE_URL = "https://academy.example.cn"
    with translation.override("en"):
        yield


@pytest.fixture
def course(home_page, world):
    return make_course(
        parent=home_page, publisher=world.lead, certificate_signatory=world.expert
    )


@pytest.fixture
def certificate(world, course):
    """Issued; the on-commit PDF render and credential task have not run."""
    enrollment = make_completed_enrollment(user=world.learner, course=course)
    return certificate_services.certificate_issue_for_enrollment(enrollment=enrollment)


@pytest.fixture
def credential(certificate):
    return services.credential_issue(certificate=certificate)


@pytest.fixture
def jjg52(db):
    procedure = Procedure.objects.create(
        code="JJG 52", title="弹性元件式一般压力表、压力真空表和真空表检定规程"
    )
    ProcedureRevision.objects.create(procedure=procedure, revision="2013")
    return procedure


@pytest.fixture
def scoped_credential(jjg52, course, certificate):
    """The learner's credential with the JJG 52-2013 scope frozen in."""
    from .test_scopes import _scope

    _scope(course)
    return services.credential_issue(certificate=certificate)
