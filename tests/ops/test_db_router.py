from django.db import connections

from ops.db import REPLICA_ALIAS, ReplicaRouter, use_replica
from users.models import User

router = ReplicaRouter()


def test_without_replica_reads_stay_on_default():
    with use_replica() as alias:
        assert alias == "default"
        assert router.db_for_read(User) is None


def test_with_replica_only_reads_inside_the_block_go_there(monkeypatch):
    monkeypatch.setitem(connections.settings, REPLICA_ALIAS, {})
    assert router.db_for_read(User) is None
    with use_replica() as alias:
        assert alias == REPLICA_ALIAS
        assert router.db_for_read(User) == REPLICA_ALIAS
        assert router.db_for_write(User) == "default"
    assert router.db_for_read(User) is None


def test_migrations_never_run_on_the_replica():
    assert router.allow_migrate("default", "users") is True
    assert router.allow_migrate(REPLICA_ALIAS, "users") is False
