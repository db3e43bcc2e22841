"""Every HR page and export: own HR and coordinators in, everyone else out."""

import pytest
from django.urls import reverse

from hr.models import BulkImport, ExportJob
from tests.factories import MembershipFactory, UserFactory


@pytest.fixture
def objects(world, course):
    job = ExportJob.objects.create(
        company=world.partner_sme,
        requested_by=world.hr,
        kind="matrix",
        fmt="csv",
    )
    bulk = BulkImport.objects.create(
        company=world.partner_sme,
        uploaded_by=world.hr,
        filename="a.csv",
        sha256="0" * 64,
        rows=[],
    )
    return {"job": job, "import": bulk}


def _urls(world, objects):
    company = world.partner_sme.pk
    return [
        reverse("hr:dashboard", args=[company]),
        reverse("hr:matrix", args=[company]),
        reverse("hr:employee", args=[company, world.learner.pk]),
        reverse("hr:exports", args=[company]),
        reverse("hr:export_status", args=[company, objects["job"].pk]),
        reverse("hr:import", args=[company]),
        reverse("hr:import_preview", args=[company, objects["import"].pk]),
        reverse("hr:assign", args=[company]),
        reverse("hr:digest_preference", args=[company]),
    ]


@pytest.mark.parametrize(
    ("who", "allowed"),
    [
        ("hr", True),
        ("coordinator", True),
        ("learner", False),
        ("other_hr", False),
        ("lead_hr", False),  # HR of the partner lead enterprise: not this company
        ("expert", False),
    ],
)
def test_pages_by_role(client, world, objects, who, allowed):
    client.force_login(getattr(world, who))
    for url in _urls(world, objects):
        response = client.get(url)
        if allowed:
            assert response.status_code == 200, url
        else:
            assert response.status_code in (403, 404), url


def test_anonymous_is_sent_to_login(client, world, objects):
    for url in _urls(world, objects):
        response = client.get(url)
        assert response.status_code == 302
        assert "login" in response["Location"]


def test_hr_cannot_see_employee_of_other_company(client, world, course):
    client.force_login(world.hr)
    # A person of another company, through HR's own company URL.
    url = reverse("hr:employee", args=[world.partner_sme.pk, world.other_learner.pk])
    assert client.get(url).status_code == 404


def test_hr_cannot_see_former_employee(client, world, course):
    from organizations.services import membership_end

    membership = world.learner.memberships.get()
    membership.started_on = membership.started_on.replace(year=2020)
    membership.save()
    membership_end(membership=membership)
    client.force_login(world.hr)
    url = reverse("hr:employee", args=[world.partner_sme.pk, world.learner.pk])
    assert client.get(url).status_code == 404
    matrix = client.get(reverse("hr:matrix", args=[world.partner_sme.pk]))
    assert world.learner.name not in matrix.content.decode()


def test_other_hr_cannot_download_export(client, world, objects):
    client.force_login(world.other_hr)
    url = reverse("hr:export_download", args=[world.partner_sme.pk, objects["job"].pk])
    assert client.get(url).status_code == 403
    # Nor through their own company id.
    url = reverse("hr:export_download", args=[world.other_sme.pk, objects["job"].pk])
    assert client.get(url).status_code == 404


def test_hr_with_two_roles_sees_person_once(client, world, course):
    MembershipFactory(company=world.partner_sme, user=world.hr, role="learner")
    client.force_login(world.hr)
    response = client.get(reverse("hr:matrix", args=[world.partner_sme.pk]))
    link = reverse("hr:employee", args=[world.partner_sme.pk, world.hr.pk])
    assert response.content.decode().count(f'href="{link}"') == 1


def test_nav_item_for_hr_only(client, world, course):
    client.force_login(world.hr)
    page = client.get(reverse("hr:dashboard", args=[world.partner_sme.pk]))
    assert "HR dashboard" in page.content.decode()
    stranger = UserFactory()
    client.force_login(stranger)
    from home.navigation import nav_items_for_request

    class Request:
        user = stranger

    assert not [i for i in nav_items_for_request(Request()) if "HR" in str(i.label)]
