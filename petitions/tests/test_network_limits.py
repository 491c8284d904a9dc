"""Limits that count networks: an IPv6 /64 is one address, a /48 or an IPv4 /24 one network.

A crowd on one network (a rally's Wi-Fi, a carrier's shared address) trips them too: its signatures
and confirmations are kept, and organizers see the cluster and release it at once.
"""

import pytest
from django.contrib.auth.models import Group, User
from django.core import mail
from django.urls import reverse

from petitions.models import Letter, Signature
from petitions.signing import abuse, services
from petitions.tasks import send_confirmations

from .test_abuse import post_sign, production_limits  # noqa: F401 - the fixture

QUARANTINED, PENDING, CONFIRMED = Signature.Status.QUARANTINED, Signature.Status.PENDING, Signature.Status.CONFIRMED


@pytest.fixture
def limits(production_limits):  # noqa: F811
    production_limits.SIGN_RATES_PER_NETWORK = ["10/m", "30/10m"]
    production_limits.RESEND_RATES_PER_NETWORK = ["10/m", "30/10m"]
    production_limits.CONFIRM_RATES_PER_IP = ["5/m", "20/h"]
    production_limits.CONFIRM_RATES_PER_NETWORK = ["8/m", "100/h"]
    return production_limits


def statuses():
    return {
        (status, reason): n
        for status, reason, n in [
            (s, r, Signature.objects.filter(status=s, quarantine_reason=r).count())
            for s, r in Signature.objects.values_list("status", "quarantine_reason").distinct()
        ]
    }


def organizer(client, group="Organizers"):
    user = User.objects.create_user(group.lower().replace(" ", "-"), password="x", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    client.force_login(user)
    return user


def test_thirty_addresses_of_one_ipv6_64_count_as_one_address(client, petition, recipients, limits):
    for n in range(30):
        response = post_sign(client, petition, ip=f"2001:db8:1:2::{n + 1:x}", email=f"v6-{n}@example.org")
        assert response.status_code == 302  # quarantine stays silent
    assert statuses() == {(PENDING, ""): 2, (QUARANTINED, abuse.Reason.RATE_IP): 28}
    assert Signature.objects.values("ip_hash").distinct().count() == 1


def test_many_64s_of_one_ipv6_48_meet_the_looser_network_limit(client, petition, recipients, limits):
    for n in range(14):
        post_sign(client, petition, ip=f"2001:db8:5:{n + 1:x}::1", email=f"net-{n}@example.org")
    assert statuses() == {(PENDING, ""): 10, (QUARANTINED, abuse.Reason.RATE_NETWORK): 4}
    # Another /48 is counted apart.
    post_sign(client, petition, ip="2001:db8:6:1::1", email="other@example.org")
    assert Signature.objects.get(email="other@example.org").status == PENDING


def test_ipv4_counts_each_address_and_more_loosely_its_24(client, petition, recipients, limits):
    for n in range(12):
        post_sign(client, petition, ip=f"192.0.2.{n + 1}", email=f"v4-{n}@example.org")
    assert statuses() == {(PENDING, ""): 10, (QUARANTINED, abuse.Reason.RATE_NETWORK): 2}
    post_sign(client, petition, ip="198.51.100.1", email="elsewhere@example.org")
    assert Signature.objects.get(email="elsewhere@example.org").status == PENDING


def test_behind_a_trusted_proxy_the_forwarded_ipv6_address_is_counted_by_64(client, petition, recipients, limits):
    limits.TRUSTED_PROXY_COUNT = 1
    for n in range(6):
        # The client forges the left part; our proxy appends the address it saw.
        forwarded = f"192.0.2.{n + 1}, 2001:db8:7:8::{n + 1:x}"
        post_sign(client, petition, ip="10.0.0.2", forwarded=forwarded, email=f"fw-{n}@example.org")
    assert statuses() == {(PENDING, ""): 2, (QUARANTINED, abuse.Reason.RATE_IP): 4}


def test_asking_for_links_from_many_addresses_of_one_network_is_limited(
    client, petition, recipients, limits, django_capture_on_commit_callbacks
):
    for n in range(12):
        post_sign(client, petition, ip=f"198.51.{100 + n}.1", email=f"r{n}@example.org")
    url = reverse("petitions:signed", args=[petition.slug])
    with django_capture_on_commit_callbacks() as callbacks:
        for n in range(12):
            client.post(url, {"email": f"r{n}@example.org"}, REMOTE_ADDR=f"203.0.113.{n + 1}")
    assert len(callbacks) == 10


def _sign_from_many_networks(client, petition, count):
    for n in range(count):
        post_sign(client, petition, ip=f"198.51.{n}.1", email=f"c{n}@example.org")
    return list(Signature.objects.filter(status=PENDING).order_by("pk"))


def _confirm(client, signature, ip, recipients):
    link = reverse("petitions:confirm", args=[services.confirmation_token(signature)])
    return client.post(link, {"recipients": [str(r.pk) for r in recipients]}, REMOTE_ADDR=ip)


def test_confirmations_past_the_network_limit_are_held_not_lost(client, petition, recipients, limits):
    signatures = _sign_from_many_networks(client, petition, 12)
    assert len(signatures) == 12
    # Twelve people at a rally confirm on the venue's Wi-Fi: one /64 each, one /48.
    pages = [
        _confirm(client, signature, f"2001:db8:99:{n + 1:x}::1", recipients[:1])
        for n, signature in enumerate(signatures)
    ]
    assert [page.status_code for page in pages[:8]] == [302] * 8
    assert {page.status_code for page in pages[8:]} == {200}
    assert pages[-1].templates[0].name == "petitions/confirm_held.html"
    assert statuses() == {(CONFIRMED, ""): 8, (QUARANTINED, abuse.Reason.CONFIRM_NETWORK): 4}
    held = Signature.objects.filter(quarantine_reason=abuse.Reason.CONFIRM_NETWORK)
    assert not Letter.objects.filter(signature__in=held).exists()
    # The held signer opening the link again sees the same page, not an error.
    again = client.get(reverse("petitions:confirm", args=[services.confirmation_token(held[0])]))
    assert again.status_code == 200 and again.templates[0].name == "petitions/confirm_held.html"
    # Releasing confirms what each signer confirmed: the one recipient they kept ticked.
    sent, confirmed = services.release_quarantined(Signature.objects.all())
    assert (sent, confirmed) == (0, 4)
    assert Signature.objects.filter(status=CONFIRMED).count() == 12
    for signature in Signature.objects.all():
        assert list(signature.letters.values_list("recipient", flat=True)) == [recipients[0].pk]


def test_confirmations_past_the_address_limit_are_held(client, petition, recipients, limits):
    signatures = _sign_from_many_networks(client, petition, 7)
    for signature in signatures:
        _confirm(client, signature, "203.0.113.50", recipients)
    assert statuses() == {(CONFIRMED, ""): 5, (QUARANTINED, abuse.Reason.CONFIRM_IP): 2}


def test_organizers_see_a_rallys_cluster_and_release_it_at_once(client, petition, recipients, limits):
    # Fifty people sign on one venue's Wi-Fi, behind one IPv4 address; a bot's honeypot post too.
    for n in range(50):
        post_sign(client, petition, ip="203.0.113.80", email=f"rally{n}@example.org")
    post_sign(client, petition, ip="203.0.113.80", email="bot@example.org", website="http://spam.example")
    post_sign(client, petition, ip="2001:db8:42::1", email="alone@example.org")
    assert Signature.objects.filter(status=QUARANTINED, quarantine_reason=abuse.Reason.RATE_IP).count() == 48
    mail.outbox.clear()
    send_confirmations()
    assert len(mail.outbox) == 3  # the two under the limit, and the signer from elsewhere

    organizer(client)
    page = client.get(reverse("admin:petitions_signature_clusters"))
    assert page.status_code == 200
    [cluster] = page.context["clusters"]
    assert cluster["ip_prefix_hash"] == abuse.hash_ip_prefix("203.0.113.80")
    assert (cluster["signatures"], cluster["held"]) == (48, 0)
    assert cluster["first"] <= cluster["last"]
    assert "203.0.113" not in page.content.decode()

    release = reverse("admin:petitions_signature_release_cluster")
    assert client.get(release).status_code == 405
    client.post(release, {"petition": petition.pk, "network": cluster["ip_prefix_hash"]})
    assert statuses() == {(PENDING, ""): 51, (QUARANTINED, abuse.Reason.HONEYPOT): 1}
    mail.outbox.clear()
    send_confirmations()
    assert len(mail.outbox) == 48
    assert not client.get(reverse("admin:petitions_signature_clusters")).context["clusters"]


def test_a_data_steward_sees_clusters_but_cannot_release_them(client, petition, recipients, limits):
    for n in range(5):
        post_sign(client, petition, ip="203.0.113.80", email=f"rally{n}@example.org")
    organizer(client, "Data stewards")
    page = client.get(reverse("admin:petitions_signature_clusters"))
    assert page.status_code == 200 and not page.context["can_release"]
    network = abuse.hash_ip_prefix("203.0.113.80")
    answer = client.post(
        reverse("admin:petitions_signature_release_cluster"), {"petition": petition.pk, "network": network}
    )
    assert answer.status_code == 403
    assert Signature.objects.filter(status=QUARANTINED).count() == 3


def test_the_organizers_bulk_action_confirms_held_confirmations(client, petition, recipients, limits):
    signatures = _sign_from_many_networks(client, petition, 7)
    for signature in signatures:
        _confirm(client, signature, "203.0.113.50", recipients)
    organizer(client)
    everything = list(Signature.objects.values_list("pk", flat=True))
    changelist = reverse("admin:petitions_signature_changelist")
    client.post(changelist, {"action": "release_quarantined", "_selected_action": everything})
    assert Signature.objects.filter(status=CONFIRMED).count() == 7
    assert Letter.objects.count() == 7 * 3
