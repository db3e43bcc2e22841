"""Health check of pooled PostgreSQL connections (``DATABASE_POOL=1``).

Django gives psycopg's pool ``ConnectionPool.check_connection`` as its check,
an empty query before every ``getconn()``: one more round trip for every
request. A connection that went back to the pool a moment ago was working
then, so :class:`CheckIdleConnections` checks only a connection that sat idle
longer than ``idle_seconds``, like HikariCP (500 ms) and PgBouncer
(``server_check_delay``, 30 s) do. The price: when PostgreSQL drops a
connection within that moment, the one request that takes it fails once
instead of getting a fresh connection; the pool then discards the broken
connection when it comes back.
"""

from __future__ import annotations

from dataclasses import dataclass
from time import monotonic

from psycopg import Connection
from psycopg_pool import ConnectionPool

# Set on the connection object, as psycopg_pool itself keeps ``_expire_at``.
_RETURNED_AT = "_academy_returned_to_pool_at"


@dataclass(frozen=True)
class CheckIdleConnections:
    idle_seconds: float

    def check(self, connection: Connection) -> None:
        """The pool's ``check``: raises when a connection idle too long is broken."""
        returned_at = getattr(connection, _RETURNED_AT, None)
        if returned_at is not None and monotonic() - returned_at < self.idle_seconds:
            return
        ConnectionPool.check_connection(connection)

    def reset(self, connection: Connection) -> None:
        """The pool's ``reset``, called for each connection coming back in a
        working state (broken ones are discarded before)."""
        setattr(connection, _RETURNED_AT, monotonic())

    def pool_options(self) -> dict:
        return {"check": self.check, "reset": self.reset}
