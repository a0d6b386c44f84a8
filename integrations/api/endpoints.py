"""The operations of /api/v1/. django-ninja reads their type hints (schemas.py) to check every
answer and to write the OpenAPI 3.1 schema, so the schema cannot drift from the code.

Each answer reuses what the page uses: the count is signatures.counting's snapshot, the series
signatures.history's, the breakdown by country counting.country_counts with its folding, and a
petition is visible exactly when Petition.objects.public() holds it."""

import json
import re
import time
from typing import Annotated, Literal
from urllib.parse import urlencode

from django.conf import settings
from django.db import DatabaseError
from django.db.models import F
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.http import http_date
from ninja import NinjaAPI, Path, Query
from ninja.renderers import JSONRenderer
from ninja.responses import Status

from lib.http import PAGE_CACHE
from lib.ratelimit import parse_rate
from lib.urls import site_url
from petitions import thresholds
from petitions.models import SLUG_PATTERN, Petition
from signatures import counting, history, record
from signatures.models import SignatureCount

from .. import bulk
from . import schemas
from .schemas import Error

# count.json's own rule: exact within a second (petitions.views.COUNT_CACHE).
COUNT_CACHE = {"public": True, "max_age": counting.COUNT_CACHE_SECONDS}
# The breakdown is released in steps and kept a minute in our cache: no need to ask sooner.
COUNTRIES_CACHE = {"public": True, "max_age": counting.COUNTRY_CACHE_SECONDS}
BULK_CACHE = {"public": True, "max_age": 3600}
PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
MAX_OFFSET = 100_000


class UnicodeJSON(JSONRenderer):
    """Persian as UTF-8 letters, not \\u escapes: a reader of the raw answer can read it."""

    json_dumps_params = {"ensure_ascii": False}


DESCRIPTION = """\
Public figures of the petitions on this site, for journalists, researchers and anyone who wants
the numbers. Read-only, no key, no cookies: every answer is the same for everyone.

* **Visibility**: only published petitions (open or closed). Drafts, petitions waiting for review
  or sent back answer 404, exactly like their pages.
* **No personal data**: no signer's name, email, city or time of signing, and neither the name
  nor the contact details of the petition's starter. Signers by country fold every country with
  fewer than `minimum` signers into `other`, the same rule as the petition page.
* **Times** are ISO 8601 in UTC (ending in `Z`); dates are YYYY-MM-DD; digits are ASCII.
  Persian text is UTF-8 JSON, as stored.
* **Caching**: every answer carries `Cache-Control: public, max-age=…` and a strong `ETag`; send
  it back in `If-None-Match` to get `304 Not Modified`.
* **CORS**: `Access-Control-Allow-Origin: *` on every answer, so a page on any site can read it.
* **Rate limit**: {rate} per client address; past it, `429` with `Retry-After` (seconds).
* **Bulk data**: every public petition and its daily counts, CSV and JSON, gzip, rebuilt daily.
"""


def rate_in_words(rate: str) -> str:
    requests, seconds = parse_rate(rate)
    return f"{requests} requests in {seconds} seconds"


api = NinjaAPI(
    title="Petitions API",
    version="1",
    description=DESCRIPTION.replace("{rate}", rate_in_words(settings.API_RATE_PER_IP)),
    openapi_url="/openapi.json",
    docs_url=None,  # ninja's page loads Swagger from a CDN; ours is reference_views
    urls_namespace="api",
    renderer=UnicodeJSON(),
)


@api.exception_handler(Http404)
def not_found(request, exc):
    # ninja adds Django's message under DEBUG; the answer is the same whatever the settings.
    return api.create_response(request, {"detail": "Not Found"}, status=404)


TOO_MANY = {429: Error}
NOT_FOUND = {404: Error} | TOO_MANY
Slug = Annotated[
    str,
    Path(
        description="The petition's address, as in its page's URL (/en/p/{slug}/); may be in "
        "Persian letters. 404 for a petition that is not public."
    ),
]


def cached(response: HttpResponse, rule: dict) -> None:
    patch_cache_control(response, **rule)


SLUG = re.compile(SLUG_PATTERN)


def checked(slug: str) -> str:
    if not SLUG.fullmatch(slug):
        raise Http404
    return slug


def visible(slug: str) -> Petition:
    """404 for anything the petition page would not show a visitor."""
    return get_object_or_404(Petition.objects.public().with_signable(), slug=checked(slug))


def api_url(name: str, **kwargs) -> str:
    return site_url(reverse(f"api:{name}", kwargs=kwargs))


def item(petition: Petition, count: int) -> dict:
    outcome = petition.outcome or None
    return {
        "slug": petition.slug,
        "url": api_url("petition", slug=petition.slug),
        "state": "open" if petition.is_signable else "closed",
        "languages": list(petition.languages),
        "title_en": petition.title_en,
        "title_fa": petition.title_fa,
        "count": count,
        "goal": petition.goal_for(count),
        "outcome": outcome,
        "opened_at": petition.opened_at,
        "closes_at": petition.closes_at,
        "pages": {code: site_url(petition.url_in(code)) for code in ("en", "fa")},
    }


@api.get(
    "/petitions",
    response={200: schemas.PetitionList, 422: schemas.ValidationProblem, **TOO_MANY},
    url_name="petitions",
    operation_id="list_petitions",
    summary="List public petitions",
)
def list_petitions(
    request: HttpRequest,
    response: HttpResponse,
    state: Annotated[schemas.State | None, Query(description=schemas.STATE)] = None,
    outcome: Annotated[
        Literal["won", "responded", "delivered", "closed", "none"] | None,
        Query(description="Only petitions with this outcome; `none` for those without one yet."),
    ] = None,
    language: Annotated[
        schemas.Language | None, Query(description="Only petitions published in this language.")
    ] = None,
    q: Annotated[
        str | None,
        Query(
            max_length=100,
            description="Words the English or Persian title contains; Arabic and Persian forms "
            "of a letter (ي/ی, ك/ک), ZWNJ and capitals are treated alike.",
        ),
    ] = None,
    limit: Annotated[
        int, Query(ge=1, le=MAX_PAGE_SIZE, description="Petitions per page.")
    ] = PAGE_SIZE,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Petitions to skip.")] = 0,
):
    """Published petitions, newest first, a page at a time; follow `next` for the rest."""
    petitions = Petition.objects.public().with_signable()
    if state is not None:
        petitions = petitions.filter(is_signable=state == "open")
    if outcome is not None:
        petitions = petitions.filter(outcome="" if outcome == "none" else outcome)
    if language is not None:
        petitions = petitions.published_in(language)
    if q:
        petitions = petitions.titled(q)
    total = petitions.count()
    petitions = petitions.order_by(F("opened_at").desc(nulls_last=True), "-pk").defer(
        "letter_en", "letter_fa", "response_en", "response_fa"
    )
    page = list(petitions[offset : offset + limit])
    totals = SignatureCount.objects.totals_for(p.pk for p in page)
    filters = {"state": state, "outcome": outcome, "language": language, "q": q}

    def link(at: int) -> str:
        query = {k: v for k, v in filters.items() if v} | {"limit": limit, "offset": at}
        return api_url("petitions") + "?" + urlencode(query)

    cached(response, PAGE_CACHE)
    return {
        "total": total,
        "limit": limit,
        "offset": offset,
        "next": link(offset + limit) if offset + limit < total else None,
        "previous": link(max(offset - limit, 0)) if offset > 0 else None,
        "results": [item(p, totals.get(p.pk, 0)) for p in page],
    }


@api.get(
    "/petitions/{slug}",
    response={200: schemas.PetitionDetail, **NOT_FOUND},
    url_name="petition",
    operation_id="get_petition",
    summary="One petition",
)
def get_petition(request: HttpRequest, response: HttpResponse, slug: Slug):
    """Everything the petition page says in both languages, as stored, with its figures."""
    petition = visible(slug)
    snapshot = counting.current_count(petition)
    has_response = petition.has_response or petition.response_date or petition.response_url
    cached(response, PAGE_CACHE)
    return item(petition, snapshot.count) | {
        "goal": snapshot.goal,
        "original_language": petition.original_language,
        "addressed_to_en": petition.addressed_to_en,
        "addressed_to_fa": petition.addressed_to_fa,
        "summary_en": petition.summary_en,
        "summary_fa": petition.summary_fa,
        "letter_en": petition.letter_en,
        "letter_fa": petition.letter_fa,
        "created_at": petition.created_at,
        "last_signed_at": snapshot.last_signed_at,
        "outcome_date": petition.outcome_date if petition.outcome else None,
        "response": {
            "text_en": petition.response_en,
            "text_fa": petition.response_fa,
            "date": petition.response_date,
            "source_url": petition.response_url,
        }
        if has_response
        else None,
        "count_url": api_url("count", slug=slug),
        "history_url": api_url("history", slug=slug),
        "countries_url": api_url("countries", slug=slug),
        "thresholds": thresholds_of(petition),
        "record": record.summary(petition.pk).as_json()
        | {"url": site_url(reverse("signatures:record_json", kwargs={"slug": slug}))},
    }


def thresholds_of(petition: Petition) -> list[dict]:
    reached = {row.number: row for row in petition.thresholds_reached.all()}
    numbers = {t.number: t for t in thresholds.thresholds_for(petition)}
    rows = []
    for number in sorted(numbers.keys() | reached.keys()):
        # Once reached, the promise as it was made then, whatever the list says now.
        source = reached.get(number) or numbers[number]
        rows.append(
            {
                "number": number,
                "consequence_en": source.consequence_en,
                "consequence_fa": source.consequence_fa,
                "reached_at": reached[number].reached_at if number in reached else None,
                "respond_by": reached[number].respond_by if number in reached else None,
            }
        )
    return rows


@api.get(
    "/petitions/{slug}/count",
    response={200: schemas.Count, **NOT_FOUND},
    url_name="count",
    operation_id="get_count",
    summary="The count alone",
)
def get_count(request: HttpRequest, response: HttpResponse, slug: Slug):
    """The same figures as the page's live counter (count.json), exact within a second: poll it
    at most once a second."""
    snapshot = counting.cached_count(checked(slug))
    if snapshot is None:
        try:
            snapshot = counting.exact_count(get_object_or_404(Petition.objects.public(), slug=slug))
        except DatabaseError:
            snapshot = counting.last_count(slug)
            if snapshot is None:
                raise
    cached(response, COUNT_CACHE)
    # As count.json: nginx rounds max-age up to whole seconds; this ends its copy with this one.
    response["X-Accel-Expires"] = f"@{int(time.time())}"
    return json.loads(snapshot.body)


@api.get(
    "/petitions/{slug}/history",
    response={200: schemas.History, 422: schemas.ValidationProblem, **NOT_FOUND},
    url_name="history",
    operation_id="get_history",
    summary="The count over time",
)
def get_history(
    request: HttpRequest,
    response: HttpResponse,
    slug: Slug,
    interval: Annotated[
        Literal["hour", "day"], Query(description="`hour` or `day` (UTC days) for each step.")
    ] = "hour",
):
    """Counted signatures per hour or per day, and the running total. The last day is brought up
    to date when the cached series expires (every few minutes)."""
    petition = visible(slug)
    points = history.series(petition.pk)
    if interval == "day":
        points = history.by_day(points)
    cached(response, {"public": True, "max_age": settings.SHARE_IMAGE_SECONDS})
    return {
        "slug": petition.slug,
        "interval": interval,
        "total": points[-1].total if points else 0,
        "series": [{"start": p.hour, "signatures": p.signatures, "total": p.total} for p in points],
    }


@api.get(
    "/petitions/{slug}/countries",
    response={200: schemas.Countries, 503: Error, **NOT_FOUND},
    url_name="countries",
    operation_id="get_countries",
    summary="Signers by country",
)
def get_countries(request: HttpRequest, response: HttpResponse, slug: Slug):
    """The breakdown the petition page shows, with the same folding: a country with fewer than
    `minimum` signers is counted in `other`. It is released in steps, at most once every
    COUNTRY_RELEASE_HOURS and after `minimum` more signatures, so that comparing two readings
    cannot single out one signer. 503 (with Retry-After) while it cannot be read."""
    petition = visible(slug)
    counts = counting.country_counts(petition)
    if counts is None:
        response["Retry-After"] = "30"
        response["Cache-Control"] = "no-store"
        return Status(503, {"detail": "The breakdown by country is unavailable; try again."})
    cached(response, COUNTRIES_CACHE)
    return {
        "countries": [{"country": code, "count": n} for code, n in counts.countries],
        "other": counts.other,
        "minimum": counts.minimum,
    }


GZIP = {
    "200": {
        "description": "The file, gzip-compressed, with Last-Modified and ETag.",
        "content": {"application/gzip": {"schema": {"type": "string", "format": "binary"}}},
    }
}


def bulk_file(name: str):
    found = bulk.latest(name)
    if found is None:
        return Status(404, {"detail": "Not built yet: the bulk files are built once a day."})
    response = HttpResponse(bytes(found.content), content_type="application/gzip")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Last-Modified"] = http_date(found.built_at.timestamp())
    response["ETag"] = found.etag
    cached(response, BULK_CACHE)
    return response


@api.get(
    "/bulk/petitions.csv.gz",
    response=TOO_MANY | {404: Error},
    url_name="bulk_csv",
    operation_id="bulk_csv",
    summary="Every public petition and its daily counts, CSV",
    openapi_extra={"responses": GZIP},
)
def bulk_csv(request: HttpRequest):
    """One row per petition per day on which someone signed (a petition nobody has signed yet
    has one row with the day fields empty); UTF-8 with a header row. Columns: see docs/api.md
    and the reference page."""
    return bulk_file(bulk.CSV)


@api.get(
    "/bulk/petitions.json.gz",
    response=TOO_MANY | {404: Error},
    url_name="bulk_json",
    operation_id="bulk_json",
    summary="Every public petition and its daily counts, JSON",
    openapi_extra={"responses": GZIP},
)
def bulk_json(request: HttpRequest):
    """`{"built_at": ..., "petitions": [...]}`, each petition with the list fields and `daily`:
    `[{"date", "signatures", "total"}]`, oldest first."""
    return bulk_file(bulk.JSON)
