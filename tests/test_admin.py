import pytest

from petitions.models import Petition
from tests.factories import PETITION_ADMIN_INLINES, make_petition, petition_admin_form
from tests.html import elements

pytestmark = pytest.mark.django_db


def test_change_form_puts_persian_inputs_right_to_left(admin_client):
    petition = make_petition()
    html = admin_client.get(f"/admin/petitions/petition/{petition.pk}/change/").content.decode()
    for name in ("title_fa", "summary_fa", "letter_fa", "addressed_to_fa"):
        field = (elements(html, "input", name=name) or elements(html, "textarea", name=name))[0]
        assert (field["lang"], field["dir"]) == ("fa", "rtl"), name
    title_en = elements(html, "input", name="title_en")[0]
    assert (title_en["lang"], title_en["dir"]) == ("en", "ltr")


def test_change_form_links_to_a_preview_in_both_languages(admin_client):
    petition = make_petition(slug="free-press")
    html = admin_client.get(f"/admin/petitions/petition/{petition.pk}/change/").content.decode()
    assert 'href="/en/p/free-press/"' in html
    assert 'href="/fa/p/free-press/"' in html


def test_changelist_filters_by_status_and_searches_titles(admin_client):
    make_petition(title_en="Save the river")
    make_petition(title_en="Another cause", status=Petition.Status.CLOSED)

    found = admin_client.get("/admin/petitions/petition/", {"q": "river"}).content.decode()
    assert "Save the river" in found
    assert "Another cause" not in found

    closed = admin_client.get("/admin/petitions/petition/", {"status__exact": "closed"})
    assert "Another cause" in closed.content.decode()
    assert "Save the river" not in closed.content.decode()


def test_changelist_searches_persian_titles(admin_client):
    make_petition(title_fa="نجات دریاچه ارومیه")
    assert (
        "نجات دریاچه"
        in admin_client.get("/admin/petitions/petition/", {"q": "ارومیه"}).content.decode()
    )


def test_admin_refuses_to_open_a_petition_with_half_its_persian_text(admin_client):
    petition = make_petition(status=Petition.Status.DRAFT, letter_fa="")
    data = {
        "status": "open",
        "slug": petition.slug,
        "starter_name": petition.starter_name,
        "addressed_to_en": petition.addressed_to_en,
        "addressed_to_fa": petition.addressed_to_fa,
        "original_language": "en",
        "title_en": petition.title_en,
        "title_fa": petition.title_fa,
        "summary_en": petition.summary_en,
        "summary_fa": petition.summary_fa,
        "letter_en": petition.letter_en,
        "letter_fa": "",
        "goal": "1000",
        "signer_list": "full",
        **PETITION_ADMIN_INLINES,
    }
    response = admin_client.post(f"/admin/petitions/petition/{petition.pk}/change/", data)
    assert response.status_code == 200
    assert "A language is published with its title, summary and letter" in (
        response.content.decode()
    )
    petition.refresh_from_db()
    assert petition.status == Petition.Status.DRAFT

    data["single_language"] = "on"
    response = admin_client.post(f"/admin/petitions/petition/{petition.pk}/change/", data)
    assert response.status_code == 302
    petition.refresh_from_db()
    assert petition.status == Petition.Status.OPEN


def test_an_organisers_form_left_open_does_not_overwrite_a_later_change(admin_client):
    """The form was read, then the petition changed (here: a moderator published a new title);
    saving the old form is refused and changes nothing. Opened again, it saves."""
    petition = make_petition(status=Petition.Status.DRAFT, title_en="Read title")
    html = admin_client.get(f"/admin/petitions/petition/{petition.pk}/change/").content.decode()
    read_version = elements(html, "input", name="read_version")[0]["value"]
    data = petition_admin_form(petition, status="draft")
    Petition.objects.filter(pk=petition.pk).update(
        title_en="Changed meanwhile", status=Petition.Status.OPEN
    )

    url = f"/admin/petitions/petition/{petition.pk}/change/"
    response = admin_client.post(url, data | {"read_version": read_version})
    assert response.status_code == 200
    assert "changed by someone else since you opened it" in response.content.decode()
    petition.refresh_from_db()
    assert (petition.title_en, petition.status) == ("Changed meanwhile", Petition.Status.OPEN)

    html = admin_client.get(url).content.decode()
    fresh = elements(html, "input", name="read_version")[0]["value"]
    assert admin_client.post(url, data | {"read_version": fresh}).status_code == 302
    petition.refresh_from_db()
    assert petition.title_en == "Read title"
