"""Tidy Persian spacing: the rules one by one, what they leave alone, and the admin step
that shows the change as a diff for the organiser to accept."""

import pytest
from django.conf import settings

from lib.persian import diff_html, tidy_persian
from petitions.demo.loader import load_seed_data
from tests.factories import make_petition
from tests.html import elements

Z = "\u200c"
ADMIN = "/" + settings.ADMIN_URL


@pytest.mark.parametrize(
    ("pasted", "tidied"),
    [
        # The prefixes می/نمی/بی, spaced or joined.
        ("او میکند", f"او می{Z}کند"),
        ("او می کند", f"او می{Z}کند"),
        ("آنان نمیگویند", f"آنان نمی{Z}گویند"),
        ("مردم بی گناه", f"مردم بی{Z}گناه"),
        # The plural, spaced or joined; after a final ه.
        ("سازمانهای تروریستی", f"سازمان{Z}های تروریستی"),
        ("کتاب ها", f"کتاب{Z}ها"),
        ("شبکههای اجتماعی", f"شبکه{Z}های اجتماعی"),
        # Verb endings after a final ه; the superlative.
        ("تحریم شدهاند.", f"تحریم شده{Z}اند."),
        ("نوشته اند", f"نوشته{Z}اند"),
        ("بزرگ ترین", f"بزرگ{Z}ترین"),
        # Set compounds.
        ("آیت الله", f"آیت{Z}الله"),
        ("بهطور کامل", f"به{Z}طور کامل"),
        # Letters and digits typed on an Arabic keyboard or in ASCII.
        ("علي در كرمان", "علی در کرمان"),
        ("به مدت 43 سال", "به مدت ۴۳ سال"),
        ("٤٣ سال", "۴۳ سال"),
        # Persian punctuation, no space before it, one after.
        ("تهران , شیراز", "تهران، شیراز"),
        ("چرا ?", "چرا؟"),
        ("اول;دوم", "اول؛ دوم"),
        ('گفت "آزادی"', "گفت «آزادی»"),
        ("( متن )", "(متن)"),
        # ZWNJs that do nothing: beside a space, at the end of a word.
        (f"می {Z}کند", f"می{Z}کند"),
        (f"کتاب{Z} خوب", "کتاب خوب"),
        # A sentence running into the next line is a new paragraph.
        ("جمله اول.\nجمله دوم", "جمله اول.\n\nجمله دوم"),
    ],
)
def test_tidy_persian_fixes(pasted, tidied):
    assert tidy_persian(pasted) == tidied


def test_the_text_itself_tells_an_indefinite_ای_from_the_plural():
    # "خامنه" written as a word elsewhere (the title) makes "خامنهای" خامنه + ای ...
    assert tidy_persian("آیت الله خامنهای", context=f"آیت{Z}الله خامنه{Z}ای") == (
        f"آیت{Z}الله خامنه{Z}ای"
    )
    # ... while with no "سازمانه" anywhere, "سازمانهای" is the plural.
    assert tidy_persian("سازمانهای", context="سازمان") == f"سازمان{Z}های"
    assert tidy_persian("استفادهی ابزار", context="استفاده") == f"استفاده{Z}ی ابزار"


@pytest.mark.parametrize(
    "kept",
    [
        "تنها راه",  # ends in ها of its own
        "بارها گفته",  # ر never joins: a ZWNJ changes nothing
        "میز و میوه",  # begin with می but are not verbs
        "الهام",
        "Dear Elon Musk, 43 years",  # no Persian at all
        "پیوند https://example.org/2022 را ببینید",  # digits in an address
        "حساب Twitter2022",  # digits in a Latin word
        "",
    ],
)
def test_tidy_persian_leaves_alone(kept):
    assert tidy_persian(kept) == kept


def test_tidying_twice_changes_nothing_more():
    data = load_seed_data()
    once = tidy_persian(data["letter_fa"], context=data["title_fa"])
    assert tidy_persian(once, context=data["title_fa"]) == once


def test_committed_demo_letter_is_tidied():
    letter = load_seed_data()["letter_fa"]
    for pasted in ("خامنهای", "میکند", "سازمانهای", "آیت الله", "شدهاند"):
        assert pasted not in letter
    assert f"آیت{Z}الله خامنه{Z}ای" in letter
    assert letter.count("\n\n") >= 6  # the paragraphs no longer run together


def test_diff_shows_removed_added_and_the_invisible_zwnj():
    html = str(diff_html("میکند ,", f"می{Z}کند،"))
    assert "<ins>" in html and "<del>" in html
    assert 'class="zwnj"' in html  # the added ZWNJ has a visible mark
    assert "<del>" in diff_html("a  b", "a b")  # a removed space shows too


@pytest.mark.django_db
def test_admin_tidy_step_shows_a_diff_and_applies_only_what_is_ticked(admin_client):
    petition = make_petition(
        title_fa=f"آیت{Z}الله خامنه{Z}ای",
        summary_fa="او میکند",
        letter_fa="آیت الله خامنهای به مدت 43 سال",
    )
    change = admin_client.get(f"{ADMIN}petitions/petition/{petition.pk}/change/").content.decode()
    url = f"{ADMIN}petitions/petition/{petition.pk}/tidy-persian/"
    assert elements(change, "a", href=url)

    page = admin_client.get(url).content.decode()
    boxes = {box["value"]: box for box in elements(page, "input", name="apply")}
    assert set(boxes) == {"summary_fa", "letter_fa"}  # the title needs nothing
    assert page.count('class="tidy-diff"') == 2
    digests = {box["name"]: box["value"] for box in elements(page, "input", type="hidden")}

    response = admin_client.post(
        url,
        {"apply": ["letter_fa"], "before_letter_fa": digests["before_letter_fa"]},
    )
    assert response.status_code == 302
    petition.refresh_from_db()
    assert petition.letter_fa == f"آیت{Z}الله خامنه{Z}ای به مدت ۴۳ سال"
    assert petition.summary_fa == "او میکند"  # not ticked, not changed


@pytest.mark.django_db
def test_admin_tidy_step_does_not_overwrite_a_field_edited_meanwhile(admin_client):
    petition = make_petition(letter_fa="او میکند")
    url = f"{ADMIN}petitions/petition/{petition.pk}/tidy-persian/"
    page = admin_client.get(url).content.decode()
    digest = elements(page, "input", name="before_letter_fa")[0]["value"]
    petition.letter_fa = "او میکند و میگوید"
    petition.save()
    admin_client.post(url, {"apply": ["letter_fa"], "before_letter_fa": digest})
    petition.refresh_from_db()
    assert petition.letter_fa == "او میکند و میگوید"
