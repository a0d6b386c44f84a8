"""GET /api/v1/petitions/{slug} and its count and history: the stored text in both languages and
the same figures as the page's own feeds."""

import datetime

import pytest
from django.utils import timezone

from petitions import thresholds
from petitions.models import Petition, Threshold
from signatures.models import Signature
from tests.factories import make_petition, make_signature

pytestmark = pytest.mark.django_db


def test_gives_both_languages_as_stored_with_the_figures(client):
    petition = make_petition(
        title_en='Say "no" to <script>',
        addressed_to_en="The Minister of Roads",
        outcome=Petition.Outcome.RESPONDED,
        response_en="We will **look** at it.",
        response_url="https://gov.example/answer",
        response_date=datetime.date(2026, 3, 1),
    )
    make_signature(petition)
    body = client.get(f"/api/v1/petitions/{petition.slug}").json()
    assert body["title_en"] == 'Say "no" to <script>'
    assert body["title_fa"] == petition.title_fa
    assert body["summary_fa"] == petition.summary_fa
    assert body["letter_en"] == petition.letter_en  # stored text, not HTML
    assert body["letter_fa"] == petition.letter_fa
    assert body["addressed_to_en"] == "The Minister of Roads"
    assert body["addressed_to_fa"] == petition.addressed_to_fa
    assert body["count"] == 1
    assert body["goal"] == petition.goal_for(1)
    assert body["outcome"] == "responded"
    assert body["response"] == {
        "text_en": "We will **look** at it.",
        "text_fa": "",
        "date": "2026-03-01",
        "source_url": "https://gov.example/answer",
    }
    assert body["languages"] == ["en", "fa"]
    assert body["pages"]["en"].endswith(f"/en/p/{petition.slug}/")
    assert body["count_url"].endswith(f"/api/v1/petitions/{petition.slug}/count")
    assert body["created_at"].endswith("Z")
    assert body["opened_at"].endswith("Z")


def test_persian_text_is_utf8_not_escaped(client):
    petition = make_petition(title_fa="نجات دریاچه ۱۲")
    response = client.get(f"/api/v1/petitions/{petition.slug}")
    assert "نجات دریاچه ۱۲".encode() in response.content
    assert b"\\u" not in response.content


def test_a_petition_without_an_outcome_or_response_says_null(client):
    body = client.get(f"/api/v1/petitions/{make_petition().slug}").json()
    assert body["outcome"] is None
    assert body["outcome_date"] is None
    assert body["response"] is None
    assert body["last_signed_at"] is None


def test_a_persian_slug_is_found(client):
    petition = make_petition(slug="نجات-دریاچه")
    assert client.get(f"/api/v1/petitions/{petition.slug}").json()["slug"] == "نجات-دریاچه"


def test_count_has_the_figures_of_count_json(client):
    petition = make_petition()
    for _ in range(3):
        make_signature(petition)
    api = client.get(f"/api/v1/petitions/{petition.slug}/count").json()
    page = client.get(f"/en/p/{petition.slug}/count.json").json()
    assert api["count"] == page["count"] == 3
    assert api["goal"] == page["goal"]
    assert api["outcome"] == page["outcome"]
    assert api["last_signed_at"][:19] == page["last_signed_at"][:19]


def test_history_by_hour_and_by_day(client):
    petition = make_petition()
    base = timezone.now().replace(minute=5, second=0, microsecond=0) - datetime.timedelta(days=2)
    moments = [base, base + datetime.timedelta(hours=1), base + datetime.timedelta(days=1)]
    for moment in moments:
        signature = make_signature(petition)
        Signature.objects.filter(pk=signature.pk).update(created_at=moment)
    hours = client.get(f"/api/v1/petitions/{petition.slug}/history").json()
    assert hours["interval"] == "hour"
    assert [(s["signatures"], s["total"]) for s in hours["series"]] == [(1, 1), (1, 2), (1, 3)]
    assert hours["series"][0]["start"].endswith(":00:00Z")
    days = client.get(f"/api/v1/petitions/{petition.slug}/history?interval=day").json()
    # Two days whatever the hour: the second signature shares a day with the first or, when
    # the first came in the day's last hour, with the third.
    assert len(days["series"]) == 2
    assert days["series"][-1]["total"] == days["total"] == 3
    assert days["series"][0]["start"].endswith("T00:00:00Z")


def test_history_refuses_an_unknown_interval(client):
    petition = make_petition()
    response = client.get(f"/api/v1/petitions/{petition.slug}/history?interval=week")
    assert response.status_code == 422


def test_the_thresholds_say_what_was_promised_and_when_each_was_reached(client):
    petition = make_petition(title_en="Clean air")
    Threshold.objects.create(
        number=1,
        consequence_en="a written response",
        consequence_fa="پاسخ کتبی",
        owes_response=True,
    )
    Threshold.objects.create(number=100_000, consequence_en="a debate")
    make_signature(petition)
    (reached,) = thresholds.record_reached()
    # A later edit of the list changes no promise already made.
    Threshold.objects.filter(number=1).update(consequence_en="a reply, one day")

    body = client.get(f"/api/v1/petitions/{petition.slug}").json()

    first, second = body["thresholds"]
    assert (first["number"], first["consequence_en"], first["consequence_fa"]) == (
        1,
        "a written response",
        "پاسخ کتبی",
    )
    reached_at = datetime.datetime.fromisoformat(first["reached_at"])
    assert abs(reached_at - reached.reached_at) < datetime.timedelta(milliseconds=1)
    assert (second["number"], second["reached_at"], second["respond_by"]) == (100_000, None, None)


def test_the_record_adds_up_to_the_count(client):
    petition = make_petition()
    signatures = [make_signature(petition) for _ in range(4)]
    Signature.objects.filter(pk=signatures[0].pk).invalidate(by="mo")
    Signature.objects.filter(pk=signatures[1].pk).withdraw()

    body = client.get(f"/api/v1/petitions/{petition.slug}").json()

    assert body["record"]["changes"]["invalidated"] == -1
    assert body["record"]["changes"]["withdrawn"] == -1
    assert body["record"]["total"] == body["count"] == 2
    assert body["record"]["url"].endswith(f"/p/{petition.slug}/record.json")
