"""Dates typed into the admin: Persian or Arabic-Indic digits are read, a Solar Hijri date typed
in the Persian admin is converted, and a year that could be either calendar is refused with a
message saying why, never stored as the wrong day."""

import datetime

import pytest
from django.conf import settings

from petitions.models import Petition
from tests.factories import make_petition, petition_admin_form
from tests.html import elements

pytestmark = pytest.mark.django_db

ADMIN = "/" + settings.ADMIN_URL


def _post_dates(client, petition, language, **dates):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    data = petition_admin_form(petition, status="draft")
    data |= {"outcome": "", "outcome_date": "", "response_date": ""} | dates
    return client.post(f"{ADMIN}petitions/petition/{petition.pk}/change/", data)


@pytest.mark.parametrize("language", ["en", "fa"])
@pytest.mark.parametrize("typed", ["۲۰۲۶-۱۲-۰۵", "٢٠٢٦-١٢-٠٥"])
def test_a_date_typed_in_persian_or_arabic_digits_is_accepted(admin_client, language, typed):
    petition = make_petition(status=Petition.Status.DRAFT)
    response = _post_dates(admin_client, petition, language, outcome_date=typed)
    assert response.status_code == 302, response.content.decode()[-3000:]
    petition.refresh_from_db()
    assert petition.outcome_date == datetime.date(2026, 12, 5)


@pytest.mark.parametrize("typed", ["1405-09-14", "۱۴۰۵-۰۹-۱۴", "1405/9/14"])
def test_a_solar_hijri_date_typed_in_the_persian_admin_is_stored_as_its_gregorian_day(
    admin_client, typed
):
    petition = make_petition(status=Petition.Status.DRAFT)
    response = _post_dates(admin_client, petition, "fa", response_date=typed)
    assert response.status_code == 302
    petition.refresh_from_db()
    assert petition.response_date == datetime.date(2026, 12, 5)


def test_a_solar_hijri_date_and_time_typed_in_the_persian_admin_is_converted(admin_client):
    petition = make_petition(status=Petition.Status.DRAFT)
    response = _post_dates(
        admin_client, petition, "fa", closes_at_0="۱۴۰۵-۰۹-۱۴", closes_at_1="۱۸:۳۰"
    )
    assert response.status_code == 302
    petition.refresh_from_db()
    assert petition.closes_at.astimezone(datetime.UTC).date() == datetime.date(2026, 12, 5)


def test_a_solar_hijri_year_in_the_english_admin_is_refused_with_a_reason(admin_client):
    petition = make_petition(status=Petition.Status.DRAFT)
    response = _post_dates(admin_client, petition, "en", response_date="1405-09-14")
    assert response.status_code == 200
    assert "looks like a Solar Hijri year" in response.content.decode()
    petition.refresh_from_db()
    assert petition.response_date is None


@pytest.mark.parametrize("typed", ["1250-01-01", "1600-01-01", "0405-09-14"])
def test_a_year_of_neither_calendar_is_refused_in_the_persian_admin(admin_client, typed):
    petition = make_petition(status=Petition.Status.DRAFT)
    response = _post_dates(admin_client, petition, "fa", response_date=typed)
    assert response.status_code == 200
    page = response.content.decode()
    assert "سال" in page and "۱۳۰۰" in page
    petition.refresh_from_db()
    assert petition.response_date is None


def test_the_persian_admin_shows_a_stored_date_back_in_solar_hijri(admin_client):
    petition = make_petition(status=Petition.Status.DRAFT, response_date=datetime.date(2026, 12, 5))
    admin_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fa"
    html = admin_client.get(f"{ADMIN}petitions/petition/{petition.pk}/change/").content.decode()
    assert elements(html, "input", name="response_date")[0]["value"] == "1405-09-14"
    admin_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = admin_client.get(f"{ADMIN}petitions/petition/{petition.pk}/change/").content.decode()
    assert elements(html, "input", name="response_date")[0]["value"] == "2026-12-05"


def test_a_solar_hijri_date_shown_back_saves_unchanged(admin_client):
    """The Persian form's own value, sent back as it is, keeps the day."""
    petition = make_petition(status=Petition.Status.DRAFT, response_date=datetime.date(2026, 12, 5))
    admin_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fa"
    url = f"{ADMIN}petitions/petition/{petition.pk}/change/"
    shown = elements(admin_client.get(url).content.decode(), "input", name="response_date")
    response = _post_dates(admin_client, petition, "fa", response_date=shown[0]["value"])
    assert response.status_code == 302
    petition.refresh_from_db()
    assert petition.response_date == datetime.date(2026, 12, 5)
