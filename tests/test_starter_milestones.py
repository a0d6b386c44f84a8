"""The starter of a petition started by the public always hears of its milestones, whatever the
signers chose: each threshold, each quarter of the goal once, the response or outcome and the
closing, in the starter's language, retried when the mail server fails."""

import pytest
from django.core.management import call_command

from petitions import milestones, thresholds
from petitions.models import Petition, Threshold
from tests.factories import make_petition, make_signature

pytestmark = pytest.mark.django_db(transaction=True)

STARTER = "starter@example.com"


@pytest.fixture
def started():
    return make_petition(
        title_en="Save Lake Urmia",
        title_fa="نجات دریاچه ارومیه",
        starter_name="سارا کریمی",
        starter_email=STARTER,
        starter_email_canonical=STARTER,
        starter_language="fa",
        goal=8,
    )


def to_starter(mailbox) -> list[str]:
    return [m["Subject"].strip() for m in mailbox.messages if m["To"] == STARTER]


def signed(petition, times):
    for _ in range(times):
        make_signature(petition)  # no consent to hear from the campaign


def test_the_starter_hears_each_threshold_in_their_language_without_consenting_signers(
    mailbox, started
):
    Threshold.objects.create(number=3, consequence_en="a reply", consequence_fa="پاسخی")
    signed(started, 3)
    thresholds.record_reached()
    [message] = [m for m in mailbox.messages if m["To"] == STARTER]
    assert message["Subject"].strip() == "۳ امضا: پاسخی"
    assert message["Content-Language"] == "fa"
    assert message["Auto-Submitted"] == "auto-generated"
    assert "List-Unsubscribe" not in message
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert "سارا کریمی عزیز، سلام" in text
    assert "کارزار شما، «نجات دریاچه ارومیه»، به ۳ امضا رسیده است." in text


def test_each_quarter_of_the_goal_is_told_once_and_a_jump_tells_the_highest(mailbox, started):
    signed(started, 2)
    call_command("tend_petitions")
    call_command("tend_petitions")
    assert to_starter(mailbox) == ["کارزار شما ۲۵٪ از راه رسیدن به هدفش را پیموده است"]

    signed(started, 4)  # 6 of 8: past half and three quarters in one pass
    call_command("tend_petitions")
    signed(started, 2)
    call_command("tend_petitions")
    call_command("tend_petitions")
    assert to_starter(mailbox)[1:] == [
        "کارزار شما ۷۵٪ از راه رسیدن به هدفش را پیموده است",
        "کارزار شما به هدفش یعنی ۸ امضا رسید",
    ]
    started.refresh_from_db()
    assert started.goal_percent_told == 100


def test_a_petition_started_in_the_admin_tells_no_starter(mailbox):
    petition = make_petition(goal=4)
    signed(petition, 4)
    assert milestones.tell_goal_progress() == []
    assert mailbox.messages == []


def test_the_starter_hears_the_response_and_the_closing(admin_client, mailbox, started):
    signed(started, 1)
    Petition.objects.filter(pk=started.pk).update(response_fa="پاسخ وزارت.")
    started.refresh_from_db()
    milestones.answered(started, {"response_fa"}, by="test")
    started.close(by="test", reason=Petition.ClosedReason.DONE)
    milestones.closed(started, by="test")
    assert to_starter(mailbox) == [
        "«نجات دریاچه ارومیه» پاسخ گرفت",
        "«نجات دریاچه ارومیه» با ۱ امضا بسته شد",
    ]


def test_a_failing_mail_server_is_tried_again(mailbox, started, settings):
    settings.EMAIL_RETRY_DELAYS = [0, 0]
    mailbox.refuse_next = 1
    signed(started, 2)
    call_command("tend_petitions")
    assert to_starter(mailbox) == ["کارزار شما ۲۵٪ از راه رسیدن به هدفش را پیموده است"]


def test_an_erased_starter_address_is_not_written_to(mailbox, started):
    signed(started, 2)
    Petition.objects.filter(pk=started.pk).update(starter_email="", starter_email_canonical="")
    call_command("tend_petitions")
    assert mailbox.messages == []
