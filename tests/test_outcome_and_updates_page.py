"""What signers see come back: the decision maker's response and the outcome at the top
of the petition page and in count.json, and the campaign's approved updates in a dated timeline,
in both languages."""

import datetime
import re

import pytest
from django.utils import timezone

from petitions.models import Petition, Update
from tests.factories import make_petition, make_signature
from tests.html import elements

pytestmark = pytest.mark.django_db


def won_petition(**fields) -> Petition:
    values = {
        "outcome": Petition.Outcome.WON,
        "outcome_date": datetime.date(2026, 3, 21),
        "response_en": "We accept the petition and will **act**.",
        "response_fa": "کارزار را می‌پذیریم و اقدام خواهیم کرد.",
        "response_date": datetime.date(2026, 3, 20),
        "response_url": "https://example.gov/statement",
    }
    return make_petition(**(values | fields))


def publish(petition, when: datetime.datetime, **fields) -> Update:
    values = {
        "title_en": "Hearing set",
        "body_en": "The hearing is on Monday.",
        "title_fa": "جلسه تعیین شد",
        "body_fa": "جلسه دوشنبه است.",
        "status": Update.Status.PUBLISHED,
        "published_at": when,
    }
    return Update.objects.create(petition=petition, **(values | fields))


def test_a_won_petition_says_victory_at_the_top_in_english(client):
    petition = won_petition()
    html = client.get(f"/en/p/{petition.slug}/").content.decode()
    outcome = html.index('class="outcome outcome--won"')
    assert outcome < html.index('class="petition__summary"')
    assert "Victory!" in html and "This petition won." in html
    assert "21 March 2026" in html
    assert "Response from <bdi" in html and "20 March 2026" in html
    assert "We accept the petition and will <strong>act</strong>." in html
    assert 'href="https://example.gov/statement"' in html


def test_a_won_petition_says_victory_in_persian_with_solar_hijri_dates(client):
    petition = won_petition()
    page = client.get(f"/fa/p/{petition.slug}/")
    html = page.content.decode()
    assert "پیروزی!" in html
    assert "۱ فروردین ۱۴۰۵" in html  # 21 March 2026
    assert "۲۹ اسفند ۱۴۰۴" in html  # 20 March 2026
    assert 'lang="fa" dir="rtl"' in html and "کارزار را می‌پذیریم" in html
    assert len(elements(html, "h1")) == 1


def test_a_response_without_an_outcome_is_shown_too(client):
    petition = make_petition(response_en="We will consider it.", response_fa="")
    for language in ("en", "fa"):
        html = client.get(f"/{language}/p/{petition.slug}/").content.decode()
        assert "We will consider it." in html  # the Persian page falls back, marked English
    assert 'lang="en" dir="ltr"' in html
    assert "Victory" not in html


def test_a_petition_without_news_shows_no_outcome_or_updates(client):
    petition = make_petition()
    html = client.get(f"/en/p/{petition.slug}/").content.decode()
    assert 'class="outcome' not in html and 'class="updates"' not in html


def test_count_json_carries_the_outcome_and_keeps_its_keys(
    client, django_capture_on_commit_callbacks
):
    petition = make_petition()
    make_signature(petition)
    before = client.get(f"/en/p/{petition.slug}/count.json").json()
    assert before["outcome"] is None
    assert {"count", "goal", "last_signed_at"} <= set(before)

    petition.outcome = Petition.Outcome.WON
    with django_capture_on_commit_callbacks(execute=True):
        petition.save()  # drops count.json's cached copy once committed
    after = client.get(f"/en/p/{petition.slug}/count.json")
    assert after.json() == before | {"outcome": "won"}
    assert "public" in after["Cache-Control"] and "max-age=1" in after["Cache-Control"]


def test_signing_can_stay_open_after_a_victory_or_close(client):
    petition = won_petition()
    html = client.get(f"/en/p/{petition.slug}/").content.decode()
    assert "no longer takes signatures" not in html
    petition.status = Petition.Status.CLOSED
    petition.save()
    html = client.get(f"/en/p/{petition.slug}/").content.decode()
    assert "Victory!" in html and "no longer takes signatures" in html


def test_published_updates_appear_newest_first_with_their_dates(client):
    petition = make_petition()
    first = publish(petition, timezone.make_aware(datetime.datetime(2026, 3, 1, 12)))
    second = publish(
        petition,
        timezone.make_aware(datetime.datetime(2026, 4, 2, 12)),
        title_en="We won",
        title_fa="پیروز شدیم",
    )
    Update.objects.create(
        petition=petition, title_en="Not yet approved", body_en="Draft.", status="submitted"
    )
    Update.objects.create(
        petition=petition, title_en="Turned down", body_en="No.", status="rejected"
    )

    html = client.get(f"/en/p/{petition.slug}/").content.decode()
    assert html.index(f'id="update-{second.pk}"') < html.index(f'id="update-{first.pk}"')
    assert "2 April 2026" in html and "1 March 2026" in html
    assert "Not yet approved" not in html and "Turned down" not in html

    persian = client.get(f"/fa/p/{petition.slug}/").content.decode()
    assert "پیروز شدیم" in persian
    assert "۱۳ فروردین ۱۴۰۵" in persian  # 2 April 2026
    assert "۱۰ اسفند ۱۴۰۴" in persian  # 1 March 2026


def test_an_update_in_one_language_is_shown_on_the_other_marked_as_such(client):
    petition = make_petition()
    publish(petition, timezone.now(), title_fa="", body_fa="")
    html = client.get(f"/fa/p/{petition.slug}/").content.decode()
    assert '<article class="update__text" lang="en" dir="ltr">' in html
    assert "Hearing set" in html


def test_the_page_with_news_stays_publicly_cacheable(client):
    petition = won_petition()
    publish(petition, timezone.now())
    response = client.get(f"/en/p/{petition.slug}/")
    assert "public" in response["Cache-Control"]
    assert not response.cookies


@pytest.mark.parametrize(("language", "victory"), [("en", "Victory!"), ("fa", "پیروزی!")])
def test_a_won_petition_says_victory_on_its_poster_instead_of_asking_to_sign(
    client, language, victory
):
    petition = won_petition()
    html = client.get(f"/{language}/p/{petition.slug}/poster/").content.decode()
    kicker = re.search(r'<p class="poster__kicker poster__kicker--won">([^<]*)</p>', html)
    assert kicker and kicker.group(1) == victory

    open_one = make_petition()
    html = client.get(f"/{language}/p/{open_one.slug}/poster/").content.decode()
    assert victory not in html


@pytest.mark.parametrize(("language", "victory"), [("en", "Victory!"), ("fa", "پیروزی!")])
def test_a_won_petition_is_marked_on_its_home_card(client, language, victory):
    won, still_open = won_petition(), make_petition()
    html = client.get(f"/{language}/").content.decode()
    cards = html.split('<li class="petition-card">')[1:]
    [marked] = [card for card in cards if victory in card]
    assert won.in_language(language).title.value in marked
    assert len(cards) == 2 and still_open.in_language(language).title.value not in marked
