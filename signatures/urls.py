from django.urls import path

from . import views

app_name = "signatures"

urlpatterns = [
    path("p/<slug:slug>/sign/", views.sign, name="sign"),
    path("p/<slug:slug>/thanks/", views.thanks, name="thanks"),
    path("p/<slug:slug>/count.json", views.count_json, name="count"),
    path("confirm/<str:token>/", views.confirm, name="confirm"),
]
