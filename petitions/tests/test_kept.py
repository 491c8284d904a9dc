"""The rows every signature reads, kept in memory a few seconds: read once, and never kept past a change."""

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from petitions import models
from petitions.models import BlockedEmailDomain, BlockedNetwork, Letter, Petition, Recipient, Signature
from petitions.signing import abuse, services

from .conftest import make_petition, sign_data


@pytest.fixture
def signing(settings):
    settings.SIGN_MIN_SECONDS = 0
    settings.SIGN_RATES_PER_IP = ["1000/m"]
    settings.SIGN_RATES_PER_EMAIL = ["1000/m"]
    settings.TRUSTED_PROXY_COUNT = 0


def post_sign(client, petition, email, ip="198.51.100.1"):
    data = sign_data(email=email)
    return client.post(reverse("petitions:detail", args=[petition.slug]), data, REMOTE_ADDR=ip)


def quarantine_reason(email):
    return Signature.objects.get(email=email).quarantine_reason


def test_a_second_signature_reads_no_blocked_list_and_no_official(client, petition, recipients, signing):
    assert post_sign(client, petition, "first@example.org").status_code == 302
    with CaptureQueriesContext(connection) as queries:
        assert post_sign(client, petition, "second@example.org").status_code == 302
    tables = ('"petitions_blockedemaildomain"', '"petitions_blockednetwork"', '"petitions_recipient"')
    assert [q["sql"] for q in queries if any(table in q["sql"] for table in tables)] == []
    assert set(Signature.objects.get(email="second@example.org").recipients.all()) == set(recipients)


def test_a_signers_form_token_costs_no_query_once_the_petition_is_kept(client, petition, django_assert_num_queries):
    url = reverse("petitions:form-token", args=[petition.slug])
    assert client.get(url).status_code == 200
    with django_assert_num_queries(0):
        assert client.get(url).status_code == 200
    assert client.get(reverse("petitions:form-token", args=["no-such-petition"])).status_code == 404


def test_the_page_every_signer_is_sent_to_costs_no_query_once_the_petition_is_kept(
    client, petition, django_assert_num_queries
):
    # The POST redirects each signer's browser here: a third request per signature, as many as signers.
    url = reverse("petitions:signed", args=[petition.slug])
    assert client.get(url).status_code == 200
    with django_assert_num_queries(0):
        assert client.get(url).status_code == 200
    draft = make_petition(slug="draft", status=Petition.Status.DRAFT)
    assert client.get(reverse("petitions:signed", args=[draft.slug])).status_code == 404


def test_closing_a_petition_in_another_process_stops_signing_within_the_kept_seconds(
    client, petition, recipients, signing, monkeypatch
):
    monkeypatch.setattr(models, "KEPT_SECONDS", 3600)
    assert post_sign(client, petition, "first@example.org").status_code == 302
    Petition.objects.filter(pk=petition.pk).update(status=Petition.Status.CLOSED)  # no signal here
    assert post_sign(client, petition, "early@example.org").status_code == 302
    assert Signature.objects.filter(email="early@example.org").exists()  # the kept copy is still open
    monkeypatch.setattr(models, "KEPT_SECONDS", 0.2)
    time.sleep(0.3)
    assert post_sign(client, petition, "late@example.org").status_code == 302
    assert not Signature.objects.filter(email="late@example.org").exists()


def test_closing_a_petition_in_this_process_stops_signing_at_once(client, petition, recipients, signing):
    assert post_sign(client, petition, "first@example.org").status_code == 302
    petition.status = Petition.Status.CLOSED
    petition.save()
    assert post_sign(client, petition, "late@example.org").status_code == 302
    assert not Signature.objects.filter(email="late@example.org").exists()


def test_a_block_saved_in_this_process_applies_to_the_next_signature(client, petition, recipients, signing):
    assert post_sign(client, petition, "first@example.org", ip="203.0.113.9").status_code == 302
    BlockedNetwork.objects.create(network="203.0.113.0/24")
    BlockedEmailDomain.objects.create(domain="mailinator.com")

    assert post_sign(client, petition, "second@example.org", ip="203.0.113.10").status_code == 302
    assert quarantine_reason("second@example.org") == abuse.Reason.NETWORK
    assert post_sign(client, petition, "bot@mailinator.com").status_code == 400

    BlockedNetwork.objects.all().delete()
    BlockedEmailDomain.objects.get().delete()
    assert post_sign(client, petition, "third@example.org", ip="203.0.113.11").status_code == 302
    assert quarantine_reason("third@example.org") == ""
    assert post_sign(client, petition, "person@mailinator.com").status_code == 302


def test_a_block_another_process_saved_applies_once_the_kept_copy_is_older_than_kept_seconds(
    client, petition, recipients, signing, monkeypatch
):
    monkeypatch.setattr(models, "KEPT_SECONDS", 3600)
    assert post_sign(client, petition, "first@example.org", ip="203.0.113.9").status_code == 302
    # bulk_create sends no signal: to this process it looks like a save in another one.
    BlockedNetwork.objects.bulk_create([BlockedNetwork(network="203.0.113.0/24")])

    assert post_sign(client, petition, "second@example.org", ip="203.0.113.10").status_code == 302
    assert quarantine_reason("second@example.org") == ""  # still the copy read a moment ago
    monkeypatch.setattr(models, "KEPT_SECONDS", 0.2)
    time.sleep(0.3)
    assert post_sign(client, petition, "third@example.org", ip="203.0.113.11").status_code == 302
    assert quarantine_reason("third@example.org") == abuse.Reason.NETWORK


def test_an_official_retired_elsewhere_gets_no_letter_while_still_offered_from_memory(
    client, petition, recipients, signing
):
    assert post_sign(client, petition, "first@example.org").status_code == 302
    ernst = recipients[0]
    # As import_legislators does from its own process: an UPDATE, no signal here.
    Recipient.objects.filter(pk=ernst.pk).update(is_active=False)

    assert post_sign(client, petition, "second@example.org").status_code == 302
    signature = Signature.objects.get(email="second@example.org")
    assert ernst in signature.recipients.all()
    assert services.confirm_signature(signature)
    assert set(Letter.objects.filter(signature=signature).values_list("recipient", flat=True)) == {
        r.pk for r in recipients[1:]
    }


def test_a_network_saved_before_validation_blocks_nothing_and_breaks_nothing(client, petition, recipients, signing):
    BlockedNetwork.objects.bulk_create([BlockedNetwork(network="not a network")])
    assert post_sign(client, petition, "first@example.org", ip="203.0.113.9").status_code == 302
    assert quarantine_reason("first@example.org") == ""
