"""Tiny factories: each returns a saved object with sensible defaults, overridable by keyword."""

import itertools
import time

from django.contrib.auth import get_user_model
from django.utils import timezone

from lib.forms import form_token
from lib.normalise import canonical_email
from petitions.models import Petition
from signatures.models import Signature, SignatureCount

_seq = itertools.count(1)


def make_petition(**overrides) -> Petition:
    n = next(_seq)
    fields = {
        "slug": f"petition-{n}",
        "status": Petition.Status.OPEN,
        "starter_name": "Sara Karimi",
        "addressed_to_en": "The Minister",
        "addressed_to_fa": "وزیر",
        "title_en": f"Free the press {n}",
        "title_fa": f"آزادی مطبوعات {n}",
        "summary_en": "A short summary in English.",
        "summary_fa": "خلاصه‌ای کوتاه به فارسی.",
        "letter_en": "Dear Minister,\n\nPlease act.",
        "letter_fa": "وزیر محترم،\n\nلطفاً اقدام کنید.",
        "goal": 1000,
    }
    fields.update(overrides)
    if fields["status"] == Petition.Status.OPEN:
        fields.setdefault("opened_at", timezone.now())
    return Petition.objects.create(**fields)


def make_signature(petition: Petition, **overrides) -> Signature:
    """A counted signature, with the petition's count moved as signing would move it."""
    n = next(_seq)
    fields = {
        "name": f"Signer {n}",
        "email": f"signer{n}@example.com",
        "country": "GB",
    }
    fields.update(overrides)
    fields.setdefault("email_canonical", canonical_email(fields["email"]))
    fields.setdefault("listing", petition.signer_list)  # as signing records it
    if fields.get("status", Signature.Status.COUNTED) == Signature.Status.COUNTED:
        fields.setdefault("counted_at", fields.get("created_at") or timezone.now())
    signature = Signature.objects.create(petition=petition, **fields)
    if signature.status == Signature.Status.COUNTED:
        SignatureCount.add(petition.pk, 1)
    return signature


def make_staff(username="organiser", superuser=True, **overrides):
    User = get_user_model()
    return User.objects.create_user(
        username=username,
        password="a-long-test-password",
        is_staff=True,
        is_superuser=superuser,
        **overrides,
    )


def make_staff_in(group_name: str, username: str):
    """A staff user (not a superuser) in one of the admin's roles: "Organisers", "Moderators"."""
    from django.contrib.auth.models import Group

    user = make_staff(username=username, superuser=False)
    user.groups.add(Group.objects.get(name=group_name))
    return user


def sign_form_data(petition: Petition, **overrides) -> dict:
    """What a supporter types into the petition's full sign form, as if the page had been open a
    minute."""
    n = next(_seq)
    data = {
        "started": form_token(petition.pk, time.time() - 60),
        "name": f"Sara Karimi {n}",
        "email": f"sara{n}@example.com",
        "country": "GB",
        "locality": "",
        "comment": "",
        "show_name": "on",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def start_form_data(**overrides) -> dict:
    """What a starter types into the start form, in Persian only, as if they had written for a
    few minutes."""
    from petitions.forms import START_FORM_ID

    n = next(_seq)
    data = {
        "started": form_token(START_FORM_ID, time.time() - 600),
        "starter_name": "سارا کریمی",
        "email": f"starter{n}@example.com",
        "goal": "۵۰۰",
        "title_fa": f"نجات دریاچه ارومیه {n}",
        "addressed_to_fa": "سازمان حفاظت محیط زیست",
        "summary_fa": "دریاچه در حال خشک شدن است.",
        "letter_fa": "ریاست محترم سازمان،\n\nلطفاً اقدام کنید.",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def one_click_data(client, petition: Petition, **overrides) -> dict:
    """What a returning supporter's one-click form posts, as if the button had been shown a
    minute; in the widget it also needs `first_name`."""
    from signatures import supporter
    from signatures.abuse import one_click_token

    cookies = {name: morsel.value for name, morsel in client.cookies.items()}
    remembered = supporter.recall(type("Request", (), {"COOKIES": cookies})())
    data = {"one_click": one_click_token(petition.pk, remembered.email, time.time() - 60)}
    data.update(overrides)
    return data


# The petition form's inlines (its own thresholds, the thresholds reached), posted empty.
PETITION_ADMIN_INLINES = {
    f"{prefix}-{count}": "0"
    for prefix in ("thresholds", "thresholds_reached")
    for count in ("TOTAL_FORMS", "INITIAL_FORMS")
}


def petition_admin_form(petition: Petition, **overrides) -> dict:
    """What the admin's petition form posts for `petition` as it is, with `overrides`."""
    fields = (
        "slug",
        "starter_name",
        "addressed_to_en",
        "addressed_to_fa",
        *(f"{name}_{code}" for code in ("en", "fa") for name in ("title", "summary", "letter")),
    )
    data = {field: getattr(petition, field) for field in fields}
    data |= {"original_language": "en", "goal": "1000", "signer_list": "full"}
    return data | PETITION_ADMIN_INLINES | overrides


def make_endpoint(petition: Petition | None = None, **overrides):
    """A webhook endpoint: it hears of what happens from now on."""
    from integrations.models import Endpoint

    fields = {
        "petition": petition,
        "url": "https://crm.example.org/hooks",
        "owner_email": "owner@example.org",
    }
    fields.update(overrides)
    return Endpoint.objects.create(**fields)


def make_gathering_petition(**overrides) -> Petition:
    """A petition its starter has confirmed, gathering supporters through its private link."""
    n = next(_seq)
    fields = {
        "status": Petition.Status.GATHERING,
        "starter_email": f"starter{n}@example.com",
        "starter_language": "fa",
        "original_language": "fa",
        "email_confirmed_at": timezone.now(),
    }
    fields.update(overrides)
    fields.setdefault("starter_email_canonical", canonical_email(fields["starter_email"]))
    return make_petition(**fields)


def make_cosponsor(petition: Petition, *, confirmed: bool = True, **overrides):
    from petitions.models import Cosponsor

    n = next(_seq)
    fields = {
        "name": f"Supporter {n}",
        "email": f"supporter{n}@example.com",
        "country": "IR",
        "language": "fa",
        "confirmed_at": timezone.now() if confirmed else None,
    }
    fields.update(overrides)
    fields.setdefault("email_canonical", canonical_email(fields["email"]))
    return Cosponsor.objects.create(petition=petition, **fields)


def as_starter(client, petition: Petition) -> None:
    """Let this test client's browser into the starter's page, as their emailed link does."""
    from petitions import starting

    session = client.session
    session[starting.SESSION_KEY] = [[petition.pk, petition.starter_email_canonical]]
    session.save()


def subscriber(petition, language="en", **fields):
    """A counted signer who asked for news of the campaign."""
    fields.setdefault("consent_contact", True)
    return make_signature(petition, language=language, **fields)
