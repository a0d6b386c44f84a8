from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path, re_path
from django.utils.translation import gettext_lazy as _

from lib.admin import admin_in_language
from lib.health import healthz, readyz
from petitions.sitemaps import PetitionSitemap
from petitions.views import oembed

admin.site.site_header = _("Petitions")
admin.site.site_title = _("Petitions admin")
admin.site.index_title = _("Petitions and signatures")
# The sidebar repeats the index on every page and took a quarter of the width a moderator needs for
# the signature list at 1366 px (issue 21); the index and the breadcrumbs remain.
admin.site.enable_nav_sidebar = False

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
    # The admin's language choice (Django's set_language: a cookie, then back to the same page).
    path("i18n/", include("django.conf.urls.i18n")),
]

# Every public page carries its language in the address, so a shared link opens in the language
# it was shared in; "/" is redirected by LocaleMiddleware using Accept-Language.
urlpatterns += i18n_patterns(
    path("", include("petitions.urls")),
    path("", include("signatures.urls")),
    # /fa/admin/ chooses the Persian admin (issue 21); the admin itself has one address.
    re_path(rf"^{settings.ADMIN_URL}(?P<rest>.*)$", admin_in_language, name="admin_in_language"),
    prefix_default_language=True,
)
