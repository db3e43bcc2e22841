"""Fixtures shared by every test module.

``world`` builds a small programme: a lead enterprise with a partner SME, an
unrelated SME, and one user per role. Tests that need more build it with the
factories.
"""

from dataclasses import dataclass

import pytest
from django.conf import settings
from wagtail.models import Page, Site

from home.models import HomePage
from organizations.models import Company, Role
from users.models import User

from .factories import (
    CompanyFactory,
    LeadCompanyFactory,
    MembershipFactory,
    PartnershipFactory,
    UserFactory,
    make_coordinator,
)


def pytest_collection_modifyitems(config, items):
    """Tests marked ``postgres`` run only when the database is PostgreSQL."""
    engine = settings.DATABASES["default"]["ENGINE"]
    if "postgresql" in engine:
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


def _runs_in_transactions(item: pytest.Item) -> bool:
    marker = item.get_closest_marker("django_db")
    if marker is not None and marker.kwargs.get("transaction"):
        return True
    return bool({"transactional_db", "live_server"} & set(item.fixturenames))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """Put back the rows the migrations created after a transactional test.

    A transactional test ends by emptying every table, including the Wagtail
    locale, root page and collection and the content types that data
    migrations made. Django avoids the damage by running such tests last; with
    pytest-xdist a worker may run other files afterwards, so restore the
    snapshot Django serialised when it created the test database.
    """
    result = yield
    # A skipped test never set up its database, so nothing was emptied; after
    # the last test the session's teardown has already dropped the database.
    if (
        nextitem is not None
        and _runs_in_transactions(item)
        and item.stash.get(_SETUP_RAN, False)
    ):
        _restore_migrated_rows(item.config)
    return result


_SETUP_RAN = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    item.stash[_SETUP_RAN] = True
    return (yield)


def _restore_migrated_rows(config: pytest.Config) -> None:
    from django.apps import apps
    from django.core.management import call_command
    from django.core.management.color import no_style
    from django.db import connections
    from pytest_django.plugin import blocking_manager_key

    with config.stash[blocking_manager_key].unblock():
        for connection in connections.all(initialized_only=True):
            snapshot = getattr(connection, "_test_serialized_contents", None)
            if not snapshot:
                continue
            call_command(
                "flush",
                database=connection.alias,
                interactive=False,
                inhibit_post_migrate=True,
                reset_sequences=False,
                verbosity=0,
            )
            connection.creation.deserialize_db_from_string(
                _content_types_first(connection, snapshot)
            )
            # The snapshot carries explicit primary keys; move the sequences
            # past them so the next test's inserts do not collide.
            models = [
                model
                for model in apps.get_models(include_auto_created=True)
                if model._meta.managed and not model._meta.proxy
            ]
            statements = connection.ops.sequence_reset_sql(no_style(), models)
            if statements:
                with connection.cursor() as cursor:
                    for statement in statements:
                        cursor.execute(statement)


def _content_types_first(connection, snapshot: str) -> str:
    """The snapshot with its content types moved to the front.

    Django serialises the test database app by app, and our apps and Wagtail
    come before ``contenttypes``. Building a Wagtail ``Task`` without its parent
    id looks up its content type; with a cold ``ContentType`` cache (another
    test cleared it) that lookup creates the row anew, and the snapshot's own
    row then collides with it.
    """
    import json

    reordered = getattr(connection, "_academy_snapshot_reordered", None)
    if reordered is None:
        objects = json.loads(snapshot)
        first = [row for row in objects if row["model"] == "contenttypes.contenttype"]
        rest = [row for row in objects if row["model"] != "contenttypes.contenttype"]
        reordered = json.dumps(first + rest)
        connection._academy_snapshot_reordered = reordered
    return reordered


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters and cached values must not leak between tests."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "media"},
        },
        "private": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "private", "base_url": None},
        },
    }


@pytest.fixture
def home_page(db) -> HomePage:
    root = Page.get_first_root_node()
    if root is None:  # --nomigrations: Wagtail's data migration did not run
        root = Page.add_root(instance=Page(title="Root", slug="root"))
    Page.objects.filter(depth=2).delete()
    root.refresh_from_db()
    home = HomePage(title="计量伙伴学院", slug="home", hero_title="计量伙伴学院")
    root.add_child(instance=home)
    home.save_revision().publish()
    Site.objects.update_or_create(
        is_default_site=True,
        defaults={"hostname": "localhost", "port": 80, "root_page": home},
    )
    return home


@dataclass
class World:
    lead: Company
    partner_sme: Company
    other_sme: Company
    other_lead: Company
    coordinator: User
    expert: User
    lead_hr: User
    hr: User
    learner: User
    other_hr: User
    other_learner: User
    other_expert: User


@pytest.fixture
def world(db) -> World:
    lead = LeadCompanyFactory(name="华测精密仪器集团有限公司")
    other_lead = LeadCompanyFactory(name="东方能源装备股份有限公司")
    partner_sme = CompanyFactory(name="苏州恒准压力仪表有限公司")
    other_sme = CompanyFactory(name="常州绿能热力科技有限公司")
    PartnershipFactory(lead=lead, sme=partner_sme)
    PartnershipFactory(lead=other_lead, sme=other_sme)

    def member(company, role, name):
        return MembershipFactory(
            company=company, role=role, user=UserFactory(name=name)
        ).user

    return World(
        lead=lead,
        partner_sme=partner_sme,
        other_sme=other_sme,
        other_lead=other_lead,
        coordinator=make_coordinator(name="王立新"),
        expert=member(lead, Role.EXPERT, "李建国"),
        lead_hr=member(lead, Role.HR, "郑晓燕"),
        hr=member(partner_sme, Role.HR, "陈静"),
        learner=member(partner_sme, Role.LEARNER, "刘堃"),
        other_hr=member(other_sme, Role.HR, "吴敏"),
        other_learner=member(other_sme, Role.LEARNER, "周㛃"),
        other_expert=member(other_lead, Role.EXPERT, "张昇"),
    )


@pytest.fixture
def user(db) -> User:
    return UserFactory()
