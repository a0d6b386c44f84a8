"""Views of the site as a service rather than of its content: for load balancers and monitoring."""

from django.db import connection
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from . import cache


def database_answers() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # any failure to talk to the database means "take me out"
        return False
    return True


def checks() -> dict:
    database, cached = database_answers(), cache.available()
    return {
        "status": "ok" if database and cached else "degraded" if database else "error",
        "database": "ok" if database else "unreachable",
        "cache": "ok" if cached else "unreachable",
    }


@never_cache
@require_safe
def healthz(request):
    """For the load balancer: 200 while this process can reach the database, which it cannot
    serve without. The cache is reported, not required: without it pages are counted from the
    database and signing goes on (lib/cache.py)."""
    state = checks()
    return JsonResponse(state, status=200 if state["database"] == "ok" else 503)


@never_cache
@require_safe
def readyz(request):
    """For monitoring: 200 only when everything this process talks to answers."""
    state = checks()
    return JsonResponse(state, status=200 if state["status"] == "ok" else 503)
