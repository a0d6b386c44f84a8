"""A petition's life in Persian, in a real browser, with every email read off a real SMTP server:
started and backed by its supporters, published by a moderator in the Persian admin, signed by
people who want news, past a threshold (the periodic pass), answered by an organiser in the admin
and closed by a moderator; each milestone reaches the signers in Persian with Persian digits and
the one-click unsubscribe, and the page ends closed."""

import datetime
import re

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from playwright.sync_api import expect

from lib.persian import persian_digits
from petitions.models import Delivery, Petition, Threshold
from tests.browser.test_cosponsors_browser import TITLE, back_it, start_and_confirm
from tests.factories import make_staff

REQUIRED = 2
SIGNERS = ("مریم احمدی", "علی رضایی", "Zahra Karimi")
# The supporters' signatures count from publishing: the signers take it to the threshold.
FINAL = REQUIRED + len(SIGNERS)
FINAL_FA = persian_digits(FINAL)
PASSWORD = "a-long-test-password"


@pytest.fixture(autouse=True)
def _supporters_and_people_who_write_fast(settings):
    settings.COSPONSORS_REQUIRED = REQUIRED
    # Playwright types well under the minimum time a person takes.
    settings.START_MIN_FILL_SECONDS = 0
    settings.SIGN_MIN_FILL_SECONDS = 0


def staff(username: str, *, organiser: bool):
    """A moderator (a superuser, as the review queue needs) or an organiser in the Organisers
    role, which the test database's flush may have taken with it."""
    if not organiser:
        return make_staff(username=username, email=f"{username}@example.org")
    group, _ = Group.objects.get_or_create(name="Organisers")
    group.permissions.add(
        *Permission.objects.filter(
            codename__in=["add_petition", "change_petition", "view_petition"]
        )
    )
    user = make_staff(username=username, superuser=False, email=f"{username}@example.org")
    user.groups.add(group)
    return user


def sign_in(browser, live_server, username: str):
    page = browser.new_context(locale="fa-IR").new_page()
    page.goto(f"{live_server.url}/fa/admin/login/?next=/fa/admin/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.locator("input[type=submit]").click()
    page.wait_for_selector("#content-main")
    return page


def to_signers(mailbox, subject_has: str) -> list:
    return [
        m
        for m in mailbox.messages
        if m["To"].startswith("signer") and subject_has in m["Subject"].strip()
    ]


def text_of(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()


def a_day_passes():
    """The signers had a milestone today: move its send back a day, so the next goes at once."""
    for row in Delivery.objects.exclude(sent_at=None):
        Delivery.objects.filter(pk=row.pk).update(sent_at=row.sent_at - datetime.timedelta(days=1))


def test_a_persian_petition_lives_from_start_to_closing_with_its_milestone_emails(
    page, browser, live_server, mailbox, settings, transactional_db
):
    settings.SITE_URL = live_server.url  # the mailbox fixture points it at the test client
    staff("moderator", organiser=False)
    staff("olga", organiser=True)
    Threshold.objects.create(
        number=FINAL,
        consequence_en="the ministry now owes a written response",
        consequence_fa="وزارتخانه اکنون باید پاسخ کتبی بدهد",
        owes_response=True,
        deadline_days=30,
    )

    petition = start_and_confirm(page, live_server, mailbox)
    link = page.locator("#supporters-url-fa").input_value()
    for n in range(1, REQUIRED + 1):
        back_it(browser, link, mailbox, n)
    petition.refresh_from_db()
    assert petition.status == Petition.Status.PENDING

    # The moderator publishes it from the review queue, in the Persian admin.
    moderator = sign_in(browser, live_server, "moderator")
    moderator.goto(f"{live_server.url}/fa/admin/petitions/reviewqueue/")
    moderator.get_by_role("link", name="بخوانید و تصمیم بگیرید").click()
    moderator.get_by_label("منتشرشده").check()
    moderator.get_by_role("button", name="ثبت تصمیم").click()
    petition.refresh_from_db()
    assert petition.status == Petition.Status.OPEN

    # Three people sign and ask for news of the campaign.
    for n, name in enumerate(SIGNERS):
        signer = browser.new_context(locale="fa-IR").new_page()
        signer.goto(f"{live_server.url}/fa/p/{petition.slug}/")
        signer.fill("#id_name", name)
        signer.fill("#id_email", f"signer{n}@example.com")
        signer.check("#id_consent_contact")
        signer.get_by_role("button", name="این کارزار را امضا کنید").click()
        expect(signer).to_have_url(re.compile(r"/thanks/$"))
        signer.context.close()

    # The periodic pass finds the threshold: each signer hears, in Persian.
    call_command("tend_petitions")
    reached = to_signers(mailbox, f"{FINAL_FA} امضا: وزارتخانه اکنون باید پاسخ کتبی بدهد")
    assert sorted(m["To"] for m in reached) == [f"signer{n}@example.com" for n in range(3)]
    message = reached[0]
    assert message["Content-Language"] == "fa"
    assert re.fullmatch(r"<http://[^>]+/fa/unsubscribe/\S+/>", message["List-Unsubscribe"].strip())
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = text_of(message)
    assert f"کارزار «{TITLE}» که آن را امضا کرده‌اید به {FINAL_FA} امضا رسیده است." in text
    assert not re.search(r"[0-9]", message["Subject"])
    starter = [m for m in mailbox.messages if m["To"] == "sara@example.com"]
    assert f"{FINAL_FA} امضا" in starter[-1]["Subject"].strip()

    # A day on, the organiser publishes the ministry's response in the admin.
    a_day_passes()
    organiser = sign_in(browser, live_server, "olga")
    organiser.goto(f"{live_server.url}/fa/admin/petitions/petition/{petition.pk}/change/")
    organiser.fill("#id_response_fa", "وزارتخانه قول داد طرح احیای دریاچه را بازبینی کند.")
    organiser.locator("input[name=_continue]").click()
    expect(organiser.locator(".messagelist")).to_be_visible()
    answered = to_signers(mailbox, "پاسخ گرفت")
    assert len(answered) == 3
    assert "وزارتخانه قول داد طرح احیای دریاچه را بازبینی کند." in text_of(answered[0])

    # A day on, the moderator closes it: the closing email carries the final number.
    a_day_passes()
    moderator.goto(f"{live_server.url}/fa/admin/petitions/petition/{petition.pk}/close/")
    moderator.get_by_label("کارزار به پایان رسیده است").check()
    moderator.locator("input[type=submit]").click()
    expect(moderator.locator(".messagelist")).to_be_visible()
    closed = to_signers(mailbox, "بسته شد")
    assert len(closed) == 3
    assert closed[0]["Subject"].strip() == f"«{TITLE}» با {FINAL_FA} امضا بسته شد"
    assert f"با {FINAL_FA} امضا بسته شد" in text_of(closed[0])

    page.goto(f"{live_server.url}/fa/p/{petition.slug}/")
    expect(page.locator(".notice--closed")).to_contain_text("این کارزار بسته شده است")
    expect(page.locator("#id_name")).to_have_count(0)
    moderator.context.close()
    organiser.context.close()
