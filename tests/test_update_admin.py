"""Updates in the admin: an organiser writes one, a moderator approves it, which
publishes it and starts its email, and follows its progress; the organiser cannot approve."""

import re
from unittest import mock

import pytest
from django.conf import settings

from lib.models import AuditEntry
from petitions.models import Delivery, Update
from tests.factories import make_petition, make_signature, make_staff, make_staff_in

# The roles are made by a data migration, which a transactional test would flush away; the
# approval's email is queued on commit, so those callbacks are run by hand.
pytestmark = pytest.mark.django_db


def approve_from_its_page(client, update, **kwargs):
    """What a moderator does: read the update's page, then press its approval button."""
    page = client.get(f"/admin/petitions/update/{update.pk}/change/").content.decode()
    version = re.search(r'name="version" value="([0-9a-f]+)"', page).group(1)
    follow = kwargs.pop("follow", False)
    return client.post(
        f"/admin/petitions/update/{update.pk}/approve/",
        {"version": version, **kwargs},
        follow=follow,
    )


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
    page = client.get(f"/admin/petitions/update/{update.pk}/change/").content.decode()
    assert "/approve/" not in page
    version = update.reviewed_version
    response = client.post(f"/admin/petitions/update/{update.pk}/approve/", {"version": version})
    assert response.status_code == 403
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
        response = approve_from_its_page(client, update, follow=True)
    assert "is published and going to 3 signers." in response.content.decode()
    update.refresh_from_db()
    assert update.status == Update.Status.PUBLISHED
    assert update.email_state == Update.Email.DONE
    assert len(mailbox.messages) == 3
    assert AuditEntry.objects.about(update).get(action="update.approved").detail == {
        "recipients": 3,
        "cap_overridden": False,
    }

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
        approve_from_its_page(client, first)
    refused = approve_from_its_page(client, second, follow=True).content.decode()
    assert "was not approved" in refused and "at most every 3 days" in refused
    with django_capture_on_commit_callbacks(execute=True):
        approve_from_its_page(client, second, override="on")
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


# A moderator approves what they read: the update's own page carries the version of its text and
# of its "email it to the signers" choice, and an approval of anything else is refused.


def approval_version(html: str) -> str:
    found = re.search(r'name="version" value="([0-9a-f]+)"', html)
    return found.group(1) if found else ""


def test_a_moderator_approves_an_update_from_its_own_page(
    client, mailbox, django_capture_on_commit_callbacks
):
    staff_in("Moderators", client, "mo")
    petition = make_petition()
    make_signature(petition, consent_contact=True)
    update = Update.objects.create(
        petition=petition, title_en="Hearing set", body_en="Monday.", email_signers=True
    )
    page = client.get(f"/admin/petitions/update/{update.pk}/change/").content.decode()
    approve_url = f"/admin/petitions/update/{update.pk}/approve/"
    assert f'action="{approve_url}"' in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(approve_url, {"version": approval_version(page)}, follow=True)
    assert "is published and going to 1 signer." in response.content.decode()
    update.refresh_from_db()
    assert update.status == Update.Status.PUBLISHED
    assert len(mailbox.messages) == 1


@pytest.mark.parametrize(
    "change",
    [{"body_en": "Monday. Also: https://evil.example/login"}, {"email_signers": True}],
    ids=["text", "email-choice"],
)
def test_a_moderator_cannot_approve_an_update_changed_since_they_read_it(
    client, mailbox, django_capture_on_commit_callbacks, change
):
    staff_in("Moderators", client, "mo")
    petition = make_petition()
    make_signature(petition, consent_contact=True)
    update = Update.objects.create(petition=petition, title_en="Hearing set", body_en="Monday.")
    page_url = f"/admin/petitions/update/{update.pk}/change/"
    read = approval_version(client.get(page_url).content.decode())
    assert read

    Update.objects.filter(pk=update.pk).update(**change)  # the organiser saves a change

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/admin/petitions/update/{update.pk}/approve/", {"version": read}, follow=True
        )
    update.refresh_from_db()
    assert update.status == Update.Status.SUBMITTED and not mailbox.messages
    assert "This update was changed since you read it." in response.content.decode()
    assert response.redirect_chain[-1][0] == page_url  # the current text, to read again


def test_an_update_changed_after_the_list_was_shown_is_not_approved_from_the_list(
    client, mailbox, django_capture_on_commit_callbacks
):
    staff_in("Moderators", client, "mo")
    petition = make_petition()
    make_signature(petition, consent_contact=True)
    update = Update.objects.create(petition=petition, title_en="Hearing set", body_en="Monday.")
    client.get("/admin/petitions/update/")
    Update.objects.filter(pk=update.pk).update(body_en="Changed.", email_signers=True)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            "/admin/petitions/update/", {"action": "approve", "_selected_action": [update.pk]}
        )
    update.refresh_from_db()
    assert update.status == Update.Status.SUBMITTED and not mailbox.messages


def test_the_approval_button_and_its_refusal_are_in_persian_in_the_persian_admin(client):
    staff_in("Moderators", client, "mo")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fa"
    update = Update.objects.create(petition=make_petition(), title_fa="جلسه", body_fa="دوشنبه.")
    page_url = f"/admin/petitions/update/{update.pk}/change/"
    page = client.get(page_url).content.decode()
    assert "تأیید و انتشار" in page
    Update.objects.filter(pk=update.pk).update(body_fa="دوشنبه، ساعت ده.")
    response = client.post(
        f"/admin/petitions/update/{update.pk}/approve/",
        {"version": approval_version(page)},
        follow=True,
    )
    assert "این خبر پس از خواندن شما تغییر کرده است" in response.content.decode()


def test_an_organisers_stale_edit_does_not_land_after_the_update_was_approved(client):
    """The moderator approves after the organiser's save read the update but before it wrote:
    the organiser's text must not replace what was approved (nor undo the approval)."""
    from petitions import mailing

    organiser = staff_in("Organisers", client, "olga")
    update = Update.objects.create(
        petition=make_petition(), title_en="Hearing set", body_en="Monday.", author=organiser
    )
    clean = Update.clean

    def moderator_approves_meanwhile(instance):
        mailing.approve(Update.objects.get(pk=update.pk), by=make_staff("mo"))
        return clean(instance)

    with mock.patch.object(Update, "clean", moderator_approves_meanwhile):
        response = client.post(
            f"/admin/petitions/update/{update.pk}/change/",
            {"petition": update.petition_id, "title_en": "Hearing set", "body_en": "Rewritten."},
            follow=True,
        )
    update.refresh_from_db()
    assert update.status == Update.Status.PUBLISHED and update.published_at
    assert update.body_en == "Monday."
    assert "before your changes arrived, so they were not saved" in response.content.decode()


def test_an_updates_text_is_normalised_as_the_start_form_normalises_a_petitions(client):
    staff_in("Organisers", client, "olga")
    petition = make_petition()
    response = client.post(
        "/admin/petitions/update/add/",
        {
            "petition": petition.pk,
            "title_en": "\u202eHearing  set\u202c",
            "body_en": "Monday.\r\n\r\n\r\n\r\nTuesday.",
            "title_fa": "بيش از ۵۲ هزار امضا را تحويل داديم",
            "body_fa": "دادگاه در كرمان\u200cها\u2067 برگزار می\u200cشود.",
        },
    )
    assert response.status_code == 302
    update = Update.objects.get()
    assert update.title_en == "Hearing set"
    assert update.body_en == "Monday.\n\nTuesday."
    assert update.title_fa == "بیش از ۵۲ هزار امضا را تحویل دادیم"  # Persian Yeh, digits kept
    assert update.body_fa == "دادگاه در کرمان\u200cها برگزار می\u200cشود."  # ZWNJ kept


def test_the_persian_admin_counts_an_approved_updates_signers_in_persian_digits(
    client, mailbox, django_capture_on_commit_callbacks
):
    staff_in("Moderators", client, "mo")
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fa"
    petition = make_petition()
    for _ in range(2):
        make_signature(petition, consent_contact=True)
    update = Update.objects.create(
        petition=petition, title_fa="جلسه", body_fa="دوشنبه.", email_signers=True
    )
    page = client.get(f"/admin/petitions/update/{update.pk}/change/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/admin/petitions/update/{update.pk}/approve/",
            {"version": approval_version(page)},
            follow=True,
        )
    assert "برای ۲ امضاکننده فرستاده می‌شود" in response.content.decode()
