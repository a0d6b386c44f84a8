import pytest
from django.core.management import call_command

from petitions.demo.loader import load_demo, load_seed_data
from petitions.models import Petition
from petitions.seed_page import parse_seed_page
from signatures.models import Signature, SignatureCount

PAGE_EXCERPT = """\
Thursday, November 10, 2022 Petition: Elon Musk: Ban Ayatollah Khamenei From Twitter

A summary paragraph.

Elon Musk: Ban Ayatollah Khamenei From Twitter

52,222 have signed\u00a0Emily Schrader’s petition. Let’s get to 75,000!

Sign now with a click

Dear Elon Musk,

First paragraph.\u0020

Mr. Musk, ban the Ayatollah Khamenei from Twitter.

آقای ایلان ماسک عزیز،

بند نخست خامنهای
بند دوم

آقای ماسک، توییتر را برای آیت الله خامنهای ممنوع کنید.

Sign now with a click
"""


def test_seed_page_parser_reads_the_counter_letters_and_date():
    data = parse_seed_page(PAGE_EXCERPT)
    assert data["starter_name"] == "Emily Schrader"
    assert data["addressed_to_en"] == "Elon Musk"
    assert (data["goal"], data["signatures"]) == (75000, 52222)
    assert data["opened_at"] == "2022-11-10"
    assert data["letter_en"] == (
        "Dear Elon Musk,\n\nFirst paragraph.\n\nMr. Musk, ban the Ayatollah Khamenei from Twitter."
    )
    # Persian tidied once: the ZWNJs the paste lost are back.
    assert data["letter_fa"].splitlines()[2:4] == ["بند نخست خامنه\u200cای", "بند دوم"]
    assert data["letter_fa"].endswith("آیت\u200cالله خامنه\u200cای ممنوع کنید.")


def test_committed_demo_data_keeps_the_seed_text():
    data = load_seed_data()
    assert data["goal"] == 75000
    assert data["starter_name"] == "Emily Schrader"
    assert data["addressed_to_en"] == "Elon Musk"
    assert data["letter_en"].startswith("Dear Elon Musk,\n\nFor 43 years")
    assert data["letter_fa"].startswith("آقای ایلان ماسک عزیز،")
    assert "آیت\u200cالله خامنه\u200cای" in data["letter_fa"]
    assert "خامنهای" not in data["letter_fa"] and "میکند" not in data["letter_fa"]
    assert "\u200c" in data["title_fa"]


@pytest.mark.django_db
def test_demo_petition_loads_once_with_an_exact_count():
    petition = load_demo(signatures=250)
    load_demo(signatures=250)

    assert Petition.objects.count() == 1
    assert petition.is_signable
    assert Signature.objects.filter(petition=petition).count() == 250
    assert SignatureCount.objects.total_for(petition.pk) == 250


@pytest.mark.django_db
def test_load_demo_command_reports_where_the_petition_is(capsys):
    call_command("load_demo", "--signatures", "3")
    assert "/fa/p/ban-khamenei-from-twitter/" in capsys.readouterr().out
