from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path

from config.views import healthz, readyz
from petitions.sitemaps import PetitionSitemap
from petitions.views import oembed

admin.site.site_header = "Petitions"
admin.site.site_title = "Petitions admin"

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    # oEmbed takes a page's address in any language, so it has none of its own.
    path("oembed", oembed, name="oembed"),
    # Every public petition in each language it is written in (issue 18), for search engines.
    path(
        "sitemap.xml",
        sitemap,
        {"sitemaps": {"petitions": PetitionSitemap}},
        name="django.contrib.sitemaps.views.sitemap",
    ),
    path(settings.ADMIN_URL, admin.site.urls),
]

# Every public page carries its language in the address, so a shared link opens in the language
# it was shared in; "/" is redirected by LocaleMiddleware using Accept-Language.
urlpatterns += i18n_patterns(
    path("", include("petitions.urls")),
    path("", include("signatures.urls")),
    prefix_default_language=True,
)
