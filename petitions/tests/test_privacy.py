"""Privacy for people whose families may be at risk: what is shown, kept, logged and for how long."""

import hashlib
import logging
import re
import time
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone
from django.views.debug import SafeExceptionReporterFilter

from petitions.models import Petition, Signature
from petitions.signing import abuse, services, views
from petitions.tasks import purge_personal_data, send_confirmations, send_receipt

from .conftest import make_petition, sign_data

TEMPLATES = Path(settings.BASE_DIR) / "templates"
SIGNER = {"first_name": "Zebulon", "last_name": "Quillfeather", "email": "zeb.quill@example.org"}
SIGNER_IP = "198.51.100.23"


@pytest.fixture
def confirmed(client, petition, recipients):
    client.post(reverse("petitions:detail", args=[petition.slug]), sign_data(**SIGNER), REMOTE_ADDR=SIGNER_IP)
    signature = Signature.objects.get()
    services.confirm_signature(signature, [r.pk for r in recipients])
    petition.forget_count()
    return signature


PETITION_PAGES = ("petitions:detail", "petitions:sign", "petitions:signed", "petitions:delivered",
                  "petitions:new-links", "petitions:widget", "api-petition-count")  # fmt: skip


def public_urls(petition):
    # Every name must resolve: a page renamed or removed fails here rather than leaving the check.
    urls = [reverse("petitions:home"), reverse("petitions:privacy"), reverse("robots"), reverse("sitemap")]
    return urls + [reverse(name, args=[petition.slug]) for name in PETITION_PAGES]


def test_no_public_page_shows_a_signers_name_or_address(client, confirmed, petition):
    urls = public_urls(petition)
    for language in ("be", "en"):
        for url in urls:
            url = url.replace("/be/", f"/{language}/", 1)
            response = client.get(url)
            assert response.status_code == 200, url
            text = b"".join(response.streaming_content) if response.streaming else response.content
            for secret in (*SIGNER.values(), "1007 Grand Ave", SIGNER_IP):
                assert secret.encode() not in text, (url, secret)


def test_public_templates_never_print_a_signers_fields():
    """Public pages are rendered with petitions and counts; the signer's own pages are behind signed links."""
    private = {"confirm.html", "thanks.html", "status.html", "withdraw.html", "_letters.html"}
    for path in (TEMPLATES / "petitions").glob("*.html"):
        if path.name in private:
            continue
        # The organization's contact address (org.email) is the campaign's, shown on purpose.
        source = path.read_text().replace("org.email", "org.contact")
        assert not re.search(r"\b(first_name|last_name|full_name|closing|\.email|\.address)\b", source), path.name


@pytest.mark.parametrize("language", ["be", "en"])
def test_the_privacy_notice_says_what_is_kept_why_and_how_long(client, db, language, settings):
    settings.UNCONFIRMED_RETENTION_DAYS = 31
    settings.CLOSED_PETITION_RETENTION_DAYS = 181
    settings.IP_HASH_RETENTION_DAYS = 15
    page = client.get(f"/{language}/privacy/").content.decode()
    for days in ("31", "181", "15"):
        assert days in page
    if language == "en":
        for words in ("name, postal address", "e-mail address", "keyed hash of your IP address", "withdraw"):
            assert words in page


def test_every_email_to_signers_carries_a_withdraw_link():
    # The organizers' digest goes to staff, who have signed nothing.
    bodies = sorted(path for path in (TEMPLATES / "emails").glob("*_body.*") if "organizer" not in path.name)
    assert len(bodies) >= 4
    for path in bodies:
        assert "{{ withdraw_url }}" in path.read_text(), path.name


def test_confirmation_and_receipt_carry_the_withdraw_link_in_text_html_and_header(confirmed):
    # A signed link carries the second it was made: the clock stands still, so the e-mails' links and
    # the one made here to compare are the same text.
    with time_machine.travel(time.time(), tick=False):
        Signature.objects.filter(pk=confirmed.pk).update(status=Signature.Status.PENDING, confirmation_sent_at=None)
        send_confirmations()
        Signature.objects.filter(pk=confirmed.pk).update(status=Signature.Status.CONFIRMED)
        send_receipt(confirmed.pk)
        withdraw = services.signer_links(confirmed)["withdraw_url"]
    assert len(mail.outbox) == 2
    for message in mail.outbox:
        assert withdraw in message.body
        assert withdraw in message.alternatives[0][0]
        assert message.extra_headers["List-Unsubscribe"] == f"<{withdraw}>"


def test_the_ip_address_is_kept_only_as_a_keyed_hash(confirmed, settings):
    row = Signature.objects.filter(pk=confirmed.pk).values().get()
    assert not any(SIGNER_IP in str(value) for value in row.values())
    assert not any("198.51.100" in str(value) for value in row.values())
    assert confirmed.ip_hash == abuse.hash_ip(SIGNER_IP)
    assert confirmed.ip_prefix_hash == abuse.hash_ip_prefix(SIGNER_IP)
    # Without the key the hash cannot be matched against the four billion IPv4 addresses.
    assert confirmed.ip_hash != hashlib.sha256(SIGNER_IP.encode()).hexdigest()
    settings.IP_HASH_KEY = "another key"
    assert abuse.hash_ip(SIGNER_IP) != confirmed.ip_hash


def test_signing_and_confirming_log_no_name_address_or_ip(client, petition, recipients, caplog):
    caplog.set_level(logging.DEBUG)
    # A refused form (no consent) is logged as a bad request; the accepted one after it is not.
    refused = sign_data(**SIGNER, consent=None)
    client.post(reverse("petitions:detail", args=[petition.slug]), refused, REMOTE_ADDR=SIGNER_IP)
    client.post(reverse("petitions:detail", args=[petition.slug]), sign_data(**SIGNER), REMOTE_ADDR=SIGNER_IP)
    signature = Signature.objects.get()
    send_confirmations()
    link = reverse("petitions:confirm", args=[services.confirmation_token(signature)])
    client.post(link, {"recipients": [str(r.pk) for r in recipients]}, REMOTE_ADDR=SIGNER_IP)
    send_receipt(signature.pk)
    signature.refresh_from_db()
    assert signature.status == Signature.Status.CONFIRMED
    assert caplog.records, "something was logged, so the check below means something"
    logged = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    for secret in (*SIGNER.values(), "1007 Grand Ave", SIGNER_IP):
        assert secret not in logged


def test_error_reports_hide_what_signers_typed(petition, recipients):
    request = RequestFactory().post(
        reverse("petitions:detail", args=[petition.slug]), sign_data(**SIGNER), REMOTE_ADDR=SIGNER_IP
    )
    request.session, request._messages = {}, None
    views.detail(request, slug=petition.slug)
    shown = SafeExceptionReporterFilter().get_post_parameters(request)
    for name in ("first_name", "last_name", "email", "address", "city", "zip_code"):
        assert shown[name] == SafeExceptionReporterFilter.cleansed_substitute, name

    resend = RequestFactory().post(reverse("petitions:signed", args=[petition.slug]), {"email": SIGNER["email"]})
    resend.session, resend._messages = {}, _NoMessages()
    views.signed(resend, slug=petition.slug)
    assert SafeExceptionReporterFilter().get_post_parameters(resend)["email"] != SIGNER["email"]


class _NoMessages:
    def add(self, *args, **kwargs):
        pass


def test_the_purge_erases_unconfirmed_closed_and_old_ip_hashes(client, petition, recipients, settings):
    settings.UNCONFIRMED_RETENTION_DAYS = 30
    settings.CLOSED_PETITION_RETENTION_DAYS = 180
    settings.IP_HASH_RETENTION_DAYS = 14
    closed = make_petition(slug="closed-one")
    detail = reverse("petitions:detail", args=[petition.slug])
    client.post(detail, sign_data(email="pending@example.org"), REMOTE_ADDR=SIGNER_IP)
    client.post(detail, sign_data(email="confirmed@example.org"), REMOTE_ADDR=SIGNER_IP)
    client.post(reverse("petitions:detail", args=[closed.slug]), sign_data(email="old@example.org"))
    for signature in Signature.objects.exclude(email="pending@example.org"):
        services.confirm_signature(signature, [r.pk for r in recipients])
    Petition.objects.filter(pk=closed.pk).update(status=Petition.Status.CLOSED, closed_at=timezone.now())

    with time_machine.travel(timezone.now() + timedelta(days=15)):
        result = purge_personal_data()
    assert result["dropped_ip_hashes"] == 3 and result["deleted_unconfirmed"] == 0
    assert set(Signature.objects.values_list("ip_hash", "ip_prefix_hash")) == {("", "")}
    assert Signature.objects.count() == 3

    with time_machine.travel(timezone.now() + timedelta(days=31)):
        result = purge_personal_data()
    assert not Signature.objects.filter(email="pending@example.org").exists()
    assert Signature.objects.get(email="confirmed@example.org").first_name == "Ada"

    with time_machine.travel(timezone.now() + timedelta(days=181)):
        purge_personal_data()
    old = Signature.objects.get(petition=closed)
    assert (old.email, old.first_name, old.address, old.status) == ("", "", "", Signature.Status.CONFIRMED)
    assert Signature.objects.get(email="confirmed@example.org").last_name == "Lovelace"


def test_pages_carry_the_security_headers(client, petition):
    response = client.get(reverse("petitions:detail", args=[petition.slug]))
    csp = response["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response["Permissions-Policy"] and "geolocation=()" in response["Permissions-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"


def test_site_templates_have_no_inline_script_or_style():
    """The policy allows no inline code, so a template with some would break in the browser."""
    for path in TEMPLATES.rglob("*.html"):
        if "emails" in path.parts:
            continue  # E-mails are not pages: no CSP applies to them.
        source = path.read_text()
        for script in re.findall(r"<script\b[^>]*>", source):
            assert "src=" in script or "application/json" in script or "application/ld+json" in script, path
        assert "<style" not in source, path
        assert not re.search(r"\sstyle=", source), path
        assert not re.search(r"\son[a-z]+=", source), path


def test_the_deploy_checks_pass_with_production_settings(monkeypatch):
    import subprocess
    import sys

    env = {
        "PATH": "/usr/bin:/bin",
        "SECRET_KEY": "a-long-random-production-secret-key-" + "x" * 40,
        "ALLOWED_HOSTS": "petition.example.org",
        "CAMPAIGN_VAR_DIR": str(settings.VAR_DIR),
        "DJANGO_SETTINGS_MODULE": "campaign.settings",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_only_the_counter_widget_may_be_embedded_in_other_sites(client, petition):
    response = client.get(reverse("petitions:widget", args=[petition.slug]))
    assert response.status_code == 200
    assert "X-Frame-Options" not in response
    assert "frame-ancestors *" in response["Content-Security-Policy"]
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    other = client.get(reverse("petitions:detail", args=[petition.slug]))
    assert other["X-Frame-Options"] == "DENY" and "frame-ancestors 'none'" in other["Content-Security-Policy"]
