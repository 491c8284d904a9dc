"""Take what was searched for out of the export records made before they kept the filter alone."""

from django.db import migrations
from django.http import QueryDict


def _scrub(query):
    # The rule of petitions.exports.filter_record, as it was when this migration was written.
    parsed = QueryDict(query)
    kept = parsed.copy()
    for name, values in parsed.lists():
        if name == "q":
            kept.setlist(name, ["[e-mail-address]" if "@" in value else "[search]" for value in values if value])
        elif any("@" in value for value in values):
            kept.setlist(name, ["[removed]" for _value in values])
    return kept.urlencode(safe="[]")


def scrub_export_records(apps, schema_editor):
    SignatureExport = apps.get_model("petitions", "SignatureExport")
    for record in SignatureExport.objects.exclude(filters="").only("filters").iterator():
        scrubbed = _scrub(record.filters)
        if scrubbed != record.filters:
            SignatureExport.objects.filter(pk=record.pk).update(filters=scrubbed)


class Migration(migrations.Migration):
    dependencies = [
        ("petitions", "0008_signing_attempts_with_details_hash"),
    ]

    operations = [
        migrations.RunPython(scrub_export_records, migrations.RunPython.noop),
    ]
