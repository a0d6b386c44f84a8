from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LibConfig(AppConfig):
    name = "lib"
    verbose_name = _("Site records")
    default_auto_field = "django.db.models.BigAutoField"
