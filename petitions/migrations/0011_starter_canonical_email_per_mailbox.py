from django.db import migrations
from django.db.models import Q

from lib.normalise import canonical_email


def recompute(apps, schema_editor):
    """Starters' addresses as compared: "+tags" and Gmail's dots dropped, as for signers."""
    Petition = apps.get_model("petitions", "Petition")
    rows = []
    for pk, old in Petition.objects.filter(
        Q(starter_email_canonical__contains="+")
        | Q(starter_email_canonical__endswith="@gmail.com")
        | Q(starter_email_canonical__endswith="@googlemail.com")
    ).values_list("pk", "starter_email_canonical"):
        if canonical_email(old) != old:
            rows.append(Petition(pk=pk, starter_email_canonical=canonical_email(old)))
    Petition.objects.bulk_update(rows, ["starter_email_canonical"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("petitions", "0010_update_roles"),
    ]

    operations = [migrations.RunPython(recompute, migrations.RunPython.noop)]
