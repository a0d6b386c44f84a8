"""'Show my name' starts unticked on every page, so that a signer in Iran whose browser runs no
script is not listed by default; a signer's own tick stands whatever country they
choose."""

import pytest
from playwright.sync_api import expect

from tests.factories import make_petition


@pytest.mark.parametrize("language", ["en", "fa"])
def test_show_my_name_starts_unticked_and_only_the_signer_ticks_it(
    page, live_server, transactional_db, language
):
    petition = make_petition()
    page.goto(f"{live_server.url}/{language}/p/{petition.slug}/")
    box, country = page.locator("#id_show_name"), page.locator("#id_country")
    expect(box).not_to_be_checked()
    country.select_option("GB")
    expect(box).not_to_be_checked()
    box.check()
    country.select_option("IR")
    expect(box).to_be_checked()
