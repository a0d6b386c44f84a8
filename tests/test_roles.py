"""Organisers write petitions; moderators look after signatures. Neither can do the other's job."""

import pytest
from django.contrib.auth.models import Group

from lib import audit
from signatures.models import Signature
from tests.factories import make_petition, make_signature, make_staff, make_staff_in

pytestmark = pytest.mark.django_db


def staff_in(group_name, client, username):
    user = make_staff_in(group_name, username)
    client.force_login(user)
    return user


@pytest.fixture
def organiser(client):
    return staff_in("Organisers", client, "olga")


@pytest.fixture
def moderator(client):
    return staff_in("Moderators", client, "mo")


@pytest.fixture
def petition_with_signer():
    petition = make_petition()
    make_signature(petition, name="Secret Signer", email="secret.signer@example.com")
    return petition


def test_both_roles_exist_with_their_permissions():
    organisers = set(
        Group.objects.get(name="Organisers").permissions.values_list("codename", flat=True)
    )
    moderators = set(
        Group.objects.get(name="Moderators").permissions.values_list("codename", flat=True)
    )
    assert organisers == {
        "add_petition",
        "change_petition",
        "view_petition",
        "add_update",
        "change_update",
        "view_update",
    }
    assert moderators == {
        "view_petition",
        "view_signature",
        "moderate_signature",
        "delete_signature",
        "export_signature",
        "view_auditentry",
        "view_blockedattempt",
        "moderate_petition",
        "view_update",
        "moderate_update",
        "add_paperbatch",
        "view_paperbatch",
        "delete_paperbatch",
        "view_papersignature",
    }


def test_organiser_can_edit_petitions_and_see_counts(client, organiser, petition_with_signer):
    changelist = client.get("/admin/petitions/petition/")
    assert changelist.status_code == 200
    assert '<td class="field-signature_count">1</td>' in changelist.content.decode()
    assert (
        client.get(f"/admin/petitions/petition/{petition_with_signer.pk}/change/").status_code
        == 200
    )
    assert client.get("/admin/petitions/petition/add/").status_code == 200


def test_organiser_sees_no_signer_data(client, organiser, petition_with_signer):
    assert client.get("/admin/signatures/signature/").status_code == 403
    assert (
        client.get(f"/admin/petitions/petition/{petition_with_signer.pk}/export/").status_code
        == 403
    )
    assert client.get("/admin/lib/auditentry/").status_code == 403
    page = client.get(
        f"/admin/petitions/petition/{petition_with_signer.pk}/change/"
    ).content.decode()
    assert "secret.signer" not in page
    assert "Export" not in page


def test_organiser_cannot_export_through_the_petition_action(
    client, organiser, petition_with_signer
):
    response = client.post(
        "/admin/petitions/petition/",
        {"action": "export_csv", "_selected_action": [petition_with_signer.pk]},
    )
    assert b"secret.signer" not in b"".join(
        getattr(response, "streaming_content", [response.content])
    )


def test_moderator_reviews_and_exports_signatures(client, moderator, petition_with_signer):
    listing = client.get("/admin/signatures/signature/").content.decode()
    assert "secret.signer@example.com" in listing
    export = client.get(f"/admin/petitions/petition/{petition_with_signer.pk}/export/")
    assert export.status_code == 200
    assert b"secret.signer@example.com" in b"".join(export.streaming_content)


def test_moderator_can_invalidate_but_not_edit_signer_details_or_petitions(
    client, moderator, petition_with_signer
):
    signature = Signature.objects.get()
    response = client.post(
        "/admin/signatures/signature/",
        {"action": "invalidate", "_selected_action": [signature.pk]},
    )
    assert response.status_code == 302
    signature.refresh_from_db()
    assert signature.status == Signature.Status.INVALIDATED

    detail = client.get(f"/admin/signatures/signature/{signature.pk}/change/").content.decode()
    assert 'name="name"' not in detail  # read-only
    petition_form = client.get(
        f"/admin/petitions/petition/{petition_with_signer.pk}/change/"
    ).content.decode()
    assert 'name="title_en"' not in petition_form  # view only
    assert (
        client.post(f"/admin/petitions/petition/{petition_with_signer.pk}/change/", {}).status_code
        == 403
    )


def test_moderator_reads_the_audit_trail_but_nobody_edits_it(client, moderator, admin_user):
    entry = audit.record(admin_user, audit.Action.SIGNATURE_EXPORTED, signatures=3)
    assert client.get("/admin/lib/auditentry/").status_code == 200
    change = client.post(f"/admin/lib/auditentry/{entry.pk}/change/", {"detail": "{}"})
    assert change.status_code == 403
    assert (
        client.post(f"/admin/lib/auditentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    entry.refresh_from_db()
    assert entry.detail == {"signatures": 3}


def test_superuser_cannot_edit_the_audit_trail_either(admin_client, admin_user):
    entry = audit.record(admin_user, audit.Action.SIGNATURE_EXPORTED, signatures=3)
    assert admin_client.get(f"/admin/lib/auditentry/{entry.pk}/delete/").status_code == 403
    assert admin_client.get("/admin/lib/auditentry/add/").status_code == 403


def test_plain_staff_sees_no_signer_data(client, petition_with_signer):
    client.force_login(make_staff(username="plain", superuser=False))
    assert client.get("/admin/signatures/signature/").status_code == 403
    assert (
        client.get(f"/admin/petitions/petition/{petition_with_signer.pk}/export/").status_code
        == 403
    )
    index = client.get("/admin/").content.decode()
    assert "Signatures" not in index
    assert "secret.signer" not in index
