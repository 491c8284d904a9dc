"""The confirmation e-mail, sent by its task to a real SMTP server on loopback."""

import re
import smtplib
from urllib.parse import urlsplit

import pytest
from celery.exceptions import Retry
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from petitions.models import Signature
from petitions.tasks import send_confirmation

from .catalogue import in_language
from .conftest import make_petition, purge_broker, run_as_a_worker, sign_data
from .queues import queued_tasks

pytestmark = pytest.mark.django_db


def _pending(client, petition, capture, language="en", **overrides):
    with translation.override(language):
        url = reverse("petitions:detail", args=[petition.slug])
    with capture(execute=False):
        assert client.post(url, sign_data(**overrides)).status_code == 302
    return Signature.objects.get()


def _parts(message):
    return message.get_body(("plain",)).get_content(), message.get_body(("html",)).get_content()


def _confirm_link(text, language):
    return re.search(rf"{re.escape(settings.SITE_URL)}/{language}/confirm/[^/\s]+/", text).group(0)


@pytest.mark.parametrize("language", ["be", "en"])
def test_the_confirmation_is_sent_in_the_signers_language_as_text_and_html(
    client, petition, recipients, smtp_server, django_capture_on_commit_callbacks, language
):
    signature = _pending(client, petition, django_capture_on_commit_callbacks, language)

    send_confirmation(signature.pk)

    [message] = smtp_server.messages
    assert message["To"] == "ada@example.org"
    title = getattr(petition, f"title_{language}")
    assert title in message["Subject"]
    text, html = _parts(message)
    link = _confirm_link(text, language)
    assert f'href="{link}"' in html
    assert f'<html lang="{language}">' in html
    assert title in text
    signature.refresh_from_db()
    assert signature.confirmation_sent_at is not None
    expected_subject = in_language(language, "Confirm your signature: %(title)s") % {"title": title}
    assert str(message["Subject"]).strip() == expected_subject


def test_the_link_in_the_email_opens_the_button_and_confirms(
    client, petition, recipients, smtp_server, django_capture_on_commit_callbacks
):
    signature = _pending(client, petition, django_capture_on_commit_callbacks, "be")
    send_confirmation(signature.pk)
    path = urlsplit(_confirm_link(_parts(smtp_server.messages[0])[0], "be")).path

    assert client.get(path).status_code == 200
    assert Signature.objects.get().status == Signature.Status.PENDING
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(path, {"recipients": [str(r.pk) for r in recipients]})
    assert response.status_code == 302
    assert Signature.objects.get().status == Signature.Status.CONFIRMED


@pytest.mark.parametrize(
    "status", [Signature.Status.CONFIRMED, Signature.Status.WITHDRAWN, Signature.Status.QUARANTINED]
)
def test_nothing_is_sent_for_a_signature_that_is_no_longer_pending(
    client, petition, recipients, smtp_server, django_capture_on_commit_callbacks, status
):
    signature = _pending(client, petition, django_capture_on_commit_callbacks)
    Signature.objects.filter(pk=signature.pk).update(status=status)

    send_confirmation(signature.pk)

    assert smtp_server.messages == []
    assert Signature.objects.get().confirmation_sent_at is None


def test_nothing_is_sent_for_a_signature_that_is_gone(smtp_server, db):
    send_confirmation(987654)
    assert smtp_server.messages == []


def test_a_temporary_smtp_refusal_is_retried_and_a_later_run_sends_it(
    client, petition, recipients, smtp_server, django_capture_on_commit_callbacks
):
    signature = _pending(client, petition, django_capture_on_commit_callbacks)
    purge_broker()
    smtp_server.refuse("451 4.3.0 Try again later")

    with pytest.raises(Retry):
        run_as_a_worker(send_confirmation, signature.pk)

    assert smtp_server.messages == []
    assert Signature.objects.get().confirmation_sent_at is None
    assert queued_tasks("mail") == [("petitions.tasks.send_confirmation", (signature.pk,))]

    # Run eagerly, every retry happens at once and each is refused: it ends failed, nothing sent.
    result = send_confirmation.apply(args=[signature.pk], retries=send_confirmation.max_retries)
    assert result.state == "FAILURE"
    assert isinstance(result.result, smtplib.SMTPDataError)
    assert Signature.objects.get().confirmation_sent_at is None

    smtp_server.accept()
    assert send_confirmation.apply(args=[signature.pk]).state == "SUCCESS"
    assert len(smtp_server.messages) == 1
    assert Signature.objects.get().confirmation_sent_at is not None


def test_a_permanent_smtp_refusal_is_not_retried(
    client, petition, recipients, smtp_server, django_capture_on_commit_callbacks
):
    signature = _pending(client, petition, django_capture_on_commit_callbacks)
    purge_broker()
    smtp_server.refuse("554 5.7.1 Rejected")

    with pytest.raises(smtplib.SMTPDataError):
        run_as_a_worker(send_confirmation, signature.pk)

    assert queued_tasks("mail") == []
    assert Signature.objects.get().confirmation_sent_at is None


def test_html_in_a_name_is_escaped_in_the_html_part_and_kept_in_the_text(
    client, petition, recipients, smtp_server, django_capture_on_commit_callbacks
):
    signature = _pending(client, petition, django_capture_on_commit_callbacks, first_name="<b>Ada</b> & Co")

    send_confirmation(signature.pk)

    text, html = _parts(smtp_server.messages[0])
    assert "<b>Ada</b>" not in html
    assert "&lt;b&gt;Ada&lt;/b&gt; &amp; Co" in html
    assert "<b>Ada</b> & Co" in text


def test_the_subject_shows_the_title_as_written_not_html_escaped(
    client, recipients, smtp_server, django_capture_on_commit_callbacks
):
    petition = make_petition(title_en='Free Belarus\'s "prisoners" & journalists')
    signature = _pending(client, petition, django_capture_on_commit_callbacks)

    send_confirmation(signature.pk)

    assert str(smtp_server.messages[0]["Subject"]).endswith('Free Belarus\'s "prisoners" & journalists')
