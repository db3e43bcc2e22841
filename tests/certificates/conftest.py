import pytest
from django.utils import translation

from certificates import services

from .factories import make_completed_enrollment, make_course


@pytest.fixture(autouse=True)
def _fast_retries(settings):
    settings.CERTIFICATES_RENDER_BACKOFF = 0
    settings.ACADEMY_PUBLIC_BASE_URL = "https://academy.example.cn"
    # Error messages are asserted in English (the msgids).
    with translation.override("en"):
        yield


@pytest.fixture
def course(home_page, world):
    return make_course(
        parent=home_page, publisher=world.lead, certificate_signatory=world.expert
    )


@pytest.fixture
def enrollment(world, course):
    return make_completed_enrollment(user=world.learner, course=course)


@pytest.fixture
def certificate(enrollment, django_capture_on_commit_callbacks):
    """An issued certificate whose PDF has been rendered."""
    with django_capture_on_commit_callbacks(execute=True):
        issued = services.certificate_issue_for_enrollment(enrollment=enrollment)
    issued.refresh_from_db()
    return issued


@pytest.fixture
def pending_certificate(enrollment):
    """Issued, but the on-commit render has not run."""
    return services.certificate_issue_for_enrollment(enrollment=enrollment)
