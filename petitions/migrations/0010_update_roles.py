"""Updates in the two roles: organisers write them; moderators approve them and start,
pause or cancel their emails."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {
    "Organisers": ["add_update", "change_update", "view_update"],
    "Moderators": ["view_update", "moderate_update"],
}


def grant(apps, schema_editor):
    # Permissions are normally made after all migrations run; these groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GRANTS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="petitions", codename__in=codenames)
        )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GRANTS.items():
        group = Group.objects.filter(name=name).first()
        if group:
            group.permissions.remove(
                *Permission.objects.filter(
                    content_type__app_label="petitions", codename__in=codenames
                )
            )


class Migration(migrations.Migration):
    dependencies = [
        ("petitions", "0009_updates_and_outcome"),
        ("signatures", "0003_roles"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
