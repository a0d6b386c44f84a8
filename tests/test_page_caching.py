"""The petition page most readers get is the same bytes for everyone and says so, so that any HTTP
cache in front can serve it; what is personal to one visitor is never marked cacheable."""

import re
import time

import pytest
from django.contrib.messages import constants
from django.test import Client

from lib.forms import FORM_TOKEN_STEP_SECONDS
from petitions.models import Petition
from signatures.counting import COUNT_CACHE_SECONDS
from signatures.models import Signature
from tests.factories import make_petition, make_staff, sign_form_data

pytestmark = pytest.mark.django_db


def cache_control(response) -> set[str]:
    return {part.strip() for part in response.get("Cache-Control", "").split(",")}


@pytest.fixture
def clock(monkeypatch):
    """time.time() as the test sets it: `clock.at(t)`."""

    class Clock:
        now = 1_800_000_000.0

        def at(self, when: float) -> None:
            self.now = when

    pinned = Clock()
    monkeypatch.setattr(time, "time", lambda: pinned.now)
    return pinned


def across_a_token_step(clock, *requests):
    """The first request 1 ms before the sign form's token moves to its next step, the next 1 ms
    after it, and so on: the worst case for comparing pages, on every run."""
    step = FORM_TOKEN_STEP_SECONDS
    start = (clock.now // step + 1) * step - 0.001
    answers = []
    for n, request in enumerate(requests):
        clock.at(start + n * 0.002)
        answers.append(request())
    return answers


def without_form_token(content: bytes) -> bytes:
    # The sign form's token moves every FORM_TOKEN_STEP_SECONDS: two pages a step apart differ
    # there and only there.
    return re.sub(rb'(name="started" value=")[^"]*"', rb'\1"', content)


def test_two_anonymous_visitors_get_identical_public_pages(clock):
    petition = make_petition()
    first = Client().get(f"/en/p/{petition.slug}/")
    second = Client().get(f"/en/p/{petition.slug}/")  # the same instant: the same token

    assert first.status_code == second.status_code == 200
    assert first.content == second.content
    assert {"public", "max-age=10", "stale-while-revalidate=60"} <= cache_control(first)
    assert "Cookie" in first["Vary"]
    assert not first.cookies  # no CSRF cookie, no session: nothing per visitor


def test_a_visitor_whose_browser_sends_no_cookies_signs_from_the_shared_page(settings):
    settings.SIGN_MIN_FILL_SECONDS = 0
    petition = make_petition()
    html = Client().get(f"/fa/p/{petition.slug}/").content.decode()
    form = html[html.index("<form") : html.index("</form>")]
    action = re.search(r'action="([^"]+)"', form).group(1)
    hidden = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form))

    # A browser with cookies blocked: every request starts without any, and Django's CSRF check
    # is on as in production.
    visitor = Client(enforce_csrf_checks=True)
    response = visitor.post(
        action,
        hidden | {"name": "سارا کریمی", "email": "no-cookies@example.com", "country": "IR"},
        headers={"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"},
    )
    assert response.status_code == 302
    assert Signature.objects.filter(petition=petition, email="no-cookies@example.com").exists()


def test_share_trackers_in_the_address_get_the_same_page(clock):
    petition = make_petition()
    plain, tracked = across_a_token_step(
        clock,
        lambda: Client().get(f"/en/p/{petition.slug}/"),
        lambda: Client().get(f"/en/p/{petition.slug}/?fbclid=abc&utm_source=x"),
    )
    assert "fbclid" not in tracked.content.decode()  # the language links point at the page itself
    assert b'name="started" value="' in plain.content
    assert without_form_token(tracked.content) == without_form_token(plain.content)
    assert "public" in cache_control(tracked)


def test_a_returning_supporters_page_is_the_anonymous_visitors_public_bytes(clock):
    first, second = make_petition(), make_petition()
    supporter = Client()
    supporter.post(f"/en/p/{first.slug}/sign/", sign_form_data(first, name="Sara Karimi"))
    assert "supporter" in supporter.cookies

    for petition in (first, second):  # signed from this browser, and not yet
        for path in (f"/en/p/{petition.slug}/", f"/fa/p/{petition.slug}/embed/"):
            theirs = supporter.get(path)  # the same instant: the same form token
            anonymous = Client().get(path)
            assert theirs.content == anonymous.content, path
            assert {"public", "max-age=10"} <= cache_control(theirs), path
            assert "private" not in cache_control(theirs), path


def test_the_personal_answer_is_private_and_offers_one_click(client):
    first, second = make_petition(), make_petition()
    client.post(f"/en/p/{first.slug}/sign/", sign_form_data(first, name="Sara Karimi"))

    response = client.get(f"/en/p/{second.slug}/me/")
    assert response.status_code == 200
    assert "Sign as <bdi>Sara K.</bdi>" in response.content.decode()
    assert {"private", "no-store"} <= cache_control(response)
    assert "public" not in cache_control(response)
    assert "Cookie" in response["Vary"]


def test_an_anonymous_visitor_gets_an_empty_private_personal_answer(django_assert_num_queries):
    petition = make_petition()
    with django_assert_num_queries(0):
        response = Client().get(f"/en/p/{petition.slug}/me/")
    assert response.status_code == 204
    assert not response.content
    assert {"private", "no-store"} <= cache_control(response)


def test_the_full_form_asked_for_by_not_you_is_private(client):
    petition = make_petition()
    assert "private" in cache_control(client.get(f"/en/p/{petition.slug}/?form=full"))


def test_a_form_with_errors_is_private(client):
    petition = make_petition()
    response = client.post(f"/en/p/{petition.slug}/sign/", sign_form_data(petition, email="x"))
    assert response.status_code == 400
    assert "private" in cache_control(response)


def test_a_page_carrying_a_message_is_private(client):
    petition = make_petition(status=Petition.Status.CLOSED)
    response = client.post(f"/en/p/{petition.slug}/sign/", sign_form_data(petition), follow=True)
    assert [m.level for m in response.context["messages"]] == [constants.ERROR]
    assert "private" in cache_control(response)


def test_an_organisers_draft_preview_is_private(client):
    petition = make_petition(status=Petition.Status.DRAFT)
    client.force_login(make_staff())
    response = client.get(f"/en/p/{petition.slug}/")
    assert response.status_code == 200
    assert "private" in cache_control(response)


def test_an_edited_petition_shows_at_once():
    petition = make_petition(title_en="Before")
    assert "Before" in Client().get(f"/en/p/{petition.slug}/").content.decode()
    petition.title_en = "After"
    petition.save()
    assert "After" in Client().get(f"/en/p/{petition.slug}/").content.decode()


def test_a_petition_made_a_draft_is_gone_at_once():
    """Through the model's save, as the admin does: it drops what the page is kept by."""
    petition = make_petition()
    assert Client().get(f"/en/p/{petition.slug}/").status_code == 200
    petition.status = Petition.Status.DRAFT
    petition.save()
    assert Client().get(f"/en/p/{petition.slug}/").status_code == 404


def test_a_response_that_sets_a_cookie_is_never_sent_public(rf):
    """Whatever a view says, a cookie makes a page personal: say a template gained a CSRF token."""
    from django.http import HttpResponse
    from django.utils.cache import patch_cache_control

    from lib.middleware import NeverSharePersonalMiddleware

    def view(request):
        response = HttpResponse("page")
        patch_cache_control(response, public=True, max_age=10)
        response.set_cookie("csrftoken", "secret-per-visitor")
        return response

    response = NeverSharePersonalMiddleware(view)(rf.get("/en/p/x/"))
    assert "public" not in cache_control(response)
    assert "private" in cache_control(response)


def rendered_templates(request) -> list[str]:
    from django.test.signals import template_rendered

    names = []

    def seen(sender, template, **kwargs):
        names.append(template.name)

    template_rendered.connect(seen)
    try:
        request()
    finally:
        template_rendered.disconnect(seen)
    return names


@pytest.mark.parametrize("path", ["", "embed/"])
def test_a_public_page_is_rendered_once_and_kept_for_its_max_age(clock, path):
    """A server run without nginx, or a visitor nginx passes through, gets the page kept in the
    shared cache: the same bytes, not a second render, until the form token's next step."""
    petition = make_petition()
    url = f"/en/p/{petition.slug}/{path}"
    first = Client().get(url)
    assert rendered_templates(lambda: Client().get(url)) == []
    second = Client().get(url)
    assert second.content == first.content
    assert "public" in cache_control(second)
    clock.at(clock.now + FORM_TOKEN_STEP_SECONDS)
    assert rendered_templates(lambda: Client().get(url)) != []


def test_a_kept_page_shows_a_new_signature_and_an_edit_at_once(client):
    # Real time: the caches' own expiry runs on it.
    petition = make_petition(title_en="Before the edit")
    Client().get(f"/en/p/{petition.slug}/")
    client.post(f"/en/p/{petition.slug}/sign/", sign_form_data(petition))
    time.sleep(COUNT_CACHE_SECONDS + 0.1)  # the count's own cache has expired (real time in Redis)
    assert 'data-count="1"' in Client().get(f"/en/p/{petition.slug}/").content.decode()

    petition.title_en = "After the edit"
    petition.save()
    assert "After the edit" in Client().get(f"/en/p/{petition.slug}/").content.decode()
