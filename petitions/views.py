"""The public pages: the list of petitions, the petition page with its sign form, the thank-you
page and the live counter's feed. This module owns the petition page: both its GET and the POST of
its form, which answers a form with errors by showing the page again.

The page an anonymous visitor gets is the same bytes for everyone, so any HTTP cache may serve it
(`Cache-Control: public`); a page that shows anything of one visitor's is `private`.
"""

import time
from urllib.parse import quote

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS
from django.db import DatabaseError
from django.http import Http404, HttpResponse, HttpResponseNotModified, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST, require_safe

from signatures import abuse, counting, signing, supporter
from signatures.forms import SignForm
from signatures.models import BlockedAttempt, SignatureCount
from signatures.normalise import canonical_email

from .models import Petition

# Long enough for a cache in front to answer a crowd, short enough that an organiser's edit shows
# within seconds; the live counter brings the count up to date in the browser.
PAGE_CACHE = {"public": True, "max_age": 10, "stale_while_revalidate": 60}
# count.json is exact within COUNT_CACHE_SECONDS in our cache plus this second in anyone's.
COUNT_CACHE = {"public": True, "max_age": 1}


@require_safe
def home(request):
    language = translation.get_language()
    petitions = list(Petition.objects.signable())
    totals = SignatureCount.objects.totals_for(p.pk for p in petitions)
    cards = []
    for petition in petitions:
        count = totals.get(petition.pk, 0)
        cards.append(
            {
                "petition": petition,
                "text": petition.in_language(language),
                "count": count,
                "goal": petition.goal_for(count),
            }
        )
    return render(request, "petitions/home.html", {"cards": cards})


@require_safe
def detail(request, slug):
    visible = Petition.objects.public()
    if request.user.has_perm("petitions.change_petition"):
        visible = Petition.objects.all()  # organisers preview drafts on the real page
    petition = get_object_or_404(visible.with_signable(), slug=slug)
    return render_petition(request, petition)


def render_petition(request, petition: Petition, *, form=None, status: int = 200):
    """The petition page; also what a sign form with errors is answered with."""
    language = translation.get_language()
    remembered = supporter.recall(request)
    # "Not you?" asks for the full form; so does a form that came back with errors.
    one_click = remembered is not None and form is None and "form" not in request.GET
    personal = (
        remembered is not None
        or form is not None
        or "form" in request.GET
        or not petition.is_public
        or bool(messages.get_messages(request))
    )
    snapshot = counting.current_count(petition)
    context = {
        "petition": petition,
        "text": petition.in_language(language),
        "count": snapshot.count,
        "goal": snapshot.goal,
        "last_signed_at": snapshot.last_signed_at,
        "form": form or SignForm(petition_id=petition.pk, language=language),
        "remembered": remembered if one_click else None,
        "recent_signers": counting.recent_signers(petition),
        "page_url": request.build_absolute_uri(petition.get_absolute_url()),
    }
    response = render(request, "petitions/detail.html", context, status=status)
    if personal:
        patch_cache_control(response, private=True, no_cache=True)
    else:
        patch_cache_control(response, **PAGE_CACHE)
        # A cache must not hand this page to a visitor whose cookies would change it.
        patch_vary_headers(response, ["Cookie"])
    return response


def client_ip(request) -> str:
    """The signer's address as seen by the first proxy we trust, or the connection's."""
    if settings.NUM_PROXIES:
        forwarded = [ip.strip() for ip in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [ip for ip in forwarded if ip]
        if len(forwarded) >= settings.NUM_PROXIES:
            return forwarded[-settings.NUM_PROXIES]
    return request.META.get("REMOTE_ADDR", "")


TOO_MANY = gettext_lazy(
    "Too many signatures have come from your connection in a short time. "
    "Please wait a few minutes and try again."
)
CLOSED = gettext_lazy("This petition is closed and no longer takes signatures.")


# No CSRF cookie: the form is protected by the browser's own word on where it was sent from
# (abuse.from_another_site) and by its signed form token, so the page needs nothing per visitor.
@csrf_exempt
@sensitive_post_parameters("name", "email", "locality", "comment")
@require_POST
def sign(request, slug):
    # Not the letters: a page with errors, the rare case, loads the petition whole (page_again).
    petition = get_object_or_404(
        Petition.objects.public().with_signable().only(*Petition.SIGNING_FIELDS), slug=slug
    )
    if abuse.from_another_site(request):
        return render(request, "403.html", status=403)
    if not petition.is_signable:
        messages.error(request, CLOSED)
        return redirect(petition.get_absolute_url())

    language = translation.get_language()
    ip_hash = signing.hash_ip(client_ip(request))
    remembered = supporter.recall(request)
    one_click = remembered is not None and bool(request.POST.get("one_click"))
    form = None if one_click else SignForm(request.POST, petition_id=petition.pk, language=language)
    valid = one_click or form.is_valid()

    limited = abuse.broken_limit(petition, ip_hash)
    if limited and limited != abuse.UNCHECKED:
        abuse.record_blocked(petition, limited, ip_hash)
        if form is None:
            form = SignForm(request.POST, petition_id=petition.pk, language=language)
            form.is_valid()
        form.add_error(None, TOO_MANY)
        response = render_petition(request, page_again(petition), form=form, status=429)
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
            return render_petition(request, page_again(petition), form=form, status=400)
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
        signing.sign(
            petition,
            name=who.name,
            email=who.email,
            country=who.country,
            locality=who.locality,
            language=language,
            ip_hash=ip_hash,
            rate_checked=limited != abuse.UNCHECKED,
            confirmed=who.confirmed,
            **details,
        )
    except signing.PetitionClosed:
        messages.error(request, CLOSED)
        return redirect(petition.get_absolute_url())

    # A first signature and a repeat get the very same answer, cookie included.
    thanks = petition.get_thanks_url()
    if petition.requires_confirmation and not who.confirmed:
        thanks += "?check=email"
    response = HttpResponseRedirect(thanks)
    supporter.remember(response, who)
    return response


def page_again(petition: Petition) -> Petition:
    """The petition whole, for its page, when signing loaded only what it needs."""
    return Petition.objects.with_signable().get(pk=petition.pk)


@require_safe
def thanks(request, slug):
    petition = get_object_or_404(Petition.objects.public(), slug=slug)
    language = translation.get_language()
    # Exact, not cached: the signer has just been counted and expects to see it.
    snapshot = counting.exact_count(petition)
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
    """The live counter's feed. Within a second of the last count it is answered from the cache
    alone, without a database query; while the database is down, with the last count made."""
    snapshot = counting.cached_count(slug)
    if snapshot is None:
        try:
            petition = Petition.objects.public().filter(slug=slug).first()
            if petition is None:
                raise Http404
            snapshot = counting.exact_count(petition)
        except DatabaseError:
            snapshot = counting.last_count(slug)
            if snapshot is None:
                raise  # a 503 page (config/middleware.py)
    if snapshot.etag in request.headers.get("If-None-Match", ""):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(snapshot.body, content_type="application/json")
    response["ETag"] = snapshot.etag
    patch_cache_control(response, **COUNT_CACHE)
    # nginx counts max-age in whole seconds, so `max-age=1` could keep an answer almost two; this
    # (nginx's own header, which it takes over Cache-Control and hides) ends it with this second.
    response["X-Accel-Expires"] = f"@{int(time.time())}"
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


@require_safe
def privacy(request):
    return render(request, "petitions/privacy.html")
