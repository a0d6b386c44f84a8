"""Moderators enter and remove paper batches, as they look after the online signatures."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

WANTED = ("add_paperbatch", "view_paperbatch", "delete_paperbatch", "view_papersignature")


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name="Moderators").first()
    if group is not None:
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="signatures", codename__in=WANTED)
        )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group = Group.objects.filter(name="Moderators").first()
    if group is not None:
        group.permissions.remove(
            *Permission.objects.filter(content_type__app_label="signatures", codename__in=WANTED)
        )


class Migration(migrations.Migration):
    dependencies = [("signatures", "0023_paper_batches")]

    operations = [migrations.RunPython(grant, revoke)]
