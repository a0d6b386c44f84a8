"""The moderation queue for petitions the public started: publish or send back with a
reason, each decision audited in its own transaction, the starter emailed in their language."""

import re
from unittest import mock

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.utils import translation

from lib.models import AuditEntry
from petitions import moderation
from petitions.models import Petition
from tests.factories import make_petition, make_staff, start_form_data

pytestmark = pytest.mark.django_db(transaction=True)


def waiting(**overrides) -> Petition:
    fields = {
        "status": Petition.Status.PENDING,
        "starter_email": "sara@example.com",
        "starter_email_canonical": "sara@example.com",
        "starter_language": "fa",
        "title_en": "",
        "summary_en": "",
        "letter_en": "",
        "addressed_to_en": "",
        "original_language": "fa",
        "title_fa": "نجات دریاچه ارومیه",
    }
    return make_petition(**fields | overrides)


def staff_with(username: str, *codenames: str):
    """Staff with these permissions (the groups come from a data migration, which the database
    flush between committing tests removes; test_roles checks the groups themselves)."""
    user = make_staff(username, superuser=False)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


@pytest.fixture
def moderator(client):
    user = staff_with("mo", "moderate_petition", "view_auditentry", "view_petition")
    client.force_login(user)
    return user


def test_the_queue_lists_only_petitions_waiting_for_review(client, moderator):
    waiting(title_fa="در انتظار بررسی")
    make_petition(title_en="Already open")
    make_petition(status=Petition.Status.DRAFT, title_en="An organiser's draft")
    html = client.get("/admin/petitions/reviewqueue/").content.decode()
    assert "در انتظار بررسی" in html
    assert "Already open" not in html and "An organiser&#x27;s draft" not in html


def test_publishing_from_the_admin_opens_it_audits_it_and_emails_the_starter(
    client, moderator, mailbox
):
    petition = waiting()
    decide_url = f"/admin/petitions/reviewqueue/{petition.pk}/decide/"
    read = version_read(client.get(decide_url).content.decode())
    response = client.post(decide_url, {"action": "publish", "version": read})
    assert response.status_code == 302
    petition.refresh_from_db()
    assert petition.status == Petition.Status.OPEN and petition.opened_at
    [decision] = AuditEntry.objects.all()
    assert (decision.actor, decision.action, decision.target) == (
        moderator,
        "petition.published",
        petition,
    )
    [message] = mailbox.messages
    assert message["To"] == "sara@example.com"
    assert message["Content-Language"] == "fa"
    assert "منتشر شد" in message["Subject"]
    text = message.get_body(preferencelist=("plain",)).get_content()
    assert f"http://testserver/fa/p/{petition.slug}/" in text


def test_rejection_with_a_reason_reaches_the_starter_in_their_language(client, moderator, mailbox):
    petition = waiting()
    decide_url = f"/admin/petitions/reviewqueue/{petition.pk}/decide/"
    read = version_read(client.get(decide_url).content.decode())
    response = client.post(
        decide_url,
        {
            "action": "reject",
            "reason": "duplicate",
            "note": "کارزار مشابهی باز است.",
            "version": read,
        },
    )
    assert response.status_code == 302
    petition.refresh_from_db()
    assert petition.status == Petition.Status.REJECTED
    assert petition.rejection_reason == "duplicate"
    [message] = mailbox.messages
    assert message["Content-Language"] == "fa"
    assert "بازگردانده شد" in message["Subject"]
    for part in ("plain", "html"):
        body = message.get_body(preferencelist=(part,)).get_content()
        assert "کارزاری با همین خواسته از پیش وجود دارد" in body  # the reason, in Persian
        assert "کارزار مشابهی باز است." in body
        assert "/fa/start/link/" in body
    [decision] = AuditEntry.objects.all()
    assert (decision.action, decision.detail) == (
        "petition.rejected",
        {"reason": "duplicate", "note": "کارزار مشابهی باز است."},
    )


def test_an_english_starter_reads_the_reason_in_english(moderator, mailbox):
    petition = waiting(
        starter_language="en",
        title_en="Save Lake Urmia",
        summary_en="It is drying up.",
        letter_en="Please act.",
    )
    moderation.reject(petition, by=moderator, reason="offensive")
    [message] = mailbox.messages
    assert message["Content-Language"] == "en"
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert "It is offensive, hateful or abusive" in body


def test_a_rejection_needs_a_reason_from_the_list(client, moderator, mailbox):
    petition = waiting()
    response = client.post(
        f"/admin/petitions/reviewqueue/{petition.pk}/decide/", {"action": "reject"}
    )
    assert response.status_code == 200
    petition.refresh_from_db()
    assert petition.status == Petition.Status.PENDING
    assert not AuditEntry.objects.exists() and not mailbox.messages
    with pytest.raises(ValueError):
        moderation.reject(petition, by=moderator, reason="because")


def test_the_starter_page_shows_the_reason_sent_back(client, moderator, mailbox):
    petition = waiting()
    moderation.reject(petition, by=moderator, reason="unclear", note="به چه کسی؟")
    link = re.search(
        r"http://testserver(/\S+/start/link/\S+/)",
        mailbox.messages[0].get_body(preferencelist=("plain",)).get_content(),
    ).group(1)
    starter = client.__class__()
    starter.post(link)
    html = starter.get(f"/fa/my/{petition.slug}/").content.decode()
    assert "روشن نیست چه چیزی و از چه کسی می‌خواهد" in html
    assert "به چه کسی؟" in html
    assert f'href="/fa/my/{petition.slug}/edit/"' in html


def test_no_decision_without_its_audit_record(moderator, mailbox):
    petition = waiting()
    with (
        mock.patch.object(AuditEntry, "save", side_effect=RuntimeError("disk full")),
        pytest.raises(RuntimeError),
    ):
        moderation.publish(petition, by=moderator)
    petition.refresh_from_db()
    assert petition.status == Petition.Status.PENDING
    assert not mailbox.messages


def test_a_petition_is_decided_once(moderator, mailbox):
    petition = waiting()
    moderation.publish(petition, by=moderator)
    with pytest.raises(moderation.NotWaiting):
        moderation.reject(petition, by=moderator, reason="duplicate")
    assert AuditEntry.objects.count() == 1 and len(mailbox.messages) == 1


def test_an_unconfirmed_petition_cannot_be_published(moderator, mailbox):
    petition = waiting(status=Petition.Status.DRAFT)
    with pytest.raises(moderation.NotWaiting):
        moderation.publish(petition, by=moderator)


def test_only_moderators_reach_the_queue(client):
    organiser = staff_with("org", "add_petition", "change_petition", "view_petition")
    client.force_login(organiser)
    petition = waiting()
    assert client.get("/admin/petitions/reviewqueue/").status_code == 403
    response = client.post(
        f"/admin/petitions/reviewqueue/{petition.pk}/decide/", {"action": "publish"}
    )
    assert response.status_code == 403
    petition.refresh_from_db()
    assert petition.status == Petition.Status.PENDING


def test_decisions_are_read_only_in_the_admin(client, moderator):
    petition = waiting()
    moderation.publish(petition, by=moderator)
    decision = AuditEntry.objects.get()
    assert client.get("/admin/lib/auditentry/").status_code == 200
    assert client.get(f"/admin/lib/auditentry/{decision.pk}/delete/").status_code == 403


def test_the_petition_form_cannot_publish_a_started_petition_around_the_queue(admin_client):
    petition = waiting()
    html = admin_client.get(f"/admin/petitions/petition/{petition.pk}/change/").content.decode()
    assert 'name="status"' not in html
    organisers_own = make_petition(status=Petition.Status.DRAFT)
    html = admin_client.get(
        f"/admin/petitions/petition/{organisers_own.pk}/change/"
    ).content.decode()
    assert 'name="status"' in html


def test_an_organisers_own_petition_in_the_queue_is_decided_without_an_email(moderator, mailbox):
    petition = make_petition(status=Petition.Status.PENDING)
    moderation.publish(petition, by=moderator)
    petition.refresh_from_db()
    assert petition.status == Petition.Status.OPEN
    assert AuditEntry.objects.count() == 1 and not mailbox.messages


# What the moderator read travels with their decision: the starter may edit while the petition
# waits, so a decision on text that changed since the page was shown must not take effect.


def version_read(html: str) -> str:
    found = re.search(r'name="version" value="([0-9a-f]+)"', html)
    return found.group(1) if found else ""


def starter_of(petition: Petition):
    from django.test import Client

    from petitions import starting

    starter = Client()
    assert starter.post(f"/fa/start/link/{starting.make_token(petition)}/").status_code == 302
    return starter


def edit_data(**overrides) -> dict:
    data = start_form_data(letter_fa="نامه‌ای دیگر، با پیوند https://evil.example/login")
    data.pop("email")
    return data | overrides


@pytest.mark.parametrize(
    "decision",
    [{"action": "publish"}, {"action": "reject", "reason": "unclear", "note": ""}],
    ids=["publish", "send-back"],
)
def test_a_moderator_cannot_decide_on_text_changed_since_they_read_it(
    client, moderator, mailbox, decision
):
    petition = waiting(letter_fa="نامه‌ای بی‌آزار.")
    decide_url = f"/admin/petitions/reviewqueue/{petition.pk}/decide/"
    read = version_read(client.get(decide_url).content.decode())

    starter = starter_of(petition)
    assert starter.post(f"/fa/my/{petition.slug}/edit/", edit_data()).status_code == 302

    response = client.post(decide_url, decision | {"version": read})
    petition.refresh_from_db()
    assert petition.status == Petition.Status.PENDING
    assert not AuditEntry.objects.exists() and not mailbox.messages
    html = response.content.decode()
    assert "This petition was changed since you read it." in html
    assert "https://evil.example/login" in html  # the current text, to read again

    response = client.post(decide_url, decision | {"version": version_read(html)})
    assert response.status_code == 302
    petition.refresh_from_db()
    assert petition.status != Petition.Status.PENDING


def test_the_refusal_is_in_persian_in_the_persian_admin(client, moderator):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fa"
    petition = waiting()
    decide_url = f"/admin/petitions/reviewqueue/{petition.pk}/decide/"
    read = version_read(client.get(decide_url).content.decode())
    Petition.objects.filter(pk=petition.pk).update(goal=10)
    html = client.post(decide_url, {"action": "publish", "version": read}).content.decode()
    assert "این کارزار پس از خواندن شما تغییر کرده است" in html
    assert Petition.objects.get(pk=petition.pk).status == Petition.Status.PENDING


def test_a_starters_edit_cannot_land_after_the_moderator_published(client, moderator, mailbox):
    """The moderator publishes after the starter's request read the petition but before it saved:
    the starter's save must not overwrite what was published (nor undo the publishing)."""
    from petitions.forms import StartForm

    petition = waiting(letter_fa="نامه‌ای بی‌آزار.")
    starter = starter_of(petition)
    decide_url = f"/admin/petitions/reviewqueue/{petition.pk}/decide/"
    read = version_read(client.get(decide_url).content.decode())
    is_valid = StartForm.is_valid

    def moderator_publishes_meanwhile(form):
        with translation.override(translation.get_language()):  # the admin's request sets its own
            client.post(decide_url, {"action": "publish", "version": read})
        return is_valid(form)

    with mock.patch.object(StartForm, "is_valid", moderator_publishes_meanwhile):
        response = starter.post(f"/fa/my/{petition.slug}/edit/", edit_data(), follow=True)

    petition.refresh_from_db()
    assert petition.status == Petition.Status.OPEN and petition.opened_at
    assert petition.letter_fa == "نامه‌ای بی‌آزار."
    assert "تغییرها ذخیره نشد" in response.content.decode()  # told it was published


def test_the_decide_form_capitalises_its_labels_and_groups_the_goal(client, settings):
    client.force_login(make_staff(username="mona"))
    petition = make_petition(status=Petition.Status.PENDING, goal=75000)
    url = f"/admin/petitions/reviewqueue/{petition.pk}/decide/"
    page = client.get(url).content.decode()
    assert ">Decision</legend>" in page
    assert ">Reason, if sent back</label>" in page
    assert "goal 75,000" in page
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "fa"
    assert "۷۵٬۰۰۰" in client.get(url).content.decode()
