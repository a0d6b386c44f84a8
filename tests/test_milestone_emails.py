"""Milestones emailed to consenting signers through the update outbox, against a real SMTP server:
a threshold reached, the response or outcome published in the admin, the petition closed; once
per signer, in their language, with the one-click unsubscribe, at most one milestone a day."""

import datetime
import re

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from lib.models import AuditEntry
from petitions import mailing, milestones, thresholds
from petitions.models import Delivery, Petition, Threshold, Update
from signatures.models import Signature
from tests.factories import (
    make_petition,
    make_signature,
    make_staff,
    petition_admin_form,
    subscriber,
)
from tests.html import elements

# Sends are queued when the milestone commits, so these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def petition():
    return make_petition(title_en="Clean air for Tehran", title_fa="هوای پاک برای تهران")


@pytest.fixture
def ministry():
    return Threshold.objects.create(
        number=3,
        consequence_en="the ministry now owes a written response",
        consequence_fa="وزارتخانه اکنون باید پاسخ کتبی بدهد",
        owes_response=True,
        deadline_days=30,
    )


def to_signers(mailbox, petition) -> list:
    """The messages to signers: organisers and the starter are told apart by their address."""
    return [m for m in mailbox.messages if m["To"].startswith("s-")]


def subject(message) -> str:
    return message["Subject"].strip()  # unfolded, as a mail client shows it


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def html_of(message) -> str:
    return message.get_body(preferencelist=("html",)).get_content()


def save_in_admin(client, petition, **fields):
    url = f"/admin/petitions/petition/{petition.pk}/change/"
    html = client.get(url).content.decode()
    read_version = elements(html, "input", name="read_version")[0]["value"]
    data = petition_admin_form(petition, status=petition.status) | {"read_version": read_version}
    response = client.post(url, data | fields)
    assert response.status_code == 302, response.content.decode()[:3000]


def a_day_passes():
    """Move every milestone email sent back a day and a minute, and their holds with them."""
    day = datetime.timedelta(days=1, minutes=1)
    for row in Delivery.objects.exclude(sent_at=None):
        Delivery.objects.filter(pk=row.pk).update(sent_at=row.sent_at - day)
    for row in Delivery.objects.filter(state=Delivery.State.HELD):
        Delivery.objects.filter(pk=row.pk).update(due_at=row.due_at - day)


def test_a_threshold_reaches_exactly_the_consenting_counted_signers_in_their_language(
    mailbox, petition, ministry
):
    subscriber(petition, "en", email="s-en@example.com", name="Ann Lee")
    subscriber(petition, "fa", email="s-fa@example.com", name="مریم احمدی")
    subscriber(petition, consent_contact=False, email="s-no-consent@example.com")
    subscriber(petition, status=Signature.Status.INVALIDATED, email="s-spam@example.com")
    subscriber(petition, status=Signature.Status.WITHDRAWN, email="s-gone@example.com")
    subscriber(make_petition(), email="s-elsewhere@example.com")

    (row,) = thresholds.record_reached()
    assert row.number == 3

    sent = {m["To"]: m for m in to_signers(mailbox, petition)}
    assert sorted(sent) == ["s-en@example.com", "s-fa@example.com"]
    en, fa = sent["s-en@example.com"], sent["s-fa@example.com"]
    assert subject(en) == "3 signatures: the ministry now owes a written response"
    assert en["Content-Language"] == "en"
    assert "Hello Ann Lee," in text_of(en)
    assert "“Clean air for Tehran”, which you signed, has reached 3 signatures." in text_of(en)
    assert subject(fa) == "۳ امضا: وزارتخانه اکنون باید پاسخ کتبی بدهد"
    assert fa["Content-Language"] == "fa"
    assert 'lang="fa" dir="rtl"' in html_of(fa)
    assert "۳ امضا رسیده است" in text_of(fa)
    assert "هوای پاک برای تهران" in text_of(fa)
    assert not re.search(r"[0-9]", subject(fa))
    update = Update.objects.get(milestone=Update.Milestone.THRESHOLD)
    assert (update.status, update.email_state) == (Update.Status.PUBLISHED, Update.Email.DONE)
    assert update.approved_by is None and update.author is None


def test_every_milestone_email_carries_the_one_click_unsubscribe_and_its_own_id(
    mailbox, petition, ministry
):
    signer = subscriber(petition, "fa", email="s-fa@example.com")
    make_signature(petition)
    make_signature(petition)
    thresholds.record_reached()
    [message] = to_signers(mailbox, petition)
    url = re.fullmatch(
        r"<(http://testserver/fa/unsubscribe/\S+/)>", message["List-Unsubscribe"].strip()
    )
    assert url, message["List-Unsubscribe"]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert url.group(1) in text_of(message) and url.group(1) in html_of(message)
    update = Update.objects.get(milestone=Update.Milestone.THRESHOLD)
    assert message["Message-ID"] == f"<milestone-{update.pk}.{signer.pk}@testserver>"


def test_the_pass_run_again_emails_no_one_twice(mailbox, petition, ministry):
    for n in range(3):
        subscriber(petition, email=f"s-{n}@example.com")
    thresholds.record_reached()
    thresholds.record_reached()
    call_command("tend_petitions")
    assert len(to_signers(mailbox, petition)) == 3
    assert Update.objects.milestones().count() == 1
    entry = AuditEntry.objects.get(action=AuditEntry.Action.MILESTONE_ANNOUNCED)
    assert entry.detail == {"milestone": "threshold", "number": 3, "recipients": 3}
    assert entry.actor_label == "system"


def test_a_milestone_is_not_on_the_petitions_list_of_updates(client, mailbox, petition, ministry):
    for _ in range(3):
        subscriber(petition)
    thresholds.record_reached()
    update = Update.objects.get(milestone=Update.Milestone.THRESHOLD)
    html = client.get(petition.get_absolute_url()).content.decode()
    assert f'id="update-{update.pk}"' not in html
    assert update.title_en not in html


def test_a_second_milestone_the_same_day_waits_a_day_for_the_signers_who_had_one(
    mailbox, petition, ministry
):
    signers = [subscriber(petition, email=f"s-{n}@example.com") for n in range(3)]
    thresholds.record_reached()
    assert len(to_signers(mailbox, petition)) == 3
    late = subscriber(petition, email="s-late@example.com")  # signed after the threshold's send

    petition.close(by="test", reason=Petition.ClosedReason.DONE)
    closing = milestones.closed(petition, by="test")

    # The newcomer had no milestone today: theirs goes now; the others' wait for their day.
    assert [m["To"] for m in to_signers(mailbox, petition)][3:] == ["s-late@example.com"]
    held = Delivery.objects.filter(update=closing, state=Delivery.State.HELD)
    assert sorted(held.values_list("signature_id", flat=True)) == [s.pk for s in signers]
    first_sent = Delivery.objects.filter(update__milestone="threshold").order_by("sent_at")
    for row in held:
        sent = first_sent.get(signature_id=row.signature_id).sent_at
        assert row.due_at == sent + mailing.MILESTONE_GAP
    closing.refresh_from_db()
    assert closing.email_state == Update.Email.SENDING  # not done while some wait
    assert late.pk not in held.values_list("signature_id", flat=True)

    a_day_passes()
    mailing.send_update.call(closing.pk)
    closing_emails = [m for m in to_signers(mailbox, petition) if "has closed" in subject(m)]
    assert sorted(m["To"] for m in closing_emails) == [
        "s-0@example.com",
        "s-1@example.com",
        "s-2@example.com",
        "s-late@example.com",
    ]
    closing.refresh_from_db()
    assert closing.email_state == Update.Email.DONE


def test_a_milestone_waits_behind_an_older_one_still_to_send(mailbox, petition, ministry):
    for n in range(3):
        subscriber(petition, email=f"s-{n}@example.com")
    with transaction.atomic():
        thresholds.record_reached()
        first = Update.objects.get(milestone=Update.Milestone.THRESHOLD)
        # Paused before its first message: its rows are still queued.
        Update.objects.filter(pk=first.pk).update(email_state=Update.Email.PAUSED)
        petition.close(by="test", reason=Petition.ClosedReason.DONE)
        closing = milestones.closed(petition, by="test")
    assert to_signers(mailbox, petition) == []
    assert Delivery.objects.filter(update=closing, state=Delivery.State.HELD).count() == 3

    mailing.control(first, "resume", by=make_staff(username="mo"))
    subjects = [subject(m) for m in to_signers(mailbox, petition)]
    assert subjects == ["3 signatures: the ministry now owes a written response"] * 3


def test_an_ordinary_update_keeps_its_own_pause_between_emails(mailbox, petition, ministry):
    for _ in range(3):
        subscriber(petition)
    thresholds.record_reached()
    update = Update.objects.create(
        petition=petition, title_en="We met", body_en="Monday.", email_signers=True
    )
    assert mailing.approve(update, by=make_staff(username="mo")) == 3


def test_no_milestone_reaches_a_signer_who_withdrew_consent_or_was_erased_before_it_went(
    mailbox, queue, petition, ministry
):
    staying = subscriber(petition, email="s-staying@example.com")
    leaving = subscriber(petition, email="s-leaving@example.com")
    erased = subscriber(petition, email="s-erased@example.com")
    withdrawn = subscriber(petition, email="s-withdrawn@example.com")
    thresholds.record_reached()
    assert Delivery.objects.count() == 4

    mailing.unsubscribe(leaving.pk, leaving.email_canonical)
    erased.delete()
    Signature.objects.filter(pk=withdrawn.pk).update(status=Signature.Status.WITHDRAWN)
    queue()
    assert [m["To"] for m in to_signers(mailbox, petition)] == [staying.email]


def test_the_response_published_twice_emails_once_and_names_it(
    admin_client, mailbox, petition, ministry
):
    subscriber(petition, "fa", email="s-fa@example.com")
    subscriber(petition, "en", email="s-en@example.com")
    save_in_admin(
        admin_client,
        petition,
        response_en="We will review the air quality law.",
        response_fa="قانون هوای پاک را بازبینی می‌کنیم.",
        outcome="responded",
    )
    petition.refresh_from_db()
    save_in_admin(admin_client, petition, response_en="We will review the law this year.")
    emails = {m["To"]: m for m in to_signers(mailbox, petition)}
    assert len(to_signers(mailbox, petition)) == 2
    en = emails["s-en@example.com"]
    assert subject(en) == "“Clean air for Tehran” has a response"
    assert "We will review the air quality law." in text_of(en)
    assert "Outcome: Responded to" in text_of(en)  # saved with it, so in the same email
    assert subject(emails["s-fa@example.com"]) == "«هوای پاک برای تهران» پاسخ گرفت"
    assert Update.objects.milestones().count() == 1


def test_a_new_outcome_is_emailed_once_and_waits_a_day_after_the_response(
    admin_client, mailbox, petition
):
    subscriber(petition, email="s-en@example.com")
    save_in_admin(admin_client, petition, response_en="A reply.")
    petition.refresh_from_db()
    save_in_admin(admin_client, petition, response_en="A reply.", outcome="won")
    petition.refresh_from_db()
    save_in_admin(admin_client, petition, response_en="A reply.", outcome="won")
    outcome = Update.objects.get(milestone=Update.Milestone.OUTCOME)
    assert outcome.milestone_key == "outcome:won"
    assert Delivery.objects.get(update=outcome).state == Delivery.State.HELD
    a_day_passes()
    mailing.send_update.call(outcome.pk)
    subjects = [subject(m) for m in to_signers(mailbox, petition)]
    assert subjects == [
        "“Clean air for Tehran” has a response",
        "The outcome of “Clean air for Tehran”: Won",
    ]


def test_the_closing_email_carries_the_final_number_and_what_is_still_owed(
    admin_client, mailbox, petition, ministry
):
    subscriber(petition, "fa", email="s-fa@example.com")
    make_signature(petition)
    make_signature(petition)
    thresholds.record_reached()
    a_day_passes()
    for _ in range(3):
        make_signature(petition)  # 6 in all

    response = admin_client.post(
        f"/admin/petitions/petition/{petition.pk}/close/", {"reason": "done", "note": ""}
    )
    assert response.status_code == 302
    closing = [m for m in to_signers(mailbox, petition) if "بسته" in subject(m)]
    [message] = closing
    assert subject(message) == "«هوای پاک برای تهران» با ۶ امضا بسته شد"
    text = text_of(message)
    assert "۶ امضا" in text
    assert "وزارتخانه اکنون باید پاسخ کتبی بدهد" in text  # still owed: no response yet
    assert "۳ امضا" in text
    update = Update.objects.get(milestone=Update.Milestone.CLOSED)
    assert update.milestone_number == 6


def test_closing_on_its_date_emails_the_signers_once(mailbox, petition):
    subscriber(petition, email="s-en@example.com")
    Petition.objects.filter(pk=petition.pk).update(
        closes_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    call_command("tend_petitions")
    call_command("tend_petitions")
    [message] = to_signers(mailbox, petition)
    assert subject(message) == "“Clean air for Tehran” has closed with 1 signature"
    assert "Its closing date came" in text_of(message)
    assert "No threshold it reached calls for a response." in text_of(message)


def test_organisers_hear_each_milestone_in_english_and_no_other_staff(mailbox, petition, ministry):
    from django.contrib.auth.models import Group

    organisers, _ = Group.objects.get_or_create(name="Organisers")  # flushed between tests
    olga = make_staff(username="olga", superuser=False, email="olga@example.org")
    olga.groups.add(organisers)
    gone = make_staff(username="gone", superuser=False, email="gone@example.org", is_active=False)
    gone.groups.add(organisers)
    mute = make_staff(username="mute", superuser=False, email="")
    mute.groups.add(organisers)
    make_staff(username="mo", email="mo@example.org")  # a superuser, not an organiser
    for _ in range(3):
        make_signature(petition)  # no consent: the organisers hear all the same

    thresholds.record_reached()
    petition.close(by="test", reason=Petition.ClosedReason.DONE)
    milestones.closed(petition, by="test")

    told = [m for m in mailbox.messages if m["To"] == "olga@example.org"]
    assert [subject(m) for m in told] == [
        "3 signatures: the ministry now owes a written response",
        "“Clean air for Tehran” has closed with 3 signatures",
    ]
    assert all(m["Content-Language"] == "en" for m in told)
    assert f"/admin/petitions/petition/{petition.pk}/change/" in text_of(told[0])
    assert "List-Unsubscribe" not in told[0]
    assert {m["To"] for m in mailbox.messages} == {"olga@example.org"}


def test_with_the_task_queue_a_held_row_waits_for_its_day_and_is_not_failed(
    mailbox, queue, petition, ministry
):
    from django_tasks_db.models import DBTaskResult

    for n in range(3):
        subscriber(petition, email=f"s-{n}@example.com")
    with transaction.atomic():
        thresholds.record_reached()
        petition.close(by="test", reason=Petition.ClosedReason.DONE)
        closing = milestones.closed(petition, by="test")
    queue()
    assert [subject(m) for m in to_signers(mailbox, petition)] == [
        "3 signatures: the ministry now owes a written response"
    ] * 3
    rows = Delivery.objects.filter(update=closing)
    assert set(rows.values_list("state", flat=True)) == {Delivery.State.HELD}
    # The send comes back when the first of them is due, not before.
    due = rows.order_by("due_at").first().due_at
    waiting = DBTaskResult.objects.filter(status="READY", args_kwargs__args=[closing.pk])
    assert waiting.filter(run_after=due).exists()

    a_day_passes()
    DBTaskResult.objects.filter(status="READY").update(run_after=timezone.now())
    queue()
    closing.refresh_from_db()
    assert closing.email_state == Update.Email.DONE
    assert len([m for m in to_signers(mailbox, petition) if "has closed" in subject(m)]) == 3


def test_closing_by_editing_the_status_in_the_admin_emails_the_signers(
    admin_client, mailbox, petition
):
    subscriber(petition, email="s-en@example.com")
    save_in_admin(admin_client, petition, status="closed")
    [message] = to_signers(mailbox, petition)
    assert subject(message) == "“Clean air for Tehran” has closed with 1 signature"
    assert "Another reason" in text_of(message)
