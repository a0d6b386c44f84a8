from django.contrib.auth.management import create_permissions
from django.db import migrations


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permission = Permission.objects.get(
        content_type__app_label="signatures", codename="view_blockedattempt"
    )
    Group.objects.get(name="Moderators").permissions.add(permission)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permission = Permission.objects.filter(codename="view_blockedattempt").first()
    if permission:
        Group.objects.get(name="Moderators").permissions.remove(permission)


class Migration(migrations.Migration):
    dependencies = [("signatures", "0004_blocked_attempts")]

    operations = [migrations.RunPython(grant, revoke)]
