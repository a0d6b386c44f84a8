"""For load balancers and monitoring."""

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
    """200 while the database answers; the site serves without the cache, so it is not required."""
    state = checks()
    return JsonResponse(state, status=200 if state["database"] == "ok" else 503)


@never_cache
@require_safe
def readyz(request):
    state = checks()
    return JsonResponse(state, status=200 if state["status"] == "ok" else 503)
