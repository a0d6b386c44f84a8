"""Two views that do the least a real view can: the yardsticks for signing and for count.json."""

from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse, HttpResponseRedirect
from django.views.decorators.http import require_POST, require_safe

# Created by bench/run.py with raw SQL; no model, no migration.
TABLE_SQL = "CREATE TABLE bench_floor (id bigserial PRIMARY KEY, note text NOT NULL)"
HELLO_KEY = "bench:floor:hello"


@require_POST
def insert(request):
    """The signing floor: the same POST as the sign form (no CSRF cookie, like it), one INSERT."""
    with connection.cursor() as cursor:
        cursor.execute("INSERT INTO bench_floor (note) VALUES (%s)", [request.POST.get("email")])
    return HttpResponseRedirect("/en/")


@require_safe
def hello(request):
    """The count.json floor: a small JSON body out of the shared cache (Redis)."""
    body = cache.get(HELLO_KEY)
    if body is None:
        body = '{"hello":"world"}'
        cache.set(HELLO_KEY, body, None)
    return HttpResponse(body, content_type="application/json")
