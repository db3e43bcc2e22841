import io

import pytest

from certificates.models import Certificate, RenderStatus

pytestmark = pytest.mark.django_db


def test_demo_load_is_idempotent(home_page):
    from certificates import demo as certificates_demo
    from courses import demo as courses_demo
    from organizations import demo as organizations_demo

    out = io.StringIO()
    organizations_demo.load(stdout=out)
    courses_demo.load(stdout=out)
    certificates_demo.load(stdout=out)
    count = Certificate.objects.count()
    certificates_demo.load(stdout=out)
    assert Certificate.objects.count() == count
    assert count >= 3
    assert not Certificate.objects.exclude(render_status=RenderStatus.READY).exists()
    assert Certificate.objects.filter(holder_name="周㛃").exists()
