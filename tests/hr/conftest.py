import pytest
from django.utils import translation

from .factories import make_course


@pytest.fixture(autouse=True)
def _english():
    # Messages are asserted in English (the msgids).
    with translation.override("en"):
        yield


@pytest.fixture
def course(home_page, world):
    return make_course(parent=home_page, publisher=world.lead, code="PG-101")


@pytest.fixture
def course2(home_page, world):
    return make_course(
        parent=home_page, publisher=world.lead, code="MU-201", title="测量不确定度评定"
    )


@pytest.fixture
def client(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client
