import functools
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS
from django.http import Http404, HttpResponse, HttpResponseNotModified, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import get_script_prefix, reverse
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from petitions import cache as petition_cache
from petitions.views import render_petition

from . import abuse, confirmation, services, supporter
from .forms import SignForm
from .models import BlockedAttempt, Signature
from .normalise import canonical_email

COUNT_CACHE_CONTROL = "public, max-age=1, stale-while-revalidate=10"


def client_ip(request) -> str:
    """The signer's address as seen by the first proxy we trust, or the connection's."""
    if settings.NUM_PROXIES:
        forwarded = [ip.strip() for ip in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [ip for ip in forwarded if ip]
        if len(forwarded) >= settings.NUM_PROXIES:
            return forwarded[-settings.NUM_PROXIES]
    return request.META.get("REMOTE_ADDR", "")


@functools.lru_cache(maxsize=1024)
def thanks_url(script_prefix: str, language: str, slug: str) -> str:
    """The thank-you page's address, for the script prefix and language now active. reverse()
    walks the URL patterns, which cost signing a tenth of a millisecond each time."""
    return reverse("signatures:thanks", kwargs={"slug": slug})


@sensitive_post_parameters("name", "email", "locality", "comment")
@require_POST
def sign(request, slug):
    petition = petition_cache.public_petition(slug)
    if petition is None:
        raise Http404
    if not petition.is_signable:
        messages.error(request, _("This petition is closed and no longer takes signatures."))
        return redirect(petition.get_absolute_url())

    language = translation.get_language()
    ip_hash = services.hash_ip(client_ip(request))
    # The attempt is counted against the limits while the form is checked.
    broken_limit = abuse.count_attempt(petition, ip_hash)
    try:
        remembered = supporter.recall(request)
        one_click = remembered is not None and bool(request.POST.get("one_click"))
        form = None if one_click else SignForm(request.POST, language=language)
        valid = one_click or form.is_valid()
    finally:
        limited = broken_limit()
    if limited:
        abuse.record_blocked(petition, limited, ip_hash)
        if form is None:
            form = SignForm(request.POST, language=language)
            form.is_valid()
        form.add_error(
            None,
            _(
                "Too many signatures have come from your connection in a short time. "
                "Please wait a few minutes and try again."
            ),
        )
        response = render_petition(request, petition, form=form, status=429)
        response["Retry-After"] = "300"
        return response

    if one_click:
        who = remembered
        details = {"show_name": True, "consent_contact": False}
    else:
        if not valid:
            for reason in (BlockedAttempt.Reason.HONEYPOT, BlockedAttempt.Reason.TOO_FAST):
                if form.has_error(NON_FIELD_ERRORS, reason):
                    abuse.record_blocked(petition, reason, ip_hash)
            return render_petition(request, petition, form=form, status=400)
        data = form.cleaned_data
        # The address stays proven only if it is the one this browser confirmed before.
        still_confirmed = bool(
            remembered
            and remembered.confirmed
            and canonical_email(remembered.email) == form.email_canonical
        )
        who = supporter.Supporter(
            name=data["name"],
            email=data["email"],
            country=data["country"],
            locality=data["locality"],
            confirmed=still_confirmed,
        )
        details = {
            "comment": data["comment"],
            "show_name": data["show_name"],
            "consent_contact": data["consent_contact"],
        }

    try:
        services.sign_petition(
            petition,
            name=who.name,
            email=who.email,
            country=who.country,
            locality=who.locality,
            language=language,
            ip_hash=ip_hash,
            confirmed=who.confirmed,
            **details,
        )
    except services.PetitionClosed:
        messages.error(request, _("This petition is closed and no longer takes signatures."))
        return redirect(petition.get_absolute_url())

    # A first signature and a repeat get the very same answer, cookie included.
    thanks = thanks_url(get_script_prefix(), language, petition.slug)
    if petition.requires_confirmation and not who.confirmed:
        thanks += "?check=email"
    response = HttpResponseRedirect(thanks)  # redirect() would first try the URL as a view name
    supporter.remember(response, who)
    return response


@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request, token):
    """The emailed link. GET only shows the button, because mail scanners open links; the POST
    from that button is what confirms."""
    try:
        signature_id, email = confirmation.read_token(token)
    except confirmation.ExpiredToken:
        return render(request, "signatures/confirm.html", {"state": "expired"}, status=410)
    except confirmation.InvalidToken:
        return render(request, "signatures/confirm.html", {"state": "invalid"}, status=400)

    signature = (
        Signature.objects.select_related("petition")
        .filter(pk=signature_id, email_canonical=email)
        .first()
    )
    if signature is None or signature.status == Signature.Status.INVALIDATED:
        return render(request, "signatures/confirm.html", {"state": "invalid"}, status=400)
    context = {
        "signature": signature,
        "petition": signature.petition,
        "text": signature.petition.in_language(translation.get_language()),
    }
    if request.method != "POST":
        state = "done" if signature.status == Signature.Status.COUNTED else "ask"
        return render(request, "signatures/confirm.html", context | {"state": state})

    try:
        services.confirm_signature(signature_id, email)
    except services.AlreadyConfirmed:
        return render(request, "signatures/confirm.html", context | {"state": "done"})
    except services.CannotConfirm:
        return render(request, "signatures/confirm.html", {"state": "invalid"}, status=400)
    response = redirect(
        reverse("signatures:thanks", kwargs={"slug": signature.petition.slug}) + "?confirmed=1"
    )
    supporter.remember(
        response,
        supporter.Supporter(
            name=signature.name,
            email=signature.email,
            country=str(signature.country),
            locality=signature.locality,
            confirmed=True,
        ),
    )
    return response


@require_safe
def thanks(request, slug):
    petition = petition_cache.public_petition(slug)
    if petition is None:
        raise Http404
    language = translation.get_language()
    # Exact, not cached: the signer has just been counted and expects to see it.
    snapshot = services.count_snapshot(petition, cached=False)
    share_url = request.build_absolute_uri(petition.get_absolute_url())
    text = petition.in_language(language)
    return render(
        request,
        "signatures/thanks.html",
        {
            "petition": petition,
            "text": text,
            "count": snapshot.count,
            "goal": snapshot.goal,
            "share_url": share_url,
            "share_links": share_links(share_url, text.title.value),
            "check_email": request.GET.get("check") == "email",
            "just_confirmed": request.GET.get("confirmed") == "1",
        },
    )


@require_safe
def count_json(request, slug):
    """The live counter's feed. Warm, it is answered from the cache alone: no database query."""
    snapshot = services.live_count(slug)
    if snapshot is None:
        petition = petition_cache.public_petition(slug)
        if petition is None:
            raise Http404
        snapshot = services.count_snapshot(petition)
    if snapshot.etag in request.headers.get("If-None-Match", ""):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(snapshot.body, content_type="application/json")
    response["ETag"] = snapshot.etag
    response["Cache-Control"] = COUNT_CACHE_CONTROL
    patch_vary_headers(response, ["Accept-Encoding"])
    return response


def share_links(url: str, title: str) -> list[dict]:
    """Plain links to each network's own share page: no scripts of theirs on our pages."""
    u, t = quote(url, safe=""), quote(title, safe="")
    body = quote(f"{title}\n\n{url}", safe="")
    return [
        {"name": "X", "url": f"https://twitter.com/intent/tweet?text={t}&url={u}"},
        {"name": "Facebook", "url": f"https://www.facebook.com/sharer/sharer.php?u={u}"},
        {"name": "WhatsApp", "url": f"https://wa.me/?text={t}%20{u}"},
        {"name": "Telegram", "url": f"https://t.me/share/url?url={u}&text={t}"},
        {"name": _("Email"), "url": f"mailto:?subject={t}&body={body}"},
    ]
