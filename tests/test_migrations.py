import datetime

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from lib.models import AuditEntry
from petitions.models import Update
from tests.factories import make_petition, make_staff


@pytest.mark.django_db
def test_no_model_change_is_missing_a_migration():
    call_command("makemigrations", "--check", "--dry-run", verbosity=0)


BEFORE_THE_ONE_LOG = [
    ("lib", "0001_audit_entry"),
    ("signatures", "0017_signature_petition_label"),
    ("petitions", "0013_petition_address_in_any_script"),
]


@pytest.mark.django_db(transaction=True)
def test_audit_records_and_decisions_come_out_as_audit_entries():
    """Rows written under the old schema (signatures.AuditRecord, petitions.Decision) are each
    one entry of the one log, with their time, actor, target and detail."""
    petition = make_petition(title_en="Free the press", title_fa="آزادی مطبوعات")
    update = Update.objects.create(petition=petition, title_en="Hearing set", body_en="Monday.")
    moderator = make_staff("mo")
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE_THE_ONE_LOG)
    old = executor.loader.project_state(BEFORE_THE_ONE_LOG).apps
    AuditRecord = old.get_model("signatures", "AuditRecord")
    Decision = old.get_model("petitions", "Decision")
    start = timezone.now() - datetime.timedelta(days=30)
    records = [
        ("invalidate", 3, petition.pk, "spam burst"),
        (
            "bulk_invalidate",
            5,
            petition.pk,
            "2026-11-01 10:00–2026-11-01 11:00 domain=spam.example",
        ),
        ("restore", 1, petition.pk, ""),
        ("delete", 2, petition.pk, ""),
        ("erase_signer", 1, petition.pk, ""),
        ("erase_signer", 0, petition.pk, "the starter's address removed on request"),
        ("erase_signer", 0, None, "2 unpublished petition(s) of a starter deleted"),
        ("export", 3, petition.pk, "format=csv status=counted since=2026-01-01 (interrupted)"),
        ("export", 2, None, "format=jsonl status=any petitions=first,second"),
        ("export", 40, petition.pk, "downloaded delivery pack 4 (pdf)"),
        ("export", 40, petition.pk, "delivery pack 4: 41 signatures, 40 names"),
        (
            "approve_update",
            3,
            petition.pk,
            f"update {update.pk}: Hearing set; emailing 3 signers"
            " (pause between emails overridden)",
        ),
        ("reject_update", 0, petition.pk, f"update {update.pk}: Hearing set"),
        ("send_update", 2, petition.pk, f"update {update.pk}: resend_uncertain"),
    ]
    for n, (action, rows, petition_id, detail) in enumerate(records):
        AuditRecord.objects.create(
            actor_id=moderator.pk,
            actor_name="mo",
            created_at=start + datetime.timedelta(hours=n),
            action=action,
            rows=rows,
            petition_id=petition_id,
            detail=detail,
        )
    Decision.objects.create(
        actor_id=None,
        actor_name="a deleted moderator",
        created_at=start + datetime.timedelta(days=1),
        petition_id=petition.pk,
        action="reject",
        reason="other",
        note="Add a source.",
    )
    Decision.objects.create(
        actor_id=moderator.pk,
        actor_name="mo",
        created_at=start + datetime.timedelta(days=2),
        petition_id=petition.pk,
        action="publish",
    )

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    entries = list(AuditEntry.objects.order_by("pk"))
    assert [e.created_at for e in entries] == [
        *(start + datetime.timedelta(hours=n) for n in range(len(records))),
        start + datetime.timedelta(days=1),
        start + datetime.timedelta(days=2),
    ]
    assert [(e.actor_id, e.actor_label) for e in entries] == [(moderator.pk, "mo")] * len(
        records
    ) + [(None, "a deleted moderator"), (moderator.pk, "mo")]
    about_petition = (petition, "Free the press · آزادی مطبوعات")
    about_update = (update, "Hearing set")
    nothing = (None, "")
    assert [(e.action, (e.target, e.target_label), e.detail) for e in entries] == [
        ("signature.invalidated", about_petition, {"signatures": 3, "note": "spam burst"}),
        (
            "signature.bulk_invalidated",
            about_petition,
            {"signatures": 5, "note": "2026-11-01 10:00–2026-11-01 11:00 domain=spam.example"},
        ),
        ("signature.restored", about_petition, {"signatures": 1}),
        ("signature.deleted", about_petition, {"signatures": 2}),
        ("signature.erased", about_petition, {"signatures": 1}),
        ("petition.starter_erased", about_petition, {}),
        ("petition.erased", nothing, {"deleted": 2}),
        (
            "signature.exported",
            about_petition,
            {
                "signatures": 3,
                "format": "csv",
                "status": "counted",
                "since": "2026-01-01",
                "interrupted": True,
            },
        ),
        (
            "signature.exported",
            nothing,
            {"signatures": 2, "format": "jsonl", "petitions": ["first", "second"]},
        ),
        ("pack.downloaded", about_petition, {"pack": 4, "kind": "pdf", "names": 40}),
        ("pack.made", about_petition, {"pack": 4, "signatures": 41, "names": 40}),
        ("update.approved", about_update, {"recipients": 3, "cap_overridden": True}),
        ("update.rejected", about_update, {}),
        ("update.resent", about_update, {"emails": 2}),
        ("petition.rejected", about_petition, {"reason": "other", "note": "Add a source."}),
        ("petition.published", about_petition, {}),
    ]
