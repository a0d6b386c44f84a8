"""Signing and counting: the operations that span a petition, its signatures and its count."""

import datetime
import hashlib
import json
import logging
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache as once

import psycopg
from django.conf import settings
from django.core.cache import cache
from django.db import (
    DEFAULT_DB_ALIAS,
    IntegrityError,
    InterfaceError,
    OperationalError,
    close_old_connections,
    connection,
    connections,
    transaction,
)
from django.utils import timezone

from petitions.cache import ProcessCache, public_petition
from petitions.goals import next_goal
from petitions.models import Petition

from . import keyed
from .confirmation import queue_confirmation
from .models import (
    Signature,
    SignatureCount,
    count_cache_key,
    recent_cache_key,
)
from .normalise import canonical_email
from .supporter import short_name

log = logging.getLogger(__name__)

# How long a count may be served from the cache. With the browser's own max-age of one second on
# count.json, a reader sees every signature within two seconds.
COUNT_CACHE_SECONDS = 1
# How long each process keeps count.json's count to itself (see live_count).
COUNT_LOCAL_SECONDS = 0.25
# The oldest count a reader can be shown (plus the moment it takes to count).
COUNT_STALE_AT_MOST = COUNT_CACHE_SECONDS + COUNT_LOCAL_SECONDS
# How long a count is kept for count.json to answer while a fresh one is being counted.
COUNT_KEEP_SECONDS = 300
RECENT_CACHE_SECONDS = 2
RECENT_SIGNERS = 8


class PetitionClosed(Exception):
    """The petition is not taking signatures (closed, past its closing date, or a draft)."""


@dataclass(frozen=True)
class CountSnapshot:
    count: int
    goal: int
    last_signed_at: datetime.datetime | None
    # When it should be counted again (time.time()); count.json answers it until then.
    fresh_until: float = 0.0
    # count.json's body and ETag, made once when counted rather than on every answer.
    body: str = ""
    etag: str = ""

    @classmethod
    def counted(cls, count: int, goal: int, last_signed_at) -> "CountSnapshot":
        body = json.dumps(
            {
                "count": count,
                "goal": goal,
                "last_signed_at": last_signed_at.isoformat().replace("+00:00", "Z")
                if last_signed_at
                else None,
            },
            separators=(",", ":"),
        )
        etag = '"' + hashlib.blake2b(body.encode(), digest_size=8).hexdigest() + '"'
        return cls(count, goal, last_signed_at, time.time() + COUNT_CACHE_SECONDS, body, etag)

    @property
    def is_fresh(self) -> bool:
        return self.fresh_until > time.time()


def count_snapshot(petition: Petition, *, cached: bool = True) -> CountSnapshot:
    """The petition's exact count, at most COUNT_CACHE_SECONDS old (or exact now, uncached)."""
    if cached and (snapshot := cached_count(petition.slug)) is not None:
        return snapshot
    count = SignatureCount.objects.total_for(petition.pk)
    last = (
        Signature.objects.counted()
        .filter(petition_id=petition.pk)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    snapshot = CountSnapshot.counted(count, next_goal(count, petition.goal), last)
    if petition.is_public:  # count.json answers from this cache; a draft's preview stays private
        # Kept well beyond its freshness, for count.json to answer while it is counted again.
        cache.set(count_cache_key(petition.slug), snapshot, COUNT_KEEP_SECONDS)
    return snapshot


def cached_count(slug: str, *, refresh: bool = False) -> CountSnapshot | None:
    """The cached count if it is fresh, else None: the caller is to count.

    With `refresh` (count.json), a count older than COUNT_CACHE_SECONDS is still answered, and a
    fresh one is counted in the background: once a second across all app servers, however many
    readers there are, and never while a reader waits.
    """
    snapshot = cache.get(count_cache_key(slug))
    if snapshot is None or snapshot.is_fresh:
        return snapshot
    if refresh and settings.COUNT_REFRESH_IN_BACKGROUND:
        _refresh_in_background(slug)
        return snapshot
    return None


def live_count(slug: str) -> CountSnapshot | None:
    """count.json's count: what the shared cache says (see cached_count), held in this process
    for COUNT_LOCAL_SECONDS. With thousands of readers a second that spares the cache most reads,
    and adds at most that to a count's age."""
    snapshot = _local_counts.get(slug)
    if snapshot is None:
        snapshot = cached_count(slug, refresh=True)
        if snapshot is not None:
            _local_counts.set(slug, snapshot)
    return snapshot


_local_counts = ProcessCache(COUNT_LOCAL_SECONDS)
_refresher: ThreadPoolExecutor | None = None
_refreshing: set[str] = set()
_refreshing_lock = threading.Lock()


def _refresh_in_background(slug: str) -> None:
    global _refresher
    with _refreshing_lock:
        if slug in _refreshing:
            return
        _refreshing.add(slug)
        if _refresher is None:
            _refresher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="count-refresh")
    # One refresh at a time across all app servers: the others keep answering the last count.
    if cache.add(count_cache_key(slug) + ":refreshing", 1, COUNT_CACHE_SECONDS):
        _refresher.submit(_refresh, slug)
    else:
        with _refreshing_lock:
            _refreshing.discard(slug)


def _refresh(slug: str) -> None:
    try:
        petition = public_petition(slug)
        if petition is not None:
            count_snapshot(petition, cached=False)
    except Exception:
        log.exception("Could not refresh the count of %s", slug)
    finally:
        with _refreshing_lock:
            _refreshing.discard(slug)
        close_old_connections()


def forget_count(petition: Petition) -> None:
    """Drop the cached count and signers once a change is committed, so the next reader sees it
    (other processes' own copies within COUNT_LOCAL_SECONDS)."""
    keys = [count_cache_key(petition.slug), recent_cache_key(petition.pk)]

    def forget():
        cache.delete_many(keys)
        _local_counts.pop(petition.slug)

    transaction.on_commit(forget)


def recent_signers(petition: Petition, limit: int = RECENT_SIGNERS) -> list[dict]:
    """The latest signers who agreed to be shown: first name and initial, city, when. No email,
    and no postcode (a locality without letters is a postcode, which says too much)."""
    key = recent_cache_key(petition.pk)
    signers = cache.get(key) if limit == RECENT_SIGNERS else None
    if signers is None:
        rows = (
            Signature.objects.public()
            .filter(petition_id=petition.pk)
            .order_by("-created_at")
            .values_list("name", "locality", "created_at")[:limit]
        )
        signers = [
            {
                "name": short_name(name),
                "locality": locality if any(ch.isalpha() for ch in locality) else "",
                "signed_at": created_at,
            }
            for name, locality, created_at in rows
        ]
        cache.set(key, signers, RECENT_CACHE_SECONDS)
    return signers


def hash_ip(ip: str | None) -> str:
    """A keyed hash of the address: the same source gives the same value, so a moderator can see a
    burst from one place, but the address itself is never stored."""
    if not ip:
        return ""
    return keyed.salted_hmac_sha256("signatures.ip", ip, settings.IP_HASH_SECRET).hex()[:32]


def sign_petition(
    petition: Petition,
    *,
    name: str,
    email: str,
    country: str,
    language: str,
    locality: str = "",
    comment: str = "",
    show_name: bool = True,
    consent_contact: bool = False,
    ip_hash: str = "",
    confirmed: bool = False,
) -> bool:
    """Add a signature and count it, both or neither.

    On a petition that needs email confirmation the signature waits, uncounted, for the signer
    to confirm, unless `confirmed` says this browser already proved the address.
    Returns False when this email had already signed: the caller must answer exactly as for a new
    signature, so that the form cannot be used to find out who signed.
    """
    if not petition.is_signable:
        raise PetitionClosed(petition.slug)
    canonical = canonical_email(email)
    pending = petition.requires_confirmation and not confirmed
    now = timezone.now()
    row = {
        "petition_id": petition.pk,
        "name": name,
        "email": email,
        "email_canonical": canonical,
        "country": country,
        "locality": locality,
        "comment": comment,
        "show_name": show_name,
        "consent_contact": consent_contact,
        "language": language,
        "ip_hash": ip_hash,
        "status": Signature.Status.PENDING if pending else Signature.Status.COUNTED,
        "created_at": now,
        "confirmed_at": now if confirmed else None,
    }
    # The cached count is left to expire (COUNT_CACHE_SECONDS) rather than dropped here: under
    # load it is refilled once a second whatever we do, and dropping it would cost every
    # signature a trip to the cache.
    if not pending and connection.vendor == "postgresql":
        if _insert_and_count(row):
            return True
        if Signature.objects.filter(petition=petition, email_canonical=canonical).exists():
            return False  # this email had signed: the same answer as a first signature
        raise PetitionClosed(petition.slug)  # closed since the caller looked
    try:
        with transaction.atomic():
            signature = Signature.objects.create(**row)
            if pending:
                queue_confirmation(signature)
            else:
                SignatureCount.add(petition.pk, 1)
    except IntegrityError:
        # The unique (petition, canonical email) constraint: a repeat, a double click or a retried
        # request. Anything else is a real error.
        existing = Signature.objects.filter(petition=petition, email_canonical=canonical).first()
        if existing is None:
            raise
        if existing.status == Signature.Status.PENDING:
            queue_confirmation(existing)  # lost the email? here it is again, within reason
        return False
    return True


@once
def _insert_and_count_sql() -> tuple[str, list[str], dict]:
    fields = [f for f in Signature._meta.concrete_fields if not f.primary_key]
    signatures = Signature._meta.db_table
    shards = SignatureCount._meta.db_table
    petitions = Petition._meta.db_table
    quote = connection.ops.quote_name
    # Named parameters: psycopg sends each name once, however often the statement uses it.
    sql = f"""
        WITH new AS (
            INSERT INTO {signatures} ({", ".join(quote(f.column) for f in fields)})
            SELECT {", ".join(f"%({f.attname})s" for f in fields)}
            FROM {petitions}
            WHERE id = %(petition_id)s AND status = %(open)s
                AND (closes_at IS NULL OR closes_at > now())
            ON CONFLICT (petition_id, email_canonical) DO NOTHING
            RETURNING id
        )
        INSERT INTO {shards} (petition_id, shard, count)
        SELECT %(petition_id)s, %(shard)s, 1 FROM new
        ON CONFLICT (petition_id, shard) DO UPDATE SET count = {shards}.count + 1
    """  # noqa: S608 - names from the models, values as parameters
    # Columns a signer's row does not set (emailed_at) take the field's default.
    defaults = {f.attname: f.get_default() for f in fields}
    return sql, [f.attname for f in fields], defaults


def _insert_and_count(row: dict) -> bool:
    """Insert a counted signature and add one to a random shard of its petition's count, in one
    statement: atomic without BEGIN and COMMIT, and one round trip instead of four. The statement
    itself checks that the petition is still open. False, with nothing written, when the petition
    is not open or this (petition, canonical email) has already signed.

    The row's values go to the database as they are (strings, booleans, aware datetimes): no model
    instance is built, which was a tenth of a signature's time."""
    sql, columns, defaults = _insert_and_count_sql()
    params = {name: row[name] if name in row else defaults[name] for name in columns}
    params["open"] = Petition.Status.OPEN
    params["shard"] = random.randrange(SignatureCount.SHARDS)  # noqa: S311 - spreading load
    # A persistent connection the database dropped while idle fails the statement: open another
    # and send it again. That is safe because the statement cannot count a signature twice: if
    # the first one did get through, the second finds the email and writes nothing.
    db = connections[DEFAULT_DB_ALIAS]  # once: each use of the `connection` proxy looks it up
    retry = not db.in_atomic_block
    while True:
        try:
            if db.queries_logged:
                # Django's query log (DEBUG, or a test counting queries) cannot read a prepared
                # statement back from psycopg: a logged signature takes Django's own cursor.
                with db.cursor() as cursor:
                    cursor.execute(sql, params)
                    return cursor.rowcount == 1
            cursor = _prepared_cursor(db)
            cursor.execute(sql, params)
            # A shard moves only if the signature went in: one row for a new signature.
            return cursor.rowcount == 1
        except (OperationalError, InterfaceError):
            if not retry:
                raise
            retry = False
            log.warning("Signing: the database connection failed; trying once more on a new one")
            db.close()


def _prepared_cursor(db):
    """A Django cursor (execute wrappers and error translation as usual) over a psycopg cursor
    that binds its parameters on the server, so that PostgreSQL can keep the signing statement
    parsed and planned for the life of the connection: that halved the database's work per
    signature. Django's own cursors bind on the client and cannot be prepared.

    The psycopg cursor is kept, one per thread, for as long as its connection: making one (its
    adapters and transformer) was a seventh of the statement's cost. It also skips Django's
    connection health check (a `SELECT 1` round trip before each request's first query);
    _insert_and_count retries on a failed connection instead."""
    db.ensure_connection()
    db.health_check_done = True
    db.validate_thread_sharing()
    raw = getattr(_signing, "cursor", None)
    if raw is None or raw.connection is not db.connection:
        raw = _signing.cursor = psycopg.Cursor(db.connection)
    return db.make_cursor(raw)


_signing = threading.local()


class AlreadyConfirmed(Exception):
    pass


class CannotConfirm(Exception):
    """The signature is gone or was invalidated by a moderator."""


def confirm_signature(signature_id: int, email_canonical: str) -> Signature:
    """Count a pending signature once its signer confirms. Raises AlreadyConfirmed the second
    time, so the page can say so."""
    with transaction.atomic():
        signature = (
            Signature.objects.select_for_update()
            .select_related("petition")
            .filter(pk=signature_id, email_canonical=email_canonical)
            .first()
        )
        if signature is None or signature.status == Signature.Status.INVALIDATED:
            raise CannotConfirm
        if signature.status == Signature.Status.COUNTED:
            raise AlreadyConfirmed(signature)
        signature.status = Signature.Status.COUNTED
        signature.confirmed_at = timezone.now()
        signature.save(update_fields=["status", "confirmed_at"])
        SignatureCount.add(signature.petition_id, 1)
        forget_count(signature.petition)
    return signature


def recount(petition: Petition) -> int:
    """Set the count from the signature rows; return the drift repaired (actual - recorded).

    The shard rows are locked before counting, so a signer committing meanwhile waits for us and
    then adds on top of the corrected total: nothing is lost either way.
    """
    with transaction.atomic():
        SignatureCount.create_shards(petition.pk)
        shards = list(SignatureCount.objects.select_for_update().filter(petition=petition))
        recorded = sum(shard.count for shard in shards)
        actual = Signature.objects.counted().filter(petition=petition).count()
        if actual != recorded:
            SignatureCount.set_total(petition.pk, actual)
            log.warning("Recount of %s: %s recorded, %s counted", petition.slug, recorded, actual)
    forget_count(petition)
    return actual - recorded
