from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = _("Open data and integrations")
    default_auto_field = "django.db.models.BigAutoField"
