"""One-click unsubscribe (RFC 8058): updates offer it, a provider's cookieless POST stops them, nothing else does."""

from urllib.parse import urlsplit

import pytest
from django.test import Client
from django.urls import resolve, reverse

from petitions.models import Signature, Update, UpdateDelivery
from petitions.outreach import updates
from petitions.signing import services
from petitions.tasks import send_confirmations, send_receipt

from .campaign_data import signer
from .conftest import sign_data

pytestmark = pytest.mark.django_db

ONE_CLICK = "List-Unsubscribe=One-Click"


def _send_update(petition, subject):
    """Send an update to its audience right here, row by row, as the news worker would."""
    update = Update.objects.create(
        petition=petition,
        subject_be=subject,
        subject_en=subject,
        body_be="Дзякуй! Сенатары атрымалі лісты.",
        body_en="Thank you! The senators received the letters.",
        status=Update.Status.SENDING,
    )
    updates.create_deliveries(update)
    for pk in update.deliveries.values_list("pk", flat=True):
        updates.send_one(pk)
    return update


def _one_click(url):
    """POST as Gmail or Yahoo do: the RFC 8058 body, no cookie, so no CSRF token, with CSRF checked."""
    provider = Client(enforce_csrf_checks=True)
    return provider.post(url, ONE_CLICK, content_type="application/x-www-form-urlencoded")


def _link(header):
    """The path of the URL in a List-Unsubscribe header "<https://...>" (folded when long, hence strip)."""
    header = header.strip()
    assert header.startswith("<") and header.endswith(">"), header
    return urlsplit(header[1:-1]).path


def test_an_updates_one_click_post_from_a_mail_provider_stops_the_next_update(petition, smtp_server):
    Signature.objects.bulk_create([signer(petition, 1, wants_updates=True), signer(petition, 2, wants_updates=True)])
    leaving = Signature.objects.get(email="signer1@example.org")

    _send_update(petition, "First news")
    messages = {message["To"]: message for message in smtp_server.messages}
    assert sorted(messages) == ["signer1@example.org", "signer2@example.org"]
    for message in messages.values():
        assert message["List-Unsubscribe-Post"] == ONE_CLICK
        assert "/unsubscribe/" in message["List-Unsubscribe"]

    response = _one_click(_link(messages["signer1@example.org"]["List-Unsubscribe"]))
    assert response.status_code == 200, "RFC 8058: answered in place, neither a redirect nor a 403"
    leaving.refresh_from_db()
    assert not leaving.wants_updates
    assert leaving.status == Signature.Status.CONFIRMED, "one click stops the news, never the signature"
    assert Signature.objects.get(email="signer2@example.org").wants_updates

    second = _send_update(petition, "Second news")
    assert [message["To"] for message in smtp_server.messages[2:]] == ["signer2@example.org"]
    assert not second.deliveries.filter(signature=leaving, status=UpdateDelivery.Status.SENT).exists()


def test_an_update_already_on_its_way_skips_whoever_unsubscribed_with_one_click(petition, smtp_server):
    Signature.objects.bulk_create([signer(petition, 1, wants_updates=True)])
    leaving = Signature.objects.get()
    _send_update(petition, "First news")
    [message] = smtp_server.messages
    # The next update's rows were made before the click: the row is there, and still skipped.
    update = Update.objects.create(petition=petition, subject_be="Б", subject_en="B", status=Update.Status.SENDING)
    updates.create_deliveries(update)

    assert _one_click(_link(message["List-Unsubscribe"])).status_code == 200
    assert updates.send_one(update.deliveries.get(signature=leaving).pk) == UpdateDelivery.Status.SKIPPED
    assert len(smtp_server.messages) == 1


def test_a_confirmation_and_a_receipt_offer_no_one_click_since_their_link_withdraws(
    petition, recipients, smtp_server, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        assert Client().post(reverse("petitions:detail", args=[petition.slug]), sign_data()).status_code == 302
    signature = Signature.objects.get()
    send_confirmations()
    with django_capture_on_commit_callbacks(execute=False):
        assert services.confirm_signature(signature)
    send_receipt(signature.pk)

    sent = smtp_server.messages
    assert len(sent) == 2
    for message in sent:
        # The withdraw link: its token carries the second it was signed, so compare what it opens.
        match = resolve(_link(message["List-Unsubscribe"]))
        assert match.view_name == "petitions:withdraw", message["Subject"]
        assert services.signature_from_withdraw(match.kwargs["token"]) == signature
        assert "List-Unsubscribe-Post" not in message, message["Subject"]


def test_a_one_click_post_with_a_forged_or_altered_token_gets_400_and_unsubscribes_nobody(petition):
    Signature.objects.bulk_create([signer(petition, 1, wants_updates=True)])
    signature = Signature.objects.get()
    token = updates.unsubscribe_token(signature)
    altered = token[:-1] + ("A" if token[-1] != "A" else "B")
    # Tokens that are genuine for another purpose must not work either: the salt tells them apart.
    for bad in ("forged", altered, services.withdraw_token(signature), services.status_token(signature)):
        response = _one_click(reverse("petitions:unsubscribe", args=[bad]))
        assert response.status_code == 400, bad
    assert Signature.objects.get().wants_updates


def test_opening_the_unsubscribe_link_sets_no_cookie_and_its_button_needs_none(petition):
    Signature.objects.bulk_create([signer(petition, 1, wants_updates=True)])
    url = reverse("petitions:unsubscribe", args=[updates.unsubscribe_token(Signature.objects.get())])
    browser = Client(enforce_csrf_checks=True)

    page = browser.get(url)

    assert page.status_code == 200
    assert not page.cookies, "a page opened from an e-mail has nothing to remember"
    assert "csrfmiddlewaretoken" not in page.content.decode()
    # The button posts what a mail client's one click does: the token in the URL, no cookie.
    assert browser.post(url).status_code == 200
    assert not Signature.objects.get().wants_updates
