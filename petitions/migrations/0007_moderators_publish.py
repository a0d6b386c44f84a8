"""Moderators decide on the petitions the public starts and read the decisions."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = [
    ("petitions", "petition", "moderate_petition"),
    ("petitions", "decision", "view_decision"),
]


def grant(apps, schema_editor):
    # Permissions are normally made after all migrations run; the group needs these now.
    app_config = apps.get_app_config("petitions")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _ = Group.objects.get_or_create(name="Moderators")
    group.permissions.add(
        *(
            Permission.objects.get(
                content_type__app_label=app, content_type__model=model, codename=codename
            )
            for app, model, codename in GRANTS
        )
    )


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    group = apps.get_model("auth", "Group").objects.filter(name="Moderators").first()
    if group:
        group.permissions.remove(*Permission.objects.filter(codename__in=[c for _, _, c in GRANTS]))


class Migration(migrations.Migration):
    dependencies = [
        ("petitions", "0006_started_by_the_public"),
        ("signatures", "0003_roles"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
