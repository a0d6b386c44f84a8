"""The API's reference page, server-rendered from the OpenAPI schema: no Swagger UI, nothing from
another host. In each language at /en/api/ and /fa/api/; /api/v1/docs leads to the site's own."""

import re

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_safe

from lib import cache
from lib.http import cache_like_the_page, kept
from lib.ratelimit import parse_rate
from lib.urls import site_url

from .. import bulk
from .endpoints import api


@require_safe
def docs(request):
    with translation.override(settings.LANGUAGE_CODE):
        return redirect(reverse("api_reference"))


@require_safe
def reference(request):
    # Building the schema takes tens of milliseconds: kept like a petition page, per language,
    # unless this visitor has a message waiting, which the page would show them alone.
    if messages.get_messages(request):
        return cache_like_the_page(reference_page(request), personal=True)
    parts = ("api-reference", translation.get_language(), request.get_host())
    return kept(
        cache.page_key(parts),
        lambda: cache_like_the_page(reference_page(request), personal=False),
    )


def reference_page(request):
    schema = api.get_openapi_schema()
    requests, seconds = parse_rate(settings.API_RATE_PER_IP)
    components = schema["components"]["schemas"]
    operations = []
    for route, methods in schema["paths"].items():
        for method, operation in methods.items():
            operations.append(
                {
                    "method": method.upper(),
                    "path": route,
                    "id": operation["operationId"],
                    "summary": operation.get("summary", ""),
                    "description": marked(operation.get("description", "")),
                    "parameters": [
                        {
                            "name": p["name"],
                            "where": p["in"],
                            "required": p.get("required", False),
                            "type": type_of(p.get("schema", {})),
                            "description": marked(
                                p.get("description") or p.get("schema", {}).get("description", "")
                            ),
                        }
                        for p in operation.get("parameters", [])
                    ],
                    "responses": [
                        {"status": status, "type": answer_type(answer)}
                        for status, answer in operation["responses"].items()
                    ],
                }
            )
    context = {
        "operations": operations,
        "models": [
            {"name": name, "fields": fields_of(model)}
            for name, model in components.items()
            if model.get("type") == "object"
        ],
        "schema_url": site_url(reverse("api:openapi-json")),
        "api_root": site_url("/api/v1/"),
        "rate_requests": requests,
        "rate_minutes": max(seconds // 60, 1),
        "bulk_csv": site_url(reverse("api:bulk_csv")),
        "bulk_json": site_url(reverse("api:bulk_json")),
        "bulk_columns": bulk.PETITION_COLUMNS + bulk.DAY_COLUMNS,
        "example": site_url(reverse("api:petitions")) + "?state=open&limit=2",
    }
    return render(request, "integrations/api_reference.html", context)


CODE = re.compile(r"`([^`]+)`")


def marked(text: str) -> str:
    """The schema's descriptions are Markdown; their `code` is the only markup they use."""
    return mark_safe(CODE.sub(r"<code>\1</code>", escape(text)))  # noqa: S308 - escaped first


def fields_of(model: dict) -> list[dict]:
    required = set(model.get("required", ()))
    return [
        {
            "name": name,
            "type": type_of(field),
            "required": name in required,
            "description": marked(field.get("description", "")),
        }
        for name, field in model.get("properties", {}).items()
    ]


def type_of(field: dict) -> str:
    """A short reading of a JSON Schema type: `integer`, `string (date-time) or null`, …"""
    if "$ref" in field:
        return field["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in field:
        return " or ".join(type_of(choice) for choice in field["anyOf"])
    if "enum" in field:
        return " | ".join(str(v) for v in field["enum"])
    if "const" in field:
        return str(field["const"])
    kind = field.get("type", "any")
    if kind == "array":
        return f"list of {type_of(field.get('items', {}))}"
    if "format" in field:
        return f"{kind} ({field['format']})"
    return kind


def answer_type(answer: dict) -> str:
    content = answer.get("content", {})
    for media, body in content.items():
        kind = type_of(body.get("schema", {}))
        return f"{kind}" if media == "application/json" else f"{media}"
    return ""
