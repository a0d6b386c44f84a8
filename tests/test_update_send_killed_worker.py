"""Workers killed with SIGKILL in the middle of an update's send, and another started: the send
finishes with no signer mailed twice and none left out, and each killed worker leaves at most the
one row it was sending in doubt. Real `manage.py db_worker` processes on the test database, one
or several sharing the send, and a real SMTP server (aiosmtpd) in this process."""

import asyncio
import collections
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings
from django_tasks_db.models import DBTaskResult

from petitions import mailing
from petitions.models import Delivery, Update
from tests.conftest import app_server_env
from tests.factories import make_petition, make_signature, make_staff

pytestmark = [pytest.mark.system, pytest.mark.django_db(transaction=True), pytest.mark.postgres]

SIGNERS = 60
CHUNK = 10
# From this message on, the mail server holds its answers while the workers are killed: each
# worker has handed a message over and waits for the "250", the one moment it cannot know what
# happened.
HELD = 25


def start_worker(mailbox_port: int) -> subprocess.Popen:
    env = app_server_env(
        TASKS_BACKEND="database",
        EMAIL_URL=f"smtp://127.0.0.1:{mailbox_port}",
        SITE_URL="http://testserver",
        UPDATE_SEND_CHUNK=str(CHUNK),
        UPDATE_SEND_CLAIM_SECONDS="2",
        LOG_LEVEL="WARNING",
    )
    return subprocess.Popen(
        [
            sys.executable,
            str(Path(settings.BASE_DIR) / "manage.py"),
            "db_worker",
            "--interval",
            "0.2",
            "--no-startup-delay",
            "--no-reload",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_worker_killed_mid_send_is_resumed_with_no_duplicate_and_no_gap(mailbox, settings):
    assert kill_mid_send(mailbox, settings, workers=3) <= 3


def test_a_worker_killed_mid_chunk_leaves_at_most_one_row_in_doubt(mailbox, settings):
    assert kill_mid_send(mailbox, settings, workers=1) == 1


def kill_mid_send(mailbox, settings, *, workers: int) -> int:
    """Kill `workers` workers while each waits for the mail server's answer, finish the send with
    another, check it; returns how many rows were left in doubt."""
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    petition = make_petition()
    emails = [
        make_signature(petition, email=f"s{n:03}@example.com", consent_contact=True).email
        for n in range(SIGNERS)
    ]
    held: list[str] = []  # the messages the server has and has not answered
    release = threading.Event()
    receive = mailbox.handle_DATA

    async def hold(server, session, envelope):
        answer = await receive(server, session, envelope)
        if len(mailbox.messages) >= HELD and not release.is_set():
            held.append(envelope.rcpt_tos[0])
            while not release.is_set():
                await asyncio.sleep(0.02)
        return answer

    def settled() -> bool:
        """Every worker waits for an answer (or has nothing to do): nothing moves any more."""
        before = len(mailbox.messages)
        if len(held) == workers:
            return True
        time.sleep(2)
        return bool(held) and len(mailbox.messages) == before

    mailbox.handle_DATA = hold
    first = [start_worker(settings.EMAIL_PORT) for _ in range(workers)]
    second = None
    try:
        update = Update.objects.create(
            petition=petition, title_en="News", body_en="We won a hearing.", email_signers=True
        )
        assert mailing.approve(update, by=make_staff()) == SIGNERS
        wait_for(settled, 60, "the first workers to wait for the held answers")

        for worker in first:
            os.kill(worker.pid, signal.SIGKILL)
            assert worker.wait(10) == -signal.SIGKILL
        release.set()
        assert 1 <= len(held) <= workers
        assert len(mailbox.messages) == HELD - 1 + len(held)  # killed mid-send

        orphaned = set(DBTaskResult.objects.running().values_list("id", flat=True))
        second = start_worker(settings.EMAIL_PORT)
        wait_for(
            lambda: Update.objects.get(pk=update.pk).email_state == Update.Email.DONE,
            90,
            "the second worker to finish the send",
        )
        # Stopped only once idle: a worker stopped between taking a task and starting it leaves
        # that task marked running too, and the count below would be off by it.
        wait_for(
            lambda: (
                not DBTaskResult.objects.ready().exists()
                and set(DBTaskResult.objects.running().values_list("id", flat=True)) <= orphaned
            ),
            30,
            "the second worker to run every task it was given",
        )
    finally:
        release.set()
        for worker in (*first, second):
            if worker and worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                worker.wait(15)

    received = collections.Counter(message["To"] for message in mailbox.messages)
    assert [email for email, n in received.items() if n > 1] == []  # no duplicate
    assert sorted(received) == sorted(emails)  # no gap
    states = collections.Counter(Delivery.objects.values_list("state", flat=True))
    # The held messages did arrive, but the killed workers never heard so: they are the rows left
    # uncertain, one at most per worker, and none was sent again.
    assert states == {
        Delivery.State.SENT: SIGNERS - len(held),
        Delivery.State.UNCERTAIN: len(held),
    }
    uncertain = Delivery.objects.filter(state=Delivery.State.UNCERTAIN)
    assert sorted(uncertain.values_list("signature__email", flat=True)) == sorted(held)
    # The killed workers' tasks never finished; the send went on in later ones.
    assert DBTaskResult.objects.running().count() == len(held)
    assert DBTaskResult.objects.successful().exists()
    return len(held)
