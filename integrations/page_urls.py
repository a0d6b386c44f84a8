"""The API's reference page, under each language's prefix like every page for people."""

from django.urls import path

from .api import reference_views

urlpatterns = [path("api/", reference_views.reference, name="api_reference")]
