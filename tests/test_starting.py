"""Starting a petition without an account: the form, its defences, the emailed link
against a real SMTP server (aiosmtpd), and the starter's own page."""

import datetime
import re
from urllib.parse import unquote

import pytest
from django.core import signing
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from petitions.models import Petition
from petitions.start_views import too_many_message
from petitions.starting import TOKEN_SALT
from tests.factories import make_petition, start_form_data

# Emails are queued when the petition commits, so these tests commit for real.
pytestmark = pytest.mark.django_db(transaction=True)


def submit(client, language="fa", **fields):
    return client.post(f"/{language}/start/", {**start_form_data(**fields), "action": "submit"})


def link_in(message) -> str:
    text = message.get_body(preferencelist=("plain",)).get_content()
    return re.search(r"http://testserver(/\S+/start/link/\S+/)", text).group(1)


def open_link(client, message) -> Petition:
    link = link_in(message)
    response = client.post(link)
    assert response.status_code == 302
    return Petition.objects.get(slug=unquote(response.url.rstrip("/").rsplit("/", 1)[1]))


def test_the_start_page_is_linked_from_the_home_page_and_the_footer(client):
    for language in ("en", "fa"):
        html = client.get(f"/{language}/").content.decode()
        assert html.count(f'href="/{language}/start/"') == 2


def test_the_start_page_is_the_same_for_everyone_and_cacheable(client):
    response = client.get("/fa/start/")
    assert response.status_code == 200
    assert "public" in response["Cache-Control"]
    assert not response.cookies
    html = response.content.decode()
    assert 'name="website"' in html and 'name="started"' in html


def test_submitting_saves_an_unconfirmed_petition_and_emails_the_link_in_persian(client, mailbox):
    response = submit(client, email="sara@example.com")

    assert response.status_code == 302 and response.url == "/fa/start/sent/"
    petition = Petition.objects.get()
    assert petition.status == Petition.Status.DRAFT
    assert petition.languages == ("fa",)
    assert petition.original_language == "fa" and petition.starter_language == "fa"
    assert petition.goal == 500  # typed in Persian digits
    assert petition.starter_email_canonical == "sara@example.com"
    [message] = mailbox.messages
    assert message["To"] == "sara@example.com"
    assert message["Content-Language"] == "fa"
    html = message.get_body(preferencelist=("html",)).get_content()
    assert 'lang="fa" dir="rtl"' in html
    assert link_in(message).startswith("/fa/start/link/")


def test_opening_the_link_confirms_nothing_and_the_button_sends_it_for_review(client, mailbox):
    submit(client)
    link = link_in(mailbox.messages[0])
    for _scanner in range(2):
        page = client.get(link)
        assert page.status_code == 200
        assert 'method="post"' in page.content.decode()
    assert Petition.objects.get().status == Petition.Status.DRAFT

    petition = open_link(client, mailbox.messages[0])
    assert petition.status == Petition.Status.PENDING
    assert petition.email_confirmed_at is not None
    mine = client.get(f"/fa/my/{petition.slug}/")
    assert mine.status_code == 200
    assert 'data-state="pending"' in mine.content.decode()
    assert "private" in mine["Cache-Control"]


def test_an_expired_or_tampered_link_is_refused(client, mailbox, settings):
    submit(client)
    link = link_in(mailbox.messages[0])
    petition = Petition.objects.get()
    forged = signing.dumps([petition.pk, "someone@example.com"], salt=TOKEN_SALT)
    assert client.post(f"/fa/start/link/{forged}/").status_code == 400
    assert client.post(link[:-4] + "abc/").status_code == 400
    settings.START_LINK_MAX_AGE = -1
    assert client.post(link).status_code == 410
    assert Petition.objects.get().status == Petition.Status.DRAFT


def test_a_starter_cannot_see_or_edit_anothers_petition(client, mailbox):
    submit(client, email="first@example.com")
    first = open_link(client, mailbox.messages[0])

    other = client.__class__()
    submit(other, email="second@example.com")
    second = open_link(other, mailbox.messages[1])

    for url in (f"/fa/my/{second.slug}/", f"/fa/my/{second.slug}/edit/"):
        assert client.get(url).status_code == 404
    before = second.title_fa
    data = start_form_data(title_fa="ربوده شده")
    assert client.post(f"/fa/my/{second.slug}/edit/", data).status_code == 404
    second.refresh_from_db()
    assert second.title_fa == before
    # And a stranger with no link at all sees neither.
    stranger = client.__class__()
    assert stranger.get(f"/fa/my/{first.slug}/").status_code == 404


def test_the_starter_edits_while_waiting_but_not_once_published(client, mailbox, admin_user):
    from petitions import moderation

    submit(client)
    petition = open_link(client, mailbox.messages[0])
    data = start_form_data(title_fa="نجات دریاچه ارومیه، همین حالا")
    data.pop("email")
    response = client.post(f"/fa/my/{petition.slug}/edit/", data)
    assert response.status_code == 302
    petition.refresh_from_db()
    assert petition.title_fa == "نجات دریاچه ارومیه، همین حالا"
    assert petition.status == Petition.Status.PENDING

    moderation.publish(petition, by=admin_user)
    response = client.post(f"/fa/my/{petition.slug}/edit/", data | {"title_fa": "دیگر"})
    assert response.status_code == 302
    petition.refresh_from_db()
    assert petition.title_fa == "نجات دریاچه ارومیه، همین حالا"


def test_a_language_is_written_whole_or_not_at_all(client, mailbox):
    response = submit(client, title_en="Save Lake Urmia")
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_letter_en_error"' in html and 'id="id_summary_en_error"' in html
    assert not Petition.objects.exists()

    empty = {f"{name}_fa": "" for name in ("title", "addressed_to", "summary", "letter")}
    response = submit(client, **empty)
    assert response.status_code == 400
    assert not Petition.objects.exists() and not mailbox.messages


def test_both_languages_publish_in_both(client, mailbox):
    submit(
        client,
        language="en",
        title_en="Save Lake Urmia",
        addressed_to_en="The Department of Environment",
        summary_en="The lake is drying up.",
        letter_en="Dear Director,\n\nPlease act.",
    )
    petition = Petition.objects.get()
    assert petition.languages == ("en", "fa")
    assert petition.original_language == "en"
    assert mailbox.messages[0]["Content-Language"] == "en"


def test_the_honeypot_and_a_form_sent_too_fast_save_nothing(client, mailbox, settings):
    assert submit(client, website="http://spam.example").status_code == 400
    settings.START_MIN_FILL_SECONDS = 60
    from lib.forms import form_token
    from petitions.forms import START_FORM_ID

    response = submit(client, started=form_token(START_FORM_ID))
    assert response.status_code == 400
    assert not Petition.objects.exists() and not mailbox.messages


def test_a_sign_forms_token_does_not_start_a_petition(client, mailbox):
    petition = make_petition()
    from lib.forms import form_token

    token = form_token(petition.pk, 0)
    assert submit(client, started=token).status_code == 400
    assert Petition.objects.count() == 1


def test_a_post_from_another_site_is_refused(client, mailbox):
    response = client.post(
        "/fa/start/",
        {**start_form_data(), "action": "submit"},
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert response.status_code == 403
    assert not Petition.objects.exists()


def test_too_many_from_one_connection_are_refused(client, mailbox, settings):
    settings.START_RATE_PER_IP = "2/h"
    assert submit(client).status_code == 302
    assert submit(client).status_code == 302
    response = submit(client)
    assert response.status_code == 429
    assert Petition.objects.count() == 2


def test_an_address_with_too_many_unfinished_petitions_gets_an_email_not_a_new_petition(
    client, mailbox, settings
):
    settings.START_OPEN_PER_EMAIL = 2
    settings.START_EMAIL_RATE_PER_ADDRESS = "10/h"
    answers = [submit(client, email="busy@example.com") for _ in range(3)]
    # The third answer is the same as the first two: the page never says what the address did.
    assert {(a.status_code, a.url) for a in answers} == {(302, "/fa/start/sent/")}
    assert Petition.objects.count() == 2
    last = mailbox.messages[-1]
    text = last.get_body(preferencelist=("plain",)).get_content()
    assert text.count("/fa/start/link/") == 2


def test_asking_for_links_answers_the_same_whether_or_not_the_address_started_anything(
    client, mailbox, settings
):
    settings.START_EMAIL_RATE_PER_ADDRESS = "10/h"
    submit(client, email="sara@example.com")
    mailbox.messages.clear()
    answers = []
    for email in ("sara@example.com", "nobody@example.com"):
        data = {"email": email, "started": start_form_data()["started"]}
        answers.append(client.post("/fa/start/links/", data))
    assert {(a.status_code, a.url) for a in answers} == {(302, "/fa/start/sent/")}
    [message] = mailbox.messages
    assert message["To"] == "sara@example.com"
    assert link_in(message).startswith("/fa/start/link/")


def test_the_preview_shows_the_petition_page_and_saves_nothing(client):
    data = start_form_data()
    response = client.post("/fa/start/", {**data, "action": "preview"})
    assert response.status_code == 200
    html = response.content.decode()
    assert data["title_fa"] in html
    assert 'class="petition__title"' in html  # the public page's own template
    assert "inert" in html
    assert 'value="submit"' in html
    assert not Petition.objects.exists()
    assert "private" in response["Cache-Control"]


def test_going_back_from_the_preview_keeps_what_was_written(client):
    data = start_form_data()
    response = client.post("/fa/start/", {**data, "action": "edit"})
    assert response.status_code == 200
    assert data["letter_fa"].split("\n")[0] in response.content.decode()


@pytest.mark.parametrize(("language", "direction"), [("en", "ltr"), ("fa", "rtl")])
def test_the_starters_pages_have_their_language_direction_and_one_h1(
    client, mailbox, language, direction
):
    from tests.html import elements, html_root

    submit(client, language=language)
    link = link_in(mailbox.messages[0])
    petition = open_link(client, mailbox.messages[0])
    urls = [
        f"/{language}/start/",
        f"/{language}/start/sent/",
        f"/{language}/start/links/",
        link,
        f"/{language}/my/{petition.slug}/",
        f"/{language}/my/{petition.slug}/edit/",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert (html_root(html)["lang"], html_root(html)["dir"]) == (language, direction), url
        assert len(elements(html, "h1")) == 1, url


def test_the_language_fields_are_not_marked_optional_but_one_language_may_stay_empty(client):
    html = client.get("/en/start/").content.decode()
    assert "(optional)" not in html
    assert " required" not in html


def test_previews_and_edits_count_against_a_limit_per_connection(client, settings):
    settings.START_PREVIEW_RATE_PER_IP = "2/h"
    data = start_form_data()
    assert client.post("/fa/start/", {**data, "action": "preview"}).status_code == 200
    assert client.post("/fa/start/", {**data, "action": "edit"}).status_code == 200
    response = client.post("/fa/start/", {**data, "action": "preview"})
    assert response.status_code == 429
    assert 0 < int(response["Retry-After"]) <= 3600
    assert "private" in response["Cache-Control"]
    with translation.override("fa"):
        assert too_many_message() in response.content.decode()
    assert not Petition.objects.exists()


SPAM_TITLE = "Your bank account is locked - call +1 555 0100"


def test_the_first_email_carries_no_title_the_starter_has_not_confirmed(client, mailbox):
    submit(client, title_fa=SPAM_TITLE, email="victim@example.com")
    [message] = mailbox.messages
    with translation.override("fa"):
        generic = _("Confirm your email to send your petition for review")
    assert message["Subject"].strip() == generic
    assert SPAM_TITLE not in message.get_body(preferencelist=("plain",)).get_content()
    assert SPAM_TITLE not in message.get_body(preferencelist=("html",)).get_content()
    assert link_in(message).startswith("/fa/start/link/")


def test_once_confirmed_the_links_email_names_the_petition(client, mailbox, settings):
    settings.START_EMAIL_RATE_PER_ADDRESS = "5/h"
    submit(client, title_fa="نجات دریاچه", email="sara@example.com")
    open_link(client, mailbox.messages[0])
    data = {"email": "sara@example.com", "started": start_form_data()["started"]}
    client.post("/fa/start/links/", data)
    assert "نجات دریاچه" in mailbox.messages[-1].get_body(preferencelist=("plain",)).get_content()


def test_one_address_gets_at_most_one_start_email_an_hour(client, mailbox):
    first = submit(client, email="victim@example.com")
    again = submit(client, email="victim@example.com")
    data = {"email": "victim@example.com", "started": start_form_data()["started"]}
    links = client.post("/fa/start/links/", data)
    # Every answer is the same: the page never says that an email was held back.
    assert {(r.status_code, r.url) for r in (first, again, links)} == {(302, "/fa/start/sent/")}
    assert [m["To"] for m in mailbox.messages] == ["victim@example.com"]
    assert Petition.objects.count() == 1
    submit(client, email="someone.else@example.com")
    assert len(mailbox.messages) == 2


def test_unconfirmed_drafts_stop_counting_once_their_link_has_expired(client, mailbox, settings):
    settings.START_OPEN_PER_EMAIL = 1
    old = make_petition(
        status=Petition.Status.DRAFT,
        starter_email="sara@example.com",
        starter_email_canonical="sara@example.com",
    )
    expired = timezone.now() - datetime.timedelta(seconds=settings.START_LINK_MAX_AGE + 60)
    Petition.objects.filter(pk=old.pk).update(created_at=expired)

    submit(client, email="sara@example.com")

    assert Petition.objects.count() == 2
    [message] = mailbox.messages
    assert len(re.findall(r"/fa/start/link/", link_text(message))) == 1
    assert Petition.objects.get(pk=open_link(client, message).pk) != old


def link_text(message) -> str:
    return message.get_body(preferencelist=("plain",)).get_content()
