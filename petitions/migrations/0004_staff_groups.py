"""Create the staff groups with their permissions: organizers, data stewards and translators.

Only data stewards may export signatures, since an export takes every signer's personal data out
of the site; organizers run the campaign without that power.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUPS = {
    "Organizers": [
        "view_petition", "add_petition", "change_petition",
        "view_recipient", "change_recipient",
        "view_signature", "change_signature", "delete_signature",
        "view_letter", "change_letter",
        "view_blockedemaildomain", "add_blockedemaildomain", "change_blockedemaildomain", "delete_blockedemaildomain",
        "view_blockednetwork", "add_blockednetwork", "change_blockednetwork", "delete_blockednetwork",
        "view_update", "add_update", "change_update",
        "view_followup", "view_followupanswer",
    ],
    "Data stewards": [
        "view_petition",
        "view_signature", "delete_signature", "export_signature",
        "view_signatureexport",
    ],
    "Translators": ["view_petition", "change_petition"],
}  # fmt: skip


def create_groups(apps, schema_editor):
    # Permissions are normally created after all migrations; these groups need them now.
    petitions_config = apps.get_app_config("petitions")
    petitions_config.models_module = True
    create_permissions(petitions_config, apps=apps, verbosity=0)
    petitions_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GROUPS.items():
        group, _created = Group.objects.get_or_create(name=name)
        group.permissions.add(*Permission.objects.filter(content_type__app_label="petitions", codename__in=codenames))


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=GROUPS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("petitions", "0003_blocklists_exports_ip_prefix"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
