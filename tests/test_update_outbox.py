"""Several workers sharing one update's send: each claims its own chunk (SELECT … FOR UPDATE SKIP
LOCKED), so however they overlap no signer is mailed twice, and none waits on another's rows."""

import collections
import threading
import time

import pytest
from django.db import connection, transaction

from petitions import mailing
from petitions.models import Delivery, Update
from tests.factories import make_petition, make_signature, make_staff

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


@pytest.fixture
def update(settings):
    # Approval only queues the send: the test's own threads are the workers.
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    settings.UPDATE_SEND_CHUNK = 10
    petition = make_petition()
    for n in range(200):
        make_signature(petition, email=f"s{n:03}@example.com", consent_contact=True)
    update = Update.objects.create(
        petition=petition, title_en="News", body_en="A hearing is set.", email_signers=True
    )
    assert mailing.approve(update, by=make_staff()) == 200
    return update


def in_threads(count: int, work) -> list:
    """Run `work()` in `count` threads started together, each with its own connection."""
    start = threading.Barrier(count)
    results = [None] * count

    def run(i):
        try:
            start.wait()
            results[i] = work()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results


def test_two_workers_sending_at_once_never_mail_one_signer_twice(mailbox, update):
    def worker() -> int:
        sent = 0
        rows = Delivery.objects.filter(update=update)
        while rows.filter(state=Delivery.State.QUEUED).exists():
            outcome = mailing.Outbox(update.pk).run()
            sent += int(outcome.split()[1].rstrip(";"))
        return sent

    sent = in_threads(2, worker)

    received = collections.Counter(message["To"] for message in mailbox.messages)
    assert sorted(received) == [f"s{n:03}@example.com" for n in range(200)]
    assert set(received.values()) == {1}
    assert sum(sent) == 200 and min(sent) > 0  # both took part
    states = Delivery.objects.filter(update=update).values_list("state", flat=True)
    assert set(states) == {Delivery.State.SENT}


def test_a_claim_skips_the_rows_another_worker_holds_without_waiting(update):
    held = threading.Event()
    done = threading.Event()
    locked: list[int] = []

    def hold():
        # Another worker, in the middle of its claim: its rows are locked until it commits.
        with transaction.atomic():
            rows = Delivery.objects.filter(update=update).order_by("id").select_for_update()
            locked.extend(rows.values_list("id", flat=True)[:10])
            held.set()
            done.wait(30)

    holder = threading.Thread(target=lambda: (hold(), connection.close()))
    holder.start()
    try:
        assert held.wait(30)
        start = time.monotonic()
        claimed = [row.id for row in mailing.Outbox(update.pk).claim()]
        assert time.monotonic() - start < 5
    finally:
        done.set()
        holder.join(30)
    assert len(claimed) == 10
    assert not set(claimed) & set(locked)
