"""Separate the power to route letters, and record every export or change of where letters go.

Changing a recipient's channel or its settings, re-routing and retrying letters send signers'
names and addresses somewhere new: they need `manage_delivery`, which only the new "Delivery
managers" group holds. The export record says what kind of export or change each entry is.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations, models

DELIVERY_MANAGERS = [
    "view_petition",
    "view_recipient", "change_recipient",
    "view_letter", "change_letter", "manage_delivery",
]  # fmt: skip


def create_delivery_managers(apps, schema_editor):
    # Permissions are normally created after all migrations; the group needs the new one now.
    petitions_config = apps.get_app_config("petitions")
    petitions_config.models_module = True
    create_permissions(petitions_config, apps=apps, verbosity=0)
    petitions_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    group, _created = Group.objects.get_or_create(name="Delivery managers")
    group.permissions.add(
        *Permission.objects.filter(content_type__app_label="petitions", codename__in=DELIVERY_MANAGERS)
    )


def remove_delivery_managers(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="Delivery managers").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("petitions", "0009_scrub_searches_from_export_records"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="letter",
            options={
                "ordering": ["-created_at"],
                "permissions": [
                    ("manage_delivery", "Can route letters: recipients' channels, re-routing and retries")
                ],
                "verbose_name": "letter",
                "verbose_name_plural": "letters",
            },
        ),
        migrations.AddField(
            model_name="signatureexport",
            name="kind",
            field=models.CharField(
                choices=[
                    ("csv", "CSV of signatures"),
                    ("print-batch", "Print batch"),
                    ("signers-pdf", "PDF of signers"),
                    ("delivery", "Change of delivery"),
                ],
                default="csv",
                max_length=12,
                verbose_name="kind",
            ),
        ),
        migrations.AddField(
            model_name="signatureexport",
            name="what",
            field=models.CharField(blank=True, max_length=300, verbose_name="what"),
        ),
        migrations.RunPython(create_delivery_managers, remove_delivery_managers),
    ]
