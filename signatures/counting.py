"""A petition's count as readers see it: one count a second, cached for every app server."""

import datetime
import json
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from lib import cache
from lib.http import strong_etag

from .models import (
    CountryCounts,
    CountryRelease,
    PaperBatch,
    Signature,
    SignatureCount,
    forget_counts,
)
from .supporter import short_name

log = logging.getLogger(__name__)


# With count.json's own max-age of one second, a reader sees every signature within two.
COUNT_CACHE_SECONDS = 1
# For count.json while the database is down, never in place of counting.
LAST_COUNT_SECONDS = 3600
RECENT_CACHE_SECONDS = 2
RECENT_SIGNERS = 8
# Counting a new breakdown scans the petition's signatures: one process at a time.
COUNTRY_CACHE_SECONDS = 60
COUNTING_LOCK_SECONDS = 30


@dataclass(frozen=True)
class CountSnapshot:
    count: int  # online and on paper: the one figure everyone is shown
    goal: int
    last_signed_at: datetime.datetime | None
    body: str
    etag: str
    paper: int = 0  # of `count`, entered from paper batches

    @property
    def online(self) -> int:
        return self.count - self.paper

    @classmethod
    def counted(
        cls, count: int, goal: int, last_signed_at, outcome: str = "", paper: int = 0
    ) -> "CountSnapshot":
        body = json.dumps(
            {
                "count": count,
                "goal": goal,
                "last_signed_at": last_signed_at.isoformat().replace("+00:00", "Z")
                if last_signed_at
                else None,
                "outcome": outcome or None,
                "paper": paper,
            },
            separators=(",", ":"),
        )
        return cls(count, goal, last_signed_at, body, strong_etag(body), paper)


def cached_count(slug: str) -> CountSnapshot | None:
    return cache.get(cache.count_key(slug))


def last_count(slug: str) -> CountSnapshot | None:
    """However old: for count.json while the database is down."""
    return cache.get(cache.last_count_key(slug))


def current_count(petition) -> CountSnapshot:
    return cached_count(petition.slug) or exact_count(petition)


def exact_count(petition) -> CountSnapshot:
    count = SignatureCount.objects.total_for(petition.pk)
    last = (
        Signature.objects.counted()
        .filter(petition_id=petition.pk)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    # Paper is added to the shards with its batch; this says how much of the count it is.
    paper = PaperBatch.objects.total_for(petition.pk)
    snapshot = CountSnapshot.counted(count, petition.goal_for(count), last, petition.outcome, paper)
    if petition.is_public:  # a draft's preview stays private
        cache.set(cache.count_key(petition.slug), snapshot, COUNT_CACHE_SECONDS)
        cache.set(cache.last_count_key(petition.slug), snapshot, LAST_COUNT_SECONDS)
    return snapshot


def recent_signers(petition) -> list[dict]:
    """Only the hour they signed: a time to the second could be matched to someone's connection.
    Only what may be shown is cached."""
    if not petition.lists_signers:
        return []
    key = cache.recent_key(petition.pk)
    signers = cache.get(key)
    if signers is None:
        rows = (
            Signature.objects.listed()
            .filter(petition_id=petition.pk)
            .order_by("-created_at")
            .values_list("name", "country", "locality", "listing", "created_at")[:RECENT_SIGNERS]
        )
        signers = [
            {
                "name": short_name(name),
                "locality": Signature.listed_place(
                    petition.lists_places, listing, country, locality
                ),
                "signed_at": created_at.replace(minute=0, second=0, microsecond=0),
            }
            for name, country, locality, listing, created_at in rows
        ]
        cache.set(key, signers, RECENT_CACHE_SECONDS)
    return signers


def country_counts(petition) -> CountryCounts | None:
    """As last released: a release adds up many signers and never points to one. None without the
    cache, rather than a read per reader."""
    minimum = settings.COUNTRY_COUNT_MINIMUM
    key = cache.countries_key(petition.pk, minimum)
    try:
        counts = cache.call("default", "get", key)
    except cache.CacheUnavailable:
        return None
    if counts is not None:
        return counts
    release = CountryRelease.objects.filter(petition_id=petition.pk).first()
    if release is None or due(release, minimum):
        try:
            counting = cache.call("default", "add", f"{key}:counting", 1, COUNTING_LOCK_SECONDS)
        except cache.CacheUnavailable:
            counting = False
        if counting:
            release = release_countries(petition.pk, minimum, release)
            cache.delete_many([f"{key}:counting"])
    if release is None:
        return None  # another process is counting the first release
    cache.set(key, release.counts, COUNTRY_CACHE_SECONDS)
    return release.counts


def due(release: CountryRelease, minimum: int) -> bool:
    age = timezone.now() - release.released_at
    if release.minimum != minimum:
        return True
    if age < datetime.timedelta(hours=settings.COUNTRY_RELEASE_HOURS):
        return False
    return SignatureCount.objects.total_for(release.petition_id) - release.signatures >= minimum


def release_countries(petition_id: int, minimum: int, last: CountryRelease | None):
    named = None if last is None else {code for code, _signers in last.countries}
    counts = Signature.objects.filter(petition_id=petition_id).counts_by_country(minimum, named)
    release, _created = CountryRelease.objects.update_or_create(
        petition_id=petition_id,
        defaults={
            "released_at": timezone.now(),
            "signatures": sum(n for _code, n in counts.countries) + counts.other,
            "countries": [[str(code), n] for code, n in counts.countries],
            "other": counts.other,
            "minimum": minimum,
        },
    )
    return release


def recount(petition) -> int:
    """Return the drift repaired: the count is the counted signatures and the standing paper
    batches. The shards are locked first, so a signer committing meanwhile
    adds on top of the corrected total."""
    with transaction.atomic():
        SignatureCount.create_shards(petition.pk)
        shards = list(SignatureCount.objects.select_for_update().filter(petition_id=petition.pk))
        recorded = sum(shard.count for shard in shards)
        actual = Signature.objects.counted().filter(
            petition_id=petition.pk
        ).count() + PaperBatch.objects.total_for(petition.pk)
        if actual != recorded:
            SignatureCount.set_total(petition.pk, actual)
            log.warning("Recount of %s: %s recorded, %s counted", petition.slug, recorded, actual)
    forget_counts([petition.pk])
    return actual - recorded
