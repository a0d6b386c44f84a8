import datetime

import pytest
from django.core.cache import cache
from django.db import DatabaseError
from django.utils import timezone

from lib.cache import count_key, recent_key
from lib.models import AuditEntry
from signatures.models import Signature, SignatureCount
from tests.factories import make_petition, make_signature

pytestmark = pytest.mark.django_db


def count_json(client, petition):
    return client.get(f"/en/p/{petition.slug}/count.json").json()["count"]


def test_invalidating_drops_the_public_count_at_once(
    admin_client, client, django_capture_on_commit_callbacks
):
    petition = make_petition()
    spam = [make_signature(petition) for _ in range(3)]
    make_signature(petition)
    assert count_json(client, petition) == 4  # now cached

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            "/admin/signatures/signature/",
            {"action": "invalidate", "_selected_action": [s.pk for s in spam]},
        )

    assert count_json(client, petition) == 1
    assert SignatureCount.objects.total_for(petition.pk) == 1
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.detail, entry.target, entry.actor_label) == (
        "signature.invalidated",
        {"signatures": 3},
        petition,
        "admin",
    )


def test_restoring_counts_again_and_twice_changes_nothing(admin_client):
    petition = make_petition()
    signature = make_signature(petition)
    Signature.objects.filter(pk=signature.pk).invalidate(by="mo")
    Signature.objects.filter(pk=signature.pk).invalidate(by="mo")  # a second moderator, same click
    assert SignatureCount.objects.total_for(petition.pk) == 0

    admin_client.post(
        "/admin/signatures/signature/", {"action": "restore", "_selected_action": [signature.pk]}
    )
    admin_client.post(
        "/admin/signatures/signature/", {"action": "restore", "_selected_action": [signature.pk]}
    )
    assert SignatureCount.objects.total_for(petition.pk) == 1


def test_restore_leaves_pending_signatures_pending():
    petition = make_petition()
    pending = make_signature(petition, status=Signature.Status.PENDING)
    Signature.objects.filter(pk=pending.pk).restore(by="mo")
    pending.refresh_from_db()
    assert pending.status == Signature.Status.PENDING
    assert SignatureCount.objects.total_for(petition.pk) == 0


def test_goal_ladder_follows_an_invalidation(client, django_capture_on_commit_callbacks):
    petition = make_petition(goal=100)
    signatures = [make_signature(petition) for _ in range(3)]
    SignatureCount.set_total(petition.pk, 100)  # as if 100 had signed
    assert client.get(f"/en/p/{petition.slug}/count.json").json()["goal"] == 200
    with django_capture_on_commit_callbacks(execute=True):
        Signature.objects.filter(pk=signatures[0].pk).invalidate(by="mo")
    assert client.get(f"/en/p/{petition.slug}/count.json").json() | {"last_signed_at": None} == {
        "count": 99,
        "goal": 100,
        "last_signed_at": None,
        "outcome": None,
        "paper": 0,
    }


def test_deleting_takes_counted_signatures_off_the_count(admin_client):
    petition = make_petition()
    counted = make_signature(petition)
    invalid = make_signature(petition, status=Signature.Status.INVALIDATED)
    make_signature(petition)
    admin_client.post(
        "/admin/signatures/signature/",
        {"action": "erase", "_selected_action": [counted.pk, invalid.pk]},
    )
    assert Signature.objects.count() == 1
    assert SignatureCount.objects.total_for(petition.pk) == 1
    assert AuditEntry.objects.get().action == "signature.deleted"


def test_bulk_invalidation_by_email_domain_within_a_window(admin_client):
    petition = make_petition()
    now = timezone.now()
    burst = [make_signature(petition, email=f"bot{n}@spam.example") for n in range(5)]
    make_signature(petition, email="real@example.com")
    old = make_signature(
        petition, email="early@spam.example", created_at=now - datetime.timedelta(days=3)
    )
    window = {
        "email_domain": "spam.example",
        "since": (now - datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "until": (now + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
    }

    preview = admin_client.post("/admin/signatures/signature/bulk-invalidate/", window)
    assert "5 signatures match" in preview.content.decode()
    assert not Signature.objects.filter(status="invalidated").exists()

    admin_client.post("/admin/signatures/signature/bulk-invalidate/", window | {"confirm": "yes"})
    assert set(Signature.objects.filter(status="invalidated")) == set(burst)
    old.refresh_from_db()
    assert old.status == Signature.Status.COUNTED
    assert SignatureCount.objects.total_for(petition.pk) == 2
    entry = AuditEntry.objects.get()
    assert entry.action == "signature.bulk_invalidated"
    assert entry.detail["signatures"] == 5
    assert "domain=spam.example" in entry.detail["note"]


def test_bulk_invalidation_by_ip_hash(admin_client):
    petition = make_petition()
    now = timezone.now()
    for n in range(4):
        make_signature(petition, ip_hash="a" * 32, email=f"x{n}@example.com")
    make_signature(petition, ip_hash="b" * 32)
    admin_client.post(
        "/admin/signatures/signature/bulk-invalidate/",
        {
            "ip_hash": "a" * 32,
            "since": (now - datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "until": (now + datetime.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "confirm": "yes",
        },
    )
    assert Signature.objects.filter(status="invalidated").count() == 4
    assert SignatureCount.objects.total_for(petition.pk) == 1


def test_search_finds_an_email_domain_and_a_city(admin_client):
    petition = make_petition()
    make_signature(petition, name="Bot One", email="bot@spam.example")
    make_signature(petition, name="Sara Tehrani", email="sara@example.com", locality="Shiraz")
    by_domain = admin_client.get(
        "/admin/signatures/signature/", {"q": "@spam.example"}
    ).content.decode()
    assert "Bot One" in by_domain and "Sara Tehrani" not in by_domain
    by_city = admin_client.get("/admin/signatures/signature/", {"q": "shiraz"}).content.decode()
    assert "Sara Tehrani" in by_city and "Bot One" not in by_city


def test_signature_list_does_not_query_per_row(admin_client, django_assert_max_num_queries):
    petition = make_petition()
    for _ in range(30):
        make_signature(petition)
    with django_assert_max_num_queries(14):
        response = admin_client.get("/admin/signatures/signature/")
    assert response.status_code == 200


def test_signature_list_shows_the_count_per_petition(admin_client):
    petition = make_petition(title_en="Free the press")
    for _ in range(3):
        make_signature(petition)
    html = admin_client.get("/admin/signatures/signature/").content.decode()
    assert "Counted signatures per petition" in html
    assert "Free the press" in html and "<td>3</td>" in html


def test_erasing_a_signer_removes_them_from_every_petition(admin_client):
    first, second = make_petition(), make_petition()
    make_signature(first, email="leave.me@example.com")
    make_signature(second, email="leave.me@example.com", email_canonical="leave.me@example.com")
    make_signature(second, email="stay@example.com")

    preview = admin_client.post(
        "/admin/signatures/signature/erase-signer/", {"email": "Leave.Me@Example.com"}
    )
    assert "2 signatures found" in preview.content.decode()
    admin_client.post(
        "/admin/signatures/signature/erase-signer/",
        {"email": "Leave.Me@Example.com", "confirm": "yes"},
    )
    assert not Signature.objects.filter(email_canonical="leave.me@example.com").exists()
    assert SignatureCount.objects.total_for(first.pk) == 0
    assert SignatureCount.objects.total_for(second.pk) == 1
    entries = AuditEntry.objects.filter(action="signature.erased")
    assert entries.count() == 2
    assert not [e for e in entries if "leave.me" in str(e.detail)]


def test_erase_signer_command(capsys):
    from django.core.management import call_command

    petition = make_petition()
    make_signature(petition, email="gone@example.com")
    call_command("erase_signer", "GONE@example.com")
    assert "Deleted 1 signature(s) from 1 petition(s)." in capsys.readouterr().out
    assert SignatureCount.objects.total_for(petition.pk) == 0
    assert AuditEntry.objects.get().actor_label.endswith("(command line)")


@pytest.fixture
def failing_audit(monkeypatch):
    """The audit trail cannot be written (a full disk, a revoked grant)."""

    def refuse(*args, **kwargs):
        raise DatabaseError("audit table refused the write")

    monkeypatch.setattr(AuditEntry.objects, "bulk_create", refuse)


def test_invalidation_writes_its_audit_record_in_the_same_transaction(failing_audit):
    petition = make_petition()
    signature = make_signature(petition)
    with pytest.raises(DatabaseError):
        Signature.objects.filter(pk=signature.pk).invalidate(by="mo")
    signature.refresh_from_db()
    assert signature.status == Signature.Status.COUNTED
    assert SignatureCount.objects.total_for(petition.pk) == 1


def test_restoring_writes_its_audit_record_in_the_same_transaction(failing_audit):
    petition = make_petition()
    signature = make_signature(petition, status=Signature.Status.INVALIDATED)
    with pytest.raises(DatabaseError):
        Signature.objects.filter(pk=signature.pk).restore(by="mo")
    signature.refresh_from_db()
    assert signature.status == Signature.Status.INVALIDATED
    assert SignatureCount.objects.total_for(petition.pk) == 0


def test_erasing_writes_its_audit_record_in_the_same_transaction(failing_audit):
    petition = make_petition()
    make_signature(petition, email="gone@example.com")
    with pytest.raises(DatabaseError):
        Signature.objects.filter(email_canonical="gone@example.com").erase(by="mo")
    assert Signature.objects.filter(email_canonical="gone@example.com").exists()
    assert SignatureCount.objects.total_for(petition.pk) == 1


def test_a_failed_audit_write_leaves_the_admin_action_undone(admin_client, failing_audit):
    petition = make_petition()
    signature = make_signature(petition)
    with pytest.raises(DatabaseError):
        admin_client.post(
            "/admin/signatures/signature/",
            {"action": "invalidate", "_selected_action": [signature.pk]},
        )
    signature.refresh_from_db()
    assert signature.status == Signature.Status.COUNTED


def test_moderation_operations_need_to_be_told_who_acts():
    queryset = Signature.objects.all()
    for operation in (queryset.invalidate, queryset.restore, queryset.erase):
        with pytest.raises(TypeError):
            operation()


def test_each_operation_records_itself_once_per_petition():
    first, second = make_petition(), make_petition()
    for petition in (first, second, second):
        make_signature(petition)
    Signature.objects.all().invalidate(by="mo", detail="from the spam report")
    Signature.objects.all().restore(by="mo")
    Signature.objects.filter(petition=second).erase(by="mo")
    entries = AuditEntry.objects.order_by("pk").values_list(
        "action", "target_id", "detail", "actor_label"
    )
    note = "from the spam report"
    assert list(entries) == [
        ("signature.invalidated", first.pk, {"signatures": 1, "note": note}, "mo"),
        ("signature.invalidated", second.pk, {"signatures": 2, "note": note}, "mo"),
        ("signature.restored", first.pk, {"signatures": 1}, "mo"),
        ("signature.restored", second.pk, {"signatures": 2}, "mo"),
        ("signature.deleted", second.pk, {"signatures": 2}, "mo"),
    ]


def test_an_operation_that_changes_nothing_records_nothing():
    petition = make_petition()
    make_signature(petition)
    assert Signature.objects.all().restore(by="mo") == {}
    assert not AuditEntry.objects.exists()


def test_erasing_at_a_signers_request_records_no_address(admin_user):
    petition = make_petition()
    make_signature(petition, email="private.person@example.com")
    Signature.objects.filter(email_canonical="private.person@example.com").erase(
        by=admin_user, signer_request=True
    )
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.detail, entry.target, entry.actor) == (
        "signature.erased",
        {"signatures": 1},
        petition,
        admin_user,
    )
    assert "private.person" not in f"{entry.detail} {entry} {entry.target_label}"


def test_invalidating_forgets_the_cached_count_and_recent_signers(
    django_capture_on_commit_callbacks,
):
    petition = make_petition(slug="cached")
    signature = make_signature(petition)
    cache.set(count_key("cached"), "stale", 300)
    cache.set(recent_key(petition.pk), "stale", 300)
    with django_capture_on_commit_callbacks(execute=True):
        Signature.objects.filter(pk=signature.pk).invalidate(by="mo")
    assert cache.get(count_key("cached")) is None
    assert cache.get(recent_key(petition.pk)) is None


def test_privacy_page_in_both_languages(client):
    assert "Your data when you sign" in client.get("/en/privacy/").content.decode()
    fa = client.get("/fa/privacy/").content.decode()
    assert 'lang="fa" dir="rtl"' in fa
    assert "اطلاعات شما هنگام امضا" in fa


def test_a_googlemail_domain_finds_the_signatures_compared_under_gmail():
    petition = make_petition()
    make_signature(petition, email="sara@googlemail.com")
    make_signature(petition, email="reza@gmail.com")
    make_signature(petition, email="lena@example.com")
    assert Signature.objects.email_domain("GoogleMail.com").count() == 2
    assert Signature.objects.email_domain("@gmail.com").count() == 2
