"""'Show my name' follows the country chosen (issue 20): choosing Iran unticks it, another
country brings back the page's default, and a signer's own tick or untick is never overridden."""

from playwright.sync_api import expect

from tests.factories import make_petition


def test_choosing_iran_unticks_show_my_name_on_an_english_page(page, live_server, transactional_db):
    petition = make_petition()
    page.goto(f"{live_server.url}/en/p/{petition.slug}/")
    box, country = page.locator("#id_show_name"), page.locator("#id_country")
    expect(box).to_be_checked()
    expect(page.get_by_text("This starts unticked for anyone in Iran")).to_be_visible()

    country.select_option("IR")
    expect(box).not_to_be_checked()
    country.select_option("GB")
    expect(box).to_be_checked()

    country.select_option("IR")
    box.check()  # their own choice stands from now on
    country.select_option("GB")
    country.select_option("IR")
    expect(box).to_be_checked()


def test_another_country_leaves_it_unticked_on_a_persian_page(page, live_server, transactional_db):
    petition = make_petition()
    page.goto(f"{live_server.url}/fa/p/{petition.slug}/")
    box = page.locator("#id_show_name")
    expect(page.locator("#id_country")).to_have_value("IR")
    expect(box).not_to_be_checked()
    page.locator("#id_country").select_option("GB")
    expect(box).not_to_be_checked()
