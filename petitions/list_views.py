"""The public lists: every petition by state with a title search, and the petitions awaiting the
response a threshold obliged. The same bytes for everyone, cached like the petition page."""

from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from lib.http import cache_like_the_page
from signatures.models import SignatureCount

from .models import Petition

PER_PAGE = 20
# The longest search kept: a title is at most 200 letters.
QUERY_LENGTH = 200

# Each tab: its label and its petitions, newest first unless the state has its own order.
STATES = {
    "open": (_("Open"), lambda petitions: petitions.signable()),
    "awaiting": (_("Awaiting a response"), lambda petitions: petitions.awaiting_response()),
    "responded": (_("Responded to"), lambda petitions: petitions.responded()),
    "won": (_("Won"), lambda petitions: petitions.won()),
    "closed": (_("Closed"), lambda petitions: petitions.closed()),
}
NEWEST_FIRST = ("-opened_at", "-pk")


def page_of(request, petitions):
    return Paginator(petitions, PER_PAGE).get_page(request.GET.get("page"))


@require_safe
def petition_list(request):
    language = translation.get_language()
    state = request.GET.get("state", "open")
    if state not in STATES:
        state = "open"
    query = request.GET.get("q", "").strip()[:QUERY_LENGTH]
    petitions = STATES[state][1](Petition.objects.all())
    if state != "awaiting":
        petitions = petitions.order_by(*NEWEST_FIRST)
    if query:
        petitions = petitions.titled(query)
    page = page_of(request, petitions)
    totals = SignatureCount.objects.totals_for(p.pk for p in page)
    context = {
        "tabs": [
            {"state": key, "label": label, "query": urlencode({"state": key, "q": query})}
            for key, (label, _petitions) in STATES.items()
        ],
        "state": state,
        "state_label": STATES[state][0],
        "q": query,
        "page": page,
        "paging": urlencode({"state": state, "q": query}),
        "cards": [p.card(totals.get(p.pk, 0), language) for p in page],
    }
    return cache_like_the_page(render(request, "petitions/list.html", context), personal=False)


@require_safe
def awaiting_response(request):
    language = translation.get_language()
    page = page_of(request, Petition.objects.awaiting_response())
    totals = SignatureCount.objects.totals_for(p.pk for p in page)
    now = timezone.now()
    rows = [
        p.card(totals.get(p.pk, 0), language)
        | {
            "waiting_since": p.waiting_since,
            "days": (timezone.localdate(now) - timezone.localdate(p.waiting_since)).days,
            "respond_by": p.respond_by,
            "overdue": p.respond_by is not None and p.respond_by < now,
        }
        for p in page
    ]
    context = {"page": page, "paging": "", "rows": rows}
    response = render(request, "petitions/awaiting_response.html", context)
    return cache_like_the_page(response, personal=False)
