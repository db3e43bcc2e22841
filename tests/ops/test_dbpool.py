"""ops.dbpool against a real PostgreSQL: a pool of its own on the test database."""

import time

import psycopg
import pytest
from django.db import connection
from psycopg.conninfo import make_conninfo
from psycopg_pool import ConnectionPool

from ops.dbpool import CheckIdleConnections

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def _conninfo() -> str:
    settings = connection.settings_dict
    return make_conninfo(
        dbname=settings["NAME"],
        user=settings["USER"] or None,
        password=settings["PASSWORD"] or None,
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
    )


@pytest.fixture
def make_pool():
    pools = []

    def make(idle_seconds: float) -> ConnectionPool:
        pool = ConnectionPool(
            _conninfo(),
            min_size=1,
            max_size=1,
            timeout=10,
            open=True,
            kwargs={"autocommit": True},
            **CheckIdleConnections(idle_seconds=idle_seconds).pool_options(),
        )
        pool.wait()
        pools.append(pool)
        return pool

    yield make
    for pool in pools:
        pool.close()


@pytest.fixture
def empty_query_checks(monkeypatch):
    """Counts psycopg's check (the empty query), which still runs."""
    calls = []
    original = ConnectionPool.check_connection

    def counting(conn):
        calls.append(conn)
        original(conn)

    monkeypatch.setattr(ConnectionPool, "check_connection", staticmethod(counting))
    return calls


def _terminate(conn) -> None:
    pid = conn.info.backend_pid
    with psycopg.connect(_conninfo(), autocommit=True) as admin:
        terminated = admin.execute("SELECT pg_terminate_backend(%s)", [pid]).fetchone()
    assert terminated == (True,)


def test_a_connection_returned_moments_ago_is_used_without_the_empty_query(
    make_pool, empty_query_checks
):
    pool = make_pool(idle_seconds=60)
    first = pool.getconn()
    assert len(empty_query_checks) == 1  # never returned yet: checked
    pool.putconn(first)

    again = pool.getconn()
    assert again is first
    assert len(empty_query_checks) == 1
    assert again.execute("SELECT 1").fetchone() == (1,)
    pool.putconn(again)


def test_a_connection_idle_longer_is_checked_and_a_broken_one_replaced(
    make_pool, empty_query_checks
):
    pool = make_pool(idle_seconds=0.05)
    conn = pool.getconn()
    dead_pid = conn.info.backend_pid
    pool.putconn(conn)
    _terminate(conn)
    time.sleep(0.1)

    fresh = pool.getconn()
    assert len(empty_query_checks) >= 2  # the idle one was checked, failed, replaced
    assert fresh.info.backend_pid != dead_pid
    assert fresh.execute("SELECT 1").fetchone() == (1,)
    pool.putconn(fresh)


def test_a_connection_dropped_within_the_window_fails_once_then_the_pool_recovers(
    make_pool,
):
    pool = make_pool(idle_seconds=60)
    conn = pool.getconn()
    pool.putconn(conn)
    _terminate(conn)

    broken = pool.getconn()
    with pytest.raises(psycopg.OperationalError):
        broken.execute("SELECT 1")
    pool.putconn(broken)  # discarded: its state is unknown

    fresh = pool.getconn()
    assert fresh is not broken
    assert fresh.execute("SELECT 1").fetchone() == (1,)
    pool.putconn(fresh)
