from django.urls import path, register_converter

from . import cosponsor_views, list_views, proof_views, start_views, views
from .models import SLUG_PATTERN


class PetitionSlug:
    regex = SLUG_PATTERN

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(PetitionSlug, "petition_slug")

app_name = "petitions"

urlpatterns = [
    # First: every open page asks for it once a second or so; then the address every signature
    # is posted to.
    path("p/<petition_slug:slug>/count.json", views.count_json, name="count"),
    path("p/<petition_slug:slug>/sign/", views.sign, name="sign"),
    path("", views.home, name="home"),
    path("p/<petition_slug:slug>/", views.detail, name="detail"),
    path("p/<petition_slug:slug>/me/", views.personal, name="personal"),
    path("p/<petition_slug:slug>/not-you/", views.not_you, name="not_you"),
    path("p/<petition_slug:slug>/thanks/", views.thanks, name="thanks"),
    path("p/<petition_slug:slug>/countries.json", views.countries_json, name="countries"),
    path("p/<petition_slug:slug>/embed/", views.embed, name="embed"),
    path("p/<petition_slug:slug>/embed/thanks/", views.embed_thanks, name="embed_thanks"),
    path("p/<petition_slug:slug>/badge/", views.badge, name="badge"),
    path("p/<petition_slug:slug>/history.json", proof_views.history_json, name="history"),
    path("p/<petition_slug:slug>/share.png", proof_views.share_image, name="share_image"),
    path("p/<petition_slug:slug>/poster/", proof_views.poster, name="poster"),
    path("p/<petition_slug:slug>/sheet.pdf", proof_views.signature_sheet, name="sheet"),
    path("petitions/", list_views.petition_list, name="list"),
    path("awaiting-response/", list_views.awaiting_response, name="awaiting_response"),
    path("privacy/", views.privacy, name="privacy"),
    path("start/", start_views.start, name="start"),
    path("start/sent/", start_views.start_sent, name="start_sent"),
    path("start/links/", start_views.links, name="start_links"),
    path("start/link/<str:token>/", start_views.starter_link, name="starter_link"),
    path("my/<petition_slug:slug>/", start_views.mine, name="mine"),
    path("my/<petition_slug:slug>/edit/", start_views.edit, name="edit"),
    path(
        "support/confirm/<str:token>/",
        cosponsor_views.supporter_confirm,
        name="supporter_confirm",
    ),
    path(
        "support/<petition_slug:slug>/<str:key>/",
        cosponsor_views.supporters,
        name="supporters",
    ),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
