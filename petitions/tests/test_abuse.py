"""Abuse resistance at production settings: rate limits, bot traps, duplicate addresses, blocklists."""

import re
import threading
import time
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import time_machine
from django.contrib.auth.models import Group, User
from django.core import mail
from django.core.cache import cache
from django.test import RequestFactory
from django.urls import reverse
from django_ratelimit.core import get_usage

from petitions.models import BlockedEmailDomain, BlockedNetwork, Signature
from petitions.signing import abuse
from petitions.tasks import send_confirmations

from .conftest import free_port, sign_data

FLOOD_IP = "203.0.113.7"


@pytest.fixture
def production_limits(settings):
    """The limits a real site runs with, a clean slate of counters, and a clock that stands still.

    The limits count in fixed windows (django-ratelimit's: an edge every period, shifted by a hash
    of the value counted), so requests that happened to straddle an edge would rightly get a fresh
    window: a slow machine would let more through than the test expects.
    """
    settings.SIGN_RATES_PER_IP = ["2/m", "5/5m"]
    settings.SIGN_RATES_PER_EMAIL = ["3/10m"]
    settings.RESEND_RATES_PER_IP = ["2/m", "5/5m"]
    settings.RESEND_RATES_PER_EMAIL = ["1/m", "3/h"]
    settings.SIGN_MIN_SECONDS = 3
    settings.TRUSTED_PROXY_COUNT = 0
    cache.clear()
    with time_machine.travel(datetime.now(), tick=False):
        yield settings
    cache.clear()


def human_token():
    """The form's timestamp as a person sends it back: the form was shown ten seconds ago."""
    with time_machine.travel(datetime.now() - timedelta(seconds=10), tick=False):
        return abuse.form_started_token()


def post_sign(client, petition, ip=FLOOD_IP, forwarded=None, **fields):
    data = sign_data(form_started=human_token(), **fields)
    headers = {"REMOTE_ADDR": ip}
    if forwarded:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return client.post(reverse("petitions:detail", args=[petition.slug]), data, **headers)


def confirmations_sent():
    """Run the confirmation task as a worker would; the e-mails that went out."""
    mail.outbox.clear()
    send_confirmations()
    return list(mail.outbox)


def test_a_burst_of_200_signatures_from_one_ip_is_quarantined_past_the_limit(
    client, petition, recipients, production_limits, django_capture_on_commit_callbacks
):
    signed_page = reverse("petitions:signed", args=[petition.slug])
    started = time.monotonic()  # the fixture stops the wall clock, not this one
    with django_capture_on_commit_callbacks() as callbacks:
        for n in range(200):
            response = post_sign(client, petition, email=f"person{n}@example.org")
            # Everyone sees the usual page: the bot learns nothing.
            assert response.status_code == 302 and response.url == signed_page
    elapsed = time.monotonic() - started

    assert Signature.objects.count() == 200, "every submission is kept, for organizers to review"
    assert Signature.objects.filter(status=Signature.Status.PENDING).count() == 2
    quarantined = Signature.objects.filter(status=Signature.Status.QUARANTINED)
    assert quarantined.count() == 198
    assert set(quarantined.values_list("quarantine_reason", flat=True)) == {abuse.Reason.RATE_IP}
    assert len(callbacks) == 2, "only the two signatures under the limit are queued for a confirmation"
    sent = confirmations_sent()
    assert sorted(message.to[0] for message in sent) == ["person0@example.org", "person1@example.org"]
    assert elapsed < 60


def test_the_counters_are_the_ones_django_ratelimit_reads(client, petition, recipients, production_limits):
    # On Redis the three counters go in one round trip (FailSoftRedisCache.count_many): they must
    # still be django-ratelimit's own keys and windows, or its get_usage would count from zero.
    post_sign(client, petition, email="ada@example.org")
    post_sign(client, petition, ip="198.51.100.9", email="ada@example.org")
    counted = {
        (f"sign-ip:{petition.pk}", abuse.hash_ip(FLOOD_IP), "2/m"): 1,
        (f"sign-ip:{petition.pk}", abuse.hash_ip(FLOOD_IP), "5/5m"): 1,
        (f"sign-email:{petition.pk}", Signature.objects.get().email_normalized, "3/10m"): 2,
    }
    request = RequestFactory().post("/")
    for (group, value, rate), count in counted.items():
        usage = get_usage(request, group=f"{group}:{rate}", key=lambda _group, _request, value=value: value, rate=rate)
        assert usage["count"] == count, (group, rate)


def test_a_quarantined_signatures_confirmation_link_does_nothing(client, petition, recipients, production_limits):
    from petitions.signing import services

    for n in range(3):
        post_sign(client, petition, email=f"p{n}@example.org")
    signature = Signature.objects.get(status=Signature.Status.QUARANTINED)
    link = reverse("petitions:confirm", args=[services.confirmation_token(signature)])
    assert client.get(link).status_code == 400
    assert client.post(link, {"recipients": [str(r.pk) for r in recipients]}).status_code == 400
    signature.refresh_from_db()
    assert signature.status == Signature.Status.QUARANTINED
    assert not signature.letters.exists()


def test_the_honeypot_catches_a_naive_bot(client, petition, recipients, production_limits):
    response = post_sign(client, petition, website="http://cheap-pills.example")
    assert response.status_code == 302
    signature = Signature.objects.get()
    assert (signature.status, signature.quarantine_reason) == (Signature.Status.QUARANTINED, abuse.Reason.HONEYPOT)
    assert confirmations_sent() == []


def test_a_form_sent_back_at_once_is_caught_by_the_timing_trap(client, petition, recipients, production_limits):
    token = client.get(reverse("petitions:form-token", args=[petition.slug])).json()["form_started"]
    # A bot posts the form it just fetched; another posts without the field at all.
    client.post(reverse("petitions:detail", args=[petition.slug]), sign_data(form_started=token))
    client.post(reverse("petitions:detail", args=[petition.slug]), sign_data(email="bot2@example.org"))
    forged = sign_data(email="bot3@example.org", form_started="1700000000.0:forged")
    client.post(reverse("petitions:detail", args=[petition.slug]), forged)
    reasons = set(Signature.objects.values_list("status", "quarantine_reason"))
    assert reasons == {(Signature.Status.QUARANTINED, abuse.Reason.TOO_FAST)}
    assert Signature.objects.count() == 3
    assert confirmations_sent() == []


def test_a_person_who_takes_their_time_signs_normally(client, petition, recipients, production_limits):
    token = client.get(reverse("petitions:form-token", args=[petition.slug])).json()["form_started"]
    with time_machine.travel(datetime.now() + timedelta(seconds=20)):
        client.post(reverse("petitions:detail", args=[petition.slug]), sign_data(form_started=token))
    signature = Signature.objects.get()
    assert signature.status == Signature.Status.PENDING and signature.quarantine_reason == ""
    assert [m.to for m in confirmations_sent()] == [["ada@example.org"]]


def test_the_trap_fields_stay_out_of_the_tab_order_and_away_from_screen_readers(client, petition):
    page = client.get(reverse("petitions:detail", args=[petition.slug])).content.decode()
    wrapper = re.search(r'<div[^>]*class="hp-field"[^>]*>.*?</div>\s*</div>', page, re.S)
    assert wrapper, "the honeypot sits in its own wrapper"
    assert 'aria-hidden="true"' in wrapper.group(0)
    field = re.search(r"<input[^>]*name=\"website\"[^>]*>", page).group(0)
    assert 'tabindex="-1"' in field and 'autocomplete="off"' in field
    assert re.search(r'<label[^>]*for="id_website"', wrapper.group(0)), "a label tells anyone who reaches it"
    assert re.search(r'<input type="hidden" name="form_started"', page)


def test_twenty_addresses_that_differ_by_dots_and_tags_count_once(client, petition, recipients, production_limits):
    variants = [
        "ada.lovelace@gmail.com", "adalovelace@gmail.com", "Ada.Lovelace@Gmail.com", "a.d.a.lovelace@gmail.com",
        "adalovelace+petition@gmail.com", "ada.lovelace+1@googlemail.com", "ADALOVELACE@GOOGLEMAIL.COM",
        "a.da.love.lace+x@gmail.com", "adalovelace+@gmail.com", "ada.lovelace+belarus@gmail.com",
        "adalove.lace@gmail.com", "a.dalovelace+a.b@gmail.com", "adalovelace+2@googlemail.com",
        "  adalovelace@gmail.com ", "ada.lovelace+news+more@gmail.com", "Ada.Love.Lace@gmail.com",
        "a.d.a.l.o.v.e.l.a.c.e@gmail.com", "adalovelace+z@gmail.com", "ada.lovelace+3@gmail.com",
        "adaLOVElace+q@gmail.com",
    ]  # fmt: skip
    assert len(set(variants)) == 20
    for n, address in enumerate(variants):
        # Each from its own address, so only the duplicate rule can catch them.
        response = post_sign(client, petition, ip=f"198.51.100.{n + 1}", email=address)
        assert response.status_code == 302, address
    assert Signature.objects.count() == 1
    signature = Signature.objects.get()
    assert signature.email_normalized == "adalovelace@gmail.com"
    assert signature.status == Signature.Status.PENDING


def test_repeated_signing_with_one_address_stops_sending_links(
    client, petition, recipients, production_limits, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        for n in range(6):
            post_sign(client, petition, ip=f"198.51.100.{n + 1}", email="ada@example.org")
    assert Signature.objects.count() == 1
    assert Signature.objects.get().status == Signature.Status.PENDING
    assert len(callbacks) == 3, "three links in ten minutes per address, then quiet"


def test_a_spoofed_forwarded_for_header_does_not_get_past_the_limit(client, petition, recipients, production_limits):
    for n in range(10):
        post_sign(client, petition, forwarded=f"192.0.2.{n + 1}", email=f"s{n}@example.org")
    assert Signature.objects.filter(status=Signature.Status.PENDING).count() == 2
    assert Signature.objects.filter(status=Signature.Status.QUARANTINED).count() == 8
    assert Signature.objects.values("ip_hash").distinct().count() == 1


def test_behind_one_trusted_proxy_the_right_most_address_counts(client, petition, recipients, production_limits):
    production_limits.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.2"
    # The client forges the left part; our proxy appends the address it saw, always the same.
    for n in range(6):
        post_sign(client, petition, ip=proxy, forwarded=f"192.0.2.{n + 1}, {FLOOD_IP}", email=f"f{n}@example.org")
    assert Signature.objects.filter(status=Signature.Status.PENDING).count() == 2
    # Six people behind their own addresses, through the same proxy, are not limited.
    for n in range(6):
        post_sign(client, petition, ip=proxy, forwarded=f"198.51.100.{n + 1}", email=f"p{n}@example.org")
    assert Signature.objects.filter(status=Signature.Status.PENDING).count() == 8


@pytest.mark.parametrize(
    ("count", "remote", "forwarded", "expected"),
    [
        (0, "203.0.113.1", "1.2.3.4", "203.0.113.1"),
        (1, "10.0.0.2", "1.2.3.4, 203.0.113.9", "203.0.113.9"),
        (2, "10.0.0.3", "1.2.3.4, 203.0.113.9, 10.0.0.2", "203.0.113.9"),
        (2, "10.0.0.3", "203.0.113.9", "10.0.0.3"),  # Fewer hops than proxies: not from our proxies.
        (1, "10.0.0.2", "not-an-address", "10.0.0.2"),
        (1, "10.0.0.2", "1.2.3.4, 2001:db8::1", "2001:db8::1"),
    ],
)
def test_the_client_address_is_taken_only_from_trusted_proxies(settings, count, remote, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = count
    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    assert abuse.client_ip(request) == expected


def test_asking_again_and_again_for_a_link_is_limited(
    client, petition, recipients, production_limits, django_capture_on_commit_callbacks
):
    post_sign(client, petition)
    url = reverse("petitions:signed", args=[petition.slug])
    with django_capture_on_commit_callbacks() as callbacks:
        answers = [client.post(url, {"email": "ada@example.org"}, REMOTE_ADDR=FLOOD_IP) for _ in range(5)]
    assert {answer.status_code for answer in answers} == {302}
    assert len(callbacks) == 1


def test_a_blocked_disposable_domain_is_refused_with_a_message(client, petition, recipients, production_limits):
    BlockedEmailDomain.objects.create(domain="Mailinator.com")
    response = post_sign(client, petition, email="someone@eu.mailinator.com")
    assert response.status_code == 400
    [message] = response.context["form"].errors["email"]
    assert message and message in response.content.decode()
    assert not Signature.objects.exists()
    assert post_sign(client, petition, email="someone@notmailinator.com").status_code == 302


def test_a_blocked_network_is_quarantined_quietly(client, petition, recipients, production_limits):
    BlockedNetwork.objects.create(network="203.0.113.0/24", note="flood of 1 May")
    assert post_sign(client, petition, ip="203.0.113.200").status_code == 302
    assert post_sign(client, petition, ip="198.51.100.1", email="ok@example.org").status_code == 302
    statuses = dict(Signature.objects.values_list("email", "quarantine_reason"))
    assert statuses == {"ada@example.org": abuse.Reason.NETWORK, "ok@example.org": ""}


def test_organizers_release_or_delete_quarantined_signatures(client, petition, recipients, production_limits):
    for n in range(5):
        post_sign(client, petition, email=f"q{n}@example.org")
    organizer = User.objects.create_user("org", password="x", is_staff=True)
    organizer.groups.add(Group.objects.get(name="Organizers"))
    client.force_login(organizer)
    quarantined = list(Signature.objects.filter(status=Signature.Status.QUARANTINED).order_by("pk"))
    assert len(quarantined) == 3
    assert len(confirmations_sent()) == 2  # the two under the limit
    changelist = reverse("admin:petitions_signature_changelist")
    client.post(changelist, {"action": "release_quarantined", "_selected_action": [quarantined[0].pk]})
    released = Signature.objects.get(pk=quarantined[0].pk)
    assert released.status == Signature.Status.PENDING and released.quarantine_reason == ""
    assert [m.to for m in confirmations_sent()] == [[released.email]]
    # Deleting touches only quarantined ones, even when pending signatures are selected too.
    everything = list(Signature.objects.values_list("pk", flat=True))
    client.post(changelist, {"action": "delete_quarantined", "_selected_action": everything})
    assert Signature.objects.filter(status=Signature.Status.QUARANTINED).count() == 0
    assert Signature.objects.filter(status=Signature.Status.PENDING).count() == 3


def test_the_activity_view_shows_a_flood_by_network_and_domain(client, petition, recipients, production_limits):
    for n in range(12):
        post_sign(client, petition, email=f"bot{n}@flood.example")
    post_sign(client, petition, ip="198.51.100.1", email="ada@example.org")
    organizer = User.objects.create_user("org", password="x", is_staff=True)
    organizer.groups.add(Group.objects.get(name="Organizers"))
    client.force_login(organizer)
    response = client.get(reverse("admin:petitions_signature_activity"))
    assert response.status_code == 200
    top_network = response.context["by_network"][0]
    assert top_network["ip_prefix_hash"] == abuse.hash_ip_prefix(FLOOD_IP)
    assert (top_network["signatures"], top_network["quarantined"]) == (12, 10)
    domains = {row["domain"]: row["signatures"] for row in response.context["by_domain"]}
    assert domains == {"flood.example": 12, "example.org": 1}
    assert FLOOD_IP not in response.content.decode() and "203.0.113" not in response.content.decode()


# --- CAPTCHA ------------------------------------------------------------------------------------


class _Verifier(BaseHTTPRequestHandler):
    """A stand-in for the provider's siteverify endpoint: only the token "good" passes."""

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        self.server.requests.append(body)
        success = "response=good" in body and "secret=s3cret" in body
        payload = b'{"success": true}' if success else b'{"success": false}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def captcha_provider(settings):
    server = HTTPServer(("127.0.0.1", free_port()), _Verifier)
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.CAPTCHA_PROVIDER = "turnstile"
    settings.CAPTCHA_SITE_KEY = "site-key"
    settings.CAPTCHA_SECRET_KEY = "s3cret"
    settings.CAPTCHA_VERIFY_URL = f"http://127.0.0.1:{server.server_port}/siteverify"
    yield server
    server.shutdown()
    server.server_close()


def test_with_no_captcha_provider_the_form_has_no_captcha(client, petition, recipients, production_limits):
    page = client.get(reverse("petitions:detail", args=[petition.slug])).content.decode()
    assert "turnstile" not in page and "hcaptcha" not in page
    assert post_sign(client, petition).status_code == 302


def test_with_turnstile_on_the_server_checks_the_answer(client, petition, recipients, captcha_provider):
    page = client.get(reverse("petitions:detail", args=[petition.slug])).content.decode()
    assert 'class="cf-turnstile mb-3" data-sitekey="site-key"' in page
    refused = client.post(
        reverse("petitions:detail", args=[petition.slug]), sign_data(**{"cf-turnstile-response": "bad"})
    )
    assert refused.status_code == 400
    assert refused.context["form"].non_field_errors()
    assert not Signature.objects.exists()
    accepted = client.post(
        reverse("petitions:detail", args=[petition.slug]), sign_data(**{"cf-turnstile-response": "good"})
    )
    assert accepted.status_code == 302
    assert Signature.objects.get().status == Signature.Status.PENDING
    assert len(captcha_provider.requests) == 2
