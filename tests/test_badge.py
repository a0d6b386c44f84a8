"""The counter-only badge for sidebars: count, goal and a link to sign on the page;
framable like the widget, cached like it, and only for published petitions."""

import pytest
from django.test import Client

from tests.factories import make_petition, make_signature
from tests.html import elements

pytestmark = pytest.mark.django_db


def test_the_badge_shows_the_count_the_goal_and_a_link_to_sign():
    petition = make_petition(slug="free-press", goal=100)
    for _ in range(2):
        make_signature(petition)
    response = Client().get("/en/p/free-press/badge/")
    html = response.content.decode()
    assert response.status_code == 200
    meter = elements(html, "meter", class_="counter__meter")[0]
    assert meter["value"] == "2" and meter["max"] == "100"
    link = elements(html, "a", href="http://testserver/en/p/free-press/")
    assert link and link[0]["target"] == "_blank"
    assert "<form" not in html


def test_the_persian_badge_uses_persian_digits_and_reads_right_to_left():
    petition = make_petition(slug="free-press", goal=75000)
    make_signature(petition)
    html = Client().get("/fa/p/free-press/badge/").content.decode()
    assert 'dir="rtl"' in html and "۷۵٬۰۰۰" in html


def test_the_badge_is_public_cacheable_and_framable_as_the_petition_allows():
    open_to_all = make_petition()
    listed = make_petition(embed_sites="https://news.example.org")
    response = Client().get(f"/en/p/{open_to_all.slug}/badge/")
    assert "public" in response["Cache-Control"] and not response.cookies
    assert "frame-ancestors *" in response["Content-Security-Policy"]
    assert "X-Frame-Options" not in response
    restricted = Client().get(f"/en/p/{listed.slug}/badge/")
    assert "frame-ancestors https://news.example.org" in restricted["Content-Security-Policy"]


def test_a_drafts_badge_is_not_found():
    draft = make_petition(status="draft")
    assert Client().get(f"/en/p/{draft.slug}/badge/").status_code == 404


def test_a_persian_only_petitions_badge_is_in_persian():
    petition = make_petition(title_en="", summary_en="", letter_en="", original_language="fa")
    response = Client().get(f"/en/p/{petition.slug}/badge/")
    assert response.status_code == 302 and response.url == f"/fa/p/{petition.slug}/badge/"
