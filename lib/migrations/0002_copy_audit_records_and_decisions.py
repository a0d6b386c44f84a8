"""Every signatures.AuditRecord and petitions.Decision, copied into the one audit log with its
time, actor, target and detail; the site's own English detail strings become structured detail,
a moderator's words stay as typed. The moderators' group reads the new log instead of the two old
ones.

Undone, the copy stays: the entries are the record, and the old tables come back empty."""

import re

from django.contrib.auth.management import create_permissions
from django.db import migrations
from django.utils.text import Truncator

BATCH = 1000
LABEL_LENGTH = 200

SIGNATURE_ACTIONS = {
    "invalidate": "signature.invalidated",
    "bulk_invalidate": "signature.bulk_invalidated",
    "restore": "signature.restored",
    "delete": "signature.deleted",
}
SEND_ACTIONS = {
    "pause": "update.paused",
    "resume": "update.resumed",
    "cancel": "update.cancelled",
    "resend_uncertain": "update.resent",
}
STARTER_ADDRESS = "the starter's address removed on request"
STARTER_PETITIONS = re.compile(r"(\d+) unpublished petition\(s\) of a starter deleted")
PACK_DOWNLOADED = re.compile(r"downloaded delivery pack (\d+) \((pdf|csv)\)")
PACK_MADE = re.compile(r"delivery pack (\d+): (\d+) signatures, (\d+) names")
EXPORT = re.compile(
    r"format=(?P<format>\w+) status=(?P<status>\w+)(?: since=(?P<since>\S+))?"
    r"(?P<interrupted> \(interrupted\))?(?: petitions=(?P<petitions>\S+))?"
)
UPDATE = re.compile(r"update (\d+): (.*)", re.DOTALL)
APPROVED = re.compile(r"(.*); emailing \d+ signers( \(pause between emails overridden\))?")


def label(*names) -> str:
    return Truncator(" · ".join(dict.fromkeys(n for n in names if n))).chars(LABEL_LENGTH)


class Targets:
    """Content types and labels of the petitions and updates the old rows name."""

    def __init__(self, apps):
        ContentType = apps.get_model("contenttypes", "ContentType")
        self.types = {
            model: ContentType.objects.get_or_create(app_label="petitions", model=model)[0]
            for model in ("petition", "update")
        }
        Petition = apps.get_model("petitions", "Petition")
        Update = apps.get_model("petitions", "Update")
        self.petitions = {
            pk: label(en, fa) or slug
            for pk, slug, en, fa in Petition.objects.values_list(
                "pk", "slug", "title_en", "title_fa"
            )
        }
        self.updates = {
            pk: label(en or fa)
            for pk, en, fa in Update.objects.values_list("pk", "title_en", "title_fa")
        }

    def petition(self, pk) -> dict:
        if pk is None:
            return {}
        return {
            "target_type": self.types["petition"],
            "target_id": pk,
            "target_label": self.petitions.get(pk, ""),
        }

    def update(self, pk, title: str) -> dict:
        return {
            "target_type": self.types["update"],
            "target_id": pk,
            "target_label": self.updates.get(pk) or label(title),
        }


def from_record(record, targets: Targets) -> dict:
    """The new entry's action, target and detail for one AuditRecord."""
    text, rows = record.detail, record.rows
    on_petition = targets.petition(record.petition_id)
    if record.action in SIGNATURE_ACTIONS:
        detail = {"signatures": rows, **({"note": text} if text else {})}
        return {"action": SIGNATURE_ACTIONS[record.action], **on_petition, "detail": detail}
    if record.action == "erase_signer":
        if text == STARTER_ADDRESS:
            return {"action": "petition.starter_erased", **on_petition, "detail": {}}
        if match := STARTER_PETITIONS.fullmatch(text):
            return {"action": "petition.erased", "detail": {"deleted": int(match[1])}}
        return {"action": "signature.erased", **on_petition, "detail": {"signatures": rows}}
    if record.action == "export":
        if match := PACK_DOWNLOADED.fullmatch(text):
            detail = {"pack": int(match[1]), "kind": match[2], "names": rows}
            return {"action": "pack.downloaded", **on_petition, "detail": detail}
        if match := PACK_MADE.fullmatch(text):
            detail = {"pack": int(match[1]), "signatures": int(match[2]), "names": int(match[3])}
            return {"action": "pack.made", **on_petition, "detail": detail}
        detail = {"signatures": rows}
        if match := EXPORT.fullmatch(text):
            detail["format"] = match["format"]
            if match["status"] != "any":
                detail["status"] = match["status"]
            if match["since"]:
                detail["since"] = match["since"]
            if match["interrupted"]:
                detail["interrupted"] = True
            if match["petitions"]:
                detail["petitions"] = match["petitions"].split(",")
        elif text:
            detail["note"] = text
        return {"action": "signature.exported", **on_petition, "detail": detail}
    # The three update actions name the update in their detail: "update <pk>: <rest>".
    match = UPDATE.fullmatch(text)
    pk, rest = (int(match[1]), match[2]) if match else (None, text)
    if record.action == "send_update":
        action = SEND_ACTIONS.get(rest, "update.paused")
        detail = {"emails": rows} if action == "update.resent" else {}
        if rest not in SEND_ACTIONS:
            detail["note"] = text
        title = ""
    elif record.action == "approve_update":
        action = "update.approved"
        emailing = APPROVED.fullmatch(rest)
        title = emailing[1] if emailing else rest
        detail = {"recipients": rows, "cap_overridden": bool(emailing[2])} if emailing else {}
    else:
        action, title, detail = "update.rejected", rest, {}
    if pk is None:
        return {"action": action, **on_petition, "detail": {**detail, "note": text}}
    return {"action": action, **targets.update(pk, title), "detail": detail}


def copy(apps, schema_editor):
    AuditRecord = apps.get_model("signatures", "AuditRecord")
    Decision = apps.get_model("petitions", "Decision")
    AuditEntry = apps.get_model("lib", "AuditEntry")
    targets = Targets(apps)
    entries = []
    for record in AuditRecord.objects.order_by("created_at", "pk").iterator():
        entries.append(
            AuditEntry(
                created_at=record.created_at,
                actor_id=record.actor_id,
                actor_label=record.actor_name,
                **from_record(record, targets),
            )
        )
    for decision in Decision.objects.order_by("created_at", "pk").iterator():
        why = {
            name: getattr(decision, name) for name in ("reason", "note") if getattr(decision, name)
        }
        entries.append(
            AuditEntry(
                created_at=decision.created_at,
                actor_id=decision.actor_id,
                actor_label=decision.actor_name,
                action="petition.published"
                if decision.action == "publish"
                else "petition.rejected",
                **targets.petition(decision.petition_id),
                detail=why,
            )
        )
    # In time order, so the new ids read as the old history did.
    entries.sort(key=lambda entry: entry.created_at)
    AuditEntry.objects.bulk_create(entries, batch_size=BATCH)


OLD_GRANTS = [("signatures", "view_auditrecord"), ("petitions", "view_decision")]


def moderators_read_the_log(apps, schema_editor, forwards=True):
    # Permissions are normally made after all migrations run; the group needs these now (undone,
    # the old models' permissions too, which their removal deleted).
    for label in ("lib", "signatures", "petitions"):
        app_config = apps.get_app_config(label)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name="Moderators").first()
    if group is None:
        return
    new = Permission.objects.filter(content_type__app_label="lib", codename="view_auditentry")
    old = Permission.objects.none()
    for app, codename in OLD_GRANTS:
        old |= Permission.objects.filter(content_type__app_label=app, codename=codename)
    if forwards:
        group.permissions.remove(*old)
        group.permissions.add(*new)
    else:
        group.permissions.remove(*new)
        group.permissions.add(*old)


def moderators_read_the_old_records(apps, schema_editor):
    moderators_read_the_log(apps, schema_editor, forwards=False)


class Migration(migrations.Migration):
    dependencies = [
        ("lib", "0001_audit_entry"),
        ("signatures", "0017_signature_petition_label"),
        ("petitions", "0013_petition_address_in_any_script"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.RunPython(copy, migrations.RunPython.noop),
        migrations.RunPython(moderators_read_the_log, moderators_read_the_old_records),
    ]
