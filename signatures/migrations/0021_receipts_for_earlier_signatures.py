"""Every signature made before receipts gets a receipt hash that nobody holds the code of: the hash
of a random value, so that each counted signature is one leaf of a delivery pack's Merkle tree and the
tree's count is the pack's (petitions/merkle.py, docs/proofs.md). Nothing about the signer goes
into it. A pack made later fills any row still without one the same way
(petitions.inclusion.give_missing_receipts)."""

import hashlib
import os

from django.db import migrations


def give_receipts(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        # One statement for a million rows; gen_random_uuid() and sha256() are PostgreSQL's own.
        schema_editor.execute(
            "UPDATE signatures_signature SET receipt = sha256(gen_random_uuid()::text::bytea) "
            "WHERE receipt IS NULL"
        )
        return
    Signature = apps.get_model("signatures", "Signature")
    missing = list(Signature.objects.filter(receipt__isnull=True).values_list("pk", flat=True))
    for pk in missing:
        Signature.objects.filter(pk=pk).update(receipt=hashlib.sha256(os.urandom(32)).digest())


class Migration(migrations.Migration):
    dependencies = [
        ("signatures", "0020_receipt_and_withdrawal"),
    ]

    operations = [
        migrations.RunPython(give_receipts, migrations.RunPython.noop, elidable=True),
    ]
