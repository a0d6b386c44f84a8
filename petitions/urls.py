from django.urls import path

from . import proof_views, start_views, views

app_name = "petitions"

urlpatterns = [
    path("", views.home, name="home"),
    path("p/<slug:slug>/", views.detail, name="detail"),
    path("p/<slug:slug>/sign/", views.sign, name="sign"),
    path("p/<slug:slug>/not-you/", views.not_you, name="not_you"),
    path("p/<slug:slug>/thanks/", views.thanks, name="thanks"),
    path("p/<slug:slug>/count.json", views.count_json, name="count"),
    path("p/<slug:slug>/countries.json", views.countries_json, name="countries"),
    path("p/<slug:slug>/embed/", views.embed, name="embed"),
    path("p/<slug:slug>/embed/thanks/", views.embed_thanks, name="embed_thanks"),
    path("p/<slug:slug>/badge/", views.badge, name="badge"),
    path("p/<slug:slug>/history.json", proof_views.history_json, name="history"),
    path("p/<slug:slug>/share.png", proof_views.share_image, name="share_image"),
    path("p/<slug:slug>/poster/", proof_views.poster, name="poster"),
    path("privacy/", views.privacy, name="privacy"),
    # Starting a petition (issue 18).
    path("start/", start_views.start, name="start"),
    path("start/sent/", start_views.start_sent, name="start_sent"),
    path("start/links/", start_views.links, name="start_links"),
    path("start/link/<str:token>/", start_views.starter_link, name="starter_link"),
    path("my/<slug:slug>/", start_views.mine, name="mine"),
    path("my/<slug:slug>/edit/", start_views.edit, name="edit"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
