"""A count anyone can check, under any sequence of moves: after every step the public count, the
counted rows and what the public record adds up to are one number, and every receipt tells its
signature's true state; every signature the last delivery pack counted has a proof that leads to
its printed root, and no other signature has one. Anonymising keeps all of it.

To add a move, add a `@rule` to CountMachine that changes the database through the code under test
and says what it expects in `self.expected` (code -> Expected); the invariants check it after every
step.
"""

import re
from dataclasses import dataclass

import pytest
from django.core import mail
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from lib.normalise import canonical_email
from petitions import delivery, merkle
from petitions.inclusion import inclusion_proof
from petitions.models import DeliveryPack
from signatures import counting, paper, receipts, record, signing
from signatures.confirmation import send_confirmation
from signatures.models import PaperBatch, PaperSignature, Signature
from tests.factories import make_petition, make_staff

pytestmark = pytest.mark.django_db

CODE = re.compile(r"\b[0-9A-Z]{4}(?:-[0-9A-Z]{4}){4}\b")
Status = Signature.Status


@dataclass
class Expected:
    pk: int
    email_canonical: str
    status: str
    ever_counted: bool
    anonymised: bool = False


class CountMachine(RuleBasedStateMachine):
    """One petition per run, so runs sharing the test's database cannot see each other's rows."""

    moderator = None  # set by the test: one account for every run

    def __init__(self):
        super().__init__()
        # Confirmation asked, so a signature may be pending (its code comes by email) or counted
        # at once (a browser that proved its address).
        self.petition = make_petition(requires_confirmation=True)
        self.expected: dict[str, Expected] = {}
        self.erased: list[str] = []
        self.signed = 0
        self.pack = None  # the last delivery pack
        self.delivered: set[str] = set()  # the codes it counted
        self.deliveries = 0
        self.paper: dict[int, int] = {}  # standing paper batch -> its number

    # -- helpers ---------------------------------------------------------------------------

    def codes(self, *statuses, anonymised=None) -> list[str]:
        """In signing order: the codes themselves are random, and a replay must pick the same."""
        return [
            code
            for code, e in self.expected.items()
            if e.status in statuses and anonymised in (None, e.anonymised)
        ]

    def pick(self, data, statuses, most: int = 3) -> list[str]:
        return data.draw(
            st.lists(st.sampled_from(self.codes(*statuses)), min_size=1, max_size=most, unique=True)
        )

    def rows(self, codes):
        return Signature.objects.filter(pk__in=[self.expected[code].pk for code in codes])

    # -- moves -----------------------------------------------------------------------------

    @rule(proven=st.booleans())
    def sign(self, proven):
        self.signed += 1
        email = f"signer{self.signed}@example.com"
        code = receipts.new_code()
        on_paper = PaperSignature.objects.filter(
            petition=self.petition, email_canonical=canonical_email(email)
        ).exists()
        added = signing.add_signature(
            self.petition,
            name=f"Signer {self.signed}",
            email=email,
            email_canonical=canonical_email(email),
            country="GB",
            language="en",
            confirmed=proven,
            receipt=receipts.digest(code),
        )
        # Signed on paper with this address already: a repeat's answer, nothing counted again.
        assert added is not on_paper
        if on_paper:
            return
        row = Signature.objects.get(petition=self.petition, email_canonical=canonical_email(email))
        if not proven:
            # What the email task does once the signature commits: a new code, its hash kept.
            send_confirmation.call(row.pk)
            code = CODE.search(mail.outbox[-1].body).group(0).replace("-", "")
        status = Status.COUNTED if proven else Status.PENDING
        self.expected[code] = Expected(row.pk, row.email_canonical, status, proven)

    # An anonymised signer has no address left to confirm from.
    @precondition(lambda self: self.codes(Status.PENDING, anonymised=False))
    @rule(data=st.data())
    def confirm(self, data):
        code = data.draw(st.sampled_from(self.codes(Status.PENDING, anonymised=False)))
        expected = self.expected[code]
        signing.confirm(expected.pk, expected.email_canonical)
        expected.status, expected.ever_counted = Status.COUNTED, True

    @precondition(lambda self: self.codes(Status.COUNTED, Status.PENDING))
    @rule(data=st.data(), reason=st.sampled_from(Signature.Reason.values))
    def invalidate(self, data, reason):
        codes = self.pick(data, [Status.COUNTED, Status.PENDING])
        self.rows(codes).invalidate(by=self.moderator, reason=reason)
        for code in codes:
            self.expected[code].status = Status.INVALIDATED

    @precondition(lambda self: self.codes(Status.INVALIDATED))
    @rule(data=st.data())
    def restore(self, data):
        codes = self.pick(data, [Status.INVALIDATED])
        self.rows(codes).restore(by=self.moderator)
        for code in codes:
            expected = self.expected[code]
            expected.status = Status.COUNTED if expected.ever_counted else Status.PENDING

    @precondition(lambda self: self.codes(Status.COUNTED, Status.PENDING, Status.INVALIDATED))
    @rule(data=st.data())
    def withdraw(self, data):
        [code] = self.pick(data, [Status.COUNTED, Status.PENDING, Status.INVALIDATED], most=1)
        self.rows([code]).withdraw()
        self.expected[code].status = Status.WITHDRAWN

    @precondition(lambda self: self.expected)
    @rule(data=st.data(), signer_request=st.booleans())
    def erase(self, data, signer_request):
        codes = self.pick(data, list(Status.values))
        self.rows(codes).erase(by=self.moderator, signer_request=signer_request)
        for code in codes:
            del self.expected[code]
            self.erased.append(code)

    @precondition(lambda self: self.codes(*Status.values, anonymised=False))
    @rule(data=st.data())
    def anonymise(self, data):
        codes = data.draw(
            st.lists(
                st.sampled_from(self.codes(*Status.values, anonymised=False)),
                min_size=1,
                max_size=3,
                unique=True,
            )
        )
        self.rows(codes).anonymise(by=self.moderator)
        for code in codes:
            self.expected[code].anonymised = True

    @rule(count=st.integers(min_value=1, max_value=500))
    def enter_paper(self, count):
        batch = paper.enter_count(
            self.petition, count=count, description="Book fair", by=self.moderator
        )
        self.paper[batch.pk] = count

    @rule(emails=st.lists(st.sampled_from(["", "a@x.org", "B@x.org", "signer1@example.com"])))
    def enter_paper_rows(self, emails):
        """A row whose email signed online or came on paper before is not counted; one without
        an email always is."""
        seen = {
            *Signature.objects.filter(petition=self.petition).values_list(
                "email_canonical", flat=True
            ),
            *PaperSignature.objects.filter(petition=self.petition).values_list(
                "email_canonical", flat=True
            ),
        }
        expected = 0
        for email in emails:
            if email and canonical_email(email) in seen:
                continue
            seen.add(canonical_email(email) if email else "")
            expected += 1
        data = "".join(f"Row {n},{email},DE\n" for n, email in enumerate(emails))
        batch, _reading = paper.enter_rows(
            self.petition, data=data.encode(), description="Sheets", by=self.moderator
        )
        assert (batch.count if batch else 0) == expected
        if batch is not None:
            self.paper[batch.pk] = batch.count

    @precondition(lambda self: self.paper)
    @rule(data=st.data())
    def remove_paper(self, data):
        pk = data.draw(st.sampled_from(sorted(self.paper)))
        assert paper.remove(PaperBatch.objects.get(pk=pk), by=self.moderator)
        del self.paper[pk]

    # A pack is a PDF and a CSV: two a run keep the test quick and still deliver between moves.
    @precondition(lambda self: self.deliveries < 2)
    @rule()
    def deliver(self):
        self.pack = delivery.build(DeliveryPack.objects.create(petition=self.petition))
        self.delivered = set(self.codes(Status.COUNTED))
        self.deliveries += 1

    # -- what must always hold -------------------------------------------------------------

    @invariant()
    def the_count_the_rows_and_the_record_agree(self):
        """Online and on paper: the count is the counted rows and the standing paper batches."""
        snapshot = counting.exact_count(self.petition)
        rows = Signature.objects.counted().filter(petition=self.petition).count()
        summed = record.summary(self.petition.pk).total
        on_paper = sum(self.paper.values())
        expected = len(self.codes(Status.COUNTED)) + on_paper
        assert snapshot.count == rows + on_paper == summed == expected, (
            snapshot.count,
            rows,
            on_paper,
            summed,
            expected,
        )
        assert snapshot.paper == on_paper

    @invariant()
    def every_receipt_tells_the_truth(self):
        """One query for every code, as receipts.find reads each (canonical form, then hash)."""
        codes = [*self.expected, *self.erased]
        digests = {receipts.digest(receipts.canonical(code)): code for code in codes}
        found = {
            digests[bytes(row.receipt)]: row
            for row in Signature.objects.filter(petition=self.petition, receipt__in=list(digests))
        }
        for code, expected in self.expected.items():
            assert found[code].pk == expected.pk
            assert receipts.state_of(found[code]).status == expected.status
        assert not set(found) & set(self.erased)

    @invariant()
    def every_signature_the_last_pack_counted_proves_it_and_no_other_can(self):
        if self.pack is None:
            return
        root = bytes(self.pack.merkle_root)
        assert self.pack.signatures == len(self.delivered)
        for code in [*self.expected, *self.erased]:
            digest = receipts.digest(code)
            proof = inclusion_proof(self.petition, digest)
            if code in self.delivered:
                assert proof is not None and merkle.verify(digest, proof.path, root), code
            else:
                assert proof is None, code


def test_the_count_the_record_and_the_receipts_agree_after_any_moves(settings, tmp_path):
    settings.DELIVERY_PACK_ROOT = tmp_path / "packs"
    CountMachine.moderator = make_staff()
    run_state_machine_as_test(
        CountMachine,
        settings=hypothesis_settings(
            max_examples=30,
            stateful_step_count=20,
            derandomize=True,  # the same runs in CI every time
            database=None,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
