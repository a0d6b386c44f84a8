"""The count over time as JSON, the share image, the poster and the paper signature sheet: the
same for every reader, so any HTTP cache may keep them for a few minutes."""

import datetime

import segno
from django.conf import settings
from django.http import HttpResponse, HttpResponseNotModified, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils import translation
from django.utils.cache import patch_cache_control
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_safe

from lib.http import cache_like_the_page, not_modified
from lib.urls import site_url
from signatures import counting, history

from . import share, sheet
from .models import Petition


def proof_cache() -> dict:
    """What a cache in front may do with these answers: keep them as long as we do."""
    seconds = settings.SHARE_IMAGE_SECONDS
    return {"public": True, "max_age": seconds, "stale_while_revalidate": seconds}


def utc(value: datetime.datetime) -> str:
    return value.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")


@require_safe
def history_json(request, slug):
    """The count hour by hour (UTC), for the press: only hours in which someone signed."""
    petition = get_object_or_404(Petition.objects.public(), slug=slug)
    points = history.series(petition.pk)
    response = JsonResponse(
        {
            "petition": petition.slug,
            "url": site_url(petition.get_absolute_url()),
            "interval": "hour",
            "count": points[-1].total if points else 0,
            "series": [
                {"hour": utc(p.hour), "signatures": p.signatures, "total": p.total} for p in points
            ],
        }
    )
    patch_cache_control(response, **proof_cache())
    return response


@require_safe
def share_image(request, slug):
    petition = get_object_or_404(Petition.objects.public(), slug=slug)
    # A petition in one language only is pictured in it, chrome and all, at either address.
    png = share.share_image(petition, petition.page_language(translation.get_language()))
    response = HttpResponse(png, content_type="image/png")
    patch_cache_control(response, **proof_cache())
    return response


@require_safe
def poster(request, slug):
    """A page to print and put up: the title, the summary and a QR code to the petition page in
    this language."""
    petition = get_object_or_404(Petition.objects.public(), slug=slug)
    language = translation.get_language()
    url = site_url(petition.get_absolute_url())
    qr = segno.make(url, error="m")
    context = {
        "petition": petition,
        "text": petition.in_language(language),
        "count": counting.current_count(petition).count,
        "page_url": url,
        # segno writes the SVG itself from the URL alone: no user text goes into the markup.
        # A viewBox without width/height lets the stylesheet scale the code instead of cropping
        # it; four light modules round it are the quiet zone scanners expect.
        "qr_svg": mark_safe(  # noqa: S308
            qr.svg_inline(scale=8, border=4, dark="#000", light="#fff", omitsize=True)
        ),
    }
    response = render(request, "petitions/poster.html", context)
    return cache_like_the_page(response, personal=False)


@require_safe
def signature_sheet(request, slug):
    """An A4 PDF to collect signatures on paper, in this page's language (or the one the petition
    is written in). Tagged with the petition's edit marker: unchanged, a cache revalidates it."""
    petition = get_object_or_404(Petition.objects.public(), slug=slug)
    language = petition.page_language(translation.get_language())
    tag = sheet.etag(petition, language)
    if not_modified(request, tag):
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(sheet.render(petition, language), content_type="application/pdf")
        name = f"signature-sheet-{language}.pdf"
        response["Content-Disposition"] = f'inline; filename="{name}"'
    response["ETag"] = tag
    patch_cache_control(response, **proof_cache())
    return response
