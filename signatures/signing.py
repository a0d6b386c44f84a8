"""Signing and confirming: a signature and its count are written together or not at all.
The unique (email, petition) constraint stops a second signature however many requests race.
"""

import functools
import random
from dataclasses import dataclass, replace
from enum import StrEnum

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from lib import ratelimit
from lib.normalise import canonical_email
from petitions.models import Petition

from . import abuse, receipts
from .confirmation import queue_confirmation
from .models import BlockedAttempt, PaperSignature, Signature, SignatureCount, forget_counts
from .supporter import Supporter


class PetitionClosed(Exception):
    """The petition is not taking signatures (closed, past its closing date, or a draft)."""


class AlreadyConfirmed(Exception):
    pass


class CannotConfirm(Exception):
    """The signature is gone or was invalidated by a moderator."""


class StandInRefuted(Exception):
    """The statement wrote nothing for a stand-in petition (Petition.signing_stand_in): sign
    again with the petition read, passing `verdict` so that the attempt counts once."""

    verdict = None


def hash_ip(ip: str | None) -> str:
    """A keyed hash of the address: the same source gives the same value, so a moderator can see a
    burst from one place, but the address itself is never stored."""
    if not ip:
        return ""
    return salted_hmac(
        "signatures.ip", ip, secret=settings.IP_HASH_SECRET, algorithm="sha256"
    ).hexdigest()[:32]


@dataclass(frozen=True)
class RequestFacts:
    ip_hash: str
    language: str
    source: str = "page"
    onion: bool = False
    from_another_site: bool = False
    embed: bool = False
    one_click_token: str = ""
    first_name: str = ""


class Outcome(StrEnum):
    SIGNED = "signed"
    PENDING = "pending"  # waits for its address to be confirmed
    ALREADY_SIGNED = "already_signed"
    REFUSED = "refused"


class Refusal(StrEnum):
    FROM_ANOTHER_SITE = "from_another_site"
    CLOSED = "closed"
    PRESS_AGAIN = "press_again"
    TYPE_FIRST_NAME = "type_first_name"
    INVALID = "invalid"  # the form's errors say why
    TOO_MANY = "too_many"


@dataclass(frozen=True)
class Result:
    """A repeat is answered as a first signature, so the form cannot reveal who signed."""

    outcome: Outcome
    refusal: Refusal | None = None
    supporter: Supporter | None = None
    check_email: bool = False
    # For the thank-you page. A repeat's is never stored: it has the shape of a receipt and
    # checks as unknown, like any guess (docs/trust.md). Empty when the email carries it.
    receipt: str = ""


def sign(
    petition,
    facts: RequestFacts,
    *,
    form=None,
    remembered: Supporter | None = None,
    verdict: ratelimit.Verdict | None = None,
) -> Result:
    """With a bound form, or with one click as `remembered` when `form` is None. `verdict`: the
    rate limits' answer to this attempt already given (StandInRefuted)."""
    if facts.from_another_site:
        return Result(Outcome.REFUSED, Refusal.FROM_ANOTHER_SITE)
    if not petition.is_signable:
        return Result(Outcome.REFUSED, Refusal.CLOSED)
    if form is None:
        email_canonical = canonical_email(remembered.email)
        refusal = one_click_refusal(petition, remembered, email_canonical, facts)
        if refusal:
            return Result(Outcome.REFUSED, refusal)
    valid = form is None or form.is_valid()
    if verdict is None:
        verdict = abuse.check_limits(petition, facts.ip_hash, onion=facts.onion, valid=valid)
    if verdict.refused:
        abuse.record_blocked(petition, verdict.broken.name, facts.ip_hash)
        return Result(Outcome.REFUSED, Refusal.TOO_MANY)
    if not valid:
        for reason in (BlockedAttempt.Reason.HONEYPOT, BlockedAttempt.Reason.TOO_FAST):
            if form.has_error(NON_FIELD_ERRORS, reason):
                abuse.record_blocked(petition, reason, facts.ip_hash)
        return Result(Outcome.REFUSED, Refusal.INVALID)

    if form is None:
        who = remembered
        # No consent: that was given to another organiser.
        details = {"show_name": remembered.show_name, "consent_contact": False}
    else:
        data = form.cleaned_data
        email_canonical = canonical_email(data["email"])
        who = Supporter(
            name=data["name"],
            email=data["email"],
            country=data["country"],
            locality=data["locality"],
            # The address stays proven only if it is the one this browser confirmed before.
            confirmed=bool(
                remembered
                and remembered.confirmed
                and canonical_email(remembered.email) == email_canonical
            ),
            show_name=data.get("show_name", False),
        )
        details = {
            "comment": data["comment"],
            "show_name": data.get("show_name", False),
            "consent_contact": data["consent_contact"],
        }
    receipt = receipts.new_code()
    try:
        added = add_signature(
            petition,
            name=who.name,
            email=who.email,
            email_canonical=email_canonical,
            country=who.country,
            locality=who.locality,
            language=facts.language,
            ip_hash=facts.ip_hash,
            rate_checked=verdict.checked,
            confirmed=who.confirmed,
            source=facts.source,
            receipt=receipts.digest(receipt),
            **details,
        )
    except PetitionClosed:
        return Result(Outcome.REFUSED, Refusal.CLOSED)
    except StandInRefuted as refuted:
        refuted.verdict = verdict
        raise
    check_email = petition.requires_confirmation and not who.confirmed
    if not added:
        outcome = Outcome.ALREADY_SIGNED
    else:
        outcome = Outcome.PENDING if check_email else Outcome.SIGNED
    signed_before = remembered.signed if remembered else ()
    remember = replace(who, signed=signed_before).with_signed(petition.pk)
    return Result(
        outcome,
        supporter=remember,
        check_email=check_email,
        receipt="" if check_email else receipt,
    )


def one_click_refusal(
    petition, remembered: Supporter, email_canonical: str, facts: RequestFacts
) -> Refusal | None:
    """The token must be for this supporter and petition, and old enough for a person to have
    seen the button. The widget also asks for the first name: a site framing it unseen can
    steer clicks onto it, but cannot type."""
    age = abuse.one_click_token_age(facts.one_click_token, petition.pk, email_canonical)
    if age is None or age < settings.SIGN_MIN_CLICK_SECONDS:
        return Refusal.PRESS_AGAIN
    if facts.embed and not remembered.is_first_name(facts.first_name):
        return Refusal.TYPE_FIRST_NAME
    return None


def add_signature(
    petition,
    *,
    name: str,
    email: str,
    email_canonical: str,
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
    receipt: bytes | None = None,
    _petition_read_again: bool = False,
) -> bool:
    """Add a signature and count it, both or neither; False when this email had signed (answer
    as for a new one). A pending repeat replaces the details: the first to type an address may
    not own it, so the owner confirms what they typed last."""
    if not petition.is_signable:
        raise PetitionClosed(petition.slug)
    pending = petition.requires_confirmation and not confirmed
    now = timezone.now()
    details = {
        "name": name,
        "email": email,
        "country": country,
        "locality": locality,
        "comment": comment,
        # Nobody is named on a petition without a public list, even if it later gets one. A
        # stand-in's list is the statement's to check.
        "show_name": show_name and petition.lists_signers,
        "consent_contact": consent_contact,
        "language": language,
        "source": source,
        "listing": petition.signer_list,
    }
    facts = {
        "email_canonical": email_canonical,
        "ip_hash": ip_hash,
        "rate_checked": rate_checked,
        "confirmed_at": now if confirmed else None,
        # A pending signature's receipt is made when its email is sent (confirmation.py): only
        # the owner of the address may hold it.
        "receipt": None if pending else receipt,
        "counted_at": None if pending else now,
    }
    if connection.vendor == "postgresql" and not pending and not _petition_read_again:
        added = _add_in_one_statement(petition, details, facts, confirmed=confirmed, now=now)
        if added is not None:
            return added
        # The petition changed since the caller read it: sign as it is now.
        try:
            petition.refresh_from_db(fields=petition.SIGNING_FIELDS)
        except petition.DoesNotExist:
            raise PetitionClosed(petition.slug) from None
        petition.__dict__.pop("is_signable", None)  # a cached_property: asked again
        return add_signature(
            petition,
            **{key: details[key] for key in details if key != "listing"},
            email_canonical=email_canonical,
            ip_hash=ip_hash,
            rate_checked=rate_checked,
            confirmed=confirmed,
            receipt=receipt,
            _petition_read_again=True,
        )
    return _add_through_the_orm(petition, details, facts, pending=pending, now=now)


def _add_in_one_statement(petition, details: dict, facts: dict, *, confirmed: bool, now):
    """True when added, False when this email signed before, None when the petition changed;
    StandInRefuted when nothing was written for a stand-in."""
    row = {
        **{key: value for key, value in details.items() if key != "listing"},
        **facts,
        "status": Signature.Status.COUNTED,
        "created_at": now,
    }
    if insert_and_count(petition.pk, petition.slug, row, confirmed=confirmed):
        return True
    if petition.stand_in:
        raise StandInRefuted(petition.slug)  # perhaps not this petition at all: read it, ask again
    existing = Signature.objects.filter(
        petition=petition, email_canonical=facts["email_canonical"]
    ).first()
    if existing is None:
        if signed_on_paper(petition.pk, facts["email_canonical"]):
            return False
        return None
    return _signed_before(existing, details, confirmed=confirmed, now=now, receipt=facts["receipt"])


def signed_on_paper(petition_id: int, email_canonical: str) -> bool:
    """A paper row with this address is already in the count: signing online as well answers
    as a repeat does, so one person is counted once whichever way they signed first."""
    return PaperSignature.objects.filter(
        petition_id=petition_id, email_canonical=email_canonical
    ).exists()


def _add_through_the_orm(petition, details: dict, facts: dict, *, pending: bool, now) -> bool:
    if signed_on_paper(petition.pk, facts["email_canonical"]):
        return False
    try:
        with transaction.atomic():
            signature = Signature.objects.create(
                petition_id=petition.pk,
                **facts,
                **details,
                status=Signature.Status.PENDING if pending else Signature.Status.COUNTED,
                created_at=now,
            )
            if pending:
                queue_confirmation(signature)
            else:
                SignatureCount.add(petition.pk, 1)
    except IntegrityError:
        # A repeat, double click or retry; anything else is a real error.
        existing = Signature.objects.filter(
            petition=petition, email_canonical=facts["email_canonical"]
        ).first()
        if existing is None:
            raise
        confirmed = facts["confirmed_at"] is not None
        return _signed_before(
            existing, details, confirmed=confirmed, now=now, receipt=facts["receipt"]
        )
    # The cached count is left to expire within its second rather than dropped here: under load
    # it is counted again once a second whatever we do.
    return True


def _signed_before(
    existing: Signature, details: dict, *, confirmed: bool, now, receipt: bytes | None = None
) -> bool:
    if existing.status == Signature.Status.PENDING:
        existing = replace_pending(existing, details, confirmed=confirmed, now=now, receipt=receipt)
        if existing.status == Signature.Status.PENDING:
            queue_confirmation(existing)  # lost the email? here it is again, within reason
    return False


def insert_and_count(petition_id: int, slug: str, row: dict, *, confirmed: bool) -> bool:
    """PostgreSQL: insert and add to a random count shard in one statement (one round trip),
    re-reading the petition's row so a change a moment ago holds. False if nothing was written."""
    shard = random.randrange(SignatureCount.SHARDS)  # noqa: S311 - spreading load, not security
    values = []
    for column, value in row.items():
        values += (value, Petition.SignerList.NONE) if column == "show_name" else (value,)
    params = [
        *values,
        petition_id,
        slug,
        *Petition.Status.SIGNABLE,
        confirmed,
        row["email_canonical"],
        shard,
    ]
    with connection.cursor() as cursor:
        cursor.execute(_insert_and_count_sql(tuple(row)), params)
        return cursor.rowcount == 1


@functools.cache
def _insert_and_count_sql(columns: tuple[str, ...]) -> str:
    petition_table = Petition._meta.db_table
    quote = connection.ops.quote_name
    names = ", ".join(quote(column) for column in ("petition_id", "listing", *columns))
    # Shown only on a petition that lists its signers (add_signature's rule, as of now).
    values = ", ".join(
        "(%s AND p.signer_list <> %s)" if column == "show_name" else "%s" for column in columns
    )
    signatures = quote(Signature._meta.db_table)
    counts = quote(SignatureCount._meta.db_table)
    paper = quote(PaperSignature._meta.db_table)
    in_signable = ", ".join(["%s"] * len(Petition.Status.SIGNABLE))
    # The rule of signable_now(), in the statement that inserts, on the database's clock.
    return (
        f"WITH new AS ("  # noqa: S608 - names from the models, values as parameters
        f"INSERT INTO {signatures} ({names}) "
        f"SELECT p.id, p.signer_list, {values} FROM {quote(petition_table)} p "
        f"WHERE p.id = %s AND p.slug = %s AND p.status IN ({in_signable}) "
        f"AND (p.closes_at IS NULL OR p.closes_at > now()) "
        f"AND (NOT p.requires_confirmation OR %s) "
        # Signed on paper (a batch's row with this address): counted already.
        f"AND NOT EXISTS (SELECT 1 FROM {paper} ps WHERE ps.petition_id = p.id "
        # The partial unique index's own condition, so the planner can use it.
        f"AND ps.email_canonical = %s AND ps.email_canonical <> '') "
        f"ON CONFLICT (email_canonical, petition_id) DO NOTHING RETURNING petition_id) "
        f"INSERT INTO {counts} (petition_id, shard, count) SELECT petition_id, %s, 1 FROM new "
        f"ON CONFLICT (petition_id, shard) DO UPDATE SET count = {counts}.count + 1"
    )


def replace_pending(
    signature: Signature, details: dict, *, confirmed: bool, now, receipt: bytes | None = None
) -> Signature:
    """New details for a pending signature; counted if this browser already proved the address,
    which then holds its receipt (the one the emailed code was for stops working)."""
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
            locked.counted_at = locked.counted_at or now
            fields += ["status", "confirmed_at", "counted_at"]
            if receipt is not None:
                locked.receipt = receipt
                fields.append("receipt")
            SignatureCount.add(locked.petition_id, 1)
        locked.save(update_fields=fields)
    return locked


def confirm(signature_id: int, email_canonical: str) -> Signature:
    """Raises AlreadyConfirmed the second time, so the page can say so."""
    with transaction.atomic():
        signature = (
            Signature.objects.select_for_update()
            .select_related("petition")
            .filter(pk=signature_id, email_canonical=email_canonical)
            .first()
        )
        if signature is None or signature.status in (
            Signature.Status.INVALIDATED,
            Signature.Status.WITHDRAWN,
        ):
            raise CannotConfirm
        if signature.status == Signature.Status.COUNTED:
            raise AlreadyConfirmed(signature)
        signature.status = Signature.Status.COUNTED
        signature.confirmed_at = timezone.now()
        signature.counted_at = signature.counted_at or signature.confirmed_at
        signature.save(update_fields=["status", "confirmed_at", "counted_at"])
        SignatureCount.add(signature.petition_id, 1)
        forget_counts([signature.petition_id])
    return signature
