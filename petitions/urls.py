from django.urls import path

from . import views

app_name = "petitions"

urlpatterns = [
    path("", views.home, name="home"),
    path("p/<slug:slug>/", views.detail, name="detail"),
    path("privacy/", views.privacy, name="privacy"),
]
