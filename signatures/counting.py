"""A petition's count as readers see it: counted from the shards, kept in the shared cache for a
second, so that one count a second serves every reader on every app server. The HTTP cache in
front (count.json and the page are public) does the rest. Without the cache (Redis down), every
reader is counted for from the database (caching.py)."""

import datetime
import hashlib
import json
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from . import caching
from .models import (
    CountryCounts,
    Signature,
    SignatureCount,
    count_cache_key,
    forget_counts,
    recent_cache_key,
)
from .supporter import short_name

log = logging.getLogger(__name__)


def last_count_key(slug: str) -> str:
    return f"petition-last-count:v1:{slug}"


# With count.json's own max-age of one second, a reader sees every signature within two.
COUNT_CACHE_SECONDS = 1
# The last count made is also kept this long, for count.json to answer while the database is down
# (and only then: never in place of counting).
LAST_COUNT_SECONDS = 3600
RECENT_CACHE_SECONDS = 2
RECENT_SIGNERS = 8
# The breakdown by country moves slowly and costs a scan of the petition's signatures: counted
# once a minute, by one process at a time, the last one kept for the others meanwhile.
COUNTRY_CACHE_SECONDS = 60
COUNTRY_LAST_SECONDS = 24 * 3600
COUNTING_LOCK_SECONDS = 30


@dataclass(frozen=True)
class CountSnapshot:
    count: int
    goal: int
    last_signed_at: datetime.datetime | None
    # count.json's body and ETag, made once when counted rather than on every answer.
    body: str
    etag: str

    @classmethod
    def counted(cls, count: int, goal: int, last_signed_at, outcome: str = "") -> "CountSnapshot":
        body = json.dumps(
            {
                "count": count,
                "goal": goal,
                "last_signed_at": last_signed_at.isoformat().replace("+00:00", "Z")
                if last_signed_at
                else None,
                # won, responded, delivered or closed (issue 19); null while there is none
                "outcome": outcome or None,
            },
            separators=(",", ":"),
        )
        etag = '"' + hashlib.blake2b(body.encode(), digest_size=8).hexdigest() + '"'
        return cls(count, goal, last_signed_at, body, etag)


def cached_count(slug: str) -> CountSnapshot | None:
    """The count counted within the last second, if any: what count.json answers without
    touching the database."""
    return caching.get(count_cache_key(slug))


def last_count(slug: str) -> CountSnapshot | None:
    """The last count made, however old: what count.json answers while the database is down."""
    return caching.get(last_count_key(slug))


def current_count(petition) -> CountSnapshot:
    """The petition's count, at most COUNT_CACHE_SECONDS old."""
    return cached_count(petition.slug) or exact_count(petition)


def exact_count(petition) -> CountSnapshot:
    """The petition's count now, which the next second's readers then share."""
    count = SignatureCount.objects.total_for(petition.pk)
    last = (
        Signature.objects.counted()
        .filter(petition_id=petition.pk)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    snapshot = CountSnapshot.counted(count, petition.goal_for(count), last, petition.outcome)
    if petition.is_public:  # count.json answers from this cache; a draft's preview stays private
        caching.set(count_cache_key(petition.slug), snapshot, COUNT_CACHE_SECONDS)
        caching.set(last_count_key(petition.slug), snapshot, LAST_COUNT_SECONDS)
    return snapshot


def recent_signers(petition, limit: int = RECENT_SIGNERS) -> list[dict]:
    """The latest signers who agreed to be shown, as the petition lets them be listed: first name
    and initial, the city where Signature.shown_place allows it, when. No email, ever; nothing
    at all for a petition without a public list. Only what may be shown is cached."""
    if not petition.lists_signers:
        return []
    key = recent_cache_key(petition.pk)
    signers = caching.get(key) if limit == RECENT_SIGNERS else None
    if signers is None:
        rows = (
            Signature.objects.public()
            .filter(petition_id=petition.pk)
            .order_by("-created_at")
            .values_list("name", "country", "locality", "created_at")[:limit]
        )
        signers = [
            {
                "name": short_name(name),
                "locality": Signature.shown_place(country, locality)
                if petition.lists_places
                else "",
                "signed_at": created_at,
            }
            for name, country, locality, created_at in rows
        ]
        caching.set(key, signers, RECENT_CACHE_SECONDS)
    return signers


def country_counts(petition) -> CountryCounts | None:
    """The petition's public breakdown by country (Signature.objects.counts_by_country), at most
    COUNTRY_CACHE_SECONDS old. Counting scans the petition's signatures (0.6 s for a million on
    PostgreSQL, docs/performance.md), so one process counts while the others keep answering with
    the last breakdown; without the cache there is none (None), rather than a scan per reader."""
    minimum = settings.COUNTRY_COUNT_MINIMUM
    key = f"petition-countries:v1:{petition.pk}:{minimum}"
    try:
        counts = caching.call("default", "get", key)
        if counts is not None:
            return counts
        if not caching.call("default", "add", f"{key}:counting", 1, COUNTING_LOCK_SECONDS):
            counts = caching.call("default", "get", f"{key}:last")
    except caching.CacheUnavailable:
        return None
    if counts is None:
        counts = Signature.objects.filter(petition_id=petition.pk).counts_by_country(minimum)
        caching.set(key, counts, COUNTRY_CACHE_SECONDS)
        caching.set(f"{key}:last", counts, COUNTRY_LAST_SECONDS)
        caching.delete_many([f"{key}:counting"])
    return counts


def recount(petition) -> int:
    """Set the count from the signature rows; return the drift repaired (actual - recorded).

    The shard rows are locked before counting, so a signer committing meanwhile waits for us and
    then adds on top of the corrected total: nothing is lost either way.
    """
    with transaction.atomic():
        SignatureCount.create_shards(petition.pk)
        shards = list(SignatureCount.objects.select_for_update().filter(petition_id=petition.pk))
        recorded = sum(shard.count for shard in shards)
        actual = Signature.objects.counted().filter(petition_id=petition.pk).count()
        if actual != recorded:
            SignatureCount.set_total(petition.pk, actual)
            log.warning("Recount of %s: %s recorded, %s counted", petition.slug, recorded, actual)
    forget_counts([petition.pk])
    return actual - recorded
