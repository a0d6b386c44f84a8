"""The admin in Persian: a language choice that sticks, every label translated, Solar
Hijri dates and Persian digits, calendar-aware date filters, and searches normalised like the
sign form."""

import datetime
import re
from html.parser import HTMLParser

import jdatetime
import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from lib import persian
from lib.models import AuditEntry
from petitions.models import Petition
from signatures.models import Signature, SignatureCount
from tests.factories import (
    PETITION_ADMIN_INLINES,
    make_petition,
    make_signature,
    petition_admin_form,
)
from tests.html import elements, html_root

pytestmark = pytest.mark.django_db

ADMIN = "/" + settings.ADMIN_URL


@pytest.fixture
def persian_admin(admin_client):
    admin_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fa"
    return admin_client


class _Text(HTMLParser):
    """The visible text of the page's content and header, leaving out what users typed (rows of
    the result table, form values) and code-like bits."""

    SKIP = {"script", "style", "code", "pre", "option", "textarea", "bdi"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.skip = 0
        self.chunks: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        skipped = (
            tag in self.SKIP
            or attrs.get("lang") == "en"
            or attrs.get("dir") == "ltr"
            or tag == "tbody"
        )
        if tag not in ("br", "input", "img", "meta", "link", "hr"):
            self.stack.append(tag)
            self.skip += skipped
            if skipped:
                self.stack[-1] = "!" + tag

    def handle_endtag(self, tag):
        while self.stack:
            top = self.stack.pop()
            if top.startswith("!"):
                self.skip -= 1
            if top.lstrip("!") == tag:
                break

    def handle_data(self, data):
        if not self.skip:
            self.chunks.append(data)


def english_words(html: str) -> list[str]:
    parser = _Text()
    parser.feed(html)
    text = " ".join(parser.chunks)
    # Addresses and paths quoted in help texts stay Latin in Persian too.
    text = re.sub(r"https?://\S+|\S*@\S+|/\S+/", " ", text)
    # The signed-in username, and the technical terms axes keeps in its own Persian.
    allowed = {
        "admin",
        "IP",
        "GET",
        "POST",
        "HTTP",
        "sha256",
        "User",
        "Agent",
        "JSON",
        "Lines",
        "CSV",
        "PDF",
        "oEmbed",
    }
    # axes records a request without a path as "<unknown>", which its filter lists as it is.
    allowed |= {"unknown"}
    return [w for w in re.findall(r"[A-Za-z]{2,}", text) if w not in allowed]


def test_fa_admin_address_chooses_the_persian_admin_and_it_sticks(client):
    response = client.get(f"/fa/{settings.ADMIN_URL}signatures/signature/?q=x")
    assert response.status_code == 302
    assert response["Location"] == f"{ADMIN}signatures/signature/?q=x"[: -len("?q=x")]
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "fa"
    assert int(cookie["max-age"]) >= 300 * 24 * 3600  # outlives the browser session
    login = client.get(f"{ADMIN}login/")
    assert html_root(login.content.decode())["lang"] == "fa"


def test_the_admin_offers_its_own_language_choice_which_persists(admin_client):
    page = admin_client.get(ADMIN).content.decode()
    buttons = elements(page, "button", name="language")
    assert {b["value"] for b in buttons} == {"en", "fa"}
    response = admin_client.post("/i18n/setlang/", {"language": "fa", "next": ADMIN})
    assert response.status_code == 302 and response["Location"] == ADMIN
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "fa"
    again = admin_client.get(ADMIN).content.decode()
    assert html_root(again)["lang"] == "fa"
    assert html_root(again)["dir"] == "rtl"


@pytest.mark.parametrize(
    "page",
    [
        "",
        "petitions/petition/",
        "petitions/petition/add/",
        "signatures/signature/",
        "lib/auditentry/",
        "signatures/blockedattempt/",
        "axes/accessattempt/",
        "axes/accesslog/",
        "django_tasks_database/dbtaskresult/",
    ],
)
def test_persian_admin_pages_have_no_english_labels(persian_admin, page):
    petition = make_petition()
    make_signature(petition)
    html = persian_admin.get(ADMIN + page).content.decode()
    assert english_words(html) == [], " ".join(english_words(html))


def test_persian_admin_detail_pages_have_no_english_labels(persian_admin):
    petition = make_petition()
    signature = make_signature(petition, name="سارا کریمی", confirmed_at=timezone.now())
    for url in (
        f"{ADMIN}petitions/petition/{petition.pk}/change/",
        f"{ADMIN}signatures/signature/{signature.pk}/change/",
    ):
        html = persian_admin.get(url).content.decode()
        assert english_words(html) == [], url + " " + " ".join(english_words(html))


def test_persian_signature_list_shows_solar_hijri_dates_and_persian_digits(persian_admin):
    petition = make_petition()
    signed = timezone.make_aware(datetime.datetime(2026, 12, 1, 7, 35))
    make_signature(petition, created_at=signed)
    html = persian_admin.get(f"{ADMIN}signatures/signature/").content.decode()
    local = timezone.localtime(signed)
    jalali = jdatetime.date.fromgregorian(date=local.date())
    expected = persian.persian_digits(
        f"{jalali.day} {persian.PERSIAN_MONTHS[jalali.month - 1]} {jalali.year}، {local:%H:%M}"
    )
    assert expected in html  # "۱۰ آذر ۱۴۰۵، ۰۷:۳۵"
    assert "2026" not in html.split('id="result_list"')[1].split("</table>")[0]


def test_english_signature_list_shows_gregorian_dates(admin_client):
    petition = make_petition()
    make_signature(petition, created_at=timezone.make_aware(datetime.datetime(2026, 12, 1, 7, 35)))
    html = admin_client.get(f"{ADMIN}signatures/signature/").content.decode()
    assert "1 December 2026, 07:35" in html


def test_admin_counts_are_grouped_in_the_readers_digits(admin_client):
    petition = make_petition()
    SignatureCount.set_total(petition.pk, 52_223)
    english = admin_client.get(f"{ADMIN}petitions/petition/").content.decode()
    assert "52,223" in english
    admin_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fa"
    persian_html = admin_client.get(f"{ADMIN}petitions/petition/").content.decode()
    assert "۵۲٬۲۲۳" in persian_html
    assert "52223" not in persian_html


def test_persian_date_filter_uses_the_solar_hijri_month(persian_admin):
    petition = make_petition()
    today = timezone.localdate()
    jalali = jdatetime.date.fromgregorian(date=today)
    month_start = jdatetime.date(jalali.year, jalali.month, 1).togregorian()
    first_moment = timezone.make_aware(datetime.datetime.combine(month_start, datetime.time(1)))
    inside = make_signature(petition, name="Inside", created_at=first_moment)
    before = make_signature(
        petition, name="Before", created_at=first_moment - datetime.timedelta(hours=2)
    )
    html = persian_admin.get(f"{ADMIN}signatures/signature/").content.decode()
    link = re.search(r'<a href="([^"]+)"[^>]*>این ماه</a>', html)
    assert link, "the 'this month' link"
    filtered = persian_admin.get(
        f"{ADMIN}signatures/signature/" + link.group(1).replace("&amp;", "&")
    ).content.decode()
    assert inside.name in filtered
    assert before.name not in filtered
    # The years that have rows are listed in the reader's calendar and digits.
    assert f">{persian.persian_digits(str(jalali.year))}</a>" in html


def test_choosing_a_year_lists_its_months(persian_admin):
    petition = make_petition()
    make_signature(petition)
    html = persian_admin.get(f"{ADMIN}signatures/signature/").content.decode()
    year = jdatetime.date.today().year
    link = re.search(rf'<a href="([^"]+)"[^>]*>{persian.persian_digits(str(year))}</a>', html)
    months = persian_admin.get(
        f"{ADMIN}signatures/signature/" + link.group(1).replace("&amp;", "&")
    ).content.decode()
    assert f"فروردین {persian.persian_digits(str(year))}" in months


@pytest.mark.parametrize(
    ("typed", "finds"),
    [
        ("علي", "علی رضایی"),
        ("كرمان", "کرمان"),
        ("reza۱۳۶۰@example.com", "reza1360@example.com"),
    ],
)
def test_admin_search_normalises_what_is_typed_like_the_sign_form(admin_client, typed, finds):
    petition = make_petition()
    make_signature(petition, name="علی رضایی", locality="کرمان", email="reza1360@example.com")
    make_signature(petition, name="Someone Else", locality="Leeds")
    html = admin_client.get(f"{ADMIN}signatures/signature/", {"q": typed}).content.decode()
    assert finds in html
    assert "Someone Else" not in html


def test_petition_search_normalises_arabic_letters(admin_client):
    make_petition(title_fa="نجات دریاچه کرمان")
    html = admin_client.get(f"{ADMIN}petitions/petition/", {"q": "كرمان"}).content.decode()
    assert "نجات دریاچه کرمان" in html


def test_country_filter_lists_only_countries_signers_came_from(admin_client):
    petition = make_petition()
    make_signature(petition, country="IR")
    make_signature(petition, country="CA")
    html = admin_client.get(f"{ADMIN}signatures/signature/").content.decode()
    assert "?country=IR" in html and "?country=CA" in html
    assert "?country=AE" not in html and "?country=FR" not in html


def test_signature_list_costs_the_same_queries_for_5_rows_as_for_50(admin_client):
    petition, other = make_petition(), make_petition()

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin_client.get(f"{ADMIN}signatures/signature/").status_code == 200
        return len(captured)

    for n in range(5):
        make_signature(petition if n % 2 else other)
    queries()  # the first view fills the country filter's cache
    few = queries()
    for n in range(45):
        make_signature(petition if n % 2 else other)
    assert queries() == few


def test_signature_list_shows_the_petition_as_a_short_label(admin_client):
    petition = make_petition(title_en="A very long petition title that would wrap one word a line")
    make_signature(petition)
    html = admin_client.get(f"{ADMIN}signatures/signature/").content.decode()
    label = elements(html, "span", class_="petition-label")[0]
    assert label["title"] == petition.title_en
    assert "A very long petition title that…" in html


def test_signature_page_explains_itself_and_invalidates_with_a_reason(admin_client):
    petition = make_petition()
    signature = make_signature(petition, name="Omid S.")
    page = admin_client.get(f"{ADMIN}signatures/signature/{signature.pk}/change/").content.decode()
    assert f"({petition.pk})" not in page
    assert "Ip hash" not in page and "Email canonical" not in page
    assert "IP hash" in page and "Email as compared" in page
    url = f"{ADMIN}signatures/signature/{signature.pk}/invalidate/"

    admin_client.post(url, {"reason": ""})
    signature.refresh_from_db()
    assert signature.status == Signature.Status.COUNTED  # no reason, no change

    admin_client.post(url, {"reason": "same person, third address"})
    signature.refresh_from_db()
    assert signature.status == Signature.Status.INVALIDATED
    entry = AuditEntry.objects.get(action=AuditEntry.Action.SIGNATURE_INVALIDATED)
    assert entry.detail["note"] == "same person, third address"

    admin_client.post(url, {"reason": "checked: a real person", "restore": "1"})
    signature.refresh_from_db()
    assert signature.status == Signature.Status.COUNTED


def test_opening_a_petition_says_it_is_published(admin_client):
    petition = make_petition(status=Petition.Status.DRAFT)
    data = petition_admin_form(petition, status="open")
    response = admin_client.post(
        f"{ADMIN}petitions/petition/{petition.pk}/change/", data, follow=True
    )
    assert "Published: the petition is public and taking signatures." in response.content.decode()


def test_petition_form_explains_the_address_and_what_open_means(admin_client):
    html = admin_client.get(f"{ADMIN}petitions/petition/add/").content.decode()
    assert "The petition&#x27;s web address" in html or "The petition's web address" in html
    assert "Open: published at once" in html


def test_a_new_petition_can_be_previewed_from_its_first_save(admin_client):
    add = admin_client.get(f"{ADMIN}petitions/petition/add/").content.decode()
    assert elements(add, "input", name="_preview")
    data = {
        "status": "draft",
        "slug": "first-draft",
        "starter_name": "Sara Karimi",
        "addressed_to_en": "The Minister",
        "original_language": "en",
        "title_en": "A first draft",
        "summary_en": "Why it matters.",
        "letter_en": "Dear Minister,",
        "goal": "1000",
        "signer_list": "full",
        "_preview": "Save and preview",
        **PETITION_ADMIN_INLINES,
    }
    response = admin_client.post(f"{ADMIN}petitions/petition/add/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert response["Location"] == "/en/p/first-draft/"
    preview = admin_client.get(response["Location"])
    assert preview.status_code == 200 and "A first draft" in preview.content.decode()


def test_moderation_messages_count_in_the_readers_digits(admin_client):
    petition = make_petition()
    signatures = [make_signature(petition) for _ in range(3)]
    admin_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fa"
    response = admin_client.post(
        f"{ADMIN}signatures/signature/",
        {"action": "invalidate", "_selected_action": [s.pk for s in signatures]},
        follow=True,
    )
    assert "۳ امضا باطل شد." in response.content.decode()


def test_searching_a_whole_address_uses_the_email_index(admin_client):
    petition = make_petition()
    make_signature(petition, name="Reza", email="Reza1360@Example.com")
    make_signature(petition, name="Other", email="reza1360@example.com.evil")
    with CaptureQueriesContext(connection) as captured:
        html = admin_client.get(
            f"{ADMIN}signatures/signature/", {"q": " REZA۱۳۶۰@example.com "}
        ).content.decode()
    assert "Reza1360@Example.com" in html and "example.com.evil" not in html
    searched = [q["sql"] for q in captured if '"email_canonical" =' in q["sql"]]
    assert searched
    assert not [q["sql"] for q in captured if "LIKE" in q["sql"].upper()]


def test_the_address_help_shows_its_placeholder_as_text(admin_client):
    page = admin_client.get(f"{ADMIN}petitions/petition/add/").content.decode()
    assert "/en/p/&lt;address&gt;/" in page


def test_the_two_language_columns_are_named_by_what_they_mean(admin_client):
    make_petition(status=Petition.Status.PENDING, email_confirmed_at=timezone.now())
    petitions = admin_client.get(f"{ADMIN}petitions/petition/").content.decode()
    queue = admin_client.get(f"{ADMIN}petitions/reviewqueue/").content.decode()
    assert "Original language" in petitions
    assert "Languages it is written in" in queue
    assert "Written in" not in petitions + queue


def test_persian_review_queue_updates_and_packs_show_solar_hijri_dates(persian_admin, settings):
    from petitions.models import DeliveryPack, Update

    settings.DELIVERY_PACK_ROOT = "/nonexistent"
    moment = timezone.make_aware(datetime.datetime(2026, 12, 6, 11, 36))
    petition = make_petition(status=Petition.Status.PENDING, email_confirmed_at=moment)
    Update.objects.create(petition=petition, title_fa="خبر", body_fa="متن", created_at=moment)
    DeliveryPack.objects.create(
        petition=petition, requested_at=moment, names_total=41780, names_done=41780
    )
    expected = persian.format_datetime(moment, "fa")
    for page in ("petitions/reviewqueue/", "petitions/update/", "petitions/deliverypack/"):
        html = persian_admin.get(ADMIN + page).content.decode()
        assert expected in html, page
        assert "دسامبر" not in html and "2026" not in html, page
    packs = persian_admin.get(f"{ADMIN}petitions/deliverypack/").content.decode()
    assert "۴۱٬۷۸۰" in packs


def test_a_persian_form_with_an_error_says_so_in_persian(persian_admin):
    page = persian_admin.post(f"{ADMIN}petitions/update/add/", {}).content.decode()
    assert "Please correct" not in page
    assert "Constraint" not in page
