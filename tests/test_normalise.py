import pytest

from lib.normalise import canonical_email, clean_code, name_problem
from lib.persian import ascii_digits, clean_text


def test_persian_and_arabic_indic_digits_become_ascii_in_a_postcode():
    assert clean_code("۱۲۳۴۵-٦٧٨٩") == "12345-6789"


def test_arabic_yeh_and_kaf_become_persian_in_a_name():
    assert clean_text("علي كريمي") == "علی کریمی"


def test_alef_maksura_is_folded_to_persian_yeh():
    assert clean_text("موسى") == "موسی"


def test_right_to_left_override_is_stripped():
    assert clean_text("Sara\u202eevil\u202c K") == "Saraevil K"


@pytest.mark.parametrize("control", ["\u202a", "\u202b", "\u202c", "\u202d", "\u2066", "\u2069"])
def test_every_bidi_control_is_stripped(control):
    assert clean_text(f"a{control}b") == "ab"


def test_zero_width_non_joiner_is_kept():
    assert clean_text("خامنه\u200cای") == "خامنه\u200cای"


def test_nfkc_folds_presentation_forms_and_fullwidth_letters():
    assert clean_text("ﺳﻼﻡ") == "سلام"
    assert clean_text("Ｓａｒａ") == "Sara"


def test_control_characters_and_extra_spaces_go():
    assert clean_text("  Sara\x00\t  K.\u200b ") == "Sara K."


def test_comments_keep_their_paragraphs():
    assert clean_text("one\r\n\r\n\r\n\r\ntwo  \n three", multiline=True) == "one\n\ntwo\nthree"


def test_email_canonical_form_ignores_case_digit_script_and_spaces():
    assert canonical_email(" Sara.K۱۹۹۰@Example.COM ") == "sara.k1990@example.com"
    assert canonical_email("SARA.K1990@example.com") == canonical_email("sara.k١٩٩٠@EXAMPLE.com")


def test_ascii_digits_leave_other_text_alone():
    assert ascii_digits("کد ۱۲") == "کد 12"


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ('=HYPERLINK("x")', "formula"),
        ("+98 912", "formula"),
        ("-Sara", "formula"),
        ("@sara", "formula"),
        ("https://spam.example", "url"),
        ("visit www.spam.test", "url"),
        ("cheap-pills.com", "url"),
        ("12345", "letters"),
        ("Sara K.", None),
        ("سارا کریمی", None),
        ("Jean-Luc O'Neil", None),
    ],
)
def test_names_that_are_links_or_formulas_are_refused(name, problem):
    assert name_problem(name) == problem


@pytest.mark.parametrize(
    "typed",
    [
        "  Sara   Karimi ",
        "Sara\tKarimi",
        "O'Brien-Smith",
        "a\u00a0b",
        "x\x7fy",
        "Line\r\nbreak",
        "~!",
    ],
)
@pytest.mark.parametrize("multiline", [False, True])
def test_plain_ascii_comes_out_as_the_full_rules_make_it(typed, multiline):
    """Printable ASCII takes a shorter road through clean_text; it must end where the long one
    does."""
    from lib.persian import _clean_any_text

    assert clean_text(typed, multiline=multiline) == _clean_any_text(typed, multiline=multiline)


@pytest.mark.parametrize(
    ("typed", "compared"),
    [
        ("sara+a@example.net", "sara@example.net"),
        ("Sara+News+2026@Example.NET", "sara@example.net"),
        ("s.ara@example.net", "s.ara@example.net"),  # a dot is a letter elsewhere
        ("s.ara@gmail.com", "sara@gmail.com"),
        ("S.Ara+petitions@GoogleMail.com", "sara@gmail.com"),
        ("+sara@example.net", "+sara@example.net"),  # nothing before the tag: kept whole
    ],
)
def test_the_canonical_email_is_one_per_mailbox(typed, compared):
    assert canonical_email(typed) == compared
