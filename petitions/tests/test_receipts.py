"""The receipt a confirmed signer gets: sent once, recorded, and swept when its broker message was lost."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from petitions.models import Signature
from petitions.signing import services
from petitions.tasks import send_receipt, sweep_confirmations

from .conftest import purge_broker, sign_data
from .queues import queued_tasks

pytestmark = pytest.mark.django_db


def _confirmed_without_receipt(petition, capture):
    """A signature confirmed while the broker lost every message: nothing was sent or queued."""
    with capture(execute=False):
        assert Client().post(reverse("petitions:detail", args=[petition.slug]), sign_data()).status_code == 302
    signature = Signature.objects.get()
    with capture(execute=False):
        assert services.confirm_signature(signature)
    signature.refresh_from_db()
    return signature


def test_the_receipt_is_sent_once_and_recorded(petition, recipients, smtp_server, django_capture_on_commit_callbacks):
    signature = _confirmed_without_receipt(petition, django_capture_on_commit_callbacks)
    assert signature.receipt_sent_at is None

    send_receipt(signature.pk)
    send_receipt(signature.pk)  # a task run again after its worker was lost

    [message] = smtp_server.messages
    assert message["To"] == "ada@example.org"
    signature.refresh_from_db()
    assert signature.receipt_sent_at is not None


def test_a_receipt_whose_message_was_lost_is_sent_by_the_sweeper_after_the_grace_period(
    petition, recipients, smtp_server, django_capture_on_commit_callbacks
):
    signature = _confirmed_without_receipt(petition, django_capture_on_commit_callbacks)
    purge_broker()

    sweep_confirmations()
    assert queued_tasks("mail") == [], "within the grace period the first message may still arrive"

    past = timezone.now() - timedelta(seconds=settings.CONFIRMATION_SWEEP_GRACE_SECONDS + 5)
    Signature.objects.filter(pk=signature.pk).update(confirmed_at=past)
    sweep_confirmations()
    assert queued_tasks("mail") == [("petitions.tasks.send_receipt", (signature.pk,))]

    send_receipt(signature.pk)
    assert len(smtp_server.messages) == 1
    sweep_confirmations()
    assert queued_tasks("mail") == [], "a receipt sent is never swept again"
