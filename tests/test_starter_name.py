"""The starter's name in Persian script on Persian pages (the Persian page read
"به همت Emily Schrader")."""

import pytest

from petitions.demo.loader import load_seed_data
from tests.factories import make_petition

pytestmark = pytest.mark.django_db


def test_persian_page_names_the_starter_in_persian_and_english_in_english(client):
    petition = make_petition(starter_name="Emily Schrader", starter_name_fa="امیلی شریدر")
    persian = client.get(f"/fa/p/{petition.slug}/").content.decode()
    english = client.get(f"/en/p/{petition.slug}/").content.decode()
    assert "<bdi>امیلی شریدر</bdi>" in persian and "Emily Schrader" not in persian
    assert "<bdi>Emily Schrader</bdi>" in english and "امیلی شریدر" not in english


def test_without_a_persian_name_the_persian_page_shows_the_name_as_given(client):
    petition = make_petition(starter_name="Sara Karimi")
    assert "<bdi>Sara Karimi</bdi>" in client.get(f"/fa/p/{petition.slug}/").content.decode()


def test_the_admin_form_has_the_persian_name_beside_the_english_one(admin_client):
    petition = make_petition()
    html = admin_client.get(f"/admin/petitions/petition/{petition.pk}/change/").content.decode()
    assert 'name="starter_name_fa"' in html
    assert 'name="starter_name_fa" lang="fa" dir="rtl"' in html or (
        'lang="fa"' in html.split('name="starter_name_fa"')[1].split(">")[0]
    )


def test_demo_petition_names_its_starter_in_persian():
    assert load_seed_data()["starter_name_fa"] == "امیلی شریدر"
