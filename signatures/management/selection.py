from django.core.management.base import CommandError

from petitions.models import Petition


def petitions_named(slugs: list[str]):
    """Every petition when `slugs` is empty; a typo must not pass for done."""
    petitions = Petition.objects.all()
    if not slugs:
        return petitions
    petitions = petitions.filter(slug__in=slugs)
    missing = set(slugs) - set(petitions.values_list("slug", flat=True))
    if missing:
        raise CommandError(f"No petition with the address {', '.join(sorted(missing))}")
    return petitions
