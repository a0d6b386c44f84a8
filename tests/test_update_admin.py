"""Updates in the admin (issue 19): an organiser writes one, a moderator approves it, which
publishes it and starts its email, and follows its progress; the organiser cannot approve."""

import pytest

from petitions.models import Delivery, Update
from signatures.models import AuditRecord
from tests.factories import make_petition, make_signature, make_staff_in

# The roles are made by a data migration, which a transactional test would flush away; the
# approval's email is queued on commit, so those callbacks are run by hand.
pytestmark = pytest.mark.django_db


def staff_in(group_name, client, username):
    user = make_staff_in(group_name, username)
    client.force_login(user)
    return user


def test_an_organiser_writes_an_update_that_waits_for_a_moderator(client):
    organiser = staff_in("Organisers", client, "olga")
    petition = make_petition()
    form = client.get("/admin/petitions/update/add/").content.decode()
    assert 'name="body_fa"' in form and 'lang="fa" dir="rtl"' in form

    response = client.post(
        "/admin/petitions/update/add/",
        {
            "petition": petition.pk,
            "title_en": "Hearing set",
            "body_en": "Monday.",
            "title_fa": "",
            "body_fa": "",
            "email_signers": "on",
        },
    )
    assert response.status_code == 302
    update = Update.objects.get()
    assert update.author == organiser and update.status == Update.Status.SUBMITTED

    changelist = client.get("/admin/petitions/update/").content.decode()
    assert 'value="approve"' not in changelist  # only moderators approve
    client.post("/admin/petitions/update/", {"action": "approve", "_selected_action": [update.pk]})
    assert Update.objects.get().status == Update.Status.SUBMITTED


def test_an_update_needs_a_title_and_text_in_one_language(client):
    staff_in("Organisers", client, "olga")
    petition = make_petition()
    response = client.post(
        "/admin/petitions/update/add/",
        {"petition": petition.pk, "title_en": "Only a title", "body_en": "", "title_fa": ""},
    )
    assert response.status_code == 200
    assert "Write a title and a text in at least one language." in response.content.decode()
    assert not Update.objects.exists()


def test_a_moderator_approves_and_sees_the_email_progress(
    client, mailbox, django_capture_on_commit_callbacks
):
    staff_in("Moderators", client, "mo")
    petition = make_petition()
    for n in range(3):
        make_signature(petition, consent_contact=True, email=f"s{n}@example.com")
    make_signature(petition, consent_contact=False)
    update = Update.objects.create(
        petition=petition, title_en="Hearing set", body_en="Monday.", email_signers=True
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/petitions/update/",
            {"action": "approve", "_selected_action": [update.pk]},
            follow=True,
        )
    assert "is published and going to 3 signers." in response.content.decode()
    update.refresh_from_db()
    assert update.status == Update.Status.PUBLISHED
    assert update.email_state == Update.Email.DONE
    assert len(mailbox.messages) == 3
    assert AuditRecord.objects.filter(action=AuditRecord.Action.APPROVE_UPDATE, rows=3).exists()

    page = client.get(f"/admin/petitions/update/{update.pk}/change/").content.decode()
    assert "sent: 3 · to send: 0 · failed: 0" in page
    assert Delivery.objects.filter(state=Delivery.State.SENT).count() == 3


def test_the_pause_between_emails_is_explained_to_the_moderator(
    client, mailbox, django_capture_on_commit_callbacks
):
    staff_in("Moderators", client, "mo")
    petition = make_petition()
    make_signature(petition, consent_contact=True)
    first, second = (
        Update.objects.create(petition=petition, title_en=t, body_en="x", email_signers=True)
        for t in ("One", "Two")
    )
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/admin/petitions/update/", {"action": "approve", "_selected_action": [first.pk]}
        )
    refused = client.post(
        "/admin/petitions/update/",
        {"action": "approve", "_selected_action": [second.pk]},
        follow=True,
    ).content.decode()
    assert "was not approved" in refused and "at most every 3 days" in refused
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/admin/petitions/update/",
            {"action": "approve_overriding_pause", "_selected_action": [second.pk]},
        )
    assert Update.objects.get(pk=second.pk).cap_overridden
    assert len(mailbox.messages) == 2


def test_organisers_record_the_response_and_outcome_on_the_petition(admin_client):
    petition = make_petition()
    form = admin_client.get(f"/admin/petitions/petition/{petition.pk}/change/").content.decode()
    assert 'name="outcome"' in form and 'name="response_fa"' in form


def test_an_approved_update_is_no_longer_editable_by_its_organiser(client):
    staff_in("Organisers", client, "olga")
    petition = make_petition()
    update = Update.objects.create(
        petition=petition, title_en="Approved", body_en="As sent.", status="published"
    )
    response = client.post(
        f"/admin/petitions/update/{update.pk}/change/",
        {"petition": petition.pk, "title_en": "Rewritten", "body_en": "Not what was sent."},
    )
    assert response.status_code == 403
    update.refresh_from_db()
    assert update.title_en == "Approved"
