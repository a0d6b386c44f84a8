"""Every signature records where it came from: the petition page, the widget and the site that
framed it, or a shared link's ?source= tag; the admin counts them per petition."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from lib.normalise import clean_source
from signatures.models import Signature
from tests.factories import make_petition, make_signature, sign_form_data

pytestmark = pytest.mark.django_db

BROWSER = {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}


def hidden_fields(html: str) -> dict[str, str]:
    form = html[html.index("<form") : html.index("</form>")]
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form))


def signed(petition, **fields) -> Signature:
    data = sign_form_data(petition, **fields)
    response = Client().post(f"/en/p/{petition.slug}/sign/", data, headers=BROWSER)
    assert response.status_code == 302, response.content.decode()[:500]
    return Signature.objects.get(petition=petition, email=data["email"])


def test_a_signature_from_the_petition_page_comes_from_the_page():
    petition = make_petition()
    assert signed(petition).source == "page"


def test_a_shared_links_source_tag_is_carried_by_the_form_into_the_signature(settings):
    settings.SIGN_MIN_FILL_SECONDS = 0
    petition = make_petition()
    html = Client().get(f"/en/p/{petition.slug}/?source=Newsletter-June").content.decode()
    fields = hidden_fields(html)
    assert fields["source"] == "link:newsletter-june"
    assert signed(petition, source=fields["source"]).source == "link:newsletter-june"


def test_the_plain_petition_page_carries_no_source_field():
    petition = make_petition()
    assert "source" not in hidden_fields(Client().get(f"/en/p/{petition.slug}/").content.decode())


def test_a_form_with_errors_keeps_its_source():
    petition = make_petition()
    response = Client().post(
        f"/en/p/{petition.slug}/sign/",
        sign_form_data(petition, email="x", source="link:radio"),
        headers=BROWSER,
    )
    assert response.status_code == 400
    assert hidden_fields(response.content.decode())["source"] == "link:radio"


def test_a_signature_from_the_widget_names_the_site_that_framed_it():
    petition = make_petition()
    signature = signed(petition, embed="1", source="widget:News.Example.org")
    assert signature.source == "widget:news.example.org"


def test_a_widget_signature_without_its_host_falls_back_to_the_posts_referer():
    petition = make_petition()
    data = sign_form_data(petition, embed="1", source="widget")
    Client().post(
        f"/en/p/{petition.slug}/sign/",
        data,
        headers={"Referer": "https://blog.example.net/post/1", "Sec-Fetch-Site": "same-origin"},
    )
    assert Signature.objects.get(email=data["email"]).source == "widget:blog.example.net"


def test_a_widget_signature_with_no_host_known_counts_as_the_widgets():
    petition = make_petition()
    assert signed(petition, embed="1", source="").source == "widget"


def test_a_page_form_cannot_claim_to_be_the_widget():
    petition = make_petition()
    assert signed(petition, source="widget:elsewhere.example").source == "page"


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("link:Spring Campaign!", "link:springcampaign"),
        ("link:تهران", "page"),
        ("link:ｆｕｌｌ", "link:full"),
        ("widget:localhost:8123", "widget:localhost:8123"),
        ("widget:", "widget"),
        ("mail:x", "page"),
        ("", "page"),
        ("link:" + "a" * 200, "link:" + "a" * 75),
    ],
)
def test_sources_are_normalised_to_short_lower_case_ascii(given, stored):
    assert clean_source(given) == stored


def test_a_row_inserted_without_a_source_comes_from_the_page():
    """The benchmark seeds signatures with plain SQL that names no source."""
    petition = make_petition()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO signatures_signature (petition_id, name, email, email_canonical, country,"
            " locality, comment, show_name, consent_contact, language, status, created_at,"
            " ip_hash) VALUES (%s, 'Sara', 'raw@example.com', 'raw@example.com', 'GB', '', '',"
            " true, false, 'en', 'counted', CURRENT_TIMESTAMP, '')",
            [petition.pk],
        )
    assert Signature.objects.get(email="raw@example.com").source == "page"


def test_the_admin_counts_a_petitions_signatures_by_source_in_one_query(admin_client):
    petition = make_petition()
    other = make_petition()
    for source in ("page", "page", "widget:news.example.org", "link:radio"):
        make_signature(petition, source=source)
    make_signature(petition, source="link:radio", status=Signature.Status.INVALIDATED)
    make_signature(other, source="widget:elsewhere.example")

    with CaptureQueriesContext(connection) as queries:
        html = admin_client.get(f"/admin/petitions/petition/{petition.pk}/change/").content
    html = html.decode()
    table = html[html.index('<table class="source-counts">') :]
    table = table[: table.index("</table>")]
    rows = re.findall(r"<tr><td>(.*?)</td><td>(\d+)</td><td>(\d+)</td></tr>", table)
    assert rows == [
        ('a shared link, tagged <bdi dir="ltr">radio</bdi>', "1", "2"),
        ("the petition page", "2", "2"),
        ('the widget, on <bdi dir="ltr">news.example.org</bdi>', "1", "1"),
    ]
    assert len([q for q in queries if "GROUP BY" in q["sql"] and '"source"' in q["sql"]]) == 1
