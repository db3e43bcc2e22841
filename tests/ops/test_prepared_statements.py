"""Server-side binding and prepared statements on a real PostgreSQL: a query
the connection runs repeatedly is parsed and planned once."""

import psycopg
import pytest
from django.db import connection

from organizations.models import Company

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def _prepared(shape: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall() if shape in row[0]]


# Statements stay prepared on the connection from test to test: each test
# runs a query of a shape no other code uses.
def _probe(comparison: str) -> list:
    return list(Company.objects.filter(name="probe", **{f"pk__{comparison}": -7}))


def test_connection_binds_parameters_on_the_server():
    connection.ensure_connection()
    assert connection.features.uses_server_side_binding
    assert connection.connection.prepare_threshold == 5
    with connection.cursor() as cursor:
        # A ClientCursor would merge the parameters into the SQL text.
        assert isinstance(cursor.cursor, psycopg.Cursor)
        assert not isinstance(cursor.cursor, psycopg.ClientCursor)
        cursor.execute("SELECT %s::int + 1", [41])
        assert cursor.fetchone() == (42,)


def test_a_repeated_query_is_prepared_after_the_threshold():
    shape = '"organizations_company"."id" >= $2'
    for _ in range(3):
        _probe("gte")
    assert _prepared(shape) == []

    for _ in range(connection.connection.prepare_threshold):
        _probe("gte")
    prepared = _prepared(shape)
    assert len(prepared) == 1
    assert '"organizations_company"."name" = $1' in prepared[0]


def test_prepare_threshold_none_prepares_nothing():
    connection.ensure_connection()
    threshold = connection.connection.prepare_threshold
    connection.connection.prepare_threshold = None
    try:
        for _ in range(10):
            _probe("lte")
        assert _prepared('"organizations_company"."id" <= $2') == []
    finally:
        connection.connection.prepare_threshold = threshold
