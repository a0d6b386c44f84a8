"""The starter's pages. The start page is cached for everyone with no CSRF cookie; its POST is
guarded as the sign form's is. Everything after the emailed link is per session.
"""

import logging

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import NON_FIELD_ERRORS
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_safe

from lib import ratelimit
from lib.http import cache_like_the_page, client_ip
from lib.normalise import canonical_email
from lib.urls import site_url
from signatures import abuse, counting, signing
from signatures.forms import SignForm

from . import cosponsors, starting
from .forms import LinksForm, StartForm
from .models import Petition
from .share import share_links
from .snippets import snippets

log = logging.getLogger(__name__)


def too_many_message() -> str:
    return _(
        "Too many petitions have come from your connection in a short time. "
        "Please wait a while and try again."
    )


def over_the_limit(request, rate: str | None = None, bucket: str = "ip") -> int:
    """0, or seconds to wait. A cache that cannot count lets the starter through: a moderator
    reads every petition before anyone else does."""
    ip_hash = signing.hash_ip(client_ip(request))
    limit = ratelimit.Limit(bucket, f"start:{bucket}:{ip_hash}", rate or settings.START_RATE_PER_IP)
    return ratelimit.hit([limit]).retry_after


def too_many(request, template: str, form, retry_after: int):
    form.add_error(None, too_many_message())
    response = render(request, template, {"form": form}, status=429)
    response["Retry-After"] = str(retry_after)
    return private(response)


@csrf_exempt
@sensitive_post_parameters("email")
@require_http_methods(["GET", "HEAD", "POST"])
def start(request):
    """POST by button: "preview", "edit" (back to the form) or "submit"."""
    language = translation.get_language()
    if request.method != "POST":
        response = render(request, "petitions/start.html", {"form": StartForm(language=language)})
        return cache_like_the_page(response, personal=False)
    if abuse.from_another_site(request):
        return render(request, "403.html", status=403)

    action = request.POST.get("action", "preview")
    # Every POST counts before any work (a preview is costly), looser than submit: starters
    # preview several times.
    retry_after = over_the_limit(request, settings.START_PREVIEW_RATE_PER_IP, "post")
    if retry_after:
        form = StartForm(request.POST, language=language)
        form.is_valid()  # the page shows what was written, and the refusal with it
        return too_many(request, "petitions/start.html", form, retry_after)
    if action == "edit":
        form = StartForm(language=language, initial=request.POST.dict())
        return private(render(request, "petitions/start.html", {"form": form}))
    form = StartForm(request.POST, language=language)
    if not form.is_valid():
        for reason in ("honeypot", "too_fast"):
            if form.has_error(NON_FIELD_ERRORS, reason):
                log.warning("Refused a new petition: %s", reason)
        return private(render(request, "petitions/start.html", {"form": form}, status=400))
    if action != "submit":
        return preview(request, form)

    retry_after = over_the_limit(request)
    if retry_after:
        return too_many(request, "petitions/start.html", form, retry_after)
    starting.submit(form.fill(Petition()), email=form.cleaned_data["email"], language=language)
    # One answer whatever happened: the page never tells whether an address started anything.
    return redirect("petitions:start_sent")


def private(response):
    patch_cache_control(response, private=True, no_cache=True)
    return response


def preview(request, form: StartForm):
    """The real page, from a petition saved in a rolled-back transaction: every part finds a
    real row, and nothing is visible to anyone else."""
    language = translation.get_language()
    similar = []
    titles = [form.cleaned_data[f"title_{code}"] for code in form.written_languages()]
    for other in Petition.objects.similar_to(*titles):
        title = other.text("title", language)
        similar.append({"title": title, "url": other.url_in(title.lang)})
    with transaction.atomic():
        petition = form.fill(Petition(status=Petition.Status.OPEN, opened_at=timezone.now()))
        petition.slug = "preview-" + starting.new_slug(petition)[-6:]
        petition.save()
        petition = Petition.objects.with_signable().get(pk=petition.pk)
        page_language = petition.page_language(language)
        with translation.override(page_language):
            context = {
                "petition": petition,
                "text": petition.in_language(page_language),
                "count": 0,
                "goal": petition.goal_for(0),
                "last_signed_at": None,
                "form": SignForm(petition_id=petition.pk, language=page_language),
                "remembered": None,
                "recent_signers": [],
                "page_url": "",
                "oembed_url": "",
                "source": "page",
                "start_form": form,
                "similar": similar,
                "request_language": language,
            }
            response = render(request, "petitions/start_preview.html", context)
        transaction.set_rollback(True)
    return private(response)


@require_safe
def start_sent(request):
    return render(request, "petitions/start_sent.html")


@require_http_methods(["GET", "HEAD", "POST"])
def starter_link(request, token):
    """GET only shows the button, because mail scanners open links."""
    try:
        petition = starting.petition_for_token(token)
    except starting.ExpiredToken:
        return render(request, "petitions/starter_link.html", {"state": "expired"}, status=410)
    except starting.InvalidToken:
        petition = None
    if petition is None:
        return render(request, "petitions/starter_link.html", {"state": "invalid"}, status=400)
    text = petition.in_language(petition.page_language(translation.get_language()))
    if request.method != "POST":
        state = "confirm" if petition.email_confirmed_at is None else "open"
        context = {"state": state, "petition": petition, "text": text}
        return render(request, "petitions/starter_link.html", context)
    petition = starting.confirm_email(petition)
    starting.remember(request, petition)
    return redirect("petitions:mine", slug=petition.slug)


def own_petition(request, slug) -> Petition:
    """404 unless this browser opened its link, saying nothing of whether it exists."""
    petition = Petition.objects.filter(slug=slug).first()
    if petition is None or not starting.started_here(request, petition):
        raise Http404
    return petition


@require_safe
def mine(request, slug):
    petition = own_petition(request, slug)
    language = translation.get_language()
    page_language = petition.page_language(language)
    text = petition.in_language(page_language)
    context = {
        "petition": petition,
        "text": text,
        "editable": petition.status in Petition.Status.EDITABLE,
    }
    if petition.status == Petition.Status.GATHERING:
        context |= supporters_context(petition)
    if petition.is_public:
        snapshot = counting.exact_count(petition)
        with translation.override(page_language):
            url = site_url(petition.get_absolute_url())
        context |= {
            "count": snapshot.count,
            "goal": snapshot.goal,
            "public_urls": [
                {"code": code, "url": site_url(petition.url_in(code))}
                for code in petition.languages
            ],
            "share_links": share_links(url, text.title.value),
            "snippets": snippets(petition),
        }
    return private(render(request, "petitions/mine.html", context))


def supporters_context(petition: Petition) -> dict:
    """The private link in each language the petition is in, with words to send it with."""
    links = []
    for code in petition.languages or (petition.original_language,):
        url = site_url(cosponsors.link_path(petition, code))
        with translation.override(code):
            # Isolated (FSI…PDI), since plain text has no <bdi>: a title in the other script
            # must not reorder the sentence around it.
            title = "\u2068" + petition.text("title", code).value + "\u2069"
            # The address on a line of its own: inside a Persian sentence it would be laid out
            # right to left in pieces.
            message = (
                _(
                    "I have started a petition, “%(title)s”. Before a moderator reviews it, it "
                    "needs a few supporters: please read it and back it here:"
                )
                % {"title": title}
                + f"\n{url}"
            )
        links.append({"code": code, "url": url, "message": message})
    return {
        "supporters": cosponsors.supporters_count(petition),
        "required": cosponsors.required(),
        "supporter_links": links,
    }


@sensitive_post_parameters("email")
@require_http_methods(["GET", "HEAD", "POST"])
def edit(request, slug):
    petition = own_petition(request, slug)
    if petition.status == Petition.Status.GATHERING:
        messages.error(
            request,
            _("While it gathers supporters your petition cannot change: they back what they read."),
        )
        return redirect("petitions:mine", slug=slug)
    if petition.status not in Petition.Status.EDITABLE:
        messages.error(request, _("A published petition cannot be changed: people have signed it."))
        return redirect("petitions:mine", slug=slug)
    language = translation.get_language()
    if request.method == "POST":
        form = StartForm(request.POST, language=language, editing=True)
        if form.is_valid():
            was_rejected = petition.status == Petition.Status.REJECTED
            if not starting.resubmit(form.fill(petition)):
                messages.error(
                    request,
                    _(
                        "Your petition was published before your changes arrived, so they "
                        "were not saved."
                    ),
                )
                return redirect("petitions:mine", slug=slug)
            messages.success(
                request,
                _("Your changes are saved and your petition is waiting for review again.")
                if was_rejected
                else _("Your changes are saved."),
            )
            return redirect("petitions:mine", slug=slug)
        status = 400
    else:
        form = StartForm(language=language, editing=True, initial=StartForm.initial_from(petition))
        status = 200
    context = {"form": form, "petition": petition, "editing": True}
    return private(render(request, "petitions/start.html", context, status=status))


@csrf_exempt
@sensitive_post_parameters("email")
@require_http_methods(["GET", "HEAD", "POST"])
def links(request):
    """The same answer whether or not the address started anything."""
    if request.method != "POST":
        response = render(request, "petitions/start_links.html", {"form": LinksForm()})
        return cache_like_the_page(response, personal=False)
    if abuse.from_another_site(request):
        return render(request, "403.html", status=403)
    form = LinksForm(request.POST)
    if not form.is_valid():
        return private(render(request, "petitions/start_links.html", {"form": form}, status=400))
    retry_after = over_the_limit(request)
    if retry_after:
        return too_many(request, "petitions/start_links.html", form, retry_after)
    email_canonical = canonical_email(form.cleaned_data["email"])
    ids = list(
        Petition.objects.started_by(email_canonical)
        .without_expired_drafts()
        .exclude(status=Petition.Status.CLOSED)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if ids and starting.may_email(email_canonical):
        with transaction.atomic():
            starting.queue_links(ids, translation.get_language(), "again")
    return redirect("petitions:start_sent")
