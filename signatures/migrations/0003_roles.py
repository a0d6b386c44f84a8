"""The two roles of the admin, as groups with exactly the permissions their work needs.

Organisers write petitions and see their counts, never signer data. Moderators look after the
signatures (view, invalidate and restore, delete on request, export) and read the audit trail, and
can view petitions but not change them.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLES = {
    "Organisers": [
        ("petitions", "petition", "add_petition"),
        ("petitions", "petition", "change_petition"),
        ("petitions", "petition", "view_petition"),
    ],
    "Moderators": [
        ("petitions", "petition", "view_petition"),
        ("signatures", "signature", "view_signature"),
        ("signatures", "signature", "moderate_signature"),
        ("signatures", "signature", "delete_signature"),
        ("signatures", "signature", "export_signature"),
        ("signatures", "auditrecord", "view_auditrecord"),
    ],
}


def create_roles(apps, schema_editor):
    # Permissions are normally made after all migrations run; these groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, wanted in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(
            [
                Permission.objects.get(
                    content_type__app_label=app, content_type__model=model, codename=codename
                )
                for app, model, codename in wanted
            ]
        )


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("signatures", "0002_moderation"),
        ("petitions", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
