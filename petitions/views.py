"""The public pages: petition page and widget (GET and sign POST), thank-you pages, feeds.
An anonymous visitor's page is the same bytes for everyone (`public`); a personal one is `private`.
"""

import time
from urllib.parse import unquote, urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.db import DatabaseError, connection
from django.http import (
    Http404,
    HttpResponse,
    HttpResponseNotModified,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_countries import countries

from lib import cache
from lib.forms import FORM_TOKEN_STEP_SECONDS, form_token_id
from lib.http import cache_like_the_page, client_ip, framed_by, kept, kept_page, not_modified
from lib.normalise import clean_source
from lib.tokens import InvalidToken
from lib.urls import on_onion, own_hosts, site_url
from signatures import abuse, counting, receipts, signing, supporter
from signatures import record as public_record
from signatures.forms import SignForm
from signatures.models import UNFOLD_FACTOR, Signature, SignatureCount

from . import mailing, thresholds
from .chart import chart_for
from .models import Petition, Update
from .share import share_links
from .snippets import WIDGET_HEIGHT, WIDGET_WIDTH, iframe_html

# The last edit kept by slug: Petition.save drops it, so this only bounds an unused one.
EDITION_SECONDS = 24 * 3600
# count.json is exact within COUNT_CACHE_SECONDS in our cache plus this second in anyone's.
COUNT_CACHE = "public, max-age=1"
# The breakdown is itself cached for a minute (counting.COUNTRY_CACHE_SECONDS).
COUNTRIES_CACHE = {"public": True, "max_age": 60}
# An oEmbed answer changes only when the petition's title does.
OEMBED_CACHE = {"public": True, "max_age": 300}


@require_safe
def home(request):
    language = translation.get_language()
    petitions = list(Petition.objects.signable())
    totals = SignatureCount.objects.totals_for(p.pk for p in petitions)
    cards = [petition.card(totals.get(petition.pk, 0), language) for petition in petitions]
    return render(request, "petitions/home.html", {"cards": cards})


@require_safe
def detail(request, slug):
    found = kept_before_reading(request, "page", slug)
    if found is not None:
        return found
    visible = Petition.objects.public()
    if request.user.has_perm("petitions.change_petition") or request.user.has_perm(
        "petitions.moderate_petition"
    ):
        visible = Petition.objects.all()  # organisers and moderators preview on the real page
    petition = get_object_or_404(visible.with_signable(), slug=slug)
    if petition.page_language(translation.get_language()) != translation.get_language():
        return only_in(request, petition)
    return render_petition(request, petition)


def only_in(request, petition: Petition):
    """A petition in a language it is not written in: says which it is, and links there."""
    language = petition.page_language(translation.get_language())
    petition_url = petition.url_in(language)
    context = {
        "petition": petition,
        "text": petition.in_language(language),
        "petition_url": petition_url,
        "page_url": site_url(petition_url),
    }
    response = render(request, "petitions/only_in.html", context)
    return cache_like_the_page(response, not petition.is_public)


def render_petition(
    request, petition: Petition, *, form=None, status: int = 200, click_error: str = ""
):
    """Also the answer to a sign form with errors or a refused one click."""
    remembered, one_click = own_sign_box(request, form, click_error)
    personal = (
        one_click
        or form is not None
        or "form" in request.GET
        or not petition.is_public
        or bool(messages.get_messages(request))
    )
    snapshot = counting.current_count(petition)

    def page():
        return petition_page(
            request, petition, snapshot, remembered, one_click, form, click_error, status, personal
        )

    if personal or status != 200:
        return page()
    return kept_petition(request, petition, "page", snapshot.count, page)


def petition_page(
    request, petition, snapshot, remembered, one_click, form, click_error, status, personal
):
    language = translation.get_language()
    page_url = site_url(petition.get_absolute_url())
    context = {
        "petition": petition,
        "text": petition.in_language(language),
        "count": snapshot.count,
        "paper": snapshot.paper,
        "online": snapshot.online,
        "goal": snapshot.goal,
        "last_signed_at": snapshot.last_signed_at,
        "form": form or sign_form(petition, language),
        "remembered": remembered if one_click else None,
        "one_click_token": one_click_token(petition, remembered) if one_click else "",
        "click_error": click_error,
        "already_signed": one_click and remembered.has_signed(petition.pk),
        "personal_url": personal_url(request, petition, form, click_error),
        "recent_signers": counting.recent_signers(petition),
        # Kept with the page, whose key moves with the count: one small sum when it is made.
        "removed_after_review": public_record.removed_after_review(petition.pk),
        "country_counts": by_country(counting.country_counts(petition)),
        "page_url": page_url,
        "oembed_url": oembed_url(page_url),
        "source": form_source(request, "page"),
        "chart": chart_for(petition, language),
        "thresholds": thresholds.markers(petition, snapshot.goal, language),
        "share_image_url": site_url(
            reverse("petitions:share_image", kwargs={"slug": petition.slug})
        ),
        "updates": [
            {"update": update, "title": update.text("title", language)}
            | {"body": update.text("body", language), "body_html": update.body_html(language)}
            for update in Update.objects.published().ordinary().filter(petition=petition)
        ],
    }
    if context["already_signed"]:
        context["share_links"] = share_links(page_url, context["text"].title.value)
    response = render(request, "petitions/detail.html", context, status=status)
    return cache_like_the_page(response, personal)


def own_sign_box(request, form, click_error: str) -> tuple:
    """The remembered supporter, and whether the sign box is theirs: only on `?form` (not
    `?form=full`) or after a refused click, so every other page stays the same for everyone."""
    remembered = supporter.recall(request)
    asked = request.GET.get("form")
    own = bool(click_error) or (asked is not None and asked != "full")
    return remembered, remembered is not None and form is None and own


def personal_url(request, petition: Petition, form, click_error: str) -> str:
    """ "" where the page already shows the own box, or errors that must not be swapped away."""
    if form is not None or click_error or "form" in request.GET or not petition.is_signable:
        return ""
    return reverse("petitions:personal", kwargs={"slug": petition.slug})


@require_safe
def personal(request, slug):
    """A remembered supporter's sign box as a fragment; its one-click token's minimum display
    time counts from here. 204 for anyone else; never cached."""
    remembered = supporter.recall(request)
    response = HttpResponse(status=204)
    # A page of another site may send the cookie along but cannot read the answer; it gets none.
    if remembered is not None and not abuse.from_another_site(request):
        petition = get_object_or_404(Petition.objects.public().with_signable(), slug=slug)
        if petition.is_signable:
            response = render_personal(request, petition, remembered)
    patch_cache_control(response, private=True, no_store=True)
    patch_vary_headers(response, ["Cookie"])
    return response


def render_personal(request, petition: Petition, remembered):
    embed = request.GET.get("embed") == "1"
    context = {
        "petition": petition,
        "remembered": remembered,
        "one_click_token": one_click_token(petition, remembered),
        "embed": embed,
        "source": "widget",
        "already_signed": remembered.has_signed(petition.pk),
    }
    if context["already_signed"]:
        title = petition.in_language(translation.get_language()).title.value
        context["share_links"] = share_links(site_url(petition.get_absolute_url()), title)
    return render(request, "signatures/_sign_form.html", context)


def sign_form(petition: Petition, language: str, data=None) -> SignForm:
    return SignForm(
        data, petition_id=petition.pk, language=language, lists_signers=petition.lists_signers
    )


def kept_key(request, kind: str, slug: str, count: int, edition: str) -> str:
    """Everything the page's bytes depend on, including the count and the form token's step."""
    step = int(time.time()) // FORM_TOKEN_STEP_SECONDS
    parts = (
        kind,
        slug,
        translation.get_language(),
        request.get_host(),
        on_onion(request),
        form_source(request, "page"),
        count,
        edition,
        step,
    )
    return cache.page_key(parts)


def kept_petition(request, petition: Petition, kind: str, count: int, make) -> HttpResponse:
    """Also keeps the last edit by slug, for kept_before_reading."""
    edition = petition.updated_at.isoformat() if petition.updated_at else ""

    def made():
        response = make()
        if response.status_code == 200:
            cache.set(cache.edition_key(petition.slug), edition, EDITION_SECONDS)
        return response

    key = kept_key(request, kind, petition.slug, count, edition)
    return kept(key, made, petition.frame_ancestors if kind == "widget" else None)


def kept_before_reading(request, kind: str, slug: str) -> HttpResponse | None:
    """The kept page from the cache alone, in two round trips; None if anything is missing or the
    page would be one visitor's own."""
    if "form" in request.GET or messages.get_messages(request):
        return None
    found = cache.get_many([cache.count_key(slug), cache.edition_key(slug)])
    snapshot, edition = found.get(cache.count_key(slug)), found.get(cache.edition_key(slug))
    if snapshot is None or edition is None:
        return None
    return kept_page(kept_key(request, kind, slug, snapshot.count, edition))


def form_source(request, default: str) -> str:
    """The form's hidden Signature.source. nginx keys the page's cache with the tag too."""
    if request.method == "POST":
        return clean_source(request.POST.get("source", default))
    tag = request.GET.get("source", "")
    return clean_source(f"link:{tag}") if tag else default


def signature_source(request) -> str:
    """ "widget:<host>" (the framing host, from the hidden field or else Origin/Referer),
    "link:<tag>" or "page"."""
    given = clean_source(request.POST.get("source", ""))
    if request.POST.get("embed") != "1":
        return given if given.startswith("link:") else "page"
    if given.startswith("widget:"):
        return given
    return clean_source(f"widget:{other_site_host(request)}")


def other_site_host(request) -> str:
    own = request.get_host()
    for header in ("Origin", "Referer"):
        host = urlsplit(request.headers.get(header, "")).netloc
        if host and host != own:
            return host
    return ""


TOO_MANY = gettext_lazy(
    "Too many signatures have come from your connection in a short time. "
    "Please wait a few minutes and try again."
)
CLOSED = gettext_lazy("This petition is closed and no longer takes signatures.")
PRESS_AGAIN = gettext_lazy("Please check the name and press the button again.")
TYPE_FIRST_NAME = gettext_lazy("Please type your first name to sign.")


# No CSRF cookie: the form is protected by the browser's own word on where it was sent from
# (abuse.from_another_site) and by its signed form token, so the page needs nothing per visitor.
@csrf_exempt
@sensitive_post_parameters("name", "email", "locality", "comment")
@require_POST
def sign(request, slug):
    facts = request_facts(request)
    remembered = supporter.recall(request)
    one_click = remembered is not None and bool(facts.one_click_token)
    petition = signing_petition(slug, form_token="" if one_click else request.POST.get("started"))
    form = None if one_click else sign_form(petition, facts.language, request.POST)
    try:
        result = signing.sign(petition, facts, form=form, remembered=remembered)
    except signing.StandInRefuted as refuted:
        petition = signing_petition(slug)
        form = sign_form(petition, facts.language, request.POST)
        result = signing.sign(
            petition, facts, form=form, remembered=remembered, verdict=refuted.verdict
        )
    if result.refusal:
        return refused(request, petition, facts, form, result.refusal)
    # A first signature and a repeat get the very same answer, cookie included.
    thanks = petition.get_embed_thanks_url() if facts.embed else petition.get_thanks_url()
    response = HttpResponseRedirect(thanks + "?check=email" if result.check_email else thanks)
    supporter.remember(response, result.supporter, embedded=facts.embed)
    if result.receipt:
        receipts.remember(response, petition, result.receipt, embedded=facts.embed, path=thanks)
    return response


def request_facts(request) -> signing.RequestFacts:
    return signing.RequestFacts(
        ip_hash=signing.hash_ip(client_ip(request)),
        language=translation.get_language(),
        source=signature_source(request),
        # Every signer on the onion address comes from the Tor daemon's address: its own limit.
        onion=on_onion(request),
        from_another_site=abuse.from_another_site(request),
        embed=request.POST.get("embed") == "1",
        one_click_token=request.POST.get("one_click", ""),
        first_name=request.POST.get("first_name", ""),
    )


CLICK_ERRORS = {
    signing.Refusal.PRESS_AGAIN: PRESS_AGAIN,
    signing.Refusal.TYPE_FIRST_NAME: TYPE_FIRST_NAME,
}


def refused(request, petition: Petition, facts, form, refusal: signing.Refusal):
    if refusal == signing.Refusal.FROM_ANOTHER_SITE:
        return render(request, "403.html", status=403)
    if petition.stand_in:
        # The page again, with the form's errors as the petition read has them.
        petition = signing_petition(petition.slug)
        form = sign_form(petition, facts.language, request.POST)
        form.is_valid()
    if refusal == signing.Refusal.CLOSED:
        return closed(request, petition, facts.embed)
    show_again = render_widget if facts.embed else render_petition
    if refusal in CLICK_ERRORS:
        return show_again(
            request, page_again(petition), click_error=CLICK_ERRORS[refusal], status=400
        )
    if refusal == signing.Refusal.TOO_MANY:
        if form is None:
            form = sign_form(petition, facts.language, request.POST)
            form.is_valid()
        form.add_error(None, TOO_MANY)
        response = show_again(request, page_again(petition), form=form, status=429)
        response["Retry-After"] = "300"
        return response
    return show_again(request, page_again(petition), form=form, status=400)


# Facts cached only on PostgreSQL, whose insert re-reads the petition's row, so closing holds
# at once; a changed list setting or a renamed slug lags by up to this.
SIGNING_FACTS_SECONDS = 10


def signing_petition(slug: str, form_token: str | None = None) -> Petition:
    """Only the fields signing needs; the database decides again on insert whether it is open.
    On PostgreSQL a sign form's token names the petition, and nothing is read: signing's one
    statement checks what a stand-in assumes (Petition.signing_stand_in)."""
    if form_token and connection.vendor == "postgresql":
        petition_id = form_token_id(form_token)
        if petition_id is not None:
            return Petition.signing_stand_in(petition_id, slug)
    if connection.vendor != "postgresql":
        return get_object_or_404(
            Petition.objects.public().with_signable().only(*Petition.SIGNING_FIELDS), slug=slug
        )
    key = cache.signing_facts_key(slug)
    petition = cache.get(key)
    if petition is None:
        petition = get_object_or_404(
            Petition.objects.public().only(*Petition.SIGNING_FIELDS), slug=slug
        )
        cache.set(key, petition, SIGNING_FACTS_SECONDS)
    petition.is_signable = petition.status in Petition.Status.SIGNABLE and (
        petition.closes_at is None or petition.closes_at > timezone.now()
    )
    return petition


def one_click_token(petition: Petition, remembered) -> str:
    return abuse.one_click_token(petition.pk, remembered.email)


# No CSRF cookie, like sign: a widget's frame gets none. At worst another site makes a reader
# type their details again; from_another_site still refuses what browsers say came from one.
@csrf_exempt
@require_POST
def not_you(request, slug):
    """ "Not you?": this browser forgets the supporter (both cookies), then shows the form."""
    petition = get_object_or_404(Petition.objects.public(), slug=slug)
    if abuse.from_another_site(request):
        return render(request, "403.html", status=403)
    if request.POST.get("embed") == "1":
        response = HttpResponseRedirect(petition.get_embed_url())
    else:
        response = HttpResponseRedirect(petition.get_absolute_url() + "#sign")
    supporter.forget(response)
    return response


def closed(request, petition: Petition, embed: bool):
    if embed:
        # The widget says so itself; an iframe of another site keeps no message cookie.
        return redirect(petition.get_embed_url())
    messages.error(request, CLOSED)
    return redirect(petition.get_absolute_url())


def page_again(petition: Petition) -> Petition:
    return Petition.objects.with_signable().get(pk=petition.pk)


def thanks_context(request, petition: Petition) -> dict:
    text = petition.in_language(translation.get_language())
    # Exact, not cached: the signer has just been counted and expects to see it.
    snapshot = counting.exact_count(petition)
    share_url = site_url(petition.get_absolute_url())
    return {
        "petition": petition,
        "text": text,
        "count": snapshot.count,
        "paper": snapshot.paper,
        "online": snapshot.online,
        "goal": snapshot.goal,
        "share_url": share_url,
        "page_url": share_url,
        "share_links": share_links(share_url, text.title.value),
        "check_email": request.GET.get("check") == "email",
        "just_confirmed": request.GET.get("confirmed") == "1",
        "receipt": receipts.from_cookie(request, petition),
    }


def with_receipt(request, response, petition, context: dict, *, embedded: bool):
    """A page that showed a receipt code is never kept by any cache, and shows it only once."""
    receipts.forget(request, response, petition, embedded=embedded)
    if context["receipt"]:
        patch_cache_control(response, private=True, no_store=True)
    return response


@require_safe
def thanks(request, slug):
    petition = get_object_or_404(Petition.objects.public(), slug=slug)
    context = thanks_context(request, petition)
    response = render(request, "signatures/thanks.html", context)
    return with_receipt(request, response, petition, context, embedded=False)


@require_safe
def embed(request, slug):
    found = kept_before_reading(request, "widget", slug)
    if found is not None:
        return found
    petition = get_object_or_404(Petition.objects.public().with_signable(), slug=slug)
    language = petition.page_language(translation.get_language())
    if language != translation.get_language():
        with translation.override(language):
            return redirect(petition.get_embed_url())
    return render_widget(request, petition)


def render_widget(
    request, petition: Petition, *, form=None, status: int = 200, click_error: str = ""
):
    """The same bytes for every reader and framing site (its script fills in the host and asks
    `personal` for a one click); private once it shows one reader's errors or own box."""
    remembered, one_click = own_sign_box(request, form, click_error)
    snapshot = counting.current_count(petition)
    personal = one_click or form is not None or "form" in request.GET

    def widget():
        return widget_page(
            request, petition, snapshot, remembered, one_click, form, click_error, status, personal
        )

    if personal or status != 200:
        return frameable(widget(), petition)
    return frameable(kept_petition(request, petition, "widget", snapshot.count, widget), petition)


def widget_page(
    request, petition, snapshot, remembered, one_click, form, click_error, status, personal
):
    language = translation.get_language()
    context = {
        "petition": petition,
        "text": petition.in_language(language),
        "count": snapshot.count,
        "paper": snapshot.paper,
        "online": snapshot.online,
        "goal": snapshot.goal,
        "form": form or sign_form(petition, language),
        "remembered": remembered if one_click else None,
        "one_click_token": one_click_token(petition, remembered) if one_click else "",
        "click_error": click_error,
        "embed": True,
        "source": clean_source(request.POST.get("source", "widget")) if form else "widget",
        "page_url": site_url(petition.get_absolute_url()),
        # Signed from this frame before: the share links, not one click again.
        "already_signed": one_click and remembered.has_signed(petition.pk),
        "personal_url": widget_personal_url(request, petition, form, click_error),
        "thresholds": thresholds.markers(petition, snapshot.goal, language),
    }
    context["next_threshold"] = thresholds.next_to_reach(context["thresholds"])
    if context["already_signed"]:
        context["share_links"] = share_links(context["page_url"], context["text"].title.value)
    response = render(request, "petitions/embed.html", context, status=status)
    return cache_like_the_page(response, personal)


def widget_personal_url(request, petition: Petition, form, click_error: str) -> str:
    url = personal_url(request, petition, form, click_error)
    return f"{url}?embed=1" if url else ""


@require_safe
def embed_thanks(request, slug):
    petition = get_object_or_404(Petition.objects.public(), slug=slug)
    context = thanks_context(request, petition)
    response = render(request, "petitions/embed_thanks.html", context)
    return frameable(with_receipt(request, response, petition, context, embedded=True), petition)


@require_safe
def badge(request, slug):
    """The counter alone, for a sidebar; the same bytes for every reader."""
    petition = get_object_or_404(Petition.objects.public(), slug=slug)
    language = petition.page_language(translation.get_language())
    if language != translation.get_language():
        with translation.override(language):
            return redirect(reverse("petitions:badge", kwargs={"slug": petition.slug}))
    snapshot = counting.current_count(petition)
    context = {
        "petition": petition,
        "text": petition.in_language(translation.get_language()),
        "count": snapshot.count,
        "paper": snapshot.paper,
        "online": snapshot.online,
        "goal": snapshot.goal,
        "page_url": site_url(petition.get_absolute_url()),
    }
    response = render(request, "petitions/badge.html", context)
    return frameable(cache_like_the_page(response, personal=False), petition)


def frameable(response, petition: Petition):
    """Only pages framed per petition loosen frame-ancestors; every other page keeps 'none'."""
    return framed_by(response, petition.frame_ancestors())


@require_safe
def oembed(request):
    """oEmbed (https://oembed.com/): a `rich` answer whose html is the widget's iframe."""
    if request.GET.get("format", "json") != "json":
        return HttpResponse(status=501)
    petition, language = petition_at(request, request.GET.get("url", ""))
    with translation.override(language):
        text = petition.in_language(language)
        title = text.title.value
        embed_url = site_url(petition.get_embed_url())
        page_url = site_url(petition.get_absolute_url())
        provider = _("Petitions")
        home = site_url(reverse("petitions:home"))
    width = fit(request.GET.get("maxwidth"), WIDGET_WIDTH)
    height = fit(request.GET.get("maxheight"), WIDGET_HEIGHT)
    html = iframe_html(embed_url, page_url, title, width, height)
    response = JsonResponse(
        {
            "version": "1.0",
            "type": "rich",
            "title": title,
            "html": html,
            "width": width,
            "height": height,
            "provider_name": provider,
            "provider_url": home,
        }
    )
    patch_cache_control(response, **OEMBED_CACHE)
    return response


def petition_at(request, url: str) -> tuple[Petition, str]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or parts.netloc not in own_hosts(request):
        raise Http404
    language = translation.get_language_from_path(parts.path)
    if language is None:
        raise Http404
    try:
        with translation.override(language):
            match = resolve(unquote(parts.path))
    except Resolver404:
        raise Http404 from None
    if match.view_name != "petitions:detail":
        raise Http404
    petition = get_object_or_404(Petition.objects.public(), slug=match.kwargs["slug"])
    # A page in a language the petition is not written in describes the one it is written in.
    return petition, petition.page_language(language)


def fit(asked: str | None, size: int) -> int:
    try:
        return max(1, min(size, int(asked)))
    except (TypeError, ValueError):
        return size


def oembed_url(page_url: str) -> str:
    query = urlencode({"url": page_url, "format": "json"})
    return site_url(f"{reverse('oembed')}?{query}")


@require_safe
def count_json(request, slug):
    """From the cache alone within a second of the last count; the last count while the
    database is down."""
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
                raise  # a 503 page (lib/middleware.py)
    if not_modified(request, snapshot.etag):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(snapshot.body, content_type="application/json")
    response["ETag"] = snapshot.etag
    response["Cache-Control"] = COUNT_CACHE
    # nginx rounds max-age to whole seconds (up to two); this ends its copy with this second.
    response["X-Accel-Expires"] = f"@{int(time.time())}"
    response["Vary"] = "Accept-Encoding"
    return response


def by_country(counts) -> dict | None:
    if counts is None:
        return None  # the cache is down: the page goes without it (counting.country_counts)
    return {
        "countries": [
            {"code": code, "name": countries.name(code), "count": signers}
            for code, signers in counts.countries
        ],
        "other": counts.other,
        "minimum": counts.minimum,
    }


@require_safe
def countries_json(request, slug):
    """Countries below the minimum are summed as `other`; the same for every reader, cacheable."""
    petition = get_object_or_404(Petition.objects.public(), slug=slug)
    counts = counting.country_counts(petition)
    if counts is None:
        response = JsonResponse({"error": "unavailable"}, status=503)
        response["Retry-After"] = "30"
        response["Cache-Control"] = "no-store"
        return response
    response = JsonResponse(
        {
            "countries": [
                {"country": code, "count": signers} for code, signers in counts.countries
            ],
            "other": counts.other,
            "minimum": counts.minimum,
        }
    )
    patch_cache_control(response, **COUNTRIES_CACHE)
    return response


@require_safe
def privacy(request):
    context = {
        "site_url": settings.SITE_URL,
        "mirrors": [f"https://{host}" for host in settings.MIRROR_HOSTS],
        "onion_url": settings.ONION_URL,
        "contact": settings.PRIVACY_CONTACT,
        "minimum": settings.COUNTRY_COUNT_MINIMUM,
        "release_hours": settings.COUNTRY_RELEASE_HOURS,
        "unfold": UNFOLD_FACTOR * settings.COUNTRY_COUNT_MINIMUM,
        **retention_period(settings.SIGNATURE_RETENTION_DAYS),
    }
    return render(request, "petitions/privacy.html", context)


def retention_period(days: int) -> dict:
    """The retention period as people say it: in months from two months up, else in days."""
    if days >= 60:
        return {"retention_months": round(days / 30.4375), "retention_days": None}
    return {"retention_months": None, "retention_days": days}


# RFC 8058 one-click POSTs carry no cookie or token: the signed address is the proof. GET only
# shows the button, as mail scanners open every link.
@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request, token):
    try:
        signature_id, email = mailing.read_unsubscribe_token(token)
    except InvalidToken:
        signature = None
    else:
        signature = (
            Signature.objects.select_related("petition")
            .filter(pk=signature_id, email_canonical=email)
            .first()
        )
    if signature is None:
        response = render(request, "petitions/unsubscribe.html", {"state": "invalid"}, status=400)
    else:
        if request.method == "POST":
            mailing.unsubscribe(signature.pk, signature.email_canonical)
            state = "done"
        else:
            state = "ask" if signature.consent_contact else "done"
        petition = signature.petition
        context = {
            "state": state,
            "petition": petition,
            "text": petition.in_language(translation.get_language()),
        }
        response = render(request, "petitions/unsubscribe.html", context)
    patch_cache_control(response, private=True, no_cache=True)
    return response
