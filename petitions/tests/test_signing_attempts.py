"""Signing attempts: no one who knows an address can change what its owner signs and sends."""

import html
import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from petitions import tasks
from petitions.models import Letter, Recipient, Signature
from petitions.signing import services

from .conftest import sign_data

pytestmark = pytest.mark.django_db

ATTACKER = {
    "title": "Mr.",
    "first_name": "Mallory",
    "last_name": "Forger",
    "address": "666 Spite Street",
    "city": "Ames",
    "zip_code": "50010",
    "phone": "515-555-0199",
    "note": "Words the victim never wrote.",
    "recipients": ["president"],
}
VICTIM_DETAILS = ("Ada Lovelace", "1007 Grand Ave", "Des Moines, IA 50309")


def _link(message, name):
    body = message.get_body(("plain",)).get_content()
    return "/" + re.search(rf"https?://[^/\s]+/(\S+/{name}/\S+/)", body).group(1)


def _send_confirmations(smtp_server, count):
    tasks.send_confirmations()
    return smtp_server.wait_for(count)[-1]


@pytest.fixture
def by_email(recipients):
    """Every recipient takes letters by e-mail, so that each delivered letter can be read."""
    for n, recipient in enumerate(recipients):
        recipient.channel = Recipient.Channel.EMAIL
        recipient.channel_settings = {"address": f"office{n}@senate.example"}
        recipient.save()
    return recipients


def test_the_victims_first_link_delivers_the_victims_letter_never_the_attackers(
    petition, by_email, smtp_server, django_capture_on_commit_callbacks
):
    victim, attacker = Client(), Client()
    url = reverse("petitions:detail", args=[petition.slug])
    assert victim.post(url, sign_data()).status_code == 302
    first_email = _send_confirmations(smtp_server, 1)
    # Someone who knows the address signs with it, with their own name, address, note and recipients.
    assert attacker.post(url, sign_data(email="ADA@example.org", **ATTACKER)).status_code == 302
    second_email = _send_confirmations(smtp_server, 2)
    assert first_email["To"].lower() == second_email["To"].lower() == "ada@example.org"

    # The victim follows the first e-mail's link: the page shows their own letter before the button.
    link = _link(first_email, "confirm")
    page = victim.get(link).content.decode()
    for detail in VICTIM_DETAILS:
        assert detail in page
    assert "Mallory" not in page and "Spite" not in page and "never wrote" not in page
    with django_capture_on_commit_callbacks(execute=True):
        response = victim.post(link, {"recipients": [str(r.pk) for r in by_email]})
    assert response.status_code == 302

    tasks.deliver_due_letters()
    tasks.send_receipt(Signature.objects.get().pk)
    messages = smtp_server.wait_for(2 + len(by_email) + 1)
    letters = [m for m in messages if m["To"].startswith("office")]
    [receipt] = [m for m in messages[2:] if m["To"] == "ada@example.org"]
    assert len(letters) == len(by_email) == Letter.objects.filter(status=Letter.Status.DELIVERED).count()
    for message in [*letters, receipt]:
        text = message.get_body(("plain",)).get_content()
        for detail in VICTIM_DETAILS:
            assert detail in text
        for forged in ("Mallory", "Forger", "Spite", "never wrote", "555-0199"):
            assert forged not in text
    # The attacker's attempt is void: its link confirms nothing and its details are gone.
    assert list(Signature.objects.values_list("first_name", "status")) == [("Ada", Signature.Status.CONFIRMED)]
    attacker_link = _link(second_email, "confirm")
    assert victim.get(attacker_link).status_code == 400
    assert Signature.objects.filter(status=Signature.Status.CONFIRMED).count() == 1


def test_the_attackers_link_shows_the_attackers_letter_so_the_owner_can_walk_away(
    client, petition, recipients, django_capture_on_commit_callbacks
):
    url = reverse("petitions:detail", args=[petition.slug])
    with django_capture_on_commit_callbacks(execute=False):
        client.post(url, sign_data())
        Client().post(url, sign_data(**ATTACKER))
    forged = Signature.objects.get(first_name="Mallory")

    with translation.override("en"):
        link = reverse("petitions:confirm", args=[services.confirmation_token(forged)])
    page = client.get(link).content.decode()

    # The letter exactly as it is sent, recipients by name, and a word for whoever did not write it.
    assert html.escape(services.render_letter(forged, recipients[2])) in page
    assert "Words the victim never wrote." in page and "666 Spite Street" in page
    assert html.escape(str(recipients[2])) in page and html.escape(str(recipients[0])) not in page
    assert "did not sign, do not press the button" in page


def test_a_double_click_on_the_confirm_button_makes_one_signature_and_one_set_of_letters(
    client, petition, recipients, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        client.post(reverse("petitions:detail", args=[petition.slug]), sign_data())
    signature = Signature.objects.get()
    link = reverse("petitions:confirm", args=[services.confirmation_token(signature)])
    data = {"recipients": [str(r.pk) for r in recipients]}

    with django_capture_on_commit_callbacks(execute=False):
        first, second = client.post(link, data), client.post(link, data)

    assert first.status_code == 302 and second.status_code == 200
    assert Letter.objects.count() == len(recipients)


def test_confirming_a_second_attempt_after_the_first_changes_nothing(petition, recipients):
    victim = Signature.objects.create(
        petition=petition, email="ada@example.org", email_normalized="ada@example.org", first_name="Ada",
        last_name="Lovelace", title="Ms.", address="1007 Grand Ave", city="Des Moines", state="IA",
        language="en", letter_hash=petition.letter_hash(), details_hash="a",
    )  # fmt: skip
    other = Signature.objects.create(
        petition=petition, email="ada@example.org", email_normalized="ada@example.org", first_name="Mallory",
        last_name="Forger", title="Mr.", address="666 Spite Street", city="Ames", state="IA",
        language="en", letter_hash=petition.letter_hash(), details_hash="b",
    )  # fmt: skip
    victim.recipients.set(recipients)
    other.recipients.set(recipients)
    assert services.confirm_signature(victim)
    # Its row is gone already; a confirmation racing the first one finds the constraint instead.
    assert not Signature.objects.filter(pk=other.pk).exists()
    assert services.confirm_signature(other) is False
    assert Letter.objects.filter(signature=victim).count() == len(recipients)
    assert Letter.objects.exclude(signature=victim).count() == 0
