"""A worker killed with SIGKILL in the middle of an update's send, and another started: the send
finishes with no signer mailed twice and none left out (issue 19). Real `manage.py db_worker`
processes on the test database, sending on several streams at once, and a real SMTP server
(aiosmtpd) in this process."""

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

from petitions import mailing
from petitions.models import Delivery, Update
from tests.conftest import app_server_env
from tests.factories import make_petition, make_signature, make_staff

pytestmark = [pytest.mark.system, pytest.mark.django_db(transaction=True), pytest.mark.postgres]

SIGNERS = 60
CHUNK = 10
STREAMS = 3
# From this message on, the mail server holds its answers while the worker is killed: each
# stream has handed a message over and waits for the "250", the one moment it cannot know what
# happened.
HELD = 25


def start_worker(mailbox_port: int) -> subprocess.Popen:
    env = app_server_env(
        TASKS_BACKEND="database",
        EMAIL_URL=f"smtp://127.0.0.1:{mailbox_port}",
        SITE_URL="http://testserver",
        UPDATE_SEND_CHUNK=str(CHUNK),
        UPDATE_SEND_STREAMS=str(STREAMS),
        UPDATE_SEND_LEASE_SECONDS="2",
        UPDATE_SEND_SLICE_SECONDS="1",
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
        """Every stream waits for an answer (or has ended its slice): nothing moves any more."""
        before = len(mailbox.messages)
        if len(held) == STREAMS:
            return True
        time.sleep(2)
        return bool(held) and len(mailbox.messages) == before

    mailbox.handle_DATA = hold
    first = start_worker(settings.EMAIL_PORT)
    second = None
    try:
        update = Update.objects.create(
            petition=petition, title_en="News", body_en="We won a hearing.", email_signers=True
        )
        assert mailing.approve(update, by=make_staff()) == SIGNERS
        wait_for(settled, 60, "the first worker's streams to wait for the held answers")

        os.kill(first.pid, signal.SIGKILL)
        assert first.wait(10) == -signal.SIGKILL
        release.set()
        assert 1 <= len(held) <= STREAMS
        assert len(mailbox.messages) == HELD - 1 + len(held)  # killed mid-send

        second = start_worker(settings.EMAIL_PORT)
        wait_for(
            lambda: Update.objects.get(pk=update.pk).email_state == Update.Email.DONE,
            90,
            "the second worker to finish the send",
        )
    finally:
        release.set()
        for worker in (first, second):
            if worker and worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
                worker.wait(15)

    received = collections.Counter(message["To"] for message in mailbox.messages)
    assert [email for email, n in received.items() if n > 1] == []  # no duplicate
    assert sorted(received) == sorted(emails)  # no gap
    states = collections.Counter(Delivery.objects.values_list("state", flat=True))
    # The held messages did arrive, but the killed worker never heard so: they are the rows left
    # uncertain, one at most per stream, and none was sent again.
    assert states == {
        Delivery.State.SENT: SIGNERS - len(held),
        Delivery.State.UNCERTAIN: len(held),
    }
    uncertain = Delivery.objects.filter(state=Delivery.State.UNCERTAIN)
    assert sorted(uncertain.values_list("signature__email", flat=True)) == sorted(held)
    # The killed worker's link was the first; the send went on in a later one (how many more
    # depends on the machine's speed against the 1 s slice).
    assert Update.objects.get(pk=update.pk).link >= 2
