from django.urls import path

from . import trust_views, views

app_name = "signatures"

urlpatterns = [
    path("confirm/<str:token>/", views.confirm, name="confirm"),
    path("withdraw/<str:token>/", trust_views.withdraw, name="withdraw"),
    # petitions.urls registers the petition_slug converter, and is included first.
    path("p/<petition_slug:slug>/receipt/", trust_views.receipt, name="receipt"),
    path("p/<petition_slug:slug>/record/", trust_views.record, name="record"),
    path("p/<petition_slug:slug>/record.json", trust_views.record_json, name="record_json"),
]
