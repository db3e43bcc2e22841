"""Optional read replica for reports and exports.

Production settings add a ``replica`` database when ``DATABASE_REPLICA_URL`` is
set and install :class:`ReplicaRouter`. Reads go to the replica only inside
``with use_replica():`` — code that can tolerate a few seconds of replication
lag (company reports, Excel exports) opts in; everything else, and every write,
uses ``default``. Without a replica the block is a no-op, so callers need no
configuration check.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import DEFAULT_DB_ALIAS, connections

REPLICA_ALIAS = "replica"

_read_alias: ContextVar[str | None] = ContextVar("academy_read_alias", default=None)


def replica_configured(alias: str = REPLICA_ALIAS) -> bool:
    return alias in connections.settings


@contextmanager
def use_replica(alias: str = REPLICA_ALIAS) -> Iterator[str]:
    """Route ORM reads in this block (this thread or task only) to ``alias``.

    Yields the alias reads will use, ``"default"`` when there is no replica.
    """
    chosen = alias if replica_configured(alias) else None
    token = _read_alias.set(chosen)
    try:
        yield chosen or DEFAULT_DB_ALIAS
    finally:
        _read_alias.reset(token)


class ReplicaRouter:
    def db_for_read(self, model, **hints):
        return _read_alias.get()

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        # The replica holds the same rows as the primary.
        return True

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        # Migrations run on the primary; the replica follows by replication.
        return db != REPLICA_ALIAS
