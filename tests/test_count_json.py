import time

import pytest
from django.core.cache import cache

from petitions.models import Petition
from signatures.counting import COUNT_CACHE_SECONDS
from tests.factories import make_petition, make_signature

pytestmark = pytest.mark.django_db


def test_count_json_gives_count_goal_and_last_signature_time(client):
    petition = make_petition(goal=75_000)
    signature = make_signature(petition)
    response = client.get(f"/fa/p/{petition.slug}/count.json")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["count"] == 1
    assert body["goal"] == 75_000
    assert body["last_signed_at"].startswith(signature.created_at.strftime("%Y-%m-%dT%H:%M"))
    assert response.content.isascii()  # Persian page, ASCII digits


def test_count_json_is_cacheable_briefly_and_revalidates(client):
    petition = make_petition()
    response = client.get(f"/en/p/{petition.slug}/count.json")
    cache_control = response["Cache-Control"]
    assert "public" in cache_control and "max-age=1" in cache_control
    # Serving an old count while revalidating would break "exact within two seconds".
    assert "stale-while-revalidate" not in cache_control
    assert response["ETag"].startswith('"')


def test_count_json_answers_304_for_a_matching_etag(client):
    petition = make_petition()
    first = client.get(f"/en/p/{petition.slug}/count.json")
    again = client.get(f"/en/p/{petition.slug}/count.json", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == first["ETag"]


def test_count_json_etag_changes_when_the_count_does(client):
    petition = make_petition()
    first = client.get(f"/en/p/{petition.slug}/count.json")
    make_signature(petition)
    time.sleep(COUNT_CACHE_SECONDS + 0.05)
    second = client.get(f"/en/p/{petition.slug}/count.json", HTTP_IF_NONE_MATCH=first["ETag"])
    assert second.status_code == 200
    assert second.json()["count"] == 1


def test_warm_count_json_makes_no_database_query(client, django_assert_num_queries):
    petition = make_petition()
    make_signature(petition)
    client.get(f"/en/p/{petition.slug}/count.json")  # warm
    with django_assert_num_queries(0):
        response = client.get(f"/en/p/{petition.slug}/count.json")
    assert response.json()["count"] == 1


def test_count_json_of_a_draft_is_not_found(client):
    petition = make_petition(status=Petition.Status.DRAFT)
    assert client.get(f"/en/p/{petition.slug}/count.json").status_code == 404


def test_count_json_shows_a_new_signature_within_a_second_or_so(client):
    from tests.factories import sign_form_data

    petition = make_petition()
    assert client.get(f"/en/p/{petition.slug}/count.json").json()["count"] == 0
    client.post(f"/en/p/{petition.slug}/sign/", sign_form_data(petition))
    time.sleep(COUNT_CACHE_SECONDS + 0.05)
    assert client.get(f"/en/p/{petition.slug}/count.json").json()["count"] == 1


def test_the_thanks_page_counts_the_signer_at_once(client):
    from tests.factories import sign_form_data

    petition = make_petition()
    client.get(f"/en/p/{petition.slug}/count.json")  # a count of 0 is cached
    response = client.post(f"/en/p/{petition.slug}/sign/", sign_form_data(petition), follow=True)
    assert response.context["count"] == 1


def test_the_first_reader_after_a_quiet_spell_sees_the_exact_count(client):
    """No copy of the count outlives its second: after any quiet spell, an hour or a second, the
    next reader is counted for afresh."""
    from lib.cache import count_key

    petition = make_petition()
    make_signature(petition)
    assert client.get(f"/en/p/{petition.slug}/count.json").json()["count"] == 1
    make_signature(petition)
    make_signature(petition)
    time.sleep(COUNT_CACHE_SECONDS + 0.05)

    assert cache.get(count_key(petition.slug)) is None
    assert client.get(f"/en/p/{petition.slug}/count.json").json()["count"] == 3


def test_count_json_is_answered_without_session_user_or_messages(client):
    """The most requested address reads no session, user or message: those middleware leave it
    alone (lib/middleware.py). Every other page still has them."""
    from django.contrib.messages import get_messages
    from django.contrib.messages.storage.base import BaseStorage

    petition = make_petition()
    response = client.get(f"/en/p/{petition.slug}/count.json")
    assert response.status_code == 200
    feed = response.wsgi_request
    assert not hasattr(feed, "session")
    assert not hasattr(feed, "user")
    assert get_messages(feed) == []
    assert "Cookie" not in response.get("Vary", "")

    page = client.get(f"/en/p/{petition.slug}/").wsgi_request
    assert hasattr(page, "session") and hasattr(page, "user")
    assert isinstance(get_messages(page), BaseStorage)


def test_only_a_petitions_count_json_goes_without_session_and_user(client):
    """Other addresses that end in /count.json keep the session and the user: the admin's own
    catch-all still sends a stranger to its login page."""
    for url in ["/admin/p/x/count.json", "/admin/petitions/count.json"]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/admin/login/"), url
        assert hasattr(response.wsgi_request, "session"), url
