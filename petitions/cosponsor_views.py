"""The supporters' pages: the private link a starter shares to gather supporters before review,
and each supporter's emailed confirmation. Signing here has the sign form's defences: the same
form and bot check, the browser's word on where the POST came from, the same rate limits."""

from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods

from lib.http import client_ip
from lib.normalise import canonical_email
from lib.urls import on_onion
from signatures import abuse, signing
from signatures.models import BlockedAttempt

from . import cosponsors
from .forms import CosponsorForm
from .models import Petition

# The sign form's words, so both are translated once.
TOO_MANY = gettext_lazy(
    "Too many signatures have come from your connection in a short time. "
    "Please wait a few minutes and try again."
)


def private(response):
    # The link is the secret: no shared cache keeps the page, and no other site is sent the
    # address as a referrer (a link in the letter). Not "no-referrer": the form's own POST
    # would then say it came from nowhere (Origin: null), which CSRF refuses.
    patch_cache_control(response, private=True, no_cache=True)
    response["Referrer-Policy"] = "same-origin"
    return response


@sensitive_post_parameters("name", "email")
@require_http_methods(["GET", "HEAD", "POST"])
def supporters(request, slug, key):
    petition = cosponsors.petition_for_link(slug, key)
    if petition is None:
        raise Http404
    language = translation.get_language()
    if petition.is_public:
        return redirect(petition.url_in(petition.page_language(language)))
    gathering = petition.status == Petition.Status.GATHERING
    form = CosponsorForm(petition_id=petition.pk, language=language)
    status = 200
    if request.method == "POST" and gathering:
        if abuse.from_another_site(request):
            return render(request, "403.html", status=403)
        form = CosponsorForm(request.POST, petition_id=petition.pk, language=language)
        ip_hash = signing.hash_ip(client_ip(request))
        valid = form.is_valid()
        verdict = abuse.check_limits(petition, ip_hash, onion=on_onion(request), valid=valid)
        if verdict.refused:
            abuse.record_blocked(petition, verdict.broken.name, ip_hash)
            form.add_error(None, TOO_MANY)
            response = page(request, petition, form, status=429)
            response["Retry-After"] = str(verdict.retry_after or 300)
            return response
        if not valid:
            for reason in (BlockedAttempt.Reason.HONEYPOT, BlockedAttempt.Reason.TOO_FAST):
                if form.has_error(NON_FIELD_ERRORS, reason):
                    abuse.record_blocked(petition, reason, ip_hash)
            return page(request, petition, form, status=400)
        data = form.cleaned_data
        cosponsors.add(
            petition,
            name=data["name"],
            email=data["email"],
            email_canonical=canonical_email(data["email"]),
            country=data["country"],
            language=language,
            ip_hash=ip_hash,
        )
        # The same answer for a first time, a repeat and the starter: nothing said of who signed.
        messages.success(
            request,
            _(
                "Thank you. Check your email and press the button in it: you count as a "
                "supporter once you have confirmed."
            ),
        )
        return redirect(request.path)
    return page(request, petition, form, status=status)


def page(request, petition: Petition, form, *, status: int):
    page_language = petition.page_language(translation.get_language())
    context = {
        "petition": petition,
        "text": petition.in_language(page_language),
        "form": form,
        "gathering": petition.status == Petition.Status.GATHERING,
        "supporters": cosponsors.supporters_count(petition),
        "required": cosponsors.required(),
    }
    return private(render(request, "petitions/supporters.html", context, status=status))


@require_http_methods(["GET", "HEAD", "POST"])
def supporter_confirm(request, token):
    """GET only shows the button, because mail scanners open links."""
    try:
        cosponsor = cosponsors.cosponsor_for_token(token)
    except cosponsors.ExpiredToken:
        return confirm_page(request, {"state": "expired"}, status=410)
    except cosponsors.InvalidToken:
        cosponsor = None
    if cosponsor is None:
        return confirm_page(request, {"state": "invalid"}, status=400)
    petition = cosponsor.petition
    text = petition.in_language(petition.page_language(translation.get_language()))
    context = {"petition": petition, "text": text}
    if request.method == "POST" and cosponsor.confirmed_at is None:
        cosponsors.confirm(cosponsor)
        return redirect(request.path)
    state = "confirm" if cosponsor.confirmed_at is None else "confirmed"
    return confirm_page(request, {**context, "state": state}, status=200)


def confirm_page(request, context: dict, *, status: int):
    return private(render(request, "petitions/supporter_confirm.html", context, status=status))
