"""Signers' e-mails share the worker process's kept SMTP connection with letters, and lose nothing by it."""

import itertools
import select
import smtplib
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from django.utils import timezone

from petitions import smtp, tasks
from petitions.models import Letter, Signature
from petitions.tasks import deliver_letter, send_confirmations

from .conftest import make_senator, purge_broker, wait_until
from .letters import confirmed_signature
from .queues import queued_tasks

pytestmark = pytest.mark.django_db

_numbers = itertools.count(1)


def _pending(petition, language="en"):
    number = next(_numbers)
    return Signature.objects.create(
        petition=petition, status=Signature.Status.PENDING, title="Ms.", first_name="Ada", last_name="Lovelace",
        email=f"kept{number}@example.org", email_normalized=f"kept{number}@example.org", address="1007 Grand Ave",
        city="Des Moines", state="IA", zip_code="50309", language=language, letter_hash=petition.letter_hash(),
    )  # fmt: skip


def _sent(signature):
    signature.refresh_from_db()
    return signature.confirmation_sent_at is not None


def _restart(smtp_server, **kwargs):
    """Stop the server and start it again on the same port: every connection it had is gone."""
    smtp_server.controller.stop()
    smtp_server.controller = Controller(smtp_server.handler, hostname="127.0.0.1", port=smtp_server.port, **kwargs)
    smtp_server.controller.start()


def test_several_confirmations_go_out_over_one_smtp_connection(petition, smtp_server, sessions):
    signatures = [_pending(petition, language) for language in ("en", "be", "en", "be")]
    send_confirmations()

    assert [_sent(signature) for signature in signatures] == [True] * 4
    assert sorted(str(message["To"]) for message in smtp_server.messages) == sorted(s.email for s in signatures)
    assert len(sessions) == 4 and len(set(sessions)) == 1


def test_confirmations_and_letters_share_the_worker_processs_connection(petition, smtp_server, sessions):
    senator = make_senator(channel="email", channel_settings={"address": "intake@ernst.test"})
    letter = confirmed_signature(petition, [senator]).letters.get()
    _pending(petition)
    send_confirmations()
    deliver_letter(letter.pk)
    _pending(petition)
    send_confirmations()

    assert Letter.objects.get(pk=letter.pk).status == Letter.Status.DELIVERED
    assert len(sessions) == 3 and len(set(sessions)) == 1


def test_a_server_that_drops_the_idle_connection_costs_no_confirmation(petition, smtp_server, sessions):
    # The server closes a connection idle for half a second, as a real one does after its timeout.
    _restart(smtp_server, timeout=0.5)
    first = _pending(petition)
    send_confirmations()
    kept_socket = smtp.kept.connection.connection.sock
    wait_until(lambda: select.select([kept_socket], [], [], 0)[0], 10, message="the server to drop the connection")

    second = _pending(petition)
    send_confirmations()

    assert _sent(first) and _sent(second)
    assert len(smtp_server.messages) == 2
    assert len(set(sessions)) == 2


def test_a_server_that_answers_421_on_the_idle_connection_costs_no_confirmation(petition, smtp_server, sessions):
    # Postfix and others say "421 timeout" before they close an idle client; smtplib then reports
    # the 421 as the answer to the next message's MAIL FROM.
    class TimingOut:
        async def handle_MAIL(self, server, session, envelope, address, mail_options):
            if getattr(session, "served", False):
                return "421 4.4.2 Error: timeout exceeded"
            session.served = True
            envelope.mail_from = address
            return "250 OK"

    smtp_server.handler.handle_MAIL = TimingOut().handle_MAIL
    _restart(smtp_server)
    first = _pending(petition)
    send_confirmations()
    second = _pending(petition)
    send_confirmations()

    assert _sent(first) and _sent(second)
    assert len(set(sessions)) == 2


def test_a_temporary_refusal_on_the_kept_connection_is_retried_later_not_resent_at_once(
    petition, smtp_server, sessions
):
    first = _pending(petition)
    send_confirmations()
    second = _pending(petition)
    purge_broker()
    smtp_server.refuse("451 4.3.0 Try again later")

    send_confirmations()

    assert not _sent(second)
    assert len(smtp_server.messages) == 1
    assert not Signature.objects.confirmations_due().exists()  # it waits a minute, in the database
    assert queued_tasks("mail") == []
    assert smtp.kept.connection is None  # Closed after the error: the next message starts afresh.
    smtp_server.accept()
    Signature.objects.filter(pk=second.pk).update(confirmation_lease_until=None)  # that minute has passed
    send_confirmations()
    assert _sent(first) and _sent(second) and len(set(sessions)) == 2


def test_a_permanent_refusal_on_the_kept_connection_is_raised_without_a_retry(petition, smtp_server, sessions):
    _pending(petition)
    send_confirmations()
    second = _pending(petition)
    purge_broker()
    smtp_server.refuse("554 5.7.1 Rejected")

    with pytest.raises(smtplib.SMTPDataError):
        send_confirmations()

    assert queued_tasks("mail") == []
    assert not _sent(second)
    assert len(smtp_server.messages) == 1
    second.refresh_from_db()
    held_for = second.confirmation_lease_until - timezone.now()
    assert timedelta(seconds=tasks.CONFIRMATION_FAILED_RETRY_SECONDS - 60) < held_for
    assert not Signature.objects.confirmations_due().exists()


def test_a_new_server_in_the_settings_gets_a_new_connection(petition, smtp_server, sessions, settings):
    _pending(petition)
    send_confirmations()
    old = smtp.kept.connection
    settings.EMAIL_PORT = smtp_server.port  # Same values: the connection is kept.
    _pending(petition)
    send_confirmations()
    assert smtp.kept.connection is old

    settings.EMAIL_HOST = "localhost"  # Another server (the same one under another name): a new connection.
    _pending(petition)
    send_confirmations()
    assert smtp.kept.connection is not old
    assert len(smtp_server.messages) == 3 and len(set(sessions)) == 2
