"""A petition's supporters before review become its first signatures when it is published
(petitions/cosponsors.py gathers them): counted once, in the publishing transaction."""

from petitions.models import Cosponsor, Petition

from .models import Signature, SignatureCount, forget_counts


def count_at_publish(petition: Petition) -> int:
    """Turn the petition's counting supporters into counted signatures, and their rows go: what
    they gave is a signature now. Called inside the publishing transaction, with the petition's
    row locked, so it runs once. Returns how many were counted."""
    supporters = list(Cosponsor.objects.filter(petition=petition).counting().order_by("pk"))
    signed = set(
        Signature.objects.filter(
            petition=petition, email_canonical__in=[c.email_canonical for c in supporters]
        ).values_list("email_canonical", flat=True)
    )
    rows = [
        Signature(
            petition=petition,
            name=cosponsor.name,
            email=cosponsor.email,
            email_canonical=cosponsor.email_canonical,
            country=cosponsor.country,
            language=cosponsor.language,
            # Never named: they were not asked, and a name on a public list can endanger them.
            show_name=False,
            consent_contact=False,
            listing=petition.signer_list,
            status=Signature.Status.COUNTED,
            created_at=cosponsor.created_at,
            confirmed_at=cosponsor.confirmed_at,
            ip_hash=cosponsor.ip_hash,
            source="supporters",
        )
        for cosponsor in supporters
        if cosponsor.email_canonical not in signed
    ]
    Signature.objects.bulk_create(rows)
    if rows:
        SignatureCount.add(petition.pk, len(rows))
        forget_counts([petition.pk])
    Cosponsor.objects.filter(petition=petition).delete()
    return len(rows)
