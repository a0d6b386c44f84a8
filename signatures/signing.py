"""Signing a petition and confirming a signature: the operations that add a signature and count it.

A signature and the move of its petition's count are written in one transaction, so both happen or
neither does. The unique (email, petition) constraint is what stops a second signature from one
email, however many requests race: the loser's transaction rolls back whole.
"""

import ipaddress

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from .confirmation import queue_confirmation
from .models import Signature, SignatureCount, forget_counts
from .normalise import canonical_email


class PetitionClosed(Exception):
    """The petition is not taking signatures (closed, past its closing date, or a draft)."""


class AlreadyConfirmed(Exception):
    pass


class CannotConfirm(Exception):
    """The signature is gone or was invalidated by a moderator."""


def source_address(ip: str | None) -> str:
    """The address a client is counted by: an IPv6 address as its /64, which every IPv6 host has
    to itself at least, written as the network's first address; an IPv4-mapped IPv6 address as
    the IPv4 one. "" for anything that is not an address, so junk in a header is one source."""
    try:
        address = ipaddress.ip_address((ip or "").strip())
    except ValueError:
        return ""
    if address.version == 4:
        return str(address)
    if address.ipv4_mapped:
        return str(address.ipv4_mapped)
    return str(ipaddress.IPv6Network((int(address), 64), strict=False).network_address)


def hash_ip(ip: str | None) -> str:
    """A keyed hash of the address: the same source gives the same value, so a moderator can see a
    burst from one place, but the address itself is never stored."""
    if not ip:
        return ""
    return salted_hmac(
        "signatures.ip", ip, secret=settings.IP_HASH_SECRET, algorithm="sha256"
    ).hexdigest()[:32]


def sign(
    petition,
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
    rate_checked: bool = True,
    confirmed: bool = False,
    source: str = "page",
) -> bool:
    """Add a signature and count it, both or neither.

    On a petition that needs email confirmation the signature waits, uncounted, for the signer
    to confirm, unless `confirmed` says this browser already proved the address. Signing again
    while it waits replaces its details: whoever typed the address first may not be its owner,
    and the owner confirms what they typed last.
    Returns False when this email had already signed: the caller must answer exactly as for a new
    signature, so that the form cannot be used to find out who signed.
    """
    if not petition.is_signable:
        raise PetitionClosed(petition.slug)
    canonical = canonical_email(email)
    pending = petition.requires_confirmation and not confirmed
    now = timezone.now()
    details = {
        "name": name,
        "email": email,
        "country": country,
        "locality": locality,
        "comment": comment,
        "show_name": show_name,
        "consent_contact": consent_contact,
        "language": language,
        "source": source,
        "listing": petition.signer_list,
    }
    try:
        with transaction.atomic():
            signature = Signature.objects.create(
                petition_id=petition.pk,
                email_canonical=canonical,
                ip_hash=ip_hash,
                rate_checked=rate_checked,
                **details,
                status=Signature.Status.PENDING if pending else Signature.Status.COUNTED,
                created_at=now,
                confirmed_at=now if confirmed else None,
            )
            if pending:
                queue_confirmation(signature)
            else:
                SignatureCount.add(petition.pk, 1)
    except IntegrityError:
        # The unique (email, petition) constraint: a repeat, a double click or a retried
        # request. Anything else is a real error.
        existing = Signature.objects.filter(petition=petition, email_canonical=canonical).first()
        if existing is None:
            raise
        if existing.status == Signature.Status.PENDING:
            existing = replace_pending(existing, details, confirmed=confirmed, now=now)
            if existing.status == Signature.Status.PENDING:
                queue_confirmation(existing)  # lost the email? here it is again, within reason
        return False
    # The cached count is left to expire within its second rather than dropped here: under load
    # it is counted again once a second whatever we do.
    return True


def replace_pending(signature: Signature, details: dict, *, confirmed: bool, now) -> Signature:
    """A pending signature takes the details of a new submission for its address, and is counted
    if that browser already proved the address. Unchanged if it stopped waiting meanwhile."""
    with transaction.atomic():
        locked = (
            Signature.objects.select_for_update()
            .filter(pk=signature.pk, status=Signature.Status.PENDING)
            .first()
        )
        if locked is None:
            return signature
        for field, value in details.items():
            setattr(locked, field, value)
        fields = list(details)
        if confirmed:
            locked.status = Signature.Status.COUNTED
            locked.confirmed_at = now
            fields += ["status", "confirmed_at"]
            SignatureCount.add(locked.petition_id, 1)
        locked.save(update_fields=fields)
    return locked


def confirm(signature_id: int, email_canonical: str) -> Signature:
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
        forget_counts([signature.petition_id])
    return signature
