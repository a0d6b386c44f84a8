"""The public record of a petition's count: an entry for every move that is not a signature,
written with the move; record.json's shape; no personal data; and the record adding up to the
count on the page."""

import datetime
import json
import re

import pytest
from django.conf import settings
from django.test import Client

from signatures import record
from signatures.models import CountChange, Signature, SignatureCount
from tests.factories import make_petition, make_signature, make_staff

pytestmark = pytest.mark.django_db

ADMIN = "/" + settings.ADMIN_URL


def counted(petition) -> int:
    return SignatureCount.objects.total_for(petition.pk)


def record_json(petition) -> dict:
    response = Client().get(f"/en/p/{petition.slug}/record.json")
    assert response.status_code == 200
    return json.loads(response.content)


def entries(petition) -> list[tuple]:
    return list(
        CountChange.objects.filter(petition=petition)
        .order_by("pk")
        .values_list("kind", "reason", "signatures", "delta")
    )


@pytest.fixture
def moderator():
    return make_staff()


def test_every_move_writes_its_entry(moderator):
    petition = make_petition()
    a, b, c, d = (make_signature(petition) for _ in range(4))

    Signature.objects.filter(pk__in=[a.pk, b.pk]).invalidate(
        by=moderator, reason=Signature.Reason.DUPLICATE
    )
    Signature.objects.filter(pk=a.pk).restore(by=moderator)
    Signature.objects.filter(pk=c.pk).withdraw()
    Signature.objects.filter(pk=d.pk).erase(by=moderator, signer_request=True)
    Signature.objects.filter(pk=b.pk).erase(by=moderator)

    assert entries(petition) == [
        ("invalidated", "duplicate", 2, -2),
        ("restored", "", 1, 1),
        ("withdrawn", "", 1, -1),
        ("erased", "", 1, -1),
        ("deleted", "", 1, 0),
    ]
    assert counted(petition) == 1 == record.summary(petition.pk).total


def test_a_pending_signature_removed_is_recorded_without_changing_the_count(moderator):
    petition = make_petition(requires_confirmation=True)
    pending = make_signature(petition, status=Signature.Status.PENDING)

    Signature.objects.filter(pk=pending.pk).invalidate(by=moderator)
    Signature.objects.filter(pk=pending.pk).restore(by=moderator)

    assert entries(petition) == [("invalidated", "other", 1, 0), ("restored", "", 1, 0)]
    pending.refresh_from_db()
    assert pending.status == Signature.Status.PENDING  # only its signer confirms it
    assert counted(petition) == 0 == record.summary(petition.pk).total


def test_a_move_that_fails_leaves_no_entry(moderator, monkeypatch):
    petition = make_petition()
    signature = make_signature(petition)

    def broken(*args, **kwargs):
        raise RuntimeError("the count could not be written")

    monkeypatch.setattr(SignatureCount, "add", broken)
    with pytest.raises(RuntimeError):
        Signature.objects.filter(pk=signature.pk).invalidate(by=moderator)
    assert not CountChange.objects.exists()
    signature.refresh_from_db()
    assert signature.status == Signature.Status.COUNTED


def test_the_signatures_counted_figure_is_read_from_the_signatures_not_the_counter(moderator):
    petition = make_petition()
    for _ in range(3):
        make_signature(petition)
    SignatureCount.add(petition.pk, 5)  # a drifted counter

    summary = record.summary(petition.pk)
    assert summary.counted == 3 == summary.total
    html = Client().get(f"/en/p/{petition.slug}/record/").content.decode()
    assert "The counter shows 8 while the record adds up to 3" in html


def test_erased_signatures_stay_in_the_signatures_counted_figure(moderator):
    petition = make_petition()
    _kept, invalidated, erased = (make_signature(petition) for _ in range(3))
    Signature.objects.filter(pk=invalidated.pk).invalidate(by=moderator)
    Signature.objects.filter(pk__in=[invalidated.pk, erased.pk]).erase(by=moderator)

    summary = record.summary(petition.pk)
    assert summary.counted == 3
    assert summary.changes == {"invalidated": -1, "deleted": -1}
    assert summary.total == counted(petition) == 1


def test_record_json_has_stable_fields_in_ascii(moderator):
    petition = make_petition(title_fa="کارزار ۱۲۳")
    spam = [make_signature(petition) for _ in range(2)]
    make_signature(petition)
    Signature.objects.filter(pk__in=[s.pk for s in spam]).invalidate(
        by=moderator, reason=Signature.Reason.AUTOMATED
    )

    response = Client().get(f"/fa/p/{petition.slug}/record.json")
    body = response.content.decode()
    assert body.isascii()
    data = json.loads(body)
    assert set(data) == {"petition", "count", "record", "days"}
    assert data["count"] == 1
    assert data["record"] == {
        "signatures_counted": 3,
        "changes": {
            "invalidated": -2,
            "restored": 0,
            "withdrawn": 0,
            "erased": 0,
            "deleted": 0,
            "paper_added": 0,
            "paper_removed": 0,
        },
        "total": 1,
    }
    [day] = data["days"]
    assert set(day) == {"day", "kind", "reason", "entries", "signatures", "change", "note"}
    assert day["note"] is None  # a paper batch's description; nothing else has one
    assert (day["kind"], day["reason"], day["signatures"], day["change"]) == (
        "invalidated",
        "automated",
        2,
        -2,
    )
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", day["day"])


def test_record_json_is_cacheable_and_answers_not_modified():
    petition = make_petition()
    make_signature(petition)
    client = Client()

    first = client.get(f"/en/p/{petition.slug}/record.json")
    assert "public" in first["Cache-Control"] and "max-age" in first["Cache-Control"]
    again = client.get(f"/en/p/{petition.slug}/record.json", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304


def test_the_record_never_holds_personal_data(moderator):
    petition = make_petition()
    signature = make_signature(
        petition, name="Zanyar Unusualname", email="zanyar@example.org", locality="Sanandaj"
    )
    Signature.objects.filter(pk=signature.pk).invalidate(by=moderator, detail="Zanyar, twice")
    names = {field.name for field in CountChange._meta.get_fields()}

    assert names == {
        "id",
        "petition",
        "at",
        "kind",
        "reason",
        "signatures",
        "delta",
        "ever_counted",
        "note",  # a paper batch's description, written by a moderator for the public
    }
    for language in ("en", "fa"):
        for page in ("record/", "record.json"):
            body = Client().get(f"/{language}/p/{petition.slug}/{page}").content.decode()
            for value in ("Zanyar", "zanyar", "Sanandaj", "twice"):
                assert value not in body


def test_the_record_page_adds_up_to_the_count_in_both_languages(moderator):
    petition = make_petition()
    signatures = [make_signature(petition) for _ in range(12)]
    Signature.objects.filter(pk__in=[s.pk for s in signatures[:3]]).invalidate(by=moderator)
    Signature.objects.filter(pk=signatures[3].pk).withdraw()

    english = Client().get(f"/en/p/{petition.slug}/record/").content.decode()
    assert re.search(r"<tfoot>.*?<td>8</td>", english, re.S)
    assert "−3" in english and "−1" in english
    persian = Client().get(f"/fa/p/{petition.slug}/record/").content.decode()
    assert re.search(r"<tfoot>.*?<td>۸</td>", persian, re.S)
    assert "−۳" in persian
    assert re.search(r"<time[^>]*>[^<]*۱۴۰\d", persian)  # a Solar Hijri year


def test_the_petition_page_links_the_removed_count_to_the_record_only_when_some_were(
    moderator, django_capture_on_commit_callbacks
):
    petition = make_petition()
    spam = [make_signature(petition) for _ in range(3)]
    make_signature(petition)

    clean = Client().get(f"/en/p/{petition.slug}/").content.decode()
    assert "removed after review" not in clean
    assert f'href="/en/p/{petition.slug}/record/"' in clean
    with django_capture_on_commit_callbacks(execute=True):  # the cached count is dropped
        Signature.objects.filter(pk__in=[s.pk for s in spam]).invalidate(by=moderator)
    after = Client().get(f"/en/p/{petition.slug}/").content.decode()
    assert re.search(rf'href="/en/p/{petition.slug}/record/">\s*3 removed after review', after)
    persian = Client().get(f"/fa/p/{petition.slug}/").content.decode()
    assert "۳ امضا پس از بررسی کنار گذاشته شد" in persian


def test_a_long_record_is_shown_by_day_in_pages(moderator):
    petition = make_petition()
    signature = make_signature(petition)
    day = datetime.timedelta(days=1)
    start = signature.created_at
    CountChange.objects.bulk_create(
        CountChange(petition=petition, at=start - n * day, kind="restored", signatures=1, delta=0)
        for n in range(70)
    )

    first = Client().get(f"/en/p/{petition.slug}/record/").content.decode()
    assert first.count("<time ") == 60
    assert "?page=2" in first
    second = Client().get(f"/en/p/{petition.slug}/record/?page=2").content.decode()
    assert second.count("<time ") == 10


@pytest.mark.parametrize("language", ["en", "fa"])
def test_the_moderator_picks_the_public_reason_in_the_changelist(admin_client, language):
    admin_client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    petition = make_petition()
    signature = make_signature(petition)

    page = admin_client.get(f"{ADMIN}signatures/signature/").content.decode()
    assert 'name="category"' in page
    admin_client.post(
        f"{ADMIN}signatures/signature/",
        {"action": "invalidate", "_selected_action": [signature.pk], "category": "scope"},
    )
    signature.refresh_from_db()
    assert (signature.status, signature.removal_reason) == ("invalidated", "scope")
    assert signature.changed_at is not None
    assert entries(petition) == [("invalidated", "scope", 1, -1)]


def test_the_moderator_picks_the_public_reason_on_one_signature(admin_client):
    petition = make_petition()
    signature = make_signature(petition)

    page = admin_client.get(f"{ADMIN}signatures/signature/{signature.pk}/change/")
    assert 'name="category"' in page.content.decode()
    admin_client.post(
        f"{ADMIN}signatures/signature/{signature.pk}/invalidate/",
        {"reason": "same person, third address", "category": "duplicate"},
    )
    assert entries(petition) == [("invalidated", "duplicate", 1, -1)]
