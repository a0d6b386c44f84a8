"""Updates emailed to signers, against a real SMTP server on a loopback port (aiosmtpd): who gets
them, in which language, the RFC 8058 unsubscribe, erasure and unsubscribing during a send,
retries, the pause between emails, and pausing or cancelling a send."""

import re
import threading
import time
from unittest import mock

import pytest
from django.db import connection

from lib.models import AuditEntry
from petitions import mailing
from petitions.models import Delivery, Update
from signatures.models import Signature
from tests.conftest import free_port
from tests.factories import make_petition, make_staff, subscriber

# Sends are queued when the approval commits, so these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def petition():
    return make_petition(title_en="Clean air for Tehran", title_fa="هوای پاک برای تهران")


@pytest.fixture
def moderator():
    return make_staff(username="mo")


def write_update(petition, **fields) -> Update:
    values = {
        "title_en": "We met the minister",
        "body_en": "On Monday we handed over **your** signatures.",
        "title_fa": "با وزیر دیدار کردیم",
        "body_fa": "دوشنبه امضاهای شما را تحویل دادیم.",
        "email_signers": True,
    }
    return Update.objects.create(petition=petition, **(values | fields))


def recipients(mailbox) -> list[str]:
    return sorted(message["To"] for message in mailbox.messages)


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html_of(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def test_an_update_reaches_exactly_the_consenting_counted_signers_each_in_their_language(
    mailbox, petition, moderator
):
    english = subscriber(petition, "en", email="en@example.com", name="Ann Lee")
    persian = subscriber(petition, "fa", email="fa@example.com", name="مریم احمدی")
    subscriber(petition, consent_contact=False, email="no-consent@example.com")
    subscriber(petition, status=Signature.Status.PENDING, email="pending@example.com")
    subscriber(petition, status=Signature.Status.INVALIDATED, email="spam@example.com")
    elsewhere = make_petition()
    subscriber(elsewhere, email="other-petition@example.com")

    assert mailing.approve(write_update(petition), by=moderator) == 2

    assert recipients(mailbox) == ["en@example.com", "fa@example.com"]
    sent = {message["To"]: message for message in mailbox.messages}
    en, fa = sent["en@example.com"], sent["fa@example.com"]
    assert en["Subject"].strip() == "Update on “Clean air for Tehran”: We met the minister"
    assert en["Content-Language"] == "en"
    assert "Hello Ann Lee," in text_of(en)
    assert "<strong>your</strong>" in html_of(en)
    assert 'lang="en" dir="ltr"' in html_of(en)

    assert "هوای پاک برای تهران" in fa["Subject"] and "با وزیر دیدار کردیم" in fa["Subject"]
    assert fa["Content-Language"] == "fa"
    assert 'lang="fa" dir="rtl"' in html_of(fa)
    assert "مریم احمدی عزیز، سلام" in text_of(fa)
    assert "/fa/p/" in text_of(fa) and "/fa/unsubscribe/" in text_of(fa)
    assert Delivery.objects.filter(state=Delivery.State.SENT).count() == 2
    assert {english.pk, persian.pk} == set(Delivery.objects.values_list("signature_id", flat=True))


def test_every_email_carries_a_one_click_unsubscribe(mailbox, petition, moderator):
    subscriber(petition, email="en@example.com")
    mailing.approve(write_update(petition), by=moderator)
    [message] = mailbox.messages
    url = re.fullmatch(
        r"<(http://testserver/en/unsubscribe/\S+/)>", message["List-Unsubscribe"].strip()
    )
    assert url, message["List-Unsubscribe"]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert url.group(1) in text_of(message) and url.group(1) in html_of(message)
    assert message["Message-ID"].startswith("<update-")


def test_a_signer_who_wrote_in_the_missing_language_gets_the_other_with_a_note(
    mailbox, petition, moderator
):
    subscriber(petition, "fa", email="fa@example.com")
    mailing.approve(write_update(petition, title_fa="", body_fa=""), by=moderator)
    [message] = mailbox.messages
    assert "We met the minister" in message["Subject"]
    assert message["Content-Language"] == "fa"
    html = html_of(message)
    assert 'lang="fa" dir="rtl"' in html  # the email's frame stays Persian
    assert '<div lang="en" dir="ltr"' in html  # around the English text
    assert "(این خبر فقط به انگلیسی نوشته شده است.)" in text_of(message)


def test_the_rfc_8058_post_unsubscribes_and_the_next_update_skips_them(
    client, mailbox, petition, moderator
):
    leaving = subscriber(petition, email="leaving@example.com")
    subscriber(petition, email="staying@example.com")
    mailing.approve(write_update(petition), by=moderator)
    message = next(m for m in mailbox.messages if m["To"] == "leaving@example.com")
    path = message["List-Unsubscribe"].strip().strip("<>").removeprefix("http://testserver")

    # A mail scanner opening the link changes nothing.
    page = client.get(path)
    assert page.status_code == 200 and "Stop the emails" in page.content.decode()
    assert Signature.objects.get(pk=leaving.pk).consent_contact

    # What a mail client's own button sends: no cookie, no form token (RFC 8058 section 3.2).
    one_click = client.post(
        path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert one_click.status_code == 200
    assert "private" in one_click["Cache-Control"]
    leaving.refresh_from_db()
    assert not leaving.consent_contact
    assert leaving.status == Signature.Status.COUNTED  # the signature still counts

    mailbox.messages.clear()
    later = write_update(petition, title_en="Second news")
    mailing.approve(later, by=moderator, override_cap=True)
    assert recipients(mailbox) == ["staying@example.com"]


def test_a_forged_unsubscribe_link_changes_nothing(client, petition):
    signature = subscriber(petition, email="sara@example.com")
    forged = mailing.unsubscribe_token(signature.pk, "someone@example.com")
    assert client.post(f"/en/unsubscribe/{forged}/").status_code == 400
    assert client.post(f"/en/unsubscribe/{forged[:-4]}abcd/").status_code == 400
    signature.refresh_from_db()
    assert signature.consent_contact


def while_sending(mailbox, after: int, action):
    """Run `action` (in a thread of its own, with its own database connection) when the mail
    server has taken `after` messages, before it answers the last of them."""
    receive = mailbox.handle_DATA
    done = threading.Event()

    async def handle_DATA(server, session, envelope):
        answer = await receive(server, session, envelope)
        if len(mailbox.messages) == after and not done.is_set():
            done.set()

            def run():
                try:
                    action()
                finally:
                    connection.close()

            worker = threading.Thread(target=run)
            worker.start()
            worker.join()
        return answer

    mailbox.handle_DATA = handle_DATA
    return done


def test_erasure_during_a_send_drops_that_signer(mailbox, petition, moderator, queue, settings):
    settings.UPDATE_SEND_CHUNK = 50  # the whole list is claimed before the erasure
    signers = [subscriber(petition, email=f"s{n:02}@example.com") for n in range(12)]
    erased = signers[-1]
    done = while_sending(
        mailbox,
        3,
        lambda: Signature.objects.filter(pk=erased.pk).erase(by="test", signer_request=True),
    )
    mailing.approve(write_update(petition), by=moderator)
    queue()

    assert done.is_set()
    assert erased.email not in recipients(mailbox)
    assert recipients(mailbox) == sorted(s.email for s in signers[:-1])
    assert not Delivery.objects.filter(signature_id=erased.pk).exists()
    assert Update.objects.get().email_state == Update.Email.DONE


def test_unsubscribing_during_a_send_is_honoured_at_once(
    mailbox, petition, moderator, queue, settings
):
    settings.UPDATE_SEND_CHUNK = 50
    signers = [subscriber(petition, email=f"s{n:02}@example.com") for n in range(8)]
    leaving = signers[-1]
    while_sending(mailbox, 2, lambda: mailing.unsubscribe(leaving.pk, leaving.email_canonical))
    mailing.approve(write_update(petition), by=moderator)
    queue()

    assert recipients(mailbox) == sorted(s.email for s in signers[:-1])
    assert Delivery.objects.get(signature_id=leaving.pk).state == Delivery.State.SKIPPED


def test_a_temporary_refusal_is_tried_again_and_delivered_once(mailbox, petition, moderator, queue):
    subscriber(petition, email="a@example.com")
    subscriber(petition, email="b@example.com")
    mailbox.refuse_next = 1  # 451, as a greylisting server answers
    mailing.approve(write_update(petition), by=moderator)
    queue()

    assert recipients(mailbox) == ["a@example.com", "b@example.com"]
    rows = dict(Delivery.objects.values_list("signature__email", "attempts"))
    assert sorted(rows.values()) == [1, 2]
    assert set(Delivery.objects.values_list("state", flat=True)) == {Delivery.State.SENT}


def test_a_permanent_refusal_is_recorded_as_failed_and_not_tried_again(
    mailbox, petition, moderator, queue
):
    subscriber(petition, email="gone@example.com")
    receive = mailbox.handle_DATA

    async def refuse(server, session, envelope):
        return "550 5.1.1 No such user"

    mailbox.handle_DATA = refuse
    mailing.approve(write_update(petition), by=moderator)
    queue()
    mailbox.handle_DATA = receive
    queue()

    row = Delivery.objects.get()
    assert row.state == Delivery.State.FAILED and row.attempts == 1
    assert row.error.startswith("550")
    assert mailbox.messages == []
    assert Update.objects.get().email_state == Update.Email.DONE


def test_an_unreachable_mail_server_delays_the_send_without_losing_anyone(
    mailbox, petition, moderator, queue, settings
):
    subscriber(petition, email="a@example.com")
    port = settings.EMAIL_PORT
    settings.EMAIL_PORT = free_port()  # nothing listens there
    mailing.approve(write_update(petition), by=moderator)
    queue()  # gives up for now: the next try is queued for a second later
    assert mailbox.messages == []
    assert Delivery.objects.get().state == Delivery.State.QUEUED
    assert Update.objects.get().email_state == Update.Email.SENDING

    settings.EMAIL_PORT = port
    time.sleep(1.2)
    queue()
    assert recipients(mailbox) == ["a@example.com"]
    assert Update.objects.get().email_state == Update.Email.DONE


def test_only_one_emailed_update_per_petition_every_three_days_unless_overridden(
    mailbox, petition, moderator
):
    subscriber(petition, email="a@example.com")
    mailing.approve(write_update(petition), by=moderator)
    second = write_update(petition, title_en="Too soon")
    with pytest.raises(mailing.CapReached):
        mailing.approve(second, by=moderator)
    second.refresh_from_db()
    assert second.status == Update.Status.SUBMITTED
    assert len(mailbox.messages) == 1

    # Without an email the cap does not apply; with the override it is lifted, and recorded.
    quiet = write_update(petition, title_en="Page only", email_signers=False)
    assert mailing.approve(quiet, by=moderator) == 0
    assert mailing.approve(second, by=moderator, override_cap=True) == 1
    second.refresh_from_db()
    assert second.cap_overridden
    assert len(mailbox.messages) == 2
    assert AuditEntry.objects.filter(
        action=AuditEntry.Action.UPDATE_APPROVED, detail__cap_overridden=True
    ).exists()

    # Another petition has its own pause.
    other = make_petition()
    subscriber(other, email="b@example.com")
    assert mailing.approve(write_update(other), by=moderator) == 1


def test_a_paused_send_stops_and_resumes_and_a_cancelled_one_sends_nothing_more(
    mailbox, petition, moderator, queue
):
    for n in range(5):
        subscriber(petition, email=f"s{n}@example.com")
    update = write_update(petition)
    mailing.approve(update, by=moderator)
    assert mailing.control(update, "pause", by=moderator)
    queue()
    assert mailbox.messages == []
    assert Update.objects.get().email_state == Update.Email.PAUSED

    assert mailing.control(update, "resume", by=moderator)
    queue()
    assert len(mailbox.messages) == 5
    assert Update.objects.get().email_state == Update.Email.DONE

    other = make_petition()
    for n in range(3):
        subscriber(other, email=f"o{n}@example.com")
    cancelled = write_update(other)
    mailing.approve(cancelled, by=moderator)
    assert mailing.control(cancelled, "cancel", by=moderator)
    queue()
    assert len(mailbox.messages) == 5
    assert set(Delivery.objects.filter(update=cancelled).values_list("state", flat=True)) == {
        Delivery.State.CANCELLED
    }
    assert not mailing.control(cancelled, "resume", by=moderator)


def test_a_rejected_update_is_neither_published_nor_sent(mailbox, petition, moderator):
    subscriber(petition, email="a@example.com")
    update = write_update(petition)
    assert mailing.reject(update, by=moderator)
    update.refresh_from_db()
    assert update.status == Update.Status.REJECTED
    assert mailbox.messages == []
    assert mailing.approve(update, by=moderator) == 0
    assert mailbox.messages == []
    assert Update.objects.get().status == Update.Status.REJECTED


def test_the_unsubscribe_page_speaks_persian_on_a_persian_link(client, petition):
    signature = subscriber(petition, "fa", email="fa@example.com")
    token = mailing.unsubscribe_token(signature.pk, signature.email_canonical)
    html = client.get(f"/fa/unsubscribe/{token}/").content.decode()
    assert 'lang="fa" dir="rtl"' in html
    assert "توقف ایمیل‌ها" in html and "هوای پاک برای تهران" in html
    done = client.post(f"/fa/unsubscribe/{token}/").content.decode()
    assert "دیگر ایمیلی دربارهٔ این کارزار دریافت نخواهید کرد" in done


def test_a_signer_who_withdraws_consent_or_is_erased_after_approval_is_not_sent(
    mailbox, petition, moderator, queue
):
    staying = subscriber(petition, email="staying@example.com")
    leaving = subscriber(petition, email="leaving@example.com")
    erased = subscriber(petition, email="erased@example.com")
    assert mailing.approve(write_update(petition), by=moderator) == 3

    mailing.unsubscribe(leaving.pk, leaving.email_canonical)
    Signature.objects.filter(pk=erased.pk).erase(by="test", signer_request=True)
    queue()

    assert recipients(mailbox) == [staying.email]
    assert Delivery.objects.get(signature_id=leaving.pk).state == Delivery.State.SKIPPED
    assert not Delivery.objects.filter(signature_id=erased.pk).exists()
    assert Update.objects.get().email_state == Update.Email.DONE


def test_a_send_queued_before_the_outbox_still_runs(mailbox, petition, moderator, queue):
    subscriber(petition, email="a@example.com")
    with mock.patch.object(mailing, "kick"):
        mailing.approve(write_update(petition), by=moderator)
    update = Update.objects.get()
    mailing.send_update.enqueue(update.pk, 1)  # as the chain of links queued it
    queue()
    assert recipients(mailbox) == ["a@example.com"]
