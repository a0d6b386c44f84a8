from django.db import models
from django.utils.translation import gettext_lazy as _


class BulkFile(models.Model):
    """One built open-data file, bytes and all. In the database because that is what every app
    server shares: a file on one server's disk would be missing on the others."""

    name = models.CharField(_("name"), max_length=40, unique=True)
    content = models.BinaryField(_("content"))
    etag = models.CharField(_("ETag"), max_length=40)
    built_at = models.DateTimeField(_("built"))
    petitions = models.PositiveIntegerField(_("petitions"))

    class Meta:
        verbose_name = _("bulk data file")
        verbose_name_plural = _("bulk data files")

    def __str__(self) -> str:
        return self.name
