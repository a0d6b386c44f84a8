"""A starter's data removed on request (the erasure a signer can ask for): their
unpublished petitions go, their public ones stay (what people signed) without the address, so no
email reaches them and their old links stop working; the audit trail never names them."""

import pytest
from django.core.management import call_command

from lib import audit
from lib.models import AuditEntry
from petitions import starting
from petitions.models import Petition
from tests.factories import make_petition, make_signature

pytestmark = pytest.mark.django_db

ADDRESS = "starter@example.com"


def started(status, **fields) -> Petition:
    return make_petition(
        status=status,
        starter_email=ADDRESS,
        starter_email_canonical=ADDRESS,
        starter_language="fa",
        **fields,
    )


def test_erasing_a_starter_deletes_their_unpublished_petitions_and_strips_the_public_ones(
    admin_client,
):
    waiting = started(Petition.Status.PENDING)
    sent_back = started(Petition.Status.REJECTED)
    public = started(Petition.Status.OPEN)
    make_signature(public, email="reader@example.com")
    make_signature(public, email=ADDRESS)  # the starter signed their own petition
    someone_elses = make_petition(
        starter_email="other@example.com", starter_email_canonical="other@example.com"
    )

    preview = admin_client.post("/admin/signatures/signature/erase-signer/", {"email": ADDRESS})
    page = preview.content.decode()
    assert "1 signature found" in page
    assert "3 petitions started with this address" in page
    assert str(public.title_en) in page

    done = admin_client.post(
        "/admin/signatures/signature/erase-signer/",
        {"email": "Starter@Example.com", "confirm": "yes"},
        follow=True,
    )
    assert "2 unpublished deleted, 1 public kept without the address" in done.content.decode()
    assert not Petition.objects.filter(pk__in=[waiting.pk, sent_back.pk]).exists()
    public.refresh_from_db()
    assert (public.starter_email, public.starter_email_canonical, public.starter_language) == (
        "",
        "",
        "",
    )
    assert public.starter_name == "Sara Karimi"  # shown on what people signed; edit to remove
    assert public.signatures.count() == 1  # the reader's; the starter's own signature is gone
    someone_elses.refresh_from_db()
    assert someone_elses.starter_email == "other@example.com"
    assert not [e for e in AuditEntry.objects.all() if "starter@" in f"{e.detail} {e.target_label}"]
    assert AuditEntry.objects.about(public).filter(action="petition.starter_erased").exists()
    assert AuditEntry.objects.get(action="petition.erased").detail == {"deleted": 2}


def test_erasing_a_starter_forgets_the_titles_the_audit_log_kept_of_their_unpublished_petitions():
    sent_back = started(Petition.Status.REJECTED, title_en='Sara Karimi\'s "own" <petition>')
    public = started(Petition.Status.OPEN, title_en="Clean air for Tehran")
    for petition in (sent_back, public):
        audit.record("mo", audit.Action.PETITION_REJECTED, petition)
    assert AuditEntry.objects.filter(target_label__contains="Sara Karimi").exists()

    Petition.objects.started_by(ADDRESS).forget_starter(by="mo")

    assert not AuditEntry.objects.filter(target_label__contains="Sara Karimi").exists()
    rejected = AuditEntry.objects.filter(action="petition.rejected")
    assert rejected.count() == 2  # what was done stays in the log
    assert rejected.get(target_id=sent_back.pk).target_label == ""
    assert "Clean air for Tehran" in rejected.get(target_id=public.pk).target_label


def test_the_audit_log_says_an_erased_petitions_words_are_gone(admin_client):
    sent_back = started(Petition.Status.REJECTED, title_en="Sara Karimi's petition")
    audit.record("mo", audit.Action.PETITION_REJECTED, sent_back)
    Petition.objects.started_by(ADDRESS).forget_starter(by="mo")

    page = admin_client.get("/admin/lib/auditentry/").content.decode()
    assert "Sara Karimi" not in page
    assert "(its words erased on request)" in page


def test_after_erasure_the_starters_link_stops_working(client, settings):
    public = started(Petition.Status.OPEN)
    path = starting.link_url(public, "fa").removeprefix(settings.SITE_URL)
    assert client.get(path).status_code == 200

    Petition.objects.started_by(ADDRESS).forget_starter(by="mo")

    assert client.get(path).status_code == 400
    # "Email me my links" looks the address up the same way: it finds nothing to send.
    assert not Petition.objects.started_by(ADDRESS).exists()


def test_the_erase_signer_command_also_forgets_a_starter(capsys):
    started(Petition.Status.DRAFT)
    public = started(Petition.Status.CLOSED)
    call_command("erase_signer", ADDRESS)
    out = capsys.readouterr().out
    assert "1 unpublished deleted, 1 public kept without the address" in out
    assert list(Petition.objects.values_list("pk", flat=True)) == [public.pk]
