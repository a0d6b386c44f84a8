from django.urls import path

from . import views

app_name = "petitions"

urlpatterns = [
    path("", views.home, name="home"),
    path("p/<slug:slug>/", views.detail, name="detail"),
    path("p/<slug:slug>/sign/", views.sign, name="sign"),
    path("p/<slug:slug>/thanks/", views.thanks, name="thanks"),
    path("p/<slug:slug>/count.json", views.count_json, name="count"),
    path("p/<slug:slug>/embed/", views.embed, name="embed"),
    path("p/<slug:slug>/embed/thanks/", views.embed_thanks, name="embed_thanks"),
    path("privacy/", views.privacy, name="privacy"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]
