"""Deployment checks (``manage.py check --deploy``) for running on many nodes.

Each warning names something that works on one machine but breaks, or
silently degrades, once there are several web processes or task workers.
"""

from django.conf import settings
from django.core.checks import Warning, register

SQLITE_IN_PRODUCTION = Warning(
    "The database is SQLite.",
    hint="Set DATABASE_URL to PostgreSQL: SQLite cannot be shared by several "
    "web nodes and workers.",
    id="ops.W001",
)
LOCAL_CACHE_IN_PRODUCTION = Warning(
    "The cache is per process (locmem).",
    hint="Set REDIS_URL: rate limits, sessions and cached pages must be shared "
    "by every process.",
    id="ops.W002",
)
IMMEDIATE_TASKS_IN_PRODUCTION = Warning(
    "Background tasks run inside the web request (ImmediateBackend).",
    hint="Set TASKS_BACKEND=db and run `manage.py db_worker`: PDF rendering and "
    "e-mail must not block web workers.",
    id="ops.W003",
)
POOL_WITH_PERSISTENT_CONNECTIONS = Warning(
    "Both a connection pool and persistent connections are configured.",
    hint="Use DATABASE_POOL=1 or DATABASE_CONN_MAX_AGE, not both.",
    id="ops.W004",
)


@register("ops", deploy=True)
def check_shared_services(app_configs, **kwargs):
    problems = []
    database = settings.DATABASES["default"]
    if "sqlite" in database["ENGINE"]:
        problems.append(SQLITE_IN_PRODUCTION)
    if database.get("OPTIONS", {}).get("pool") and database.get("CONN_MAX_AGE"):
        problems.append(POOL_WITH_PERSISTENT_CONNECTIONS)
    if "locmem" in settings.CACHES["default"]["BACKEND"]:
        problems.append(LOCAL_CACHE_IN_PRODUCTION)
    if "ImmediateBackend" in settings.TASKS["default"]["BACKEND"]:
        problems.append(IMMEDIATE_TASKS_IN_PRODUCTION)
    return problems
