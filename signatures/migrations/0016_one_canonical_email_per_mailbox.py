from django.db import migrations
from django.db.models import Q

from lib.normalise import canonical_email

BATCH = 1000


def recompute(apps, schema_editor):
    """Stored forms made before "+tags" and Gmail's dots were dropped take the new form, unless
    another row of the same petition already has it: that row stays as it was (counted or not),
    so nothing is uncounted behind the moderators' backs."""
    Signature = apps.get_model("signatures", "Signature")
    maybe = Signature.objects.filter(
        Q(email_canonical__contains="+")
        | Q(email_canonical__endswith="@gmail.com")
        | Q(email_canonical__endswith="@googlemail.com")
    )
    changed = [
        (pk, petition_id, canonical_email(old))
        for pk, petition_id, old in maybe.order_by("pk").values_list(
            "pk", "petition_id", "email_canonical"
        )
        if canonical_email(old) != old
    ]
    for start in range(0, len(changed), BATCH):
        batch = changed[start : start + BATCH]
        taken = set(
            Signature.objects.filter(
                petition_id__in={petition_id for _pk, petition_id, _new in batch},
                email_canonical__in={new for _pk, _petition_id, new in batch},
            ).values_list("petition_id", "email_canonical")
        )
        rows = []
        for pk, petition_id, new in batch:
            if (petition_id, new) not in taken:
                taken.add((petition_id, new))
                rows.append(Signature(pk=pk, email_canonical=new))
        Signature.objects.bulk_update(rows, ["email_canonical"])


class Migration(migrations.Migration):
    dependencies = [
        ("signatures", "0015_rate_counter"),
    ]

    operations = [migrations.RunPython(recompute, migrations.RunPython.noop)]
