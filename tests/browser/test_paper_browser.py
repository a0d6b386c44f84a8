"""The counter's "online and on paper" line in a browser: it follows the count as people sign
online and as a moderator enters paper, in Persian digits on the Persian page."""

import re

from django.test import Client
from playwright.sync_api import expect

from signatures import paper
from tests.factories import make_petition, make_signature, make_staff, sign_form_data

LIVE_COUNTER_TIMEOUT = 15_000
ASCII_DIGIT = re.compile(r"[0-9]")


def test_the_paper_line_follows_online_signing_and_new_batches(page, live_server, transactional_db):
    petition = make_petition(goal=10_000)
    moderator = make_staff()
    make_signature(petition)
    make_signature(petition)
    paper.enter_count(petition, count=3100, description="Book fair", by=moderator)

    page.goto(f"{live_server.url}/fa/p/{petition.slug}/")
    line = page.locator(".petition__sign .counter__paper")
    expect(line).to_have_text("۲ امضای آنلاین و ۳٬۱۰۰ امضای کاغذی")

    response = Client().post(f"/en/p/{petition.slug}/sign/", sign_form_data(petition))
    assert response.status_code == 302
    expect(line).to_have_text("۳ امضای آنلاین و ۳٬۱۰۰ امضای کاغذی", timeout=LIVE_COUNTER_TIMEOUT)

    paper.enter_count(petition, count=12, description="Stall", by=moderator)
    expect(line).to_have_text("۳ امضای آنلاین و ۳٬۱۱۲ امضای کاغذی", timeout=LIVE_COUNTER_TIMEOUT)
    assert not ASCII_DIGIT.search(line.inner_text())


def test_without_paper_there_is_no_paper_line(page, live_server, transactional_db):
    petition = make_petition()
    make_signature(petition)
    page.goto(f"{live_server.url}/en/p/{petition.slug}/")
    expect(page.locator(".petition__sign [data-counter]")).to_have_text("1")
    expect(page.locator(".counter__paper")).to_have_count(0)
