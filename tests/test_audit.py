"""The one audit log: every audited operation writes one entry, with its action and target, in
the transaction of the change it records; nobody can edit or delete an entry, through the ORM or
the admin; and an entry still says who and what after the account and the record are gone."""

import datetime
import re

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from lib import audit
from lib.models import AuditEntry
from petitions import delivery, mailing, moderation
from petitions.models import DeliveryPack, Petition, Update
from signatures.export import Export
from signatures.models import Signature
from tests.factories import make_petition, make_signature, make_staff
from tests.html import elements

pytestmark = pytest.mark.django_db

ADMIN = "/" + settings.ADMIN_URL
Z = "\u200c"


@pytest.fixture
def entry(admin_user):
    petition = make_petition(title_en="Free the press", title_fa="آزادی مطبوعات")
    return audit.record(admin_user, audit.Action.SIGNATURE_INVALIDATED, petition, signatures=3)


# -- what an operation writes ---------------------------------------------------------------


def pending():
    return make_petition(status=Petition.Status.PENDING, starter_email="s@example.com")


def submitted(**fields):
    petition = make_petition()
    make_signature(petition, consent_contact=True)
    return Update.objects.create(
        petition=petition, title_en="Hearing set", body_en="Monday.", **fields
    )


def publishing(by):
    petition = pending()
    return (
        lambda: moderation.publish(petition, by=by),
        lambda: Petition.objects.get(pk=petition.pk).status == Petition.Status.OPEN,
        "petition.published",
        petition,
    )


def rejecting(by):
    petition = pending()
    return (
        lambda: moderation.reject(petition, by=by, reason="unclear", note="Whom?"),
        lambda: Petition.objects.get(pk=petition.pk).status == Petition.Status.REJECTED,
        "petition.rejected",
        petition,
    )


def invalidating(by):
    signature = make_signature(make_petition())
    return (
        lambda: Signature.objects.filter(pk=signature.pk).invalidate(by=by, detail="spam"),
        lambda: Signature.objects.get(pk=signature.pk).status == Signature.Status.INVALIDATED,
        "signature.invalidated",
        signature.petition,
    )


def erasing_a_signer(by):
    signature = make_signature(make_petition(), email="gone@example.com")
    return (
        lambda: Signature.objects.filter(pk=signature.pk).erase(by=by, signer_request=True),
        lambda: not Signature.objects.filter(pk=signature.pk).exists(),
        "signature.erased",
        signature.petition,
    )


def forgetting_a_starter(by):
    petition = make_petition(starter_email="s@example.com", starter_email_canonical="s@example.com")
    return (
        lambda: Petition.objects.filter(pk=petition.pk).forget_starter(by=by),
        lambda: Petition.objects.get(pk=petition.pk).starter_email == "",
        "petition.starter_erased",
        petition,
    )


def approving(by):
    update = submitted(email_signers=True)
    return (
        lambda: mailing.approve(update, by=by),
        lambda: Update.objects.get(pk=update.pk).status == Update.Status.PUBLISHED,
        "update.approved",
        update,
    )


def rejecting_an_update(by):
    update = submitted()
    return (
        lambda: mailing.reject(update, by=by),
        lambda: Update.objects.get(pk=update.pk).status == Update.Status.REJECTED,
        "update.rejected",
        update,
    )


def pausing(by):
    update = submitted(
        status=Update.Status.PUBLISHED,
        email_signers=True,
        email_state=Update.Email.SENDING,
        published_at=timezone.now(),
    )
    return (
        lambda: mailing.control(update, "pause", by=by),
        lambda: Update.objects.get(pk=update.pk).email_state == Update.Email.PAUSED,
        "update.paused",
        update,
    )


def making_a_pack(by):
    petition = make_petition()
    make_signature(petition)
    pack = DeliveryPack.objects.create(petition=petition, requested_by=by)
    return (
        lambda: delivery.build(pack),
        lambda: DeliveryPack.objects.get(pk=pack.pk).status == DeliveryPack.Status.DONE,
        "pack.made",
        petition,
    )


OPERATIONS = [
    publishing,
    rejecting,
    invalidating,
    erasing_a_signer,
    forgetting_a_starter,
    approving,
    rejecting_an_update,
    pausing,
    making_a_pack,
]


@pytest.fixture
def packs(settings, tmp_path):
    settings.DELIVERY_PACK_ROOT = tmp_path / "packs"


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.__name__)
def test_each_audited_operation_writes_one_entry_with_its_action_and_target(
    operation, admin_user, packs
):
    act, done, action, target = operation(admin_user)
    act()
    assert done()
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.target, entry.actor, entry.actor_label) == (
        action,
        target,
        admin_user,
        "admin",
    )
    assert entry.target_label == audit.label_of(target)


class Refused(Exception):
    pass


@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.__name__)
def test_an_operation_that_fails_after_its_entry_leaves_neither(
    operation, admin_user, packs, monkeypatch
):
    """The entry is written inside the operation's transaction: when the operation fails after
    writing it, the change and the entry are rolled back together."""
    act, done, _action, _target = operation(admin_user)
    for name in ("record", "record_each"):
        original = getattr(audit, name)

        def written_then_refused(*args, _original=original, **kwargs):
            _original(*args, **kwargs)
            raise Refused

        monkeypatch.setattr(audit, name, written_then_refused)
    with pytest.raises(Refused):
        act()
    assert not done()
    assert not AuditEntry.objects.exists()


def test_tidying_persian_spacing_is_audited_with_the_fields(admin_client):
    petition = make_petition(summary_fa="او میکند", letter_fa="او میکند")
    url = f"{ADMIN}petitions/petition/{petition.pk}/tidy-persian/"
    page = admin_client.get(url).content.decode()
    digest = elements(page, "input", name="before_letter_fa")[0]["value"]
    admin_client.post(url, {"apply": ["letter_fa"], "before_letter_fa": digest})
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.target, entry.detail) == (
        "petition.tidied",
        petition,
        {"fields": ["letter_fa"]},
    )
    petition.refresh_from_db()
    assert petition.letter_fa == f"او می{Z}کند"


def test_a_tidy_that_cannot_be_audited_is_not_saved(admin_client, monkeypatch):
    petition = make_petition(letter_fa="او میکند")
    url = f"{ADMIN}petitions/petition/{petition.pk}/tidy-persian/"
    page = admin_client.get(url).content.decode()
    digest = elements(page, "input", name="before_letter_fa")[0]["value"]

    def refuse(*args, **kwargs):
        raise Refused

    monkeypatch.setattr(audit, "record", refuse)
    with pytest.raises(Refused):
        admin_client.post(url, {"apply": ["letter_fa"], "before_letter_fa": digest})
    petition.refresh_from_db()
    assert petition.letter_fa == "او میکند"


def test_an_export_and_a_pack_download_are_audited(admin_client, packs):
    petition = make_petition()
    make_signature(petition)
    list(Export([petition], "csv", by="tester"))
    pack = delivery.build(DeliveryPack.objects.create(petition=petition))
    admin_client.get(f"{ADMIN}petitions/deliverypack/{pack.pk}/download/csv/")
    rows = AuditEntry.objects.order_by("pk").values_list("action", "target_id", "detail")
    assert list(rows) == [
        ("signature.exported", petition.pk, {"signatures": 1, "format": "csv"}),
        (
            "pack.made",
            petition.pk,
            {"pack": pack.pk, "signatures": 1, "names": 1, "root": bytes(pack.merkle_root).hex()},
        ),
        ("pack.downloaded", petition.pk, {"pack": pack.pk, "kind": "csv", "names": 1}),
    ]


def test_an_action_outside_the_list_is_refused(admin_user):
    with pytest.raises(ValueError):
        audit.record(admin_user, "petition.vanished")
    assert not AuditEntry.objects.exists()


# -- the log only grows -------------------------------------------------------------------------


def test_an_entry_cannot_be_deleted(entry):
    with pytest.raises(TypeError):
        entry.delete()
    with pytest.raises(TypeError):
        AuditEntry.objects.all().delete()
    with pytest.raises(TypeError):
        AuditEntry.objects.filter(pk=entry.pk).delete()
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_an_entry_cannot_be_edited(entry):
    entry.actor_label = "someone else"
    with pytest.raises(TypeError):
        entry.save()
    with pytest.raises(TypeError):
        AuditEntry.objects.filter(pk=entry.pk).update(actor_label="someone else")
    with pytest.raises(TypeError):
        AuditEntry.objects.bulk_update([entry], ["actor_label"])
    assert AuditEntry.objects.get(pk=entry.pk).actor_label == "admin"


def test_the_admin_offers_no_way_to_add_edit_or_delete(admin_client, entry):
    base = f"{ADMIN}lib/auditentry/"
    listing = admin_client.get(base).content.decode()
    assert 'name="action"' not in listing  # no bulk actions, so no "delete selected"
    page = admin_client.get(f"{base}{entry.pk}/change/").content.decode()
    assert "<textarea" not in page and 'name="actor_label"' not in page
    assert 'name="_save"' not in page
    assert admin_client.post(f"{base}{entry.pk}/change/", {"actor_label": "x"}).status_code == 403
    assert admin_client.post(f"{base}{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert admin_client.get(f"{base}add/").status_code == 403
    assert AuditEntry.objects.get(pk=entry.pk).actor_label == "admin"


def test_an_entry_outlives_its_actor_and_its_target(entry, admin_user):
    petition = entry.target
    Signature.objects.filter(petition=petition).delete()
    petition.delete()
    get_user_model().objects.filter(pk=admin_user.pk).delete()
    entry = AuditEntry.objects.get(pk=entry.pk)
    assert entry.actor is None and entry.actor_label == "admin"
    assert entry.target is None
    assert entry.target_label == "Free the press · آزادی مطبوعات"


# -- the admin's one list -------------------------------------------------------------------------


def test_the_audit_log_filters_by_action_and_date_and_finds_a_title(admin_client, entry):
    other = make_petition(title_en="Save the lake", title_fa="نجات دریاچه")
    audit.record("mo", audit.Action.PETITION_PUBLISHED, other)
    base = f"{ADMIN}lib/auditentry/"
    by_action = admin_client.get(base, {"action": "petition.published"}).content.decode()
    assert "Save the lake" in by_action and "Free the press" not in by_action
    # The Persian title finds it too, typed with an Arabic keyboard's kaf and yeh.
    found = admin_client.get(base, {"q": "آزادي مطبوعات"}).content.decode()
    assert "Free the press" in found and "Save the lake" not in found
    AuditEntry.objects.create(
        created_at=timezone.now() - datetime.timedelta(days=400),
        actor_label="mo",
        action=audit.Action.PETITION_PUBLISHED,
        target_label="A petition of long ago",
    )
    listing = admin_client.get(base).content.decode()
    today = re.search(r'<a href="([^"]+)"[^>]*>Today</a>', listing).group(1)
    dated = admin_client.get(base + today.replace("&amp;", "&")).content.decode()
    assert "Free the press" in dated and "Save the lake" in dated
    assert "A petition of long ago" not in dated
    assert "3 signatures" in admin_client.get(base).content.decode()


def test_the_persian_audit_log_reads_in_persian(admin_client, entry):
    admin_client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fa"
    html = admin_client.get(f"{ADMIN}lib/auditentry/").content.decode()
    assert "رویدادهای دفتر بازرسی" in html
    assert "امضاها را باطل کرد" in html
    assert "۳ امضا" in html


def test_the_decide_page_lists_the_decisions_from_the_log(admin_client):
    petition = pending()
    audit.record("mo", audit.Action.PETITION_REJECTED, petition, reason="unclear", note="Whom?")
    audit.record("mo", audit.Action.SIGNATURE_INVALIDATED, petition, signatures=1)
    page = admin_client.get(f"{ADMIN}petitions/reviewqueue/{petition.pk}/decide/")
    html = page.content.decode()
    assert "Decisions so far" in html
    assert "Sent back a petition" in html and "Whom?" in html
    assert "It is not clear what it asks for or of whom" in html
    assert "Invalidated signatures" not in html


def test_staff_without_the_permission_do_not_see_the_log(client, entry):
    client.force_login(make_staff(username="plain", superuser=False))
    assert client.get(f"{ADMIN}lib/auditentry/").status_code == 403
