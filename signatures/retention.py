"""How long signers' personal data is kept: until SIGNATURE_RETENTION_DAYS after their petition
closes, unless a moderator holds it (Petition.set_hold). Then it is anonymised
(SignatureQuerySet.anonymise): the count, the countries, the record of changes and the receipts
stay true, and nobody can be found in them.

Run daily: `manage.py anonymise_signers` from cron (deploy/cron/petitions), which can also queue
this as a task for the workers instead (--enqueue)."""

import logging

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from petitions.models import Petition

from .models import Signature

log = logging.getLogger(__name__)


def anonymise_due(*, by="system") -> dict[str, int]:
    """Anonymise the signers of every petition now due; returns {slug: rows anonymised}. One
    petition a transaction, so a long run holds no lock on the others."""
    done = {}
    for pk, slug in Petition.objects.due_for_anonymising().order_by("pk").values_list("pk", "slug"):
        with transaction.atomic():
            # Locked and asked again: a hold placed meanwhile wins.
            petition = Petition.objects.due_for_anonymising().select_for_update().filter(pk=pk)
            if not list(petition.values_list("pk", flat=True)):
                continue
            changed = Signature.objects.filter(petition_id=pk).anonymise(by=by)
            petition.update(signers_anonymised_at=timezone.now())
        done[slug] = changed[pk]
        log.info("Anonymised %s signers of petition %s", changed[pk], pk)
    return done


@task()
def anonymise_due_signers() -> dict[str, int]:
    return anonymise_due()
