"""Erasure erases everything: after a withdrawal or the closed-petition purge no table holds the signer."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from petitions import tasks
from petitions.models import Letter, Petition, Recipient, Signature
from petitions.signing import services

from .conftest import sign_data

pytestmark = pytest.mark.django_db

SIGNER = {
    "first_name": "Zebulon",
    "last_name": "Quillfeather",
    "email": "zeb.quill@example.org",
    "address": "42 Wistful Vista",
    "phone": "515-555-0177",
    "note": "Remember the prisoners of Hrodna.",
}


def tables_holding(*values):
    """Every (table, column) of the database whose text, in any row, contains one of VALUES."""
    found = []
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            for column in connection.introspection.get_table_description(cursor, table):
                for value in values:
                    cursor.execute(
                        f"SELECT COUNT(*) FROM {quote(table)} WHERE CAST({quote(column.name)} AS TEXT) LIKE %s",  # noqa: S608
                        [f"%{value}%"],
                    )
                    if cursor.fetchone()[0]:
                        found.append((table, column.name, value))
    return found


@pytest.fixture
def delivered(petition, recipients, smtp_server, django_capture_on_commit_callbacks):
    """A signature signed, confirmed, its letters delivered (by e-mail and on paper) and its receipt sent."""
    for n, recipient in enumerate(recipients):
        recipient.channel = Recipient.Channel.EMAIL
        recipient.channel_settings = {"address": f"office{n}@senate.example"}
        recipient.office_address = "1 Capitol"
        recipient.save()
    client = Client()
    assert client.post(reverse("petitions:detail", args=[petition.slug]), sign_data(**SIGNER)).status_code == 302
    tasks.send_confirmations()
    signature = Signature.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        assert services.confirm_signature(signature)
    tasks.deliver_due_letters()
    tasks.send_receipt(signature.pk)
    # One letter went on paper: printed in a batch, then marked posted.
    from petitions.delivery import printing

    Letter.objects.filter(recipient=recipients[2]).update(status=Letter.Status.NEEDS_ACTION, channel="print")
    [(_recipient, batch_id, _letters)] = printing.start_batches(Letter.objects.all())
    printing.mark_printed(Letter.objects.all(), "steward")
    assert tables_holding(*SIGNER.values()), "the scan must see the signer before erasure"
    signature.refresh_from_db()
    return signature, batch_id


def _kept_for_the_audit(batch_id):
    letters = list(Letter.objects.values_list("delivery_id", "recipient_id", "channel", "status", "delivered_at"))
    assert len(letters) == 3
    assert all(
        len(delivery_id) == 32 and status == "delivered" and when for delivery_id, _r, _c, status, when in letters
    )
    assert Letter.objects.filter(response__startswith=f"Print batch {batch_id}").count() == 1


def test_withdrawing_leaves_the_signer_in_no_column_of_any_table(client, delivered, petition):
    signature, batch_id = delivered
    response = client.post(reverse("petitions:withdraw", args=[services.withdraw_token(signature)]))
    assert response.status_code == 200

    assert tables_holding(*SIGNER.values()) == []
    signature.refresh_from_db()
    assert (signature.zip_code, signature.city, signature.status) == ("", "", Signature.Status.WITHDRAWN)
    _kept_for_the_audit(batch_id)
    assert petition.confirmed_count() == 1
    # The status page has nothing left to show of them.
    page = client.get(reverse("petitions:status", args=[services.status_token(signature)])).content.decode()
    for value in SIGNER.values():
        assert value not in page


def test_the_closed_petition_purge_leaves_the_signer_in_no_column_of_any_table(delivered, petition):
    signature, batch_id = delivered
    Petition.objects.filter(pk=petition.pk).update(status=Petition.Status.CLOSED, closed_at=timezone.now())

    later = timezone.now() + timedelta(days=settings.CLOSED_PETITION_RETENTION_DAYS + 1)
    with time_machine.travel(later):
        assert tasks.purge_personal_data()["erased_closed"] == 1

    assert tables_holding(*SIGNER.values()) == []
    signature.refresh_from_db()
    assert (signature.zip_code, signature.city) == ("", "")
    _kept_for_the_audit(batch_id)
