from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache


@never_cache
def healthz(request):
    """Liveness: the process answers (also the benchmarks' trivial baseline)."""
    return HttpResponse("ok", content_type="text/plain")


@never_cache
def readyz(request):
    """Readiness: the database and the cache answer."""
    checks = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["database"] = "ok"
    except Exception as error:  # noqa: BLE001 - reported, not raised
        checks["database"] = f"error: {error.__class__.__name__}"
    try:
        cache.set("readyz", "1", 5)
        checks["cache"] = "ok" if cache.get("readyz") == "1" else "error"
    except Exception as error:  # noqa: BLE001
        checks["cache"] = f"error: {error.__class__.__name__}"
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(checks, status=200 if healthy else 503)


def permission_denied(request, exception=None):
    from django.shortcuts import render

    from .security import security_event

    security_event("access_denied", request=request)
    return render(request, "403.html", status=403)


def rate_limited(request, exception=None):
    from django.shortcuts import render

    from .security import security_event

    security_event("rate_limited", request=request)
    return render(request, "429.html", status=429)


DATABASE_UNAVAILABLE_RETRY_SECONDS = 30


def server_error(request):
    """500, or 503 when the database went away, from static templates.

    Rendered without a request context: nothing here may touch the database
    (the session, the user, the navigation), which may be the failing part.
    A 503 with ``Retry-After`` tells the load balancer and the browser that
    trying again later is the right thing to do; no traceback is ever shown.
    """
    import logging
    import sys

    from django.db import DatabaseError, InterfaceError, OperationalError
    from django.http import HttpResponseServerError
    from django.template import loader

    from ops.events import ops_event

    error = sys.exc_info()[1]
    database_down = isinstance(error, (OperationalError, InterfaceError)) or (
        isinstance(error, DatabaseError) and "connection" in str(error).lower()
    )
    if database_down:
        ops_event(
            "database_unavailable",
            level=logging.ERROR,
            path=request.path,
            error=error.__class__.__name__,
        )
        response = HttpResponse(loader.get_template("503.html").render(), status=503)
        response["Retry-After"] = str(DATABASE_UNAVAILABLE_RETRY_SECONDS)
        return response
    return HttpResponseServerError(loader.get_template("500.html").render())
