from django.conf import settings
from django.contrib.sitemaps import Sitemap

from .models import Petition


class PetitionSitemap(Sitemap):
    """Public petitions only, each in the languages it is written in, with the other language
    as an hreflang alternate when it has one. Nothing waiting for review, sent back or drafted."""

    i18n = True
    alternates = True
    languages = [code for code, _name in settings.LANGUAGES]
    changefreq = "daily"

    def items(self):
        return Petition.objects.public().order_by("pk")

    def get_languages_for_item(self, item):
        return list(item.languages)

    def lastmod(self, item):
        return item.updated_at
