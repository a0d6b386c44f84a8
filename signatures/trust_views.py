"""The pages that let anyone check a count: a signer's receipt (and withdrawal), and the public
record of every change to the count that was not a signature."""

import hashlib
import json

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse, HttpResponseNotModified
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext_lazy
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_safe

from lib import ratelimit
from lib.http import client_ip
from petitions.inclusion import inclusion_proof
from petitions.models import Petition

from . import confirmation, receipts, supporter
from . import record as public_record
from .models import Signature, SignatureCount
from .signing import hash_ip

# Like count.json, a little longer: the record moves only when a moderator or a signer acts.
RECORD_CACHE = {"public": True, "max_age": 10}
DAYS_PER_PAGE = 60
WITHDRAWN = gettext_lazy(
    "Your signature is withdrawn: it no longer counts, and your name and email are deleted."
)


def public_petition(slug: str) -> Petition:
    return get_object_or_404(Petition.objects.public(), slug=slug)


def page_context(petition: Petition) -> dict:
    return {"petition": petition, "text": petition.in_language(translation.get_language())}


def receipt_url(petition: Petition) -> str:
    return reverse("signatures:receipt", kwargs={"slug": petition.slug})


def private(response):
    """A receipt's answer is for the one who typed the code."""
    patch_cache_control(response, private=True, no_store=True)
    return response


@sensitive_post_parameters("code")
@require_http_methods(["GET", "HEAD", "POST"])
def receipt(request, slug):
    """The code only ever comes by POST, so it never sits in an address. Every POST, whatever its
    step, counts against the address's limit: each one tests a code."""
    petition = public_petition(slug)
    context = page_context(petition)
    if request.method != "POST":
        return private(render(request, "signatures/receipt.html", context | {"step": "form"}))
    verdict = ratelimit.hit(
        [
            ratelimit.Limit(
                "receipt_ip",
                f"receipt:{hash_ip(client_ip(request))}",
                settings.RECEIPT_RATE_PER_IP,
            )
        ]
    )
    if verdict.refused:
        response = render(
            request, "signatures/receipt.html", context | {"step": "too_many"}, status=429
        )
        response["Retry-After"] = str(verdict.retry_after)
        return private(response)
    typed = request.POST.get("code", "")
    signature = receipts.find(petition, typed)
    if signature is None:
        context |= {"step": "unknown"}
        return private(render(request, "signatures/receipt.html", context))
    state = receipts.state_of(signature)
    step = request.POST.get("step", "")
    code = receipts.grouped(receipts.canonical(typed))
    if step == "withdraw" and state.can_withdraw:
        Signature.objects.filter(pk=signature.pk).withdraw()
        messages.success(request, WITHDRAWN)
        return forget_signed(request, redirect(receipt_url(petition)), petition)
    context |= {"step": "ask" if step == "ask" and state.can_withdraw else "state"}
    context |= {"state": state, "code": code}
    if state.status == Signature.Status.COUNTED:
        # Only a signature that still counts is offered the proof: one removed since the pack
        # was made is still inside that pack's root, but no longer in the number we stand by.
        context["proof"] = inclusion_proof(petition, receipts.digest(receipts.canonical(typed)))
    return private(render(request, "signatures/receipt.html", context))


@require_http_methods(["GET", "HEAD", "POST"])
def withdraw(request, token):
    """The link in the confirmation email. GET only shows the button: mail scanners open links."""
    try:
        signature_id, email = confirmation.read_withdraw_token(token)
    except confirmation.InvalidToken:
        return private(
            render(request, "signatures/withdraw.html", {"state": "invalid"}, status=400)
        )
    signature = (
        Signature.objects.select_related("petition")
        .filter(pk=signature_id, email_canonical=email)
        .exclude(status=Signature.Status.WITHDRAWN)
        .first()
    )
    if signature is None:
        return private(
            render(request, "signatures/withdraw.html", {"state": "invalid"}, status=400)
        )
    context = page_context(signature.petition) | {"state": "ask"}
    if request.method != "POST":
        return private(render(request, "signatures/withdraw.html", context))
    Signature.objects.filter(pk=signature.pk).withdraw()
    messages.success(request, WITHDRAWN)
    return forget_signed(request, redirect(receipt_url(signature.petition)), signature.petition)


def forget_signed(request, response, petition: Petition):
    """This browser stops saying "You signed this petition", and may sign it again in one click."""
    remembered = supporter.recall(request)
    if remembered and remembered.has_signed(petition.pk):
        supporter.remember(response, remembered.without_signed(petition.pk))
    return response


@require_safe
def record(request, slug):
    petition = public_petition(slug)
    summary = public_record.summary(petition.pk)
    page = Paginator(public_record.days(petition.pk), DAYS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = page_context(petition) | {
        "summary": summary,
        "count": SignatureCount.objects.total_for(petition.pk),
        "page": page,
        "record_json": record_json_url(petition),
    }
    response = render(request, "signatures/record.html", context)
    patch_cache_control(response, **RECORD_CACHE)
    return response


def record_json_url(petition: Petition) -> str:
    return reverse("signatures:record_json", kwargs={"slug": petition.slug})


@require_safe
def record_json(request, slug):
    """ASCII digits, field names that do not change, no personal data: the sum and the days."""
    petition = public_petition(slug)
    summary = public_record.summary(petition.pk)
    body = json.dumps(
        {
            "petition": petition.slug,
            "count": SignatureCount.objects.total_for(petition.pk),
            "record": summary.as_json(),
            "days": [day.as_json() for day in public_record.days(petition.pk)],
        },
        separators=(",", ":"),
        ensure_ascii=True,
    )
    etag = '"' + hashlib.blake2b(body.encode(), digest_size=8).hexdigest() + '"'
    if etag in request.META.get("HTTP_IF_NONE_MATCH", ""):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(body, content_type="application/json")
    response["ETag"] = etag
    patch_cache_control(response, **RECORD_CACHE)
    return response
