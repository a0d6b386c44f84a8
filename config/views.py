"""Views of the site as a service rather than of its content."""

from django.db import connection
from django.http import HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe


@never_cache
@require_safe
def healthz(request):
    """For the load balancer: 200 only when this process can reach the database."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception:  # any failure to talk to the database means "take me out"
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
    return HttpResponse('{"status": "ok", "database": "ok"}', content_type="application/json")
