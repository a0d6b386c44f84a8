import re
import pytest
from playwright.sync_api import expect
from signatures.models import Signature
from tests.factories import make_petition

@pytest.mark.parametrize("guard", [True, False])
def test_second_click_while_first_in_flight(page, live_server, transactional_db, guard):
    if not guard:
        def unguarded(route):
            body = route.fetch().text().replace("guardForms();", "")
            route.fulfill(body=body, content_type="application/javascript")
        page.route(re.compile(r"petition\.js"), unguarded)
    petition = make_petition()
    held, posts = [], []
    def hold_first(route):
        posts.append(route.request.url)
        if not held:
            held.append(route)
        else:
            route.continue_()
    page.route(re.compile(r"/sign/$"), hold_first)
    page.goto(f"{live_server.url}/en/p/{petition.slug}/")
    page.locator("#id_name").fill("Sara Karimi")
    page.locator("#id_email").fill("sara@example.com")
    page.locator("#id_country").select_option("GB")
    button = page.locator("form[data-sign-form] button[type=submit]")
    button.click()
    print("after first click held", len(held), "posts", len(posts))
    button.click()
    print("after second click posts", len(posts), "aria-disabled", button.get_attribute("aria-disabled"))
    try:
        held[0].continue_()
    except Exception as exc:
        print("continue held failed:", exc)
    expect(page).to_have_url(re.compile("/thanks/$"))
    print("GUARD", guard, "POSTS", len(posts), "ROWS", Signature.objects.filter(petition=petition).count())
