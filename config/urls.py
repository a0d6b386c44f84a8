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
# The sidebar took a quarter of the width the signature list needs at 1366 px.
admin.site.enable_nav_sidebar = False

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("readyz", readyz, name="readyz"),
    # oEmbed takes a page's address in any language, so it has none of its own.
    path("oembed", oembed, name="oembed"),
    path(
        "sitemap.xml",
        sitemap,
        {"sitemaps": {"petitions": PetitionSitemap}},
        name="django.contrib.sitemaps.views.sitemap",
    ),
    path(settings.ADMIN_URL, admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    # The read API is language-neutral: the same answer at one address for every reader.
    path("api/v1/", include("integrations.urls")),
]

# A shared link opens in the language it was shared in.
urlpatterns += i18n_patterns(
    path("", include("petitions.urls")),
    path("", include("signatures.urls")),
    path("", include("integrations.page_urls")),
    # /fa/admin/ chooses the Persian admin; the admin itself has one address.
    re_path(rf"^{settings.ADMIN_URL}(?P<rest>.*)$", admin_in_language, name="admin_in_language"),
    prefix_default_language=True,
)
