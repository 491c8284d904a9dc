"""A signer's status and withdraw links: they expire after the retention period, and new ones come by e-mail."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from petitions import tasks
from petitions.models import Signature
from petitions.signing import services

from .conftest import sign_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def confirmed(petition, recipients, settings):
    settings.SIGNER_LINK_MAX_AGE_DAYS = 30
    Client().post(reverse("petitions:detail", args=[petition.slug]), sign_data())
    signature = Signature.objects.get()
    services.confirm_signature(signature)
    return signature


def _en(name, *args):
    with translation.override("en"):
        return reverse(name, args=args)


@pytest.mark.parametrize("page", ["status", "withdraw"])
def test_a_signers_link_works_for_its_age_then_explains_how_to_get_a_new_one(client, confirmed, page):
    token = services.status_token(confirmed) if page == "status" else services.withdraw_token(confirmed)
    url = _en(f"petitions:{page}", token)

    with time_machine.travel(timezone.now() + timedelta(days=29)):
        assert client.get(url).status_code == 200
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        response = client.get(url)
        if page == "withdraw":  # nor may an old link withdraw
            assert client.post(url).status_code == 410

    assert response.status_code == 410
    text = response.content.decode()
    assert "This link is too old" in text and "30 days" in text
    assert f'action="{_en("petitions:new-links", confirmed.petition.slug)}"' in text
    assert "Ada" not in text and "Lovelace" not in text
    confirmed.refresh_from_db()
    assert confirmed.status == Signature.Status.CONFIRMED


def test_a_forged_link_is_still_not_found(client, confirmed):
    assert client.get(_en("petitions:status", "x" + services.status_token(confirmed))).status_code == 404


def test_new_links_by_email_open_the_status_page_and_the_answer_reveals_nothing(
    client, confirmed, smtp_server, django_capture_on_commit_callbacks
):
    url = _en("petitions:new-links", confirmed.petition.slug)
    with time_machine.travel(timezone.now() + timedelta(days=60)):
        with django_capture_on_commit_callbacks(execute=False) as known:
            asked = client.post(url, {"email": "ADA@example.org"}, follow=True)
        with django_capture_on_commit_callbacks(execute=False) as unknown:
            stranger = client.post(url, {"email": "nobody@example.org"}, follow=True)
        assert len(known) == 1 and len(unknown) == 0
        assert asked.redirect_chain == stranger.redirect_chain
        assert "If that address has signed this petition, we have sent it new links." in asked.content.decode()

        tasks.send_links(confirmed.pk)
        [message] = smtp_server.wait_for(1)
        assert message["To"] == "ada@example.org"
        body = message.get_body(("plain",)).get_content()
        status_path = re.search(r"https?://[^/\s]+(/\w+/status/\S+/)", body).group(1)
        assert re.search(r"/withdraw/\S+/", body)
        assert client.get(status_path).status_code == 200
