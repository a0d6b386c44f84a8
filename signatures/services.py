"""Signing and counting: the operations that span a petition, its signatures and its count."""

import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from petitions.goals import next_goal
from petitions.models import Petition

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
RECENT_CACHE_SECONDS = 2
RECENT_SIGNERS = 8


class PetitionClosed(Exception):
    """The petition is not taking signatures (closed, past its closing date, or a draft)."""


@dataclass(frozen=True)
class CountSnapshot:
    count: int
    goal: int
    last_signed_at: datetime.datetime | None

    def as_json(self) -> dict:
        return {
            "count": self.count,
            "goal": self.goal,
            "last_signed_at": self.last_signed_at.isoformat().replace("+00:00", "Z")
            if self.last_signed_at
            else None,
        }


def count_snapshot(petition: Petition) -> CountSnapshot:
    """The petition's exact count, at most COUNT_CACHE_SECONDS old."""
    cached = cached_count(petition.slug)
    if cached is not None:
        return cached
    count = SignatureCount.objects.total_for(petition.pk)
    last = (
        Signature.objects.counted()
        .filter(petition_id=petition.pk)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    snapshot = CountSnapshot(count, next_goal(count, petition.goal), last)
    if petition.is_public:  # count.json answers from this cache; a draft's preview stays private
        cache.set(count_cache_key(petition.slug), snapshot, COUNT_CACHE_SECONDS)
    return snapshot


def cached_count(slug: str) -> CountSnapshot | None:
    return cache.get(count_cache_key(slug))


def forget_count(petition: Petition) -> None:
    """Drop the cached count and signers once a change is committed, so the next reader sees it."""
    keys = [count_cache_key(petition.slug), recent_cache_key(petition.pk)]
    transaction.on_commit(lambda: cache.delete_many(keys))


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
    digest = salted_hmac("signatures.ip", ip, secret=settings.IP_HASH_SECRET, algorithm="sha256")
    return digest.hexdigest()[:32]


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
) -> Signature | None:
    """Add a signature and count it, both or neither.

    On a petition that needs email confirmation the signature waits, uncounted, for the signer
    to confirm, unless `confirmed` says this browser already proved the address.
    Returns None when this email had already signed: the caller must answer exactly as for a new
    signature, so that the form cannot be used to find out who signed.
    """
    if not petition.is_signable:
        raise PetitionClosed(petition.slug)
    canonical = canonical_email(email)
    pending = petition.requires_confirmation and not confirmed
    try:
        with transaction.atomic():
            signature = Signature.objects.create(
                petition=petition,
                name=name,
                email=email,
                email_canonical=canonical,
                country=country,
                locality=locality,
                comment=comment,
                show_name=show_name,
                consent_contact=consent_contact,
                language=language,
                ip_hash=ip_hash,
                status=Signature.Status.PENDING if pending else Signature.Status.COUNTED,
                confirmed_at=timezone.now() if confirmed else None,
            )
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
        return None
    if not pending:
        forget_count(petition)
    return signature


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
