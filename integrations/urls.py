"""/api/v1/: outside the language prefixes, since every answer is the same in any language."""

from django.http import JsonResponse
from django.urls import URLPattern, path, re_path

from .api import reference_views
from .api.endpoints import api
from .api.public import public_read


def not_found(request, rest=""):
    return JsonResponse({"detail": "Not Found"}, status=404)


def wrapped(patterns) -> list[URLPattern]:
    """ninja's own patterns, each view wrapped in public_read (integrations/api/public.py)."""
    return [
        URLPattern(p.pattern, public_read(p.callback), p.default_args, p.name) for p in patterns
    ]


ninja_patterns, _app_name, _namespace = api.urls
app_name = "api"  # the namespace ninja reverses its own addresses in (urls_namespace)

urlpatterns = [
    *wrapped(ninja_patterns),
    path("docs", public_read(reference_views.docs), name="docs"),
    # A mistyped address answers in JSON too, with the same headers as the rest.
    re_path(r"^(?P<rest>.*)$", public_read(not_found), name="not_found"),
]
