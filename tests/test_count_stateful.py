"""A count anyone can check, under any sequence of moves: after every step the public count, the
counted rows and what the public record adds up to are one number, and every receipt tells its
signature's true state.

To add a move, add a `@rule` to CountMachine that changes the database through the code under test
and says what it expects in `self.expected` (code -> Expected); the invariants check it after every
step.
"""

import re
from dataclasses import dataclass

import pytest
from django.core import mail
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from lib.normalise import canonical_email
from signatures import counting, receipts, record, signing
from signatures.confirmation import send_confirmation
from signatures.models import Signature
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

    # -- helpers ---------------------------------------------------------------------------

    def codes(self, *statuses) -> list[str]:
        """In signing order: the codes themselves are random, and a replay must pick the same."""
        return [code for code, e in self.expected.items() if e.status in statuses]

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
        assert added
        row = Signature.objects.get(petition=self.petition, email_canonical=canonical_email(email))
        if not proven:
            # What the email task does once the signature commits: a new code, its hash kept.
            send_confirmation.call(row.pk)
            code = CODE.search(mail.outbox[-1].body).group(0).replace("-", "")
        status = Status.COUNTED if proven else Status.PENDING
        self.expected[code] = Expected(row.pk, row.email_canonical, status, proven)

    @precondition(lambda self: self.codes(Status.PENDING))
    @rule(data=st.data())
    def confirm(self, data):
        [code] = self.pick(data, [Status.PENDING], most=1)
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

    # -- what must always hold -------------------------------------------------------------

    @invariant()
    def the_count_the_rows_and_the_record_agree(self):
        public = counting.exact_count(self.petition).count
        rows = Signature.objects.counted().filter(petition=self.petition).count()
        summed = record.summary(self.petition.pk).total
        expected = len(self.codes(Status.COUNTED))
        assert public == rows == summed == expected, (public, rows, summed, expected)

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


def test_the_count_the_record_and_the_receipts_agree_after_any_moves():
    CountMachine.moderator = make_staff()
    run_state_machine_as_test(
        CountMachine,
        settings=settings(
            max_examples=30,
            stateful_step_count=20,
            derandomize=True,  # the same runs in CI every time
            database=None,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
