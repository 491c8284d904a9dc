"""Updates to signers: once to each consenting signer, in their language, through a worker killed halfway."""

import time

import pytest
from django.contrib.auth.models import User
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from petitions import tasks
from petitions.models import Signature, Update, UpdateDelivery
from petitions.outreach import updates
from petitions.signing import services

from .campaign_data import signer
from .conftest import purge_broker, wait_until
from .queues import queued_tasks


def _update(petition, **fields):
    values = {
        "petition": petition,
        "subject_be": "Навіны кампаніі",
        "subject_en": "News from the campaign",
        "body_be": "Дзякуй! Сенатары атрымалі лісты.",
        "body_en": "Thank you! The senators received the letters.",
    }
    values.update(fields)
    return Update.objects.create(**values)


def _signers(petition):
    """Twelve consenting signers in both languages, and everyone who must not get the update."""
    rows = [signer(petition, n, wants_updates=True) for n in range(12)]
    rows += [signer(petition, 100 + n, wants_updates=False) for n in range(3)]
    rows += [signer(petition, 200 + n, wants_updates=True, status=Signature.Status.PENDING) for n in range(2)]
    rows += [signer(petition, 300, wants_updates=True), signer(petition, 301, wants_updates=True)]
    Signature.objects.bulk_create(rows)
    return {s.email: s for s in Signature.objects.filter(petition=petition)}


@pytest.mark.slow
def test_an_update_reaches_each_consenting_signer_once_in_their_language_despite_a_killed_worker(
    petition, smtp_server, start_worker
):
    by_email = _signers(petition)
    update = _update(petition)
    assert updates.start_sending(update)
    # The rows exist before anyone changes their mind: one unsubscribes, one withdraws.
    assert updates.create_deliveries(update) == 14
    updates.unsubscribe(by_email["signer300@example.org"])
    services.withdraw(by_email["signer301@example.org"])
    expected = {f"signer{n}@example.org" for n in range(12)}

    env = {"UPDATE_SEND_RATE": "4", "UPDATE_BATCH_SIZE": "5"}
    worker = start_worker(queues="news", env=env)
    # Kill it between two e-mails, as a crash or a deploy would: at 4 a second each e-mail is
    # followed by a pause of about 200 ms, and the kill lands about 80 ms into one.
    deadline = time.monotonic() + 60
    while len(smtp_server.messages) < 5 and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.08)
    worker.kill()
    sent_before_kill = len(smtp_server.messages)
    assert 5 <= sent_before_kill < len(expected), "the worker must die halfway"
    assert (
        not UpdateDelivery.objects.filter(status=UpdateDelivery.Status.SENDING)
        .exclude(signature__email__in={m["To"] for m in smtp_server.messages})
        .exists()
    )

    start_worker(queues="news", env=env)
    tasks.resume_updates(stalled_after_seconds=0)
    wait_until(lambda: Update.objects.get(pk=update.pk).status == Update.Status.SENT, timeout=60, message="sent")
    time.sleep(0.5)  # Anything sent twice would arrive now.

    received = [message["To"] for message in smtp_server.messages]
    assert sorted(received) == sorted(expected), "each consenting signer exactly once, nobody else"
    for message in smtp_server.messages:
        signature = by_email[message["To"]]
        assert message["Subject"] == update.subject_in(signature.language)
        assert update.body_in(signature.language) in message.get_body(("plain",)).get_content()
        assert "/unsubscribe/" in message["List-Unsubscribe"]
    statuses = dict(UpdateDelivery.objects.values_list("signature__email_normalized", "status"))
    assert {email for email, status in statuses.items() if status == UpdateDelivery.Status.SENT} == expected
    assert statuses["signer300@example.org"] == UpdateDelivery.Status.SKIPPED
    assert UpdateDelivery.objects.filter(status=UpdateDelivery.Status.SKIPPED).count() == 2
    assert not UpdateDelivery.objects.filter(sent_at__isnull=True, status=UpdateDelivery.Status.SENT).exists()


@pytest.mark.django_db
def test_a_row_claimed_twice_is_sent_once(petition):
    Signature.objects.bulk_create([signer(petition, 1, wants_updates=True)])
    signature = Signature.objects.get()
    update = _update(petition, status=Update.Status.SENDING)
    updates.create_deliveries(update)
    delivery = update.deliveries.get()
    assert updates.send_one(delivery.pk) == UpdateDelivery.Status.SENT
    assert updates.send_one(delivery.pk) is None
    assert [message.to for message in mail.outbox] == [[signature.email]]


@pytest.mark.django_db
def test_a_row_cut_off_mid_send_is_marked_failed_and_never_sent_again(petition, django_capture_on_commit_callbacks):
    Signature.objects.bulk_create([signer(petition, 1, wants_updates=True)])
    update = _update(petition, status=Update.Status.SENDING, started_at=timezone.now())
    updates.create_deliveries(update)
    long_ago = timezone.now() - timezone.timedelta(hours=1)
    update.deliveries.update(status=UpdateDelivery.Status.SENDING, claimed_at=long_ago)
    tasks.resume_updates()
    delivery = update.deliveries.get()
    assert delivery.status == UpdateDelivery.Status.FAILED and "Interrupted" in delivery.error
    assert Update.objects.get(pk=update.pk).status == Update.Status.SENT
    assert mail.outbox == []


@pytest.mark.django_db
def test_the_unsubscribe_link_asks_first_and_then_only_stops_updates(petition):
    Signature.objects.bulk_create([signer(petition, 1, wants_updates=True)])
    signature = Signature.objects.get()
    url = reverse("petitions:unsubscribe", args=[updates.unsubscribe_token(signature)])
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(url)
    assert page.status_code == 200
    assert Signature.objects.get().wants_updates, "a mail scanner's GET must not unsubscribe"
    # The page's own button, pressed in a browser with CSRF checks on: the form carries no token, the
    # signed one in the URL is the capability (one-click: test_one_click_unsubscribe).
    assert browser.post(url).status_code == 200
    signature.refresh_from_db()
    assert not signature.wants_updates and signature.status == Signature.Status.CONFIRMED
    assert browser.get(reverse("petitions:unsubscribe", args=["forged"])).status_code == 400


@pytest.mark.django_db
def test_organizers_preview_test_and_send_an_update_from_the_admin(
    client, petition, django_capture_on_commit_callbacks
):
    user = User.objects.create_superuser("organizer", "organizer@example.org", "a long password for tests")
    client.force_login(user)
    Signature.objects.bulk_create([signer(petition, 1, wants_updates=True), signer(petition, 2)])
    update = _update(petition)
    with translation.override("en"):
        preview = client.get(reverse("admin:petitions_update_preview", args=[update.pk])).content.decode()
        assert update.subject_be in preview and update.subject_en in preview
        assert update.body_be in preview and update.body_en in preview
        assert "1 signer would receive it" in preview
        with django_capture_on_commit_callbacks() as callbacks:
            client.post(reverse("admin:petitions_update_test", args=[update.pk]))
        assert len(callbacks) == 1
        with django_capture_on_commit_callbacks() as callbacks:
            client.post(reverse("admin:petitions_update_send", args=[update.pk]))
        assert len(callbacks) == 1
    assert Update.objects.get(pk=update.pk).status == Update.Status.SENDING
    assert client.post(reverse("admin:petitions_update_send", args=[update.pk])).status_code == 302
    assert not updates.start_sending(update), "an update is sent once"


@pytest.mark.django_db
def test_the_test_email_goes_to_the_organizer_in_both_languages(petition):
    update = _update(petition)
    updates.send_test(update, "organizer@example.org", "Olga")
    # Marked as a test in each language, so nobody takes it for the update itself.
    assert sorted(message.subject for message in mail.outbox) == sorted(
        [f"[Тэст] {update.subject_be}", f"[Test] {update.subject_en}"]
    )
    assert all(message.to == ["organizer@example.org"] for message in mail.outbox)


@pytest.mark.django_db
def test_updates_go_on_their_own_queue_never_in_front_of_confirmations(petition, django_capture_on_commit_callbacks):
    Signature.objects.bulk_create([signer(petition, 1, wants_updates=True)])
    update = _update(petition)
    purge_broker()
    with django_capture_on_commit_callbacks(execute=True):
        assert updates.start_sending(update)
    tasks.send_update_test.delay(update.pk, "organizer@example.org")

    assert queued_tasks("mail", "letters") == []
    # Sorted: the development broker (files in a folder) does not keep the order messages were sent in.
    assert sorted(queued_tasks("news")) == [
        ("petitions.tasks.send_update", (update.pk,)),
        ("petitions.tasks.send_update_test", (update.pk, "organizer@example.org")),
    ]
