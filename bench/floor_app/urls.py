from django.conf.urls.i18n import i18n_patterns
from django.urls import path

from petitions.views import healthz

from . import views

# Under the language prefix like the real pages, so LocaleMiddleware does the same work.
urlpatterns = [path("healthz", healthz, name="healthz")]
urlpatterns += i18n_patterns(
    path("floor/insert/", views.insert, name="floor-insert"),
    path("floor/hello.json", views.hello, name="floor-hello"),
    prefix_default_language=True,
)
