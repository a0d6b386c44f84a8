"""Thresholds: a site-wide list each petition uses unless it has its own, validated in the
database as in the admin, with the Persian falling back to the English as organisers' text does."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation

from petitions.models import Petition, Threshold
from petitions.thresholds import thresholds_for
from tests.factories import make_petition

pytestmark = pytest.mark.django_db


def site(number, en="a written response", fa="پاسخ کتبی", **fields):
    return Threshold.objects.create(number=number, consequence_en=en, consequence_fa=fa, **fields)


def own(petition, number, en="a meeting", fa="دیدار", **fields):
    return Threshold.objects.create(
        petition=petition, number=number, consequence_en=en, consequence_fa=fa, **fields
    )


def test_a_petition_uses_the_sites_thresholds_by_default():
    site(100_000, "a debate")
    site(10_000)
    petition = make_petition()
    assert [t.number for t in thresholds_for(petition)] == [10_000, 100_000]


def test_a_petition_with_its_own_list_uses_only_its_own():
    site(10_000)
    petition = make_petition(own_thresholds=True)
    own(petition, 500)
    own(petition, 250)
    assert [t.number for t in thresholds_for(petition)] == [250, 500]


def test_an_own_list_left_empty_means_no_thresholds_at_all():
    site(10_000)
    assert thresholds_for(make_petition(own_thresholds=True)) == []


def test_another_petitions_own_list_is_not_the_sites():
    site(10_000)
    other = make_petition(own_thresholds=True)
    own(other, 250)
    assert [t.number for t in thresholds_for(make_petition())] == [10_000]


def test_the_site_list_cannot_hold_a_number_twice():
    site(10_000)
    with pytest.raises(IntegrityError), transaction.atomic():
        site(10_000, "again")


def test_a_petitions_list_cannot_hold_a_number_twice_but_may_share_the_sites():
    site(10_000)
    petition = make_petition(own_thresholds=True)
    own(petition, 10_000)
    with pytest.raises(IntegrityError), transaction.atomic():
        own(petition, 10_000)


def test_a_threshold_of_zero_is_refused_by_the_database():
    with pytest.raises(IntegrityError), transaction.atomic():
        site(0)


def test_a_threshold_of_zero_is_refused_by_validation():
    with pytest.raises(ValidationError) as refused:
        Threshold(number=0, consequence_en="x").full_clean()
    assert "number" in refused.value.message_dict


def test_a_consequence_in_neither_language_is_refused():
    with translation.override("en"), pytest.raises(ValidationError) as refused:
        Threshold(number=5, consequence_en="", consequence_fa="").full_clean()
    assert "Write the consequence in at least one language." in refused.value.messages


def test_a_missing_persian_consequence_falls_back_to_the_english_marked_as_english():
    threshold = site(10_000, "a written response", "")
    shown = threshold.consequence("fa")
    assert (shown.value, shown.lang, shown.dir) == ("a written response", "en", "ltr")
    assert threshold.consequence("en").lang == "en"


def test_an_organiser_cannot_take_a_petition_off_the_sites_thresholds(client):
    from tests.factories import make_staff_in, petition_admin_form

    client.force_login(make_staff_in("Organisers", "olga"))
    petition = make_petition()
    url = f"/admin/petitions/petition/{petition.pk}/change/"
    assert 'name="own_thresholds"' not in client.get(url).content.decode()
    client.post(url, petition_admin_form(petition, status="open", own_thresholds="on"))
    petition.refresh_from_db()
    assert petition.own_thresholds is False


def test_an_own_threshold_with_the_box_unticked_is_refused_in_the_admin(admin_client):
    from tests.factories import petition_admin_form

    petition = make_petition()
    data = petition_admin_form(petition, status="open") | {
        "thresholds-TOTAL_FORMS": "1",
        "thresholds-0-number": "250",
        "thresholds-0-consequence_en": "a meeting",
    }
    response = admin_client.post(f"/admin/petitions/petition/{petition.pk}/change/", data)
    assert response.status_code == 200
    assert "apply only if “its own thresholds” is ticked" in response.content.decode()
    assert not Threshold.objects.exists()
    data["own_thresholds"] = "on"
    response = admin_client.post(f"/admin/petitions/petition/{petition.pk}/change/", data)
    assert response.status_code == 302
    assert [t.number for t in thresholds_for(Petition.objects.get(pk=petition.pk))] == [250]
